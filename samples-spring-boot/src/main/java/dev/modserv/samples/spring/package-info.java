/** A Spring Boot application serving models through modserv-spring-boot-starter. */
@NullMarked
package dev.modserv.samples.spring;

import org.jspecify.annotations.NullMarked;
