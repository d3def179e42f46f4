package dev.modserv.langchain4j;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.request.EmbeddingInput;
import dev.langchain4j.model.embedding.request.EmbeddingRequest;
import dev.langchain4j.model.embedding.response.EmbeddingResponse;
import dev.langchain4j.model.output.TokenUsage;
import dev.modserv.api.Capability;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.ModelRef;
import dev.modserv.api.Tensor;
import dev.modserv.core.ModelServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A LangChain4j {@link EmbeddingModel} answered by an embedding model of an in-process {@link
 * ModelServer} (an ONNX sentence encoder, a GGUF loaded with {@code embedding=true}): the texts of
 * one call go to the server as one request, through its batcher (concurrent calls share engine
 * runs), its embedding cache when the model turns it on, its versions and its metrics. The vectors
 * are exactly {@link ModelServer#embed}'s.
 *
 * <pre>{@code
 * EmbeddingModel embeddings = ModservEmbeddingModel.builder()
 *     .modelServer(server)
 *     .modelName("minilm")
 *     .build();
 * Embedding vector = embeddings.embed("A man is eating food.").content();
 * }</pre>
 *
 * <p>The response's token usage is the input tokens the model counted, where it counts them. Text
 * is the only content embedded; server failures are {@link dev.modserv.api.ModelServingException}s
 * with their code.
 */
public final class ModservEmbeddingModel implements EmbeddingModel {
  private final ModelServer server;
  private final ModelRef model;
  private final @Nullable Duration timeout;

  private ModservEmbeddingModel(Builder b) {
    if (b.modelServer == null) {
      throw new IllegalStateException("modelServer is required: the ModelServer to call");
    }
    if (b.model == null) {
      throw new IllegalStateException("modelName is required: the name of an embedding model the"
          + " server has loaded or registered");
    }
    this.server = b.modelServer;
    this.model = b.modelVersion != null ? ModelRef.of(b.model.name(), b.modelVersion) : b.model;
    this.timeout = b.timeout;
  }

  /** Returns a builder; {@code modelServer} and {@code modelName} are required. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public EmbeddingResponse doEmbed(EmbeddingRequest request) {
    List<EmbeddingInput> inputs = request.inputs();
    if (inputs.isEmpty()) {
      return EmbeddingResponse.builder().embeddings(List.of()).modelName(modelName()).build();
    }
    String[] texts = inputs.stream().map(EmbeddingInput::text).toArray(String[]::new);
    InferenceRequest.Builder call = InferenceRequest.builder(model)
        .input(Capability.EMBEDDING_INPUT, Tensor.of(texts, texts.length));
    if (timeout != null) {
      call.timeout(timeout);
    }
    InferenceResult result = server.infer(call.build());
    List<Embedding> embeddings = new ArrayList<>(texts.length);
    for (float[] vector : ModelServer.vectors(result, model.name(), texts.length)) {
      embeddings.add(Embedding.from(vector));
    }
    EmbeddingResponse.Builder response = EmbeddingResponse.builder().embeddings(embeddings)
        .modelName(modelName());
    result.output(Capability.EMBEDDING_TOKENS).ifPresent(tokens -> {
      long total = 0;
      for (long t : tokens.toLongArray()) {
        total += t;
      }
      response.tokenUsage(new TokenUsage((int) Math.min(total, Integer.MAX_VALUE)));
    });
    return response.build();
  }

  /** Returns the model the texts go to, as {@link ModelRef#parse} reads it. */
  @Override
  public String modelName() {
    return model.toString();
  }

  /** Builds a {@link ModservEmbeddingModel}. */
  public static final class Builder {
    private @Nullable ModelServer modelServer;
    private @Nullable ModelRef model;
    private @Nullable Long modelVersion;
    private @Nullable Duration timeout;

    private Builder() {}

    /** Sets the server the model calls; required. The server belongs to the caller. */
    public Builder modelServer(ModelServer modelServer) {
      this.modelServer = Objects.requireNonNull(modelServer, "modelServer");
      return this;
    }

    /**
     * Sets the embedding model, as the server's registry names it; required. {@code name} uses
     * the highest ready version, {@code name:3} version 3, {@code name:stable} a label's.
     */
    public Builder modelName(String modelName) {
      this.model = ModelRef.parse(modelName);
      return this;
    }

    /** Pins the version of {@link #modelName(String)}; unset, the highest ready one serves. */
    public Builder modelVersion(long modelVersion) {
      this.modelVersion = ModelRef.requireVersion(modelVersion);
      return this;
    }

    /** Sets how long one call may take, from submission; the server's default when unset. */
    public Builder timeout(Duration timeout) {
      this.timeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /**
     * Returns the model.
     *
     * @throws IllegalStateException without a model server or a model name
     */
    public ModservEmbeddingModel build() {
      return new ModservEmbeddingModel(this);
    }
  }
}
