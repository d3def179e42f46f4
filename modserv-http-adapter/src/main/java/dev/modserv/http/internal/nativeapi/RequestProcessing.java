package dev.modserv.http.internal.nativeapi;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import dev.modserv.core.ModelProcessing;
import dev.modserv.http.internal.HttpError;
import dev.modserv.http.internal.Json;
import dev.modserv.http.internal.ModelRoot;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A request's {@code preprocessing} and {@code postprocessing} objects, read as the core's {@link
 * ModelProcessing} for that call ({@code docs/processing.md}); a {@code labels_file} must lie inside
 * the management model root.
 */
final class RequestProcessing {
  private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {};

  private RequestProcessing() {}

  /**
   * Reads the two objects (null or JSON null: that part is not given); errors are 400 naming the
   * field, {@code prefix} (the item's path in a batch, else empty) before it.
   */
  static ModelProcessing read(@Nullable JsonNode pre, @Nullable JsonNode post, String prefix,
      @Nullable Path modelRoot) {
    Map<String, Object> preMap = map(pre, prefix + "preprocessing",
        "scale, normalize, standardize, mean, std, inputs");
    Map<String, Object> postMap = map(post, prefix + "postprocessing",
        "softmax, threshold, argmax, top_k, classification, labels, labels_file, outputs");
    try {
      return ModelProcessing.fromMaps(preMap, postMap,
          given -> labelsFile(modelRoot, given, prefix + "postprocessing.labels_file"));
    } catch (IllegalArgumentException e) {
      // The message starts with the key's path: "postprocessing.top_k: expected ...".
      String message = String.valueOf(e.getMessage());
      int colon = message.indexOf(": ");
      throw colon < 0 ? HttpError.badField(prefix.isEmpty() ? "" : prefix.substring(0,
          prefix.length() - 1), message)
          : HttpError.badField(prefix + message.substring(0, colon), message.substring(colon + 2));
    }
  }

  private static @Nullable Map<String, Object> map(@Nullable JsonNode node, String path,
      String operations) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isObject()) {
      throw HttpError.badField(path, "expected an object of operations (" + operations + "), got "
          + node.getNodeType().name().toLowerCase(Locale.ROOT));
    }
    return Json.MAPPER.convertValue(node, MAP);
  }

  /** Resolves a labels file inside the model root; outside it is 403, as for model paths. */
  private static Path labelsFile(@Nullable Path root, String given, String path) {
    if (root == null) {
      throw new IllegalArgumentException("a labels file needs the management model root; give"
          + " labels inline");
    }
    try {
      return ModelRoot.confine(root, given);
    } catch (HttpError e) {
      if (e.status() == 400) {
        throw new IllegalArgumentException(e.getMessage(), e);
      }
      throw new HttpError(e.status(), path + ": " + e.getMessage());
    }
  }
}
