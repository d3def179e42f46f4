package dev.modserv.core.internal;

import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelStatus;
import dev.modserv.spi.ModelSource;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The versions, labels and configuration of one model name.
 *
 * <p>Structural changes (a version added, ready, draining or removed; a label moved; the
 * configuration replaced) hold this entry's monitor and bump {@link #epoch}. Requests never take
 * it: they read the concurrent maps and compare epochs (see {@link ModelTable#acquire}). The
 * lock order is entry, then version; nothing is closed and no listener is called while it is held.
 */
final class ModelEntry {
  final String name;
  final ConcurrentSkipListMap<Long, ModelVersion> versions = new ConcurrentSkipListMap<>();
  final Map<String, Long> labels = new ConcurrentHashMap<>();
  final AtomicLong epoch = new AtomicLong();
  /** Replaced under this entry's monitor; read freely. */
  volatile ModelConfig config = ModelConfig.defaults();
  /** Where each version came from, to load it again on demand after an idle eviction. */
  final Map<Long, ModelSource> sources = new ConcurrentHashMap<>();
  /** The status of each registered version when it last closed, for {@code registered()}. */
  final Map<Long, ModelStatus> lastLoaded = new ConcurrentHashMap<>();
  /**
   * Requests waiting for a load of this model to finish. While there are any, no version is
   * unloaded for its keep-alive: with a keep-alive of 0, the first answer would otherwise unload
   * the version that the rest of a burst waited for.
   */
  final AtomicInteger awaitingLoad = new AtomicInteger();

  ModelEntry(String name) {
    this.name = name;
  }

  Set<String> labelsOf(long version) {
    Set<String> out = new TreeSet<>();
    labels.forEach((label, v) -> {
      if (v == version) {
        out.add(label);
      }
    });
    return out;
  }

  /** Records a structural change, so that a request that raced with it resolves again. */
  void changed() {
    epoch.incrementAndGet();
  }
}
