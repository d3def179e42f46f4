package dev.modserv.llama.internal;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaIterator;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LlamaOutput;
import de.kherud.llama.ModelParameters;
import de.kherud.llama.Pair;
import de.kherud.llama.args.PoolingType;
import dev.modserv.api.ChatMessage;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.FinishReason;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Usage;
import dev.modserv.spi.GenerationHandle;
import dev.modserv.spi.GenerationSink;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One llama.cpp model through the binding, in this JVM: the code both modes share (the worker
 * process runs it too). Generations run on their own platform threads (they block in native
 * code); usage is counted with the tokenizer since the binding does not report it.
 */
public final class Engine {
  /** The system property the binding reads for where to extract its native library. */
  static final String TMPDIR_PROPERTY = "de.kherud.llama.tmpdir";

  /**
   * Threads that wait in native code for a generation's tokens, kept for a minute between
   * generations: starting a thread per generation would add to the time to first token.
   */
  private static final java.util.concurrent.ExecutorService GENERATORS =
      new java.util.concurrent.ThreadPoolExecutor(0, Integer.MAX_VALUE, 60,
          java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.SynchronousQueue<>(),
          r -> Thread.ofPlatform().daemon().name("modserv-llama-generate").unstarted(r));

  private final LlamaModel model;
  private final LlamaOptions options;
  private final int dimensions;

  private Engine(LlamaModel model, LlamaOptions options, int dimensions) {
    this.model = model;
    this.options = options;
    this.dimensions = dimensions;
  }

  /**
   * Points the binding's native library extraction at a private folder, unless the user chose
   * one: its loader deletes every file named {@code llama*} in that folder first.
   */
  static synchronized void privateNativeFolder() {
    if (System.getProperty(TMPDIR_PROPERTY) != null) {
      return;
    }
    try {
      Path dir = Files.createTempDirectory("modserv-llama-native-");
      dir.toFile().deleteOnExit();
      System.setProperty(TMPDIR_PROPERTY, dir.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a private folder for the llama native"
          + " library; set -D" + TMPDIR_PROPERTY, e);
    }
  }

  /** Loads {@code file}; the options were checked by {@link LlamaOptions#parse}. */
  public static Engine load(Path file, LlamaOptions options) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("no GGUF file at " + file);
    }
    privateNativeFolder();
    ModelParameters p = new ModelParameters()
        .setModel(file.toString())
        .setCtxSize(options.contextSize())
        .setThreads(options.threads())
        .setParallel(options.parallel());
    if (options.seed() >= 0) {
      p.setSeed((int) options.seed());
    }
    if (options.batchSize() > 0) {
      p.setBatchSize(options.batchSize());
    }
    if (options.gpuLayers() > 0) {
      p.setGpuLayers(options.gpuLayers());
    }
    if (!options.chatTemplate().isEmpty()) {
      p.setChatTemplate(options.chatTemplate());
    }
    if (options.embedding()) {
      p.enableEmbedding();
      p.setPoolingType(switch (options.pooling()) {
        case "cls" -> PoolingType.CLS;
        case "none" -> PoolingType.NONE;
        default -> PoolingType.LAST;
      });
    }
    LlamaModel model = new LlamaModel(p);
    int dims = options.embedding() ? model.embed("a").length : 0;
    return new Engine(model, options, dims);
  }

  /** The options it was loaded with. */
  public LlamaOptions options() {
    return options;
  }

  /** The embedding width, or 0 for a generative model. */
  public int dimensions() {
    return dimensions;
  }

  /** Counts the tokens of {@code text} (without the begin-of-sequence token). */
  public int countTokens(String text) {
    return text.isEmpty() ? 0 : model.encode(text).length;
  }

  /** One vector per text, and the tokens each text took (for usage counts). */
  public record Embedded(float[][] vectors, long[] tokens) {}

  /** Embeds each text; the model was loaded for embeddings. */
  public Embedded embed(List<String> texts) {
    float[][] vectors = new float[texts.size()][];
    long[] tokens = new long[vectors.length];
    for (int i = 0; i < vectors.length; i++) {
      vectors[i] = model.embed(texts.get(i));
      tokens[i] = countTokens(texts.get(i));
    }
    return new Embedded(vectors, tokens);
  }

  /** Renders {@code request}'s prompt: the raw prompt, or the messages through the template. */
  public String prompt(GenerationRequest request) {
    if (!request.isChat()) {
      return request.prompt().orElseThrow();
    }
    StringBuilder system = new StringBuilder();
    List<Pair<String, String>> turns = new ArrayList<>();
    for (ChatMessage m : request.messages()) {
      if (m.role().equals("system")) {
        system.append(system.isEmpty() ? "" : "\n").append(m.content());
      } else {
        turns.add(new Pair<>(m.role(), m.content()));
      }
    }
    InferenceParameters p = new InferenceParameters("")
        .setMessages(system.isEmpty() ? null : system.toString(), turns);
    return model.applyTemplate(p);
  }

  /**
   * Starts a generation on a new thread and returns its handle. The prompt is rendered and
   * counted first, here, so that one that does not fit the context fails at once with {@code
   * INVALID_INPUT}.
   */
  public GenerationHandle generate(GenerationRequest request, GenerationSink sink) {
    if (options.embedding()) {
      throw new ModelServingException(ErrorCode.INVALID_INPUT, "this model was loaded for"
          + " embeddings (embedding=true); load it without that option to generate");
    }
    String prompt = prompt(request);
    int promptTokens = countTokens(prompt) + 1;
    int room = options.contextPerSequence();
    if (promptTokens >= room) {
      throw new ModelServingException(ErrorCode.INVALID_INPUT, "the prompt has " + promptTokens
          + " tokens; a sequence of this model holds " + room + " (context-size "
          + options.contextSize() + " / parallel " + options.parallel() + ")");
    }
    InferenceParameters p = parameters(request, prompt);
    // Posting the request here lets llama.cpp start on the prompt while a thread wakes up to
    // wait for its tokens.
    LlamaIterator tokens = model.generate(p).iterator();
    Run run = new Run(request, tokens, promptTokens, sink);
    try {
      GENERATORS.execute(run);
    } catch (RuntimeException e) {
      tokens.cancel();
      throw e;
    }
    return run;
  }

  private InferenceParameters parameters(GenerationRequest r, String prompt) {
    InferenceParameters p = new InferenceParameters(prompt).setNPredict(r.maxTokens());
    r.temperature().ifPresent(t -> p.setTemperature((float) t));
    r.topP().ifPresent(t -> p.setTopP((float) t));
    r.topK().ifPresent(p::setTopK);
    r.minP().ifPresent(t -> p.setMinP((float) t));
    r.repeatPenalty().ifPresent(t -> p.setRepeatPenalty((float) t));
    if (r.seed().isPresent()) {
      long seed = r.seed().getAsLong();
      if (seed > Integer.MAX_VALUE) {
        throw new ModelServingException(ErrorCode.INVALID_INPUT, "the llama engine takes seeds"
            + " up to 2147483647, got " + seed);
      }
      p.setSeed((int) seed);
    } else if (options.seed() >= 0) {
      p.setSeed((int) options.seed());
    }
    if (!r.stop().isEmpty()) {
      p.setStopStrings(r.stop().toArray(String[]::new));
    }
    r.grammar().ifPresent(p::setGrammar);
    if (r.jsonSchema().isPresent()) {
      String grammar;
      try {
        grammar = LlamaModel.jsonSchemaToGrammar(r.jsonSchema().get());
      } catch (RuntimeException e) {
        throw new ModelServingException(ErrorCode.INVALID_INPUT, "the JSON schema cannot be"
            + " turned into a grammar: " + e.getMessage(), e);
      }
      p.setGrammar(grammar);
    }
    return p;
  }

  /**
   * Whether a generation that was not cancelled spent its budget: without stop strings, one that
   * did not end on end-of-sequence (which llama.cpp sends as an empty piece) and had room in the
   * context generated exactly max-tokens tokens, even when the last ones left a character
   * unfinished (llama.cpp sends no piece for those, nor their bytes, so neither the pieces nor
   * the text count them).
   *
   * @param lastPiece the text of the last piece before the final message, or null for none
   */
  static boolean budgetSpent(GenerationRequest request, int promptTokens,
      @org.jspecify.annotations.Nullable String lastPiece, int contextPerSequence) {
    return request.stop().isEmpty() && !"".equals(lastPiece)
        && promptTokens + request.maxTokens() < contextPerSequence;
  }

  /** LENGTH for a spent budget, a full context or as many tokens as asked for; else STOP. */
  static FinishReason finishReason(GenerationRequest request, int promptTokens, int steps,
      @org.jspecify.annotations.Nullable String lastPiece, int counted, int contextPerSequence) {
    boolean length = budgetSpent(request, promptTokens, lastPiece, contextPerSequence)
        || counted >= request.maxTokens() || promptTokens + steps >= contextPerSequence;
    return length ? FinishReason.LENGTH : FinishReason.STOP;
  }

  /** The tokens generated: max-tokens for a spent budget, else those counted, at most max. */
  static int completionTokens(GenerationRequest request, int promptTokens, int steps,
      @org.jspecify.annotations.Nullable String lastPiece, int counted, int contextPerSequence) {
    if (budgetSpent(request, promptTokens, lastPiece, contextPerSequence)) {
      return request.maxTokens();
    }
    return finishReason(request, promptTokens, steps, lastPiece, counted, contextPerSequence)
        == FinishReason.LENGTH ? Math.min(counted, request.maxTokens()) : counted;
  }

  /** Frees what the binding frees (not the model's memory: see docs/llama.md). */
  public void close() {
    model.close();
  }

  /** One generation, on its own thread. */
  private final class Run implements Runnable, GenerationHandle {
    private final GenerationRequest request;
    private final LlamaIterator it;
    private final int promptTokens;
    private final GenerationSink sink;
    private volatile boolean cancelled;

    Run(GenerationRequest request, LlamaIterator it, int promptTokens, GenerationSink sink) {
      this.request = request;
      this.it = it;
      this.promptTokens = promptTokens;
      this.sink = sink;
    }

    @Override
    public void cancel() {
      cancelled = true;
    }

    @Override
    public void run() {
      int steps = 0;
      StringBuilder text = new StringBuilder();
      // The text of the latest piece before the final message: llama.cpp sends end-of-sequence
      // as an empty piece, and sends none for a token that leaves a character unfinished.
      @org.jspecify.annotations.Nullable String lastPiece = null;
      try {
        sink.prompt(promptTokens);
        // cancel() is called on this thread, between steps: the binding's cancel from another
        // thread can leave a thread waiting in native code for ever.
        while (it.hasNext()) {
          if (cancelled) {
            it.cancel();
            sink.complete(FinishReason.CANCELLED, new Usage(promptTokens, steps));
            return;
          }
          LlamaOutput o = it.next();
          boolean last = !it.hasNext();
          if (!last) {
            steps++;
            lastPiece = o.text;
            sink.token(o.text, 1);
          } else if (!o.text.isEmpty()) {
            sink.token(o.text, 0);
          }
          text.append(o.text);
        }
        if (cancelled) {
          sink.complete(FinishReason.CANCELLED, new Usage(promptTokens, steps));
          return;
        }
        int counted = Math.max(countTokens(text.toString()), steps);
        sink.complete(finishReason(request, promptTokens, steps, lastPiece, counted,
            options.contextPerSequence()), new Usage(promptTokens, completionTokens(request,
                promptTokens, steps, lastPiece, counted, options.contextPerSequence())));
      } catch (RuntimeException | Error e) {
        sink.fail(e);
      }
    }
  }
}
