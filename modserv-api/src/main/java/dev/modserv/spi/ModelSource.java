package dev.modserv.spi;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Where a model comes from: a file or folder (a {@code .onnx} file, a {@code .gguf} file, a
 * SavedModel folder, ...) and the engine options from the model's configuration ({@code
 * intra-op-threads}, {@code signature}, ...). Keys are lower-case with dashes; each engine
 * documents the ones it reads and refuses the ones it does not know.
 *
 * @param location the file or folder
 * @param options engine options by key
 */
public record ModelSource(Path location, Map<String, String> options) {

  /** Copies the options. */
  public ModelSource {
    options = Map.copyOf(options);
  }

  /** Returns a source with no options. */
  public static ModelSource of(Path location) {
    return new ModelSource(location, Map.of());
  }

  /** Returns a copy of this source with one more option. */
  public ModelSource withOption(String key, String value) {
    Map<String, String> more = new LinkedHashMap<>(options);
    more.put(key, value);
    return new ModelSource(location, more);
  }

  /** Returns the option {@code key}. */
  public Optional<String> option(String key) {
    return Optional.ofNullable(options.get(key));
  }

  /** Returns the location's file name, lower-cased, for extension checks. */
  public String fileName() {
    Path name = location.getFileName();
    return name == null ? "" : name.toString().toLowerCase(java.util.Locale.ROOT);
  }
}
