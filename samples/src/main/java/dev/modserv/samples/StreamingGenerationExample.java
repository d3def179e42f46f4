package dev.modserv.samples;

import dev.modserv.api.ChatMessage;
import dev.modserv.api.GenerationChunk;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.GenerationStream;
import dev.modserv.core.ModelServer;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;

/**
 * Streams a chat answer from a GGUF model: the llama.cpp engine ({@code modserv-llama}) is found on
 * the class path and runs the model in a worker process of its own; text arrives piece by piece.
 *
 * <pre>
 * java -cp ... dev.modserv.samples.StreamingGenerationExample model.gguf "Why is the sky blue?"
 * </pre>
 */
public final class StreamingGenerationExample {
  private StreamingGenerationExample() {}

  /**
   * Loads {@code gguf} as "chat", asks it {@code question} and hands each piece of the answer to
   * {@code pieces} as it comes; returns the last chunk (finish reason, usage, timings).
   */
  public static GenerationChunk ask(Path gguf, String question, int maxTokens,
      Consumer<String> pieces) {
    try (ModelServer server = ModelServer.builder().build()) {
      server.registry().load("chat", 1, gguf).join();
      GenerationRequest request = GenerationRequest.builder("chat")
          .messages(List.of(ChatMessage.system("Answer briefly."), ChatMessage.user(question)))
          .maxTokens(maxTokens)
          .temperature(0)
          .build();
      // Closing the stream (or breaking out early) cancels the generation in the engine.
      try (GenerationStream stream = server.generate(request)) {
        Iterator<GenerationChunk> chunks = stream.iterator();
        while (true) {
          GenerationChunk chunk = chunks.next();
          pieces.accept(chunk.text());
          if (chunk.last()) {
            return chunk;
          }
        }
      }
    }
  }

  /** {@code StreamingGenerationExample <model.gguf> <question>}: prints the answer as it comes. */
  public static void main(String[] args) {
    if (args.length != 2) {
      System.err.println("usage: StreamingGenerationExample <model.gguf> <question>");
      System.exit(2);
    }
    GenerationChunk last = ask(Path.of(args[0]), args[1], 128, piece -> {
      System.out.print(piece);
      System.out.flush();
    });
    System.out.println();
    System.out.println(last.finishReason() + ", " + last.usage());
  }
}
