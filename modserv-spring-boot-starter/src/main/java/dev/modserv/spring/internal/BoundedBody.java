package dev.modserv.spring.internal;

import java.io.ByteArrayOutputStream;

/**
 * A request body kept up to one byte past the routes' limit: enough for them to answer 413 in
 * their dialect, never more in memory however much a client sends.
 */
final class BoundedBody {
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final long keep;

  /** Keeps at most {@code maxBodyBytes + 1} bytes. */
  BoundedBody(long maxBodyBytes) {
    this.keep = maxBodyBytes + 1;
  }

  /** Appends what still fits of {@code len} bytes of {@code b} from {@code off}. */
  void add(byte[] b, int off, int len) {
    long room = keep - bytes.size();
    if (room > 0) {
      bytes.write(b, off, (int) Math.min(room, len));
    }
  }

  /** Whether more would be dropped: the routes will refuse the body anyway. */
  boolean full() {
    return bytes.size() >= keep;
  }

  byte[] toByteArray() {
    return bytes.toByteArray();
  }
}
