/** The OpenAI dialect ({@code /v1/...}): models, embeddings, chat and text completions. */
@NullMarked
package dev.modserv.http.internal.openai;

import org.jspecify.annotations.NullMarked;
