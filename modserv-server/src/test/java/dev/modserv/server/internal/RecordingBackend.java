package dev.modserv.server.internal;

import dev.modserv.api.Capability;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.Tensor;
import dev.modserv.spi.Backend;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.ModelSource;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/** An engine that records the texts of every call it runs, and can fail the next one. */
final class RecordingBackend implements Backend {
  private final Backend engine;
  final List<List<String>> runs = new CopyOnWriteArrayList<>();
  final AtomicBoolean failNext = new AtomicBoolean();

  RecordingBackend(Backend engine) {
    this.engine = engine;
  }

  /** The row counts of the engine calls that held {@code text}. */
  List<Integer> rowsOfRunsWith(String text) {
    return runs.stream().filter(r -> r.contains(text)).map(List::size).toList();
  }

  @Override
  public String name() {
    return engine.name();
  }

  @Override
  public boolean supports(ModelSource source) {
    return engine.supports(source);
  }

  @Override
  public LoadedModel load(ModelSource source) throws Exception {
    LoadedModel model = engine.load(source);
    return new LoadedModel() {
      @Override
      public ModelMetadata metadata() {
        return model.metadata();
      }

      @Override
      public Map<String, Tensor> run(Map<String, Tensor> inputs, Set<String> outputs)
          throws Exception {
        Tensor text = inputs.get(Capability.EMBEDDING_INPUT);
        if (text != null) {
          runs.add(Arrays.asList(text.toStringArray()));
        }
        if (failNext.compareAndSet(true, false)) {
          throw new IllegalStateException("failed on purpose");
        }
        return model.run(inputs, outputs);
      }

      @Override
      public long memoryBytes() {
        return model.memoryBytes();
      }

      @Override
      public void close() throws Exception {
        model.close();
      }
    };
  }

  @Override
  public void close() {
    engine.close();
  }
}
