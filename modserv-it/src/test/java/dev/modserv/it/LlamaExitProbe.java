package dev.modserv.it;

import dev.modserv.api.GenerationRequest;
import dev.modserv.api.GenerationResult;
import dev.modserv.core.ModelServer;
import java.nio.file.Path;

/**
 * Run in a child JVM by {@link LlamaServingTest}: serves a llama model through a worker, then
 * returns from main after {@code ModelServer.close()}. The JVM must exit on its own.
 */
public final class LlamaExitProbe {
  private LlamaExitProbe() {}

  public static void main(String[] args) {
    try (ModelServer server = ModelServer.builder().build()) {
      server.registry().load("tiny", 1, Path.of(args[0])).join();
      GenerationResult r = server.complete(GenerationRequest.builder("tiny").prompt("hello")
          .maxTokens(4).temperature(0).build());
      System.out.println("generated " + r.usage().completionTokens() + " " + r.finishReason());
    }
  }
}
