/**
 * LangChain4j models backed by an in-process {@link dev.modserv.core.ModelServer}: {@link
 * dev.modserv.langchain4j.ModservEmbeddingModel}, {@link dev.modserv.langchain4j.ModservChatModel}
 * and {@link dev.modserv.langchain4j.ModservStreamingChatModel}, built as LangChain4j's own models
 * are. Every call takes the server's normal path: versions, batching, queues, metrics. See {@code
 * docs/langchain4j.md}.
 */
@NullMarked
package dev.modserv.langchain4j;

import org.jspecify.annotations.NullMarked;
