/**
 * The model server: build one with {@link dev.modserv.core.ModelServer#builder()}, load models
 * through its {@link dev.modserv.core.ModelRegistry}, and call them with {@code infer}.
 */
@NullMarked
package dev.modserv.core;

import org.jspecify.annotations.NullMarked;
