/**
 * The caches that answer repeated requests without the engine, on Caffeine: the response cache
 * ({@link dev.modserv.core.internal.cache.ResponseCache}), keyed by the exact version and the exact
 * request ({@code docs/caching.md}).
 */
@NullMarked
package dev.modserv.core.internal.cache;

import org.jspecify.annotations.NullMarked;
