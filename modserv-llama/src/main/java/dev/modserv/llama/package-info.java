/**
 * The llama.cpp engine: serves {@code .gguf} models for text generation (streaming) and
 * embeddings, each in a child worker process by default ({@code docs/llama.md}).
 */
@NullMarked
package dev.modserv.llama;

import org.jspecify.annotations.NullMarked;
