package dev.modserv.tensorflow.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Recognises SavedModel folders and measures them. */
public final class SavedModels {
  private SavedModels() {}

  /** Returns whether {@code location} is a folder holding {@code saved_model.pb} and {@code variables/}. */
  public static boolean isSavedModel(Path location) {
    return Files.isDirectory(location)
        && Files.isRegularFile(location.resolve("saved_model.pb"))
        && Files.isDirectory(location.resolve("variables"));
  }

  /** Returns the bytes of every file under {@code folder}. */
  public static long artifactBytes(Path folder) {
    try (Stream<Path> files = Files.walk(folder)) {
      long total = 0;
      for (Path p : (Iterable<Path>) files::iterator) {
        if (Files.isRegularFile(p)) {
          total += Files.size(p);
        }
      }
      return total;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
