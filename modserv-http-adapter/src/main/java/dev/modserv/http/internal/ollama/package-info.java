/** The Ollama dialect ({@code /api/tags}, {@code /api/chat}, ...), with its {@code keep_alive}. */
@NullMarked
package dev.modserv.http.internal.ollama;

import org.jspecify.annotations.NullMarked;
