package dev.modserv.onnx.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/** Finds the model and tokenizer files of a model source. */
public final class ModelFiles {
  private ModelFiles() {}

  /** Returns whether {@code location} is a {@code .onnx} file or a folder holding exactly one. */
  public static boolean isOnnx(Path location) {
    if (Files.isDirectory(location)) {
      return list(location, ".onnx").size() == 1;
    }
    return hasSuffix(location, ".onnx");
  }

  /**
   * Returns the {@code .onnx} file of {@code location}: the file itself, or the only one in a
   * folder.
   *
   * @throws IllegalArgumentException when there is none, or a folder holds several
   */
  public static Path onnxFile(Path location) {
    if (Files.isDirectory(location)) {
      List<Path> found = list(location, ".onnx");
      if (found.size() != 1) {
        throw new IllegalArgumentException("folder " + location + " holds " + found.size()
            + " .onnx files " + names(found) + "; expected exactly one");
      }
      return found.get(0);
    }
    if (!hasSuffix(location, ".onnx")) {
      throw new IllegalArgumentException(location + " is not a .onnx file");
    }
    if (!Files.isRegularFile(location)) {
      throw new IllegalArgumentException("model file " + location + " does not exist");
    }
    return location;
  }

  /**
   * Returns the tokenizer of a model folder: its one file named {@code tokenizer.json} or ending in
   * {@code -tokenizer.json}; null for a file location or a folder without one.
   */
  public static @Nullable Path tokenizerIn(Path location) {
    if (!Files.isDirectory(location)) {
      return null;
    }
    List<Path> found = list(location, "tokenizer.json");
    if (found.size() > 1) {
      throw new IllegalArgumentException("folder " + location + " holds " + found.size()
          + " tokenizer files " + names(found) + "; name one with the option 'tokenizer'");
    }
    return found.isEmpty() ? null : found.get(0);
  }

  /** Returns the bytes the model's files take on disk: the .onnx file and its external data. */
  public static long artifactBytes(Path location, Path onnxFile) {
    try {
      if (!Files.isDirectory(location)) {
        return Files.size(onnxFile);
      }
      long total = 0;
      try (Stream<Path> files = Files.list(location)) {
        for (Path p : (Iterable<Path>) files::iterator) {
          if (Files.isRegularFile(p) && !hasSuffix(p, ".json")) {
            total += Files.size(p);
          }
        }
      }
      return total;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<Path> list(Path folder, String suffix) {
    try (Stream<Path> files = Files.list(folder)) {
      return files.filter(p -> hasSuffix(p, suffix) && Files.isRegularFile(p)).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + folder, e);
    }
  }

  private static boolean hasSuffix(Path p, String suffix) {
    Path name = p.getFileName();
    return name != null && name.toString().toLowerCase(Locale.ROOT).endsWith(suffix);
  }

  private static List<String> names(List<Path> paths) {
    return paths.stream().map(p -> String.valueOf(p.getFileName())).toList();
  }
}
