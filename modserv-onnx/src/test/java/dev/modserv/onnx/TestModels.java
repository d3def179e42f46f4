package dev.modserv.onnx;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** The committed test models (see make_models.py) and the MiniLM the build copies into target/. */
final class TestModels {
  static final Path MODELS = Path.of("src", "test", "resources", "models");
  static final Path MINILM_JAR = Path.of("target", "minilm-jar");

  private TestModels() {}

  static Path model(String name) {
    return MODELS.resolve(name);
  }

  /** Returns references.json: numpy's outputs for the models' inputs. */
  static JsonObject references() {
    try {
      return JsonParser.parseString(
              Files.readString(MODELS.resolve("references.json"), StandardCharsets.UTF_8))
          .getAsJsonObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static float[] floats(JsonObject o, String key) {
    var array = o.getAsJsonArray(key);
    float[] out = new float[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).getAsFloat();
    }
    return out;
  }

  static long[] longs(JsonObject o, String key) {
    var array = o.getAsJsonArray(key);
    long[] out = new long[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).getAsLong();
    }
    return out;
  }
}
