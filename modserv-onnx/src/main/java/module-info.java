/**
 * The ONNX Runtime engine: serves {@code .onnx} models, and turns transformer encoders with a
 * Hugging Face {@code tokenizer.json} into text-embedding models.
 */
@org.jspecify.annotations.NullMarked
module dev.modserv.onnx {
  requires transitive dev.modserv.api;
  requires com.microsoft.onnxruntime;
  requires ai.djl.tokenizers;
  requires ai.djl.api;
  requires org.slf4j;
  requires static org.jspecify;

  exports dev.modserv.onnx;

  provides dev.modserv.spi.BackendProvider with
      dev.modserv.onnx.OnnxBackendProvider;
}
