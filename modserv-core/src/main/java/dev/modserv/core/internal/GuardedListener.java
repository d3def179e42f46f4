package dev.modserv.core.internal;

import dev.modserv.core.ModelServerListener;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Fans events out to the user's listeners; a listener that throws is logged and skipped. */
public final class GuardedListener implements ModelServerListener {
  private static final Logger log = LoggerFactory.getLogger(GuardedListener.class);

  private final List<ModelServerListener> listeners;

  public GuardedListener(List<ModelServerListener> listeners) {
    this.listeners = List.copyOf(listeners);
  }

  private void each(String event, Consumer<ModelServerListener> call) {
    for (ModelServerListener l : listeners) {
      try {
        call.accept(l);
      } catch (RuntimeException e) {
        log.warn("listener {} threw in {}; ignored", l.getClass().getName(), event, e);
      }
    }
  }

  @Override
  public void loadStarted(String model, long version) {
    each("loadStarted", l -> l.loadStarted(model, version));
  }

  @Override
  public void warmupFinished(String model, long version, Duration took) {
    each("warmupFinished", l -> l.warmupFinished(model, version, took));
  }

  @Override
  public void ready(String model, long version, Duration loadTook) {
    each("ready", l -> l.ready(model, version, loadTook));
  }

  @Override
  public void loadFailed(String model, long version, Throwable cause) {
    each("loadFailed", l -> l.loadFailed(model, version, cause));
  }

  @Override
  public void drainStarted(String model, long version) {
    each("drainStarted", l -> l.drainStarted(model, version));
  }

  @Override
  public void unloaded(String model, long version) {
    each("unloaded", l -> l.unloaded(model, version));
  }

  @Override
  public void labelMoved(String model, String label, long version) {
    each("labelMoved", l -> l.labelMoved(model, label, version));
  }
}
