package dev.modserv.benchmarks;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.modserv.api.DataType;
import dev.modserv.api.Tensor;
import dev.modserv.http.internal.Json;
import dev.modserv.http.internal.JsonTensor;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The bytes the REST adapter's codec allocates per call, and its time per call on one warm thread:
 * {@link HttpPredictBench}'s request parsed into its FP32 tensor, and an answer of the same shape
 * written as JSON on a platform thread and on a new virtual thread (as a batch completing on the
 * batcher's writes its answers). The bytes do not depend on what else runs on the machine; the
 * time does.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.modserv.benchmarks.HttpCodecAllocation
 * </pre>
 */
public final class HttpCodecAllocation {
  private static final byte[] BODY = HttpPredictBench.BODY.getBytes(StandardCharsets.UTF_8);
  private static final Tensor OUTPUT = Tensor.of(new float[] {0.32944912f, -0.08828576f,
      0.29027635f}, 1, 3);
  private static final int CALLS = 200_000;
  private static volatile Object sink;

  private HttpCodecAllocation() {}

  static Tensor parse() throws IOException {
    try (JsonParser p = Json.parser(BODY)) {
      p.nextToken();
      JsonTensor inputs = null;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        p.nextToken();
        if (field.equals("inputs")) {
          inputs = JsonTensor.read(p, "inputs");
        }
      }
      if (inputs == null) {
        throw new IllegalStateException("no inputs in " + HttpPredictBench.BODY);
      }
      return inputs.toTensor(DataType.FP32, new long[] {1, 4}, "inputs");
    }
  }

  static byte[] answer() {
    return Json.write(g -> {
      g.writeStartObject();
      g.writeStringField("model", "mlp");
      g.writeNumberField("version", 1);
      g.writeFieldName("outputs");
      Json.writeNested(g, OUTPUT);
      g.writeNumberField("n_samples", 1);
      g.writeNumberField("latency_us", 42);
      g.writeBooleanField("done", true);
      g.writeEndObject();
    });
  }

  @FunctionalInterface
  interface Call {
    Object run() throws Exception;
  }

  private static long allocatedBytes() {
    return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
        .getTotalThreadAllocatedBytes();
  }

  /** Best of 5 rounds of {@link #CALLS} calls, after one round of warm-up. */
  static void measure(String name, Call call) throws Exception {
    long bytes = 0;
    long best = Long.MAX_VALUE;
    for (int round = 0; round < 6; round++) {
      long allocated = allocatedBytes();
      long start = System.nanoTime();
      for (int i = 0; i < CALLS; i++) {
        sink = call.run();
      }
      long nanos = System.nanoTime() - start;
      if (round > 0) {
        best = Math.min(best, nanos);
        bytes = (allocatedBytes() - allocated) / CALLS;
      }
    }
    System.out.printf(Locale.ROOT, "%-62s %8.0f ns %8d bytes%n", name, (double) best / CALLS,
        bytes);
  }

  public static void main(String[] args) throws Exception {
    System.out.println("per call, one thread, best of 5 rounds of " + CALLS + " calls:");
    measure("parse the request into its FP32 tensor", HttpCodecAllocation::parse);
    measure("answer JSON, platform thread", HttpCodecAllocation::answer);
    measure("answer JSON, each on a new virtual thread (thread included)", () -> {
      Thread t = Thread.ofVirtual().start(() -> sink = answer());
      t.join();
      return t;
    });
    measure("a new virtual thread alone, to subtract", () -> {
      Thread t = Thread.ofVirtual().start(() -> sink = OUTPUT);
      t.join();
      return t;
    });
  }
}
