package dev.modserv.core.internal;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.GenerationChunk;
import dev.modserv.api.GenerationListener;
import dev.modserv.api.GenerationResult;
import dev.modserv.api.GenerationStream;
import dev.modserv.api.ModelServingException;
import java.lang.ref.Cleaner;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link GenerationStream} a caller holds. It holds its {@link GenerationCall}, never the
 * other way round, so a stream dropped before its end becomes unreachable and a cleaner cancels
 * its generation.
 */
public final class Generation implements GenerationStream {
  private static final Logger log = LoggerFactory.getLogger(Generation.class);
  private static final Cleaner CLEANER = Cleaner.create(r -> {
    Thread t = new Thread(r, "modserv-generation-cleaner");
    t.setDaemon(true);
    return t;
  });

  private final GenerationCall call;
  private final AtomicBoolean consumed = new AtomicBoolean();

  Generation(GenerationCall call) {
    this.call = call;
    CLEANER.register(this, call::cancel);
  }

  private void consumeOnce() {
    if (!consumed.compareAndSet(false, true)) {
      throw new IllegalStateException("this generation stream was already consumed; a stream is"
          + " read once");
    }
  }

  @Override
  public Iterator<GenerationChunk> iterator() {
    consumeOnce();
    return new Chunks();
  }

  @Override
  public Stream<GenerationChunk> stream() {
    return StreamSupport.stream(Spliterators.spliteratorUnknownSize(iterator(),
        Spliterator.ORDERED | Spliterator.NONNULL), false).onClose(this::cancel);
  }

  @Override
  public GenerationResult result() {
    Iterator<GenerationChunk> chunks = iterator();
    StringBuilder text = new StringBuilder();
    while (chunks.hasNext()) {
      GenerationChunk c = chunks.next();
      text.append(c.text());
      if (c.last()) {
        return new GenerationResult(text.toString(), Objects.requireNonNull(c.finishReason()),
            Objects.requireNonNull(c.usage()), Objects.requireNonNull(c.timings()));
      }
    }
    throw new IllegalStateException("the generation ended without a last chunk");
  }

  @Override
  public void cancel() {
    call.cancel();
  }

  @Override
  public void subscribe(Flow.Subscriber<? super GenerationChunk> subscriber) {
    Objects.requireNonNull(subscriber, "subscriber");
    if (!consumed.compareAndSet(false, true)) {
      subscriber.onSubscribe(new Flow.Subscription() {
        @Override
        public void request(long n) {}

        @Override
        public void cancel() {}
      });
      subscriber.onError(new IllegalStateException("this generation stream was already"
          + " consumed; a stream is read once"));
      return;
    }
    Delivery delivery = new Delivery(subscriber);
    subscriber.onSubscribe(delivery);
    // No thread waits while the request is queued or its prompt is read: the delivery starts
    // with the first chunk (or the refusal), on a virtual thread of its own.
    call.whenFirstEvent(
        () -> Thread.ofVirtual().name("modserv-generation-delivery").start(delivery::run));
  }

  /**
   * Delivers the generation to {@code listener} on the threads that make its events (the engine's,
   * or the caller's for a refusal), one call at a time and in order, with no thread of its own:
   * each token reaches the listener without a hand-off. A listener that throws cancels the
   * generation and hears no more.
   */
  public void deliverTo(GenerationListener listener) {
    consumeOnce();
    call.whenEachEvent(new Direct(listener)::drain);
  }

  /** Returns whether the generation ended (completed, failed or cancelled). */
  public boolean isDone() {
    return call.isDone();
  }

  /** Blocking reads of the call's events. */
  private final class Chunks implements Iterator<GenerationChunk> {
    private @Nullable GenerationChunk next;
    private boolean ended;

    @Override
    public boolean hasNext() {
      if (next != null) {
        return true;
      }
      if (ended) {
        return false;
      }
      Object e;
      try {
        e = call.events().take();
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        cancel();
        throw new ModelServingException(ErrorCode.BACKEND_ERROR, "interrupted while waiting for"
            + " the generation; it was cancelled", ie);
      }
      if (e == GenerationCall.END) {
        ended = true;
        return false;
      }
      if (e instanceof ModelServingException error) {
        ended = true;
        throw error;
      }
      next = (GenerationChunk) e;
      return true;
    }

    @Override
    public GenerationChunk next() {
      if (!hasNext()) {
        throw new NoSuchElementException("the generation ended");
      }
      GenerationChunk c = Objects.requireNonNull(next);
      next = null;
      return c;
    }
  }

  /** Hands the call's events to a listener on the thread that queued them, one drain at a time. */
  private final class Direct {
    private final GenerationListener listener;
    private final AtomicBoolean draining = new AtomicBoolean();
    /** Read and written only by the thread that holds {@link #draining}. */
    private boolean ended;

    Direct(GenerationListener listener) {
      this.listener = listener;
    }

    /**
     * Delivers what is queued unless another thread is at it; that thread then delivers what this
     * one queued, since it looks again after letting go.
     */
    void drain() {
      while (!call.events().isEmpty() && draining.compareAndSet(false, true)) {
        try {
          for (Object e; (e = call.events().poll()) != null; ) {
            deliver(e);
          }
        } finally {
          draining.set(false);
        }
      }
    }

    private void deliver(Object event) {
      if (ended || event == GenerationCall.END) {
        return;
      }
      try {
        if (event instanceof ModelServingException error) {
          ended = true;
          listener.onError(error);
        } else {
          GenerationChunk chunk = (GenerationChunk) event;
          ended = chunk.last();
          listener.onChunk(chunk);
          if (ended) {
            listener.onComplete();
          }
        }
      } catch (RuntimeException e) {
        ended = true;
        log.warn("a generation listener threw; the generation is cancelled", e);
        Generation.this.cancel();
      }
    }
  }

  /**
   * Delivers chunks to a subscriber as it asks for them, on its own virtual thread, started when
   * the first chunk comes.
   */
  private final class Delivery implements Flow.Subscription {
    private final Flow.Subscriber<? super GenerationChunk> subscriber;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition demanded = lock.newCondition();
    @GuardedBy("lock")
    private long demand;
    @GuardedBy("lock")
    private boolean stopped;
    @GuardedBy("lock")
    private @Nullable Throwable badRequest;

    Delivery(Flow.Subscriber<? super GenerationChunk> subscriber) {
      this.subscriber = subscriber;
    }

    @Override
    public void request(long n) {
      lock.lock();
      try {
        if (n <= 0) {
          badRequest = new IllegalArgumentException("request(n) needs n > 0, got " + n);
        } else {
          demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
        }
        demanded.signalAll();
      } finally {
        lock.unlock();
      }
    }

    @Override
    public void cancel() {
      lock.lock();
      try {
        stopped = true;
        demanded.signalAll();
      } finally {
        lock.unlock();
      }
      Generation.this.cancel();
    }

    void run() {
      Chunks chunks = new Chunks();
      try {
        while (true) {
          lock.lock();
          try {
            while (demand == 0 && !stopped && badRequest == null) {
              demanded.await();
            }
            if (stopped) {
              return;
            }
            if (badRequest != null) {
              Generation.this.cancel();
              subscriber.onError(badRequest);
              return;
            }
            demand--;
          } finally {
            lock.unlock();
          }
          boolean more;
          try {
            more = chunks.hasNext();
          } catch (ModelServingException e) {
            subscriber.onError(e);
            return;
          }
          if (!more) {
            subscriber.onComplete();
            return;
          }
          GenerationChunk c = chunks.next();
          subscriber.onNext(c);
          if (c.last()) {
            subscriber.onComplete();
            return;
          }
        }
      } catch (InterruptedException e) {
        Generation.this.cancel();
      } catch (RuntimeException e) {
        // The subscriber threw: the Flow rules let us cancel.
        Generation.this.cancel();
      }
    }
  }
}
