package dev.modserv.http.internal;

import com.fasterxml.jackson.core.util.BufferRecycler;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.core.util.RecyclerPool;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Jackson's parse and write buffers, reused on every kind of thread. Jackson's default pool keeps
 * one set per thread, which serves Jetty's threads well, but an answer written on a virtual thread
 * (a batch that completes on the batcher's) found an empty pool each time and allocated about 12 KB
 * of buffers per response. Virtual threads take a set from a striped array of slots instead, picked
 * by thread id and spaced a cache line apart, so that concurrent requests seldom touch the same
 * slot: no lock, and no one atomic that every request updates.
 */
final class JsonBuffers implements RecyclerPool<BufferRecycler> {
  private static final long serialVersionUID = 1L;
  /** Slots for virtual threads: a few per core, so that two at once rarely share one. */
  private static final int STRIPES = Integer.highestOneBit(
      Math.max(8, Runtime.getRuntime().availableProcessors() * 4) * 2 - 1);
  /** Array elements between two slots: a cache line of references. */
  private static final int SPACING = 16;

  private final RecyclerPool<BufferRecycler> perPlatformThread =
      JsonRecyclerPools.threadLocalPool();
  private final transient AtomicReferenceArray<BufferRecycler> slots =
      new AtomicReferenceArray<>(STRIPES * SPACING);

  @Override
  public BufferRecycler acquireAndLinkPooled() {
    if (!Thread.currentThread().isVirtual()) {
      return perPlatformThread.acquireAndLinkPooled();
    }
    return acquirePooled().withPool(this);
  }

  @Override
  public BufferRecycler acquirePooled() {
    BufferRecycler pooled = slots.getAndSet(slot(), null);
    return pooled != null ? pooled : new BufferRecycler();
  }

  @Override
  public void releasePooled(BufferRecycler recycler) {
    // A slot already taken keeps its set; this one is left to the garbage collector.
    slots.compareAndSet(slot(), null, recycler);
  }

  /** A pool read back from a serialized factory starts empty, as Jackson's own pools do. */
  private Object readResolve() {
    return new JsonBuffers();
  }

  private static int slot() {
    return (int) (Thread.currentThread().threadId() & (STRIPES - 1)) * SPACING;
  }
}
