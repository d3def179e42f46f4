/** What the LLM dialects (OpenAI, Ollama, management generation) share: request fields, embeddings, streamed generation. */
@NullMarked
package dev.modserv.http.internal.llm;

import org.jspecify.annotations.NullMarked;
