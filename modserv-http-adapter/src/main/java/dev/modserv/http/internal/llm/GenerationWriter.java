package dev.modserv.http.internal.llm;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.modserv.api.GenerationChunk;
import dev.modserv.api.GenerationResult;
import java.io.IOException;
import java.io.OutputStream;

/**
 * How one dialect writes a generation's answer: whole, or streamed chunk by chunk. One instance
 * per request (it may hold the request's id and options).
 */
public interface GenerationWriter {
  /** Whether the client asked for a stream. */
  boolean streams();

  /** The content type of a streamed answer (SSE or NDJSON). */
  String streamType();

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

  /** Adds the error that ends a stream already under way. */
  void error(OutputStream out, RuntimeException failure) throws IOException;
}
