/**
 * modserv for LangChain4j: {@link dev.modserv.langchain4j.ModservEmbeddingModel}, {@link
 * dev.modserv.langchain4j.ModservChatModel} and {@link
 * dev.modserv.langchain4j.ModservStreamingChatModel} call a {@link dev.modserv.core.ModelServer}
 * in the same process.
 */
@org.jspecify.annotations.NullMarked
module dev.modserv.langchain4j {
  requires transitive dev.modserv.core;
  // langchain4j-core names no module: its automatic module takes the jar's name.
  requires transitive langchain4j.core;
  requires org.slf4j;
  requires static org.jspecify;

  exports dev.modserv.langchain4j;
}
