/** Runnable examples of modserv; each is compiled by the build and run by a test. */
@NullMarked
package dev.modserv.samples;

import org.jspecify.annotations.NullMarked;
