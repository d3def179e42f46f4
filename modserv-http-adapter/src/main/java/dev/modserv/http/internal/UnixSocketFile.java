package dev.modserv.http.internal;

import java.io.IOException;
import java.net.ConnectException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The file of the adapter's Unix domain socket, and who owns it.
 *
 * <p>Jetty's connector deletes its path on every stop, even after a bind that failed because
 * something else was there. So the connector binds a private name beside the path, and this class
 * hard-links that socket to the path, which fails rather than replaces. Only a stale socket (one
 * that no server answers on) is removed first; on close the path is removed only while it is still
 * the socket we bound.
 */
public final class UnixSocketFile {
  private static final Logger log = LoggerFactory.getLogger(UnixSocketFile.class);
  private static final int TYPE_MASK = 0170000;
  private static final int SOCKET_TYPE = 0140000;
  private static final AtomicInteger NEXT = new AtomicInteger();

  private final Path path;
  private final Path bindPath;
  private volatile @Nullable Object boundKey;

  public UnixSocketFile(Path path) {
    this.path = path.toAbsolutePath();
    // Short, so that it fits the socket path limit wherever the path itself does.
    this.bindPath = this.path.resolveSibling(
        ".ms" + ProcessHandle.current().pid() + "-" + NEXT.incrementAndGet());
  }

  /** The path the connector binds; {@link #publish()} links it to the configured path. */
  public Path bindPath() {
    return bindPath;
  }

  /**
   * Makes the path free for a bind: refuses a path that holds anything but a socket or a socket a
   * live server answers on, and removes a stale socket.
   */
  public void clear() throws IOException {
    Files.deleteIfExists(bindPath); // our own name: only a killed run of this process leaves it
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if (!isSocket(path)) {
      throw new IOException(path + " exists and is not a socket: the server does not delete it;"
          + " remove it or choose another socket path");
    }
    try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
      throw new IOException("another server is listening on the socket " + path
          + ": stop it or choose another socket path");
    } catch (ConnectException refused) {
      log.info("removing the stale socket {}: no server answers on it", path);
      Files.deleteIfExists(path);
    }
  }

  /** Links the bound socket to the path; fails, deleting nothing, when the path is taken. */
  public void publish() throws IOException {
    try {
      Files.createLink(path, bindPath);
      boundKey = key(path);
    } catch (FileAlreadyExistsException e) {
      throw new IOException(path + " was created by someone else while the server started:"
          + " remove it or choose another socket path", e);
    } finally {
      Files.deleteIfExists(bindPath);
    }
  }

  /** Removes the path if it is still the socket {@link #publish()} linked; leaves anything else. */
  public void release() {
    Object bound = boundKey;
    boundKey = null;
    if (bound == null) {
      return;
    }
    try {
      if (bound.equals(key(path))) {
        Files.delete(path);
      } else {
        log.info("leaving {}: it is no longer the socket this server bound", path);
      }
    } catch (NoSuchFileException gone) {
      log.debug("{} was already removed", path);
    } catch (IOException e) {
      log.warn("could not remove the socket {}", path, e);
    }
  }

  private static @Nullable Object key(Path p) throws IOException {
    return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
  }

  private static boolean isSocket(Path p) throws IOException {
    try {
      Object mode = Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
      return ((Integer) Objects.requireNonNull(mode) & TYPE_MASK) == SOCKET_TYPE;
    } catch (UnsupportedOperationException | IllegalArgumentException noUnixView) {
      return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
          .isOther();
    }
  }
}
