package dev.modserv.http.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The management model root: paths from requests resolve inside it, or 403. */
public final class ModelRoot {
  /** The most files a folder to load may hold: the walk that checks them is bounded. */
  static final int MAX_FILES = 10_000;

  private ModelRoot() {}

  /**
   * Resolves {@code given} inside {@code root} as {@link #confine} does, then checks what a load
   * of it would read: the real path (every symbolic link followed) of the file, or of the folder
   * and every file and folder under it, must lie inside the root, or 403. A link inside the
   * repository that points out of it is refused, in a folder as for a file.
   */
  public static Path loadable(Path root, String given) {
    return checkTree(root, confine(root, given), given);
  }

  /** Checks {@code path}, already confined, as {@link #loadable} does; returns it. */
  private static Path checkTree(Path root, Path path, String given) {
    if (!Files.isDirectory(path)) {
      return path; // a file: confine resolved its real path already
    }
    int[] seen = {0};
    try (Stream<Path> tree = Files.walk(path, FileVisitOption.FOLLOW_LINKS)) {
      tree.forEach(p -> {
        if (++seen[0] > MAX_FILES) {
          throw new HttpError(403, "path: " + given + " holds more than " + MAX_FILES
              + " files; a model folder holds far fewer");
        }
        Path real;
        try {
          real = p.toRealPath();
        } catch (IOException e) {
          throw new HttpError(403, "path: " + given + " holds a file that cannot be resolved"
              + " inside the model root: " + path.relativize(p));
        }
        if (!real.startsWith(root)) {
          throw new HttpError(403, "path: " + given + " holds a link that resolves outside the"
              + " model root: " + path.relativize(p));
        }
      });
    } catch (IOException | UncheckedIOException e) {
      // A loop of links (FileSystemLoopException) or an unreadable folder: refuse, do not guess.
      throw new HttpError(403, "path: " + given + " cannot be walked inside the model root: "
          + e.getClass().getSimpleName());
    }
    return path;
  }

  /**
   * Resolves {@code given} inside {@code root}, refusing {@code ..}, absolute paths outside the
   * root, and symbolic links whose target lies outside it.
   */
  public static Path confine(Path root, String given) {
    if (given.isEmpty()) {
      throw HttpError.badField("path", "must not be empty");
    }
    Path p;
    try {
      p = Path.of(given);
    } catch (InvalidPathException e) {
      throw HttpError.badField("path", "is not a valid path: " + e.getMessage());
    }
    for (Path part : p) {
      if (part.toString().equals("..")) {
        throw new HttpError(403, "path: '..' is not allowed in model paths: " + given);
      }
    }
    Path resolved = (p.isAbsolute() ? p : root.resolve(p)).normalize();
    if (!resolved.startsWith(root)) {
      throw new HttpError(403, "path: " + given + " is outside the model root");
    }
    // Symbolic links: the deepest part that exists must really lie inside the root.
    Path existing = resolved;
    while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
      existing = existing.getParent();
    }
    if (existing != null) {
      Path real;
      try {
        real = existing.toRealPath();
      } catch (IOException e) {
        // A dangling link or an unreadable part: refuse rather than guess.
        throw new HttpError(403, "path: " + given + " cannot be resolved inside the model root");
      }
      if (!real.startsWith(root)) {
        throw new HttpError(403, "path: " + given + " resolves outside the model root");
      }
    }
    return resolved;
  }
}
