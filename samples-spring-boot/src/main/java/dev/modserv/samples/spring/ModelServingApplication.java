package dev.modserv.samples.spring;

import dev.modserv.onnx.AllMiniLmL6V2;
import java.nio.file.Path;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A Spring Boot application that serves two models with {@code modserv-spring-boot-starter}: the
 * default embedding model (all-MiniLM-L6-v2, copied out of its Maven artifact) as {@code minilm}
 * and a GGUF chat model as {@code chat}. It has no code of its own beyond this class: the starter
 * builds the {@code ModelServer} bean from {@code modserv.*} properties (here and in {@code
 * application.properties}), answers {@code POST /v1/embeddings} and {@code POST
 * /v1/chat/completions} (and the native and OIP v2 routes) on the application's port, and holds
 * {@code /actuator/health/readiness} at 503 until both models are READY.
 *
 * <pre>
 * java -cp ... dev.modserv.samples.spring.ModelServingApplication qwen2.5-0.5b-instruct-q4_k_m.gguf
 * </pre>
 */
@SpringBootApplication
public class ModelServingApplication {
  /**
   * Starts the application; {@code args} are Spring's ({@code --server.port=8080}, any {@code
   * --modserv.*} property).
   *
   * @param cacheDir where the embedding model is copied on first use
   * @param chatModel the GGUF chat model's file
   */
  public static ConfigurableApplicationContext run(Path cacheDir, Path chatModel,
      String... args) {
    SpringApplication app = new SpringApplication(ModelServingApplication.class);
    // The models' paths are known only at start: defaults that application.properties and the
    // command line can still override.
    app.setDefaultProperties(Map.of(
        "modserv.models.minilm.path", AllMiniLmL6V2.extract(cacheDir).toString(),
        "modserv.models.chat.path", chatModel.toString()));
    return app.run(args);
  }

  /** {@code ModelServingApplication <chat model.gguf> [--spring.property=value ...]}. */
  public static void main(String[] args) {
    if (args.length < 1) {
      System.err.println("usage: ModelServingApplication <chat model.gguf> [--property=value ...]");
      System.exit(2);
    }
    run(Path.of(System.getProperty("java.io.tmpdir"), "modserv-example"), Path.of(args[0]),
        java.util.Arrays.copyOfRange(args, 1, args.length));
  }
}
