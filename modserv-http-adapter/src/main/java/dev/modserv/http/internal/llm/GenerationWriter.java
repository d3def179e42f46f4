package dev.modserv.http.internal.llm;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.modserv.api.GenerationChunk;
import dev.modserv.api.GenerationResult;
import dev.modserv.http.internal.ErrorShape;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * How one dialect writes a generation's answer: whole, or streamed chunk by chunk. One instance
 * per request (it may hold the request's id and options).
 */
public interface GenerationWriter {
  /** Whether the client asked for a stream. */
  boolean streams();

  /** How a stream frames each JSON object. */
  enum Framing {
    /** Server-sent events: {@code data: <json>} and a blank line. */
    SSE("text/event-stream"),
    /** One JSON object a line. */
    NDJSON("application/x-ndjson");

    private static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] EVENT_END = {'\n', '\n'};

    private final String contentType;

    Framing(String contentType) {
      this.contentType = contentType;
    }

    /** The content type of a stream so framed. */
    public String contentType() {
      return contentType;
    }

    /** Adds one framed JSON object. */
    public void write(OutputStream out, byte[] json) throws IOException {
      if (this == SSE) {
        out.write(DATA);
      }
      out.write(json);
      if (this == SSE) {
        out.write(EVENT_END);
      } else {
        out.write('\n');
      }
    }
  }

  /** How a streamed answer is framed: SSE unless the dialect streams NDJSON. */
  default Framing framing() {
    return Framing.SSE;
  }

  /** The shape of the error that ends a stream under way. */
  ErrorShape errorShape();

  /** Adds what a stream opens with, before the first chunk; nothing by default. */
  default void open(OutputStream out) throws IOException {}

  /**
   * Adds one chunk; the last one also carries the finish, the usage and whatever ends the stream.
   *
   * @param textSoFar the text of every chunk so far, this one included
   */
  void chunk(OutputStream out, GenerationChunk chunk, CharSequence textSoFar) throws IOException;

  /** Writes the whole answer of a call that does not stream. */
  void whole(JsonGenerator g, GenerationResult result) throws IOException;

  /** Adds the error that ends a stream already under way, framed, in the dialect's shape. */
  default void error(OutputStream out, RuntimeException failure) throws IOException {
    framing().write(out, Generations.streamError(errorShape(), failure));
  }
}
