package dev.modserv.samples;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.store.embedding.CosineSimilarity;
import dev.modserv.core.ModelServer;
import dev.modserv.langchain4j.ModservChatModel;
import dev.modserv.langchain4j.ModservEmbeddingModel;
import java.nio.file.Path;
import java.util.List;

/**
 * Retrieval-augmented generation with LangChain4j, every model in process: an embedding model
 * picks the document closest to the question, a chat model answers from it. Both are models of
 * one {@link ModelServer} ({@code modserv-langchain4j}), with its batching, versions and metrics.
 *
 * <pre>
 * java -cp ... dev.modserv.samples.LangChain4jRagExample minilm/ model.gguf "How do plants eat?"
 * </pre>
 */
public final class LangChain4jRagExample {
  private LangChain4jRagExample() {}

  /** The document retrieved and the model's answer. */
  public record Answer(String source, ChatResponse response) {}

  /** Embeds {@code documents} with {@code embedder}, retrieves one, and asks {@code chatModel}. */
  public static Answer ask(Path embedder, Path chatModel, List<String> documents,
      String question, int maxTokens) {
    // LANGCHAIN4J-EXAMPLE-START
    try (ModelServer server = ModelServer.builder().build()) {   // engines on the class path
      server.registry().load("minilm", 1, embedder).join();
      server.registry().load("chat", 1, chatModel).join();

      EmbeddingModel embeddings = ModservEmbeddingModel.builder()
          .modelServer(server)
          .modelName("minilm")
          .build();
      ChatModel chat = ModservChatModel.builder()
          .modelServer(server)
          .modelName("chat")
          .temperature(0.0)
          .maxOutputTokens(maxTokens)
          .build();

      // Retrieve: the document closest to the question.
      List<Embedding> vectors = embeddings.embedAll(
          documents.stream().map(TextSegment::from).toList()).content();
      Embedding query = embeddings.embed(question).content();
      int best = 0;
      for (int i = 1; i < vectors.size(); i++) {
        if (CosineSimilarity.between(query, vectors.get(i))
            > CosineSimilarity.between(query, vectors.get(best))) {
          best = i;
        }
      }

      // Generate: an answer from that document only.
      ChatResponse response = chat.chat(
          SystemMessage.from("Answer from this text: " + documents.get(best)),
          UserMessage.from(question));
      return new Answer(documents.get(best), response);
    }
    // LANGCHAIN4J-EXAMPLE-END
  }

  /** {@code LangChain4jRagExample <embedding model> <chat model> <question>}: prints the answer. */
  public static void main(String[] args) {
    if (args.length != 3) {
      System.err.println("usage: LangChain4jRagExample <embedding model> <chat model> <question>");
      System.exit(2);
    }
    Answer answer = ask(Path.of(args[0]), Path.of(args[1]), List.of(
        "The Eiffel Tower is in Paris and is 330 metres tall.",
        "Plants turn sunlight, water and carbon dioxide into sugar by photosynthesis.",
        "The Java virtual machine runs bytecode compiled from Java source."), args[2], 128);
    System.out.println("from: " + answer.source());
    System.out.println(answer.response().aiMessage().text());
  }
}
