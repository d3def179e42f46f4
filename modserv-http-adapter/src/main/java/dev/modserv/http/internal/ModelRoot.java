package dev.modserv.http.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/** The management model root: paths from requests resolve inside it, or 403. */
public final class ModelRoot {
  private ModelRoot() {}

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
