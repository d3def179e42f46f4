package dev.modserv.onnx.internal;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.modserv.spi.RunCancel;
import java.util.Map;
import java.util.Set;

/**
 * Runs a session so that the server can stop it: a run that may be cancelled gets its own {@code
 * RunOptions}, whose terminate flag the cancel sets (ONNX Runtime checks it between graph nodes
 * and fails the run). The options are closed once the run returned; a cancel that comes later does
 * nothing, so that no one touches freed native memory.
 */
final class Terminable implements AutoCloseable {
  private final OrtSession.RunOptions options;
  private boolean closed;

  private Terminable(OrtSession.RunOptions options) {
    this.options = options;
  }

  /**
   * Runs {@code session} on {@code inputs} for {@code outputs}; a run nobody can cancel runs
   * without options (no native allocation on the fast path).
   *
   * @throws OrtException from ONNX Runtime, also when the run was cancelled (terminated)
   */
  static OrtSession.Result run(OrtSession session, Map<String, OnnxTensor> inputs,
      Set<String> outputs, RunCancel cancel) throws OrtException {
    return run(session, inputs, outputs, Map.of(), cancel);
  }

  /**
   * Runs {@code session} as {@link #run(OrtSession, Map, Set, RunCancel)} does, writing the outputs
   * {@code written} names into their tensors and allocating those {@code outputs} names.
   */
  static OrtSession.Result run(OrtSession session, Map<String, OnnxTensor> inputs,
      Set<String> outputs, Map<String, OnnxTensor> written, RunCancel cancel) throws OrtException {
    if (!cancel.cancellable()) {
      return written.isEmpty() ? session.run(inputs, outputs)
          : session.run(inputs, outputs, written);
    }
    try (Terminable t = new Terminable(new OrtSession.RunOptions())) {
      cancel.onCancel(t::terminate);
      return written.isEmpty() ? session.run(inputs, outputs, t.options)
          : session.run(inputs, outputs, written, t.options);
    }
  }

  private synchronized void terminate() {
    if (!closed) {
      try {
        options.setTerminate(true);
      } catch (OrtException ignored) {
        // The run goes on to its end; its callers were answered already.
      }
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
    options.close();
  }
}
