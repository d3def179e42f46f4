/**
 * Spring Boot auto-configuration for modserv: a {@link dev.modserv.core.ModelServer} bean from
 * {@code modserv.*} properties ({@link dev.modserv.spring.ModservProperties}), closed with the
 * context; the application's {@code MeterRegistry}; Actuator health and readiness; the REST routes
 * on the application's own web server (Spring MVC or WebFlux) or on a second port. See {@code
 * docs/spring-boot.md}.
 */
@NullMarked
package dev.modserv.spring;

import org.jspecify.annotations.NullMarked;
