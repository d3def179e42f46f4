/**
 * The starter's implementation, not API: the model loading at start, the health indicator, and
 * the bridges from Spring MVC and WebFlux requests to {@link dev.modserv.http.HostedRoutes}.
 */
@NullMarked
package dev.modserv.spring.internal;

import org.jspecify.annotations.NullMarked;
