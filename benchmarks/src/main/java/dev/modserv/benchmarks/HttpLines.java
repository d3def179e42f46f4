package dev.modserv.benchmarks;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/** Reading an HTTP/1.1 answer's status, header and chunk-size lines from a raw socket. */
final class HttpLines {
  private HttpLines() {}

  /** Returns the next line without its CRLF; the server closing the connection is an error. */
  static String read(InputStream in) throws IOException {
    StringBuilder b = new StringBuilder();
    for (int c; (c = in.read()) != '\n'; ) {
      if (c < 0) {
        throw new EOFException("the server closed the connection");
      }
      if (c != '\r') {
        b.append((char) c);
      }
    }
    return b.toString();
  }
}
