package dev.modserv.http;

/**
 * A wire dialect the adapter can serve; {@link HttpAdapter.Builder#dialects} chooses them (all by
 * default). Operations ({@code /health}, {@code /ready}, {@code /metrics}) are always served.
 */
public enum Dialect {
  /**
   * The native API: {@code /api/predict}, {@code /api/batch-predict}, {@code /api/models}, {@code
   * /api/health}, {@code /api/generate} with {@code inputs}, and the camelCase {@code /predict}
   * and {@code /batch-predict}.
   */
  NATIVE,
  /** The Open Inference Protocol v2 ({@code /v2/...}); its repository extension needs a model root. */
  OIP,
  /** The management API ({@code /models}); served only with {@link HttpAdapter.Builder#management}. */
  MANAGEMENT,
  /** OpenAI's {@code /v1/models}, {@code /v1/embeddings}, {@code /v1/chat/completions}, {@code /v1/completions}. */
  OPENAI,
  /**
   * Ollama's {@code /}, {@code /api/version}, {@code /api/tags}, {@code /api/ps}, {@code
   * /api/show}, {@code /api/embed}, {@code /api/embeddings}, {@code /api/chat} and {@code
   * /api/generate} with a {@code prompt}.
   */
  OLLAMA,
  /** The node fit report ({@code /api/v1/system}, {@code /api/v1/models}, ...). */
  NODE_FIT
}
