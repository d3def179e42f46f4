/** The llama engine's internals: the worker process, its protocol, the binding wrapper. */
@NullMarked
package dev.modserv.llama.internal;

import org.jspecify.annotations.NullMarked;
