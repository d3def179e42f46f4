package dev.modserv.onnx.internal;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions;
import java.nio.file.Path;
import java.util.EnumSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Opens ONNX Runtime sessions with a model's options. */
public final class Sessions {
  private static final Logger LOG = LoggerFactory.getLogger(Sessions.class);

  private Sessions() {}

  /** A session and the execution provider it runs on. */
  public record Opened(OrtSession session, String provider) {
    /**
     * Returns how many runs the session takes at once: {@code OrtSession.run} is thread-safe, so
     * on the CPU one per available processor, each on its caller's thread (concurrent runs share
     * the session's intra-op pool rather than each starting its own, so they do not multiply its
     * threads: {@code docs/onnx.md}). On a GPU the runs would share one device and
     * queue there, each holding its own activations: one at a time.
     */
    public int concurrentRuns() {
      return onCpu() ? Runtime.getRuntime().availableProcessors() : 1;
    }

    /** Whether the session runs in host memory (no device to copy outputs back from). */
    public boolean onCpu() {
      return provider.equals("cpu") || provider.equals("dnnl");
    }
  }

  /** Opens {@code model}; the caller closes the session. */
  public static Opened open(OrtEnvironment env, Path model, OnnxOptions options)
      throws OrtException {
    try (SessionOptions so = new SessionOptions()) {
      if (options.intraOpThreads() > 0) {
        so.setIntraOpNumThreads(options.intraOpThreads());
      }
      if (options.interOpThreads() > 0) {
        so.setInterOpNumThreads(options.interOpThreads());
      }
      if (options.optimizationLevel() != null) {
        so.setOptimizationLevel(options.optimizationLevel());
      }
      if (options.executionMode() != null) {
        so.setExecutionMode(options.executionMode());
      }
      String provider = addProvider(so, model, options);
      return new Opened(env.createSession(model.toString(), so), provider);
    }
  }

  /** Adds the first available provider of the preference list; CPU when none is. */
  private static String addProvider(SessionOptions so, Path model, OnnxOptions options) {
    EnumSet<OrtProvider> available = OrtEnvironment.getAvailableProviders();
    for (String name : options.executionProviders()) {
      if (name.equals("cpu")) {
        return "cpu";
      }
      OrtProvider provider = switch (name) {
        case "cuda" -> OrtProvider.CUDA;
        case "rocm" -> OrtProvider.ROCM;
        case "dnnl" -> OrtProvider.DNNL;
        case "coreml" -> OrtProvider.CORE_ML;
        default -> throw new IllegalArgumentException("unknown execution provider " + name);
      };
      if (!available.contains(provider)) {
        LOG.info("{}: execution provider {} is not in this ONNX Runtime build (available: {});"
            + " trying the next one", model.getFileName(), name, available);
        continue;
      }
      try {
        switch (provider) {
          case CUDA -> so.addCUDA();
          case ROCM -> so.addROCM();
          case DNNL -> so.addDnnl(true);
          default -> so.addCoreML();
        }
        return name;
      } catch (OrtException | RuntimeException e) {
        LOG.info("{}: execution provider {} failed to start ({}); trying the next one",
            model.getFileName(), name, e.getMessage());
      }
    }
    LOG.info("{}: none of the execution providers {} is available; running on cpu",
        model.getFileName(), options.executionProviders());
    return "cpu";
  }
}
