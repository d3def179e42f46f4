package dev.modserv.api;

import java.util.Iterator;
import java.util.concurrent.Flow;
import java.util.stream.Stream;

/**
 * A generation in progress: consume it once, as a {@link Flow.Publisher} ({@link #subscribe}), a
 * blocking {@link #iterator()} or {@link #stream()}, or collected with {@link #result()}.
 * Consuming it a second time, in any way, throws {@link IllegalStateException}.
 *
 * <p>{@link #cancel()} (or {@link #close()}, or cancelling the subscription, or closing the Java
 * stream) stops the generation in the engine at once and frees its sequence; the stream then ends
 * with a last chunk whose finish reason is {@link FinishReason#CANCELLED}. A stream that becomes
 * unreachable before its end is cancelled too, but later: cancel explicitly.
 *
 * <p>Refusals ({@code QUEUE_FULL}, {@code TIMEOUT}, {@code SHUTTING_DOWN}, {@code INVALID_INPUT})
 * and engine failures end the stream with a {@link ModelServingException}: thrown by the iterator
 * and {@link #result()}, passed to {@link Flow.Subscriber#onError}.
 */
public interface GenerationStream extends Flow.Publisher<GenerationChunk>, AutoCloseable {

  /** Returns the chunks, blocking for each; the last one has {@link GenerationChunk#last()}. */
  Iterator<GenerationChunk> iterator();

  /** Returns the chunks as a sequential stream; closing it cancels the generation. */
  Stream<GenerationChunk> stream();

  /** Waits for the whole generation and returns it. */
  GenerationResult result();

  /** Stops the generation and frees its sequence; idempotent, safe from any thread. */
  void cancel();

  /** Cancels the generation unless it already ended. */
  @Override
  default void close() {
    cancel();
  }
}
