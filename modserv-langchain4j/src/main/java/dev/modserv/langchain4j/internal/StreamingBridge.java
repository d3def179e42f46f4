package dev.modserv.langchain4j.internal;

import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.chat.response.StreamingHandle;
import dev.modserv.api.GenerationChunk;
import dev.modserv.api.GenerationStream;
import java.util.Objects;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers a {@link GenerationStream} to a LangChain4j {@link StreamingChatResponseHandler}, on the
 * stream's delivery thread: each text delta as a partial response, then the whole response.
 *
 * <p>The handler stops the stream with the {@link StreamingHandle} of each partial response's
 * context: the generation is cancelled in the engine at once (its sequence freed, counted as
 * {@code cancelled}) and the handler hears nothing more. A handler whose {@code
 * onPartialResponse} throws stops it too, and gets the exception in {@code onError}.
 */
public final class StreamingBridge implements Flow.Subscriber<GenerationChunk>, StreamingHandle {
  private static final Logger log = LoggerFactory.getLogger(StreamingBridge.class);

  private final StreamingChatResponseHandler handler;
  private final String modelName;
  private final PartialResponseContext context;
  private final StringBuilder text = new StringBuilder();
  private final AtomicBoolean cancelled = new AtomicBoolean();
  /** Set once a terminal callback went to the handler, or the stream was stopped. */
  private final AtomicBoolean ended = new AtomicBoolean();
  private volatile Flow.@Nullable Subscription subscription;

  private StreamingBridge(StreamingChatResponseHandler handler, String modelName) {
    this.handler = handler;
    this.modelName = modelName;
    this.context = new PartialResponseContext(this);
  }

  /** Delivers {@code stream} to {@code handler}; returns at once. */
  public static void deliver(GenerationStream stream, StreamingChatResponseHandler handler,
      String modelName) {
    stream.subscribe(new StreamingBridge(handler, modelName));
  }

  @Override
  public void onSubscribe(Flow.Subscription s) {
    subscription = s;
    s.request(Long.MAX_VALUE);
  }

  @Override
  public void onNext(GenerationChunk chunk) {
    if (ended.get()) {
      return;
    }
    if (!chunk.text().isEmpty()) {
      text.append(chunk.text());
      try {
        handler.onPartialResponse(new PartialResponse(chunk.text()), context);
      } catch (RuntimeException e) {
        if (stop()) {
          notifyError(e);
        }
        return;
      }
    }
    if (chunk.last() && ended.compareAndSet(false, true)) {
      try {
        handler.onCompleteResponse(ChatMapping.chatResponse(modelName, text.toString(),
            Objects.requireNonNull(chunk.finishReason()), Objects.requireNonNull(chunk.usage())));
      } catch (RuntimeException e) {
        log.warn("a StreamingChatResponseHandler failed in onCompleteResponse", e);
      }
    }
  }

  @Override
  public void onError(Throwable error) {
    if (ended.compareAndSet(false, true)) {
      notifyError(error);
    }
  }

  @Override
  public void onComplete() {
    // The last chunk already completed the response.
  }

  /** Stops the generation, unless it already ended; the handler hears nothing more. */
  @Override
  public void cancel() {
    if (stop()) {
      cancelled.set(true);
    }
  }

  @Override
  public boolean isCancelled() {
    return cancelled.get();
  }

  /** Ends delivery and cancels the generation; returns whether this call ended it. */
  private boolean stop() {
    if (!ended.compareAndSet(false, true)) {
      return false;
    }
    // Set before any chunk comes: subscribe() calls onSubscribe before it starts delivering.
    Flow.Subscription s = subscription;
    if (s != null) {
      s.cancel();
    }
    return true;
  }

  private void notifyError(Throwable error) {
    try {
      handler.onError(error);
    } catch (RuntimeException e) {
      log.warn("a StreamingChatResponseHandler failed in onError", e);
    }
  }
}
