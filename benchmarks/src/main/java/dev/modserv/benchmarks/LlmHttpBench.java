package dev.modserv.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modserv.api.ChatMessage;
import dev.modserv.api.GenerationChunk;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.GenerationStream;
import dev.modserv.core.ModelServer;
import dev.modserv.http.HttpAdapter;
import dev.modserv.llama.LlamaBackend;
import dev.modserv.spi.ModelSource;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * Streaming generation through {@code POST /v1/chat/completions} (SSE, read line by line with the
 * JDK's HTTP client) side by side with {@link ModelServer#generate} called in this process, on the
 * same generated GGUF (384 wide, 6 layers, {@link LlamaBenchmark#writeModel}) served by one
 * worker with 4 sequences. For 1 and 4 concurrent clients, each round runs one generation per
 * client on one side, then on the other (the order alternates by round). Per generation: the time
 * to the first token that carries text, and the decode rate after it, {@code (tokens - 1) / (end
 * - first)}; the medians over all generations of a side are printed.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar \
 *     dev.modserv.benchmarks.LlmHttpBench [rounds=15] [tokens=64]
 * </pre>
 */
public final class LlmHttpBench {
  private static final ObjectMapper JSON = new ObjectMapper();

  private LlmHttpBench() {}

  /** One generation's figures, in nanoseconds. */
  private record Sample(long ttft, long decode) {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
    int tokens = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    Path model = LlamaBenchmark.writeModel();
    ModelServer server = ModelServer.builder().backend(new LlamaBackend())
        .discoverBackends(false).build();
    server.registry().load("bench", 1, new ModelSource(model, Map.of("context-size", "2048",
        "threads", "1", "parallel", "4"))).join();
    HttpAdapter http = HttpAdapter.builder(server).port(0).host("127.0.0.1").build();
    http.start();
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    URI uri = URI.create("http://127.0.0.1:" + http.port() + "/v1/chat/completions");
    String body = "{\"model\":\"bench\",\"messages\":[{\"role\":\"user\",\"content\":"
        + JSON.writeValueAsString(LlamaBenchmark.PROMPT) + "}],\"max_tokens\":" + tokens
        + ",\"temperature\":0,\"seed\":1,\"stream\":true}";
    GenerationRequest request = GenerationRequest.builder("bench")
        .messages(List.of(ChatMessage.user(LlamaBenchmark.PROMPT))).maxTokens(tokens)
        .temperature(0).seed(1).build();

    System.out.printf(Locale.ROOT, "LlmHttpBench: %d rounds, %d tokens per generation, %d CPUs, %s%n",
        rounds, tokens, Runtime.getRuntime().availableProcessors(), Runtime.version());
    System.out.println("clients  side        ttft p50 ms  decode p50 tok/s  generations");
    for (int clients : new int[] {1, 4}) {
      List<Sample> direct = new ArrayList<>();
      List<Sample> served = new ArrayList<>();
      int warmup = 2;
      for (int r = -warmup; r < rounds; r++) {
        for (int side = 0; side < 2; side++) {
          boolean overHttp = (side == 0) == ((r & 1) == 0);
          List<Sample> samples = new ArrayList<>();
          CountDownLatch done = new CountDownLatch(clients);
          List<Throwable> failures = new ArrayList<>();
          for (int c = 0; c < clients; c++) {
            Thread.ofPlatform().start(() -> {
              try {
                Sample s = overHttp ? overHttp(client, uri, body, tokens)
                    : inProcess(server, request, tokens);
                synchronized (samples) {
                  samples.add(s);
                }
              } catch (Throwable t) {
                synchronized (failures) {
                  failures.add(t);
                }
              } finally {
                done.countDown();
              }
            });
          }
          done.await();
          if (!failures.isEmpty()) {
            throw new IllegalStateException("a generation failed", failures.get(0));
          }
          if (r >= 0) {
            (overHttp ? served : direct).addAll(samples);
          }
        }
      }
      Sample d = medians(direct);
      Sample s = medians(served);
      print(clients, "in process", d, tokens, direct.size());
      print(clients, "HTTP SSE", s, tokens, served.size());
      System.out.printf(Locale.ROOT, "%7d  added ttft %.3f ms; HTTP / in-process tokens/s %.1f%%%n",
          clients, (s.ttft() - d.ttft()) / 1e6, 100.0 * d.decode() / s.decode());
    }
    http.close();
    server.close();
    System.exit(0);
  }

  private static Sample inProcess(ModelServer server, GenerationRequest request, int tokens) {
    long start = System.nanoTime();
    long first = 0;
    try (GenerationStream s = server.generate(request)) {
      for (Iterator<GenerationChunk> it = s.iterator(); it.hasNext(); ) {
        GenerationChunk c = it.next();
        if (first == 0 && !c.text().isEmpty()) {
          first = System.nanoTime();
        }
      }
    }
    return new Sample(first - start, System.nanoTime() - first);
  }

  private static Sample overHttp(HttpClient client, URI uri, String body, int tokens)
      throws Exception {
    long start = System.nanoTime();
    HttpResponse<InputStream> r = client.send(HttpRequest.newBuilder(uri)
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofInputStream());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("status " + r.statusCode());
    }
    long first = 0;
    try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(),
        StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        if (line.equals("data: [DONE]")) {
          break;
        }
        if (first == 0 && line.startsWith("data: ")) {
          JsonNode delta = JSON.readTree(line.substring(6)).path("choices").path(0)
              .path("delta").path("content");
          if (!delta.asText("").isEmpty()) {
            first = System.nanoTime();
          }
        }
      }
    }
    return new Sample(first - start, System.nanoTime() - first);
  }

  /** Median time to first token, and the median decode time (as a sample of the same shape). */
  private static Sample medians(List<Sample> samples) {
    long[] ttft = samples.stream().mapToLong(Sample::ttft).sorted().toArray();
    long[] decode = samples.stream().mapToLong(Sample::decode).sorted().toArray();
    return new Sample(ttft[ttft.length / 2], decode[decode.length / 2]);
  }

  private static void print(int clients, String side, Sample s, int tokens, int n) {
    System.out.printf(Locale.ROOT, "%7d  %-10s  %11.3f  %16.1f  %11d%n", clients, side,
        s.ttft() / 1e6, (tokens - 1) / (s.decode() / 1e9), n);
  }
}
