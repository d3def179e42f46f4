package dev.modserv.benchmarks;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaIterator;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.ModelParameters;
import dev.modserv.api.GenerationChunk;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.GenerationStream;
import dev.modserv.core.ModelServer;
import dev.modserv.llama.LlamaBackend;
import dev.modserv.spi.ModelSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;

/**
 * Side by side in one process, alternating round by round so that a busy machine slows both
 * sides alike: the same generated model (384 wide, 6 layers) through {@code ModelServer} (a
 * worker process) and through the binding in this JVM, greedy, {@code tokens} tokens per
 * generation. Per round and side it records the time to the first streamed token and the decode
 * rate after it ({@code (tokens - 1) / (last - first)}); it prints medians.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp ... dev.modserv.benchmarks.LlamaSideBySide \
 *     [rounds=30] [tokens=128] [threads=1]
 * </pre>
 *
 * <p>The JVM does not exit by itself afterwards (the in-process model's native thread): main ends
 * with {@code System.exit}.
 */
public final class LlamaSideBySide {
  private LlamaSideBySide() {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 30;
    int tokens = args.length > 1 ? Integer.parseInt(args[1]) : 128;
    int threads = args.length > 2 ? Integer.parseInt(args[2]) : 1;
    Path model = LlamaBenchmark.writeModel();
    System.setProperty("de.kherud.llama.tmpdir",
        Files.createTempDirectory("modserv-llama-native-").toString());
    LlamaModel direct = new LlamaModel(new ModelParameters().setModel(model.toString())
        .setCtxSize(2048).setThreads(threads).setParallel(1));
    ModelServer server = ModelServer.builder().backend(new LlamaBackend())
        .discoverBackends(false).build();
    server.registry().load("bench", 1, new ModelSource(model, Map.of("context-size", "2048",
        "threads", Integer.toString(threads), "parallel", "1"))).join();
    GenerationRequest request = GenerationRequest.builder("bench")
        .prompt(LlamaBenchmark.PROMPT).maxTokens(tokens).temperature(0).seed(1).build();

    double[][] ttft = new double[2][rounds];
    double[][] rate = new double[2][rounds];
    int warmup = 3;
    for (int r = -warmup; r < rounds; r++) {
      for (int side = 0; side < 2; side++) {
        boolean servedFirst = (r & 1) == 0;
        boolean served = (side == 0) == servedFirst;
        long start = System.nanoTime();
        long first = 0;
        int n = 0;
        if (served) {
          try (GenerationStream s = server.generate(request)) {
            for (Iterator<GenerationChunk> it = s.iterator(); it.hasNext(); ) {
              GenerationChunk c = it.next();
              if (!c.last()) {
                if (first == 0) {
                  first = System.nanoTime();
                }
                n += c.completionTokens() > 0 ? 1 : 0;
              }
            }
          }
        } else {
          LlamaIterator it = direct.generate(new InferenceParameters(LlamaBenchmark.PROMPT)
              .setNPredict(tokens).setTemperature(0).setSeed(1)).iterator();
          while (it.hasNext()) {
            it.next();
            if (first == 0) {
              first = System.nanoTime();
            }
            n++;
          }
        }
        long end = System.nanoTime();
        if (r >= 0) {
          int i = served ? 1 : 0;
          ttft[i][r] = (first - start) / 1e6;
          rate[i][r] = (tokens - 1) / ((end - first) / 1e9);
        }
      }
    }
    server.close();
    double dTtft = median(ttft[0]);
    double sTtft = median(ttft[1]);
    double dRate = median(rate[0]);
    double sRate = median(rate[1]);
    System.out.printf("rounds=%d tokens=%d threads=%d%n", rounds, tokens, threads);
    System.out.printf("direct  ttft median %.3f ms, decode median %.1f tokens/s%n", dTtft, dRate);
    System.out.printf("served  ttft median %.3f ms, decode median %.1f tokens/s%n", sTtft, sRate);
    System.out.printf("served - direct ttft %.3f ms; served / direct tokens/s %.1f%%%n",
        sTtft - dTtft, 100 * sRate / dRate);
    System.out.flush();
    System.exit(0);
  }

  private static double median(double[] values) {
    double[] v = values.clone();
    Arrays.sort(v);
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }
}
