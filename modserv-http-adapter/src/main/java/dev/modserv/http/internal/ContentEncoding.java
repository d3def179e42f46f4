package dev.modserv.http.internal;

import dev.modserv.api.ErrorCode;
import java.io.ByteArrayOutputStream;
import java.util.Locale;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.jspecify.annotations.Nullable;

/**
 * Request bodies sent compressed ({@code Content-Encoding: gzip} or {@code deflate}, as {@code
 * tritonclient}'s {@code request_compression_algorithm} sends them) are inflated within the body
 * limit: what inflates past it is a 413, so a small bomb costs at most the limit. Other encodings
 * are 415.
 */
enum ContentEncoding {
  IDENTITY, GZIP, DEFLATE;

  private static final int GZIP_MAGIC = 0x8b1f;
  private static final int FTEXT = 1;
  private static final int FHCRC = 2;
  private static final int FEXTRA = 4;
  private static final int FNAME = 8;
  private static final int FCOMMENT = 16;

  /** The request's encoding; 415 for one not taken. */
  static ContentEncoding of(Request request) {
    return of(request.getHeaders().get(HttpHeader.CONTENT_ENCODING));
  }

  /** The encoding a {@code Content-Encoding} header (null: none) names; 415 for one not taken. */
  static ContentEncoding of(@Nullable String header) {
    if (header == null) {
      return IDENTITY;
    }
    return switch (header.strip().toLowerCase(Locale.ROOT)) {
      case "", "identity" -> IDENTITY;
      case "gzip", "x-gzip" -> GZIP;
      case "deflate" -> DEFLATE;
      default -> throw new HttpError(415, "Content-Encoding must be gzip, deflate or identity"
          + " (one of them, not a list)");
    };
  }

  /** The body as sent, inflated; at most {@code max} bytes or 413. */
  byte[] decode(byte[] body, long max) {
    if (this == IDENTITY) {
      return body;
    }
    try {
      if (this == DEFLATE) {
        // RFC 9110 says zlib-wrapped; some clients send raw deflate: take both.
        boolean zlib = body.length >= 2 && (body[0] & 0x0f) == 8
            && (((body[0] & 0xff) << 8) | (body[1] & 0xff)) % 31 == 0;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        inflate(body, 0, !zlib, max, out);
        return out.toByteArray();
      }
      return gunzip(body, max);
    } catch (DataFormatException | IndexOutOfBoundsException e) {
      throw new HttpError(400, "the body is not valid " + name().toLowerCase(Locale.ROOT)
          + " data, as its Content-Encoding says");
    }
  }

  private static byte[] gunzip(byte[] body, long max) throws DataFormatException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int at = 0;
    // A gzip body may hold several members, one after another (RFC 1952).
    do {
      at = inflate(body, member(body, at), true, max, out) + 8; // CRC32 and ISIZE follow
    } while (at < body.length);
    return out.toByteArray();
  }

  /** Returns where the deflate data of the gzip member at {@code at} starts. */
  private static int member(byte[] b, int at) throws DataFormatException {
    if (b.length - at < 10 || ((b[at] & 0xff) | (b[at + 1] & 0xff) << 8) != GZIP_MAGIC
        || b[at + 2] != 8) {
      throw new DataFormatException("not a gzip member");
    }
    int flags = b[at + 3] & 0xff;
    int p = at + 10;
    if ((flags & FEXTRA) != 0) {
      p += 2 + ((b[p] & 0xff) | (b[p + 1] & 0xff) << 8);
    }
    if ((flags & FNAME) != 0) {
      while (b[p++] != 0) { }
    }
    if ((flags & FCOMMENT) != 0) {
      while (b[p++] != 0) { }
    }
    if ((flags & FHCRC) != 0) {
      p += 2;
    }
    if ((flags & ~(FTEXT | FHCRC | FEXTRA | FNAME | FCOMMENT)) != 0 || p > b.length) {
      throw new DataFormatException("bad gzip header");
    }
    return p;
  }

  /** Inflates from {@code from} into {@code out}; returns the index just past the data read. */
  private static int inflate(byte[] in, int from, boolean raw, long max,
      ByteArrayOutputStream out) throws DataFormatException {
    Inflater inflater = new Inflater(raw);
    try {
      inflater.setInput(in, from, in.length - from);
      byte[] buf = new byte[64 * 1024];
      while (!inflater.finished()) {
        int n = inflater.inflate(buf);
        if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
          throw new DataFormatException("truncated");
        }
        if (out.size() + (long) n > max) {
          throw new HttpError(ErrorCode.PAYLOAD_TOO_LARGE, "request body inflates past " + max
              + " bytes");
        }
        out.write(buf, 0, n);
      }
      return in.length - inflater.getRemaining();
    } finally {
      inflater.end();
    }
  }
}
