package dev.modserv.llama.internal;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What a GGUF file's header says about its model, read without loading it: the key-value metadata
 * and the tensor infos are streamed, the tensor data is never read. Every count and length read
 * from the file is bounded by what is left of the file (and by fixed limits), so a truncated or
 * hostile file fails at once with {@link IllegalArgumentException} and a one-line cause.
 *
 * @param fileBytes the file's size
 * @param architecture {@code general.architecture}, e.g. {@code llama}
 * @param parameters the model's parameters: the sum of its tensors' element counts
 * @param quantization the quantisation, e.g. {@code Q4_K_M} (from {@code general.file_type}) or
 *     the type most of the parameters are stored in, e.g. {@code F32}
 * @param contextLength the context the model was trained for, or 0 when the file does not say
 * @param embeddingLength the hidden width, or 0 when the file does not say
 * @param blockCount the transformer blocks (layers)
 * @param headCount the attention heads
 * @param kvHeadCount the key/value heads (as many as the heads without grouped-query attention)
 * @param keyLength one key head's width
 * @param valueLength one value head's width
 * @param chatTemplate whether the file carries {@code tokenizer.chat_template}
 * @param pooling the embedding pooling the file declares ({@code none}, {@code mean}, {@code
 *     cls}, {@code last}, {@code rank}), or empty when it declares none
 * @param weightBytes the tensors' data: for each tensor, its elements over its type's block
 *     elements times the type's block bytes (for a type this reader does not know, the file's data
 *     section less the known tensors)
 * @param vocabularySize the tokens in {@code tokenizer.ggml.tokens}, or 0 when the file has none
 */
public record GgufHeader(long fileBytes, String architecture, long parameters,
    String quantization, long contextLength, long embeddingLength, long blockCount,
    long headCount, long kvHeadCount, long keyLength, long valueLength, boolean chatTemplate,
    String pooling, long weightBytes, long vocabularySize) {

  /**
   * llama.cpp's default micro-batch ({@code n_ubatch}): its compute buffer holds this many tokens'
   * logits.
   */
  public static final int MICRO_BATCH = 512;

  /** Bytes per key or value element in llama.cpp's default KV cache (f16). */
  public static final int KV_BYTES_PER_ELEMENT = 2;

  private static final int MAX_KEYS = 1 << 16;
  private static final long MAX_TENSORS = 1 << 20;
  private static final int MAX_KEY_BYTES = 1 << 16;
  private static final long MAX_ARRAY = 1 << 26;
  private static final int MAX_DIMS = 4;
  private static final long MAX_KEPT_STRING = 1 << 20;
  private static final int MAX_NESTING = 4;

  /**
   * The architectures of llama.cpp; a file naming another fails here, not deep in native code.
   */
  static final Set<String> ARCHITECTURES = Set.of("llama", "llama4", "deci", "falcon",
      "falcon-h1", "grok", "gpt2", "gptj", "gptneox", "mpt", "baichuan", "starcoder", "refact",
      "bert", "modern-bert", "nomic-bert", "nomic-bert-moe", "neo-bert", "jina-bert-v2",
      "jina-bert-v3", "bloom", "stablelm", "qwen", "qwen2", "qwen2moe", "qwen2vl", "qwen3",
      "qwen3moe", "phi2", "phi3", "phimoe", "plamo", "plamo2", "codeshell", "orion", "internlm2",
      "minicpm", "minicpm3", "gemma", "gemma2", "gemma3", "gemma3n", "gemma-embedding",
      "starcoder2", "mamba", "mamba2", "jamba", "xverse", "command-r", "cohere2", "dbrx", "olmo",
      "olmo2", "olmoe", "openelm", "arctic", "deepseek", "deepseek2", "chatglm", "glm4",
      "glm4moe", "bitnet", "t5", "t5encoder", "jais", "nemotron", "nemotron_h", "exaone",
      "exaone4", "rwkv6", "rwkv6qwen2", "rwkv7", "arwkv7", "granite", "granitemoe",
      "granitehybrid", "chameleon", "wavtokenizer-dec", "plm", "bailingmoe", "dots1", "arcee",
      "ernie4_5", "ernie4_5-moe", "hunyuan-moe", "hunyuan-dense", "smollm3", "gpt-oss", "lfm2",
      "dream", "smallthinker", "llada", "llada-moe", "seed_oss", "apertus", "grovemoe",
      "mistral3");

  /** ggml tensor types by id: name, elements per block, bytes per block. */
  private record TensorType(String name, int blockElements, int blockBytes) {}

  private static final Map<Integer, TensorType> TENSOR_TYPES = Map.ofEntries(
      Map.entry(0, new TensorType("F32", 1, 4)), Map.entry(1, new TensorType("F16", 1, 2)),
      Map.entry(2, new TensorType("Q4_0", 32, 18)), Map.entry(3, new TensorType("Q4_1", 32, 20)),
      Map.entry(6, new TensorType("Q5_0", 32, 22)), Map.entry(7, new TensorType("Q5_1", 32, 24)),
      Map.entry(8, new TensorType("Q8_0", 32, 34)), Map.entry(9, new TensorType("Q8_1", 32, 36)),
      Map.entry(10, new TensorType("Q2_K", 256, 84)),
      Map.entry(11, new TensorType("Q3_K", 256, 110)),
      Map.entry(12, new TensorType("Q4_K", 256, 144)),
      Map.entry(13, new TensorType("Q5_K", 256, 176)),
      Map.entry(14, new TensorType("Q6_K", 256, 210)),
      Map.entry(15, new TensorType("Q8_K", 256, 292)),
      Map.entry(16, new TensorType("IQ2_XXS", 256, 66)),
      Map.entry(17, new TensorType("IQ2_XS", 256, 74)),
      Map.entry(18, new TensorType("IQ3_XXS", 256, 98)),
      Map.entry(19, new TensorType("IQ1_S", 256, 50)),
      Map.entry(20, new TensorType("IQ4_NL", 32, 18)),
      Map.entry(21, new TensorType("IQ3_S", 256, 110)),
      Map.entry(22, new TensorType("IQ2_S", 256, 82)),
      Map.entry(23, new TensorType("IQ4_XS", 256, 136)),
      Map.entry(24, new TensorType("I8", 1, 1)), Map.entry(25, new TensorType("I16", 1, 2)),
      Map.entry(26, new TensorType("I32", 1, 4)), Map.entry(27, new TensorType("I64", 1, 8)),
      Map.entry(28, new TensorType("F64", 1, 8)),
      Map.entry(29, new TensorType("IQ1_M", 256, 56)),
      Map.entry(30, new TensorType("BF16", 1, 2)),
      Map.entry(34, new TensorType("TQ1_0", 256, 54)),
      Map.entry(35, new TensorType("TQ2_0", 256, 66)),
      Map.entry(39, new TensorType("MXFP4", 32, 17)));

  /** llama.cpp's {@code general.file_type} values (llama_ftype), as Ollama names them. */
  private static final Map<Integer, String> FILE_TYPES = Map.ofEntries(
      Map.entry(0, "F32"), Map.entry(1, "F16"), Map.entry(2, "Q4_0"), Map.entry(3, "Q4_1"),
      Map.entry(7, "Q8_0"), Map.entry(8, "Q5_0"), Map.entry(9, "Q5_1"), Map.entry(10, "Q2_K"),
      Map.entry(11, "Q3_K_S"), Map.entry(12, "Q3_K_M"), Map.entry(13, "Q3_K_L"),
      Map.entry(14, "Q4_K_S"), Map.entry(15, "Q4_K_M"), Map.entry(16, "Q5_K_S"),
      Map.entry(17, "Q5_K_M"), Map.entry(18, "Q6_K"), Map.entry(19, "IQ2_XXS"),
      Map.entry(20, "IQ2_XS"), Map.entry(21, "Q2_K_S"), Map.entry(22, "IQ3_XS"),
      Map.entry(23, "IQ3_XXS"), Map.entry(24, "IQ1_S"), Map.entry(25, "IQ4_NL"),
      Map.entry(26, "IQ3_S"), Map.entry(27, "IQ3_M"), Map.entry(28, "IQ2_S"),
      Map.entry(29, "IQ2_M"), Map.entry(30, "IQ4_XS"), Map.entry(31, "IQ1_M"),
      Map.entry(32, "BF16"), Map.entry(36, "TQ1_0"), Map.entry(37, "TQ2_0"),
      Map.entry(38, "MXFP4"));

  private static final String[] POOLING = {"none", "mean", "cls", "last", "rank"};

  /**
   * Returns the bytes of the key/value cache for {@code contextTokens} tokens: layers × context ×
   * KV heads × (key width + value width) × {@value #KV_BYTES_PER_ELEMENT} bytes (f16).
   */
  public long kvCacheBytes(long contextTokens) {
    try {
      return Math.multiplyExact(Math.multiplyExact(Math.multiplyExact(blockCount, contextTokens),
          Math.multiplyExact(kvHeadCount, Math.addExact(keyLength, valueLength))),
          KV_BYTES_PER_ELEMENT);
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("GGUF header: its KV cache size overflows (block"
          + " count " + blockCount + ", KV heads " + kvHeadCount + ")");
    }
  }

  /**
   * Returns llama.cpp's CPU compute buffer for {@code contextTokens}: the logits of one
   * micro-batch, min({@value #MICRO_BATCH}, context) × vocabulary × 4 bytes, which dominates it
   * (258 MiB reported for a 128256-token vocabulary).
   */
  public long computeBytes(long contextTokens) {
    return Math.min(MICRO_BATCH, contextTokens) * vocabularySize * Float.BYTES;
  }

  /** Returns what the model weighs loaded with {@code contextTokens}: file plus KV cache. */
  public long memoryBytes(long contextTokens) {
    long kv = kvCacheBytes(contextTokens);
    return fileBytes > Long.MAX_VALUE - kv ? Long.MAX_VALUE : fileBytes + kv;
  }

  /** Returns the parameter count as Ollama writes it: {@code 1.2M}, {@code 7B}, {@code 812K}. */
  public String parameterSize() {
    return parameterSize(parameters);
  }

  static String parameterSize(long n) {
    String[] units = {"", "K", "M", "B", "T"};
    double v = n;
    int u = 0;
    while (v >= 1000 && u < units.length - 1) {
      v /= 1000;
      u++;
    }
    if (u == 0) {
      return Long.toString(n);
    }
    String s = v >= 100 || v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v)
        : String.format(Locale.ROOT, "%.1f", v);
    return (s.endsWith(".0") ? s.substring(0, s.length() - 2) : s) + units[u];
  }

  /** The facts as model metadata properties. */
  public Map<String, String> properties() {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("architecture", architecture);
    p.put("parameters", Long.toString(parameters));
    p.put("parameter-size", parameterSize());
    p.put("quantization", quantization);
    p.put("context-length", Long.toString(contextLength));
    p.put("embedding-length", Long.toString(embeddingLength));
    p.put("block-count", Long.toString(blockCount));
    p.put("head-count", Long.toString(headCount));
    p.put("head-count-kv", Long.toString(kvHeadCount));
    p.put("chat-template", Boolean.toString(chatTemplate));
    if (!pooling.isEmpty()) {
      p.put("pooling-type", pooling);
    }
    p.put("file-bytes", Long.toString(fileBytes));
    return p;
  }

  /**
   * Reads {@code file}'s header.
   *
   * @throws IllegalArgumentException naming the file and the cause in one line: not GGUF, an
   *     unsupported version, truncated, a count or length out of bounds, an unknown architecture
   * @throws IOException when the file cannot be read
   */
  public static GgufHeader read(Path file) throws IOException {
    long size = Files.size(file);
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      return new Reader(in, size).header();
    } catch (Bad e) {
      throw new IllegalArgumentException("GGUF file " + file.getFileName() + ": "
          + e.getMessage());
    }
  }

  /** A malformed file; its message is the cause. */
  private static final class Bad extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Bad(String message) {
      super(message, null, false, false);
    }
  }

  /** Reads little-endian values, keeping count of its position to bound lengths. */
  private static final class Reader {
    private final InputStream in;
    private final long size;
    private long position;
    private final Map<String, Object> values = new HashMap<>();
    private long vocabulary;

    Reader(InputStream in, long size) {
      this.in = in;
      this.size = size;
    }

    GgufHeader header() throws IOException {
      if (size < 4) {
        throw new Bad("not a GGUF file (" + size + " bytes, too short for the magic)");
      }
      byte[] magic = bytes(4);
      if (magic[0] != 'G' || magic[1] != 'G' || magic[2] != 'U' || magic[3] != 'F') {
        throw new Bad("not a GGUF file (its first bytes are not 'GGUF')");
      }
      long version = u32();
      if (version != 2 && version != 3) {
        throw new Bad("GGUF version " + version + " is not supported (2 and 3 are)");
      }
      long tensors = u64();
      long keys = u64();
      if (tensors < 0 || tensors > MAX_TENSORS) {
        throw new Bad("tensor count " + Long.toUnsignedString(tensors) + " is over the limit "
            + MAX_TENSORS);
      }
      if (keys < 0 || keys > MAX_KEYS) {
        throw new Bad("key count " + Long.toUnsignedString(keys) + " is over the limit "
            + MAX_KEYS);
      }
      for (long i = 0; i < keys; i++) {
        String key = string(MAX_KEY_BYTES, "key");
        int type = (int) u32();
        Object value = value(type, key, 0);
        if (value != null) {
          values.put(key, value);
        }
      }
      long parameters = 0;
      Map<String, Long> elementsByType = new HashMap<>();
      long dataBytes = 0;
      long knownBytes = 0;
      boolean unknownType = false;
      for (long i = 0; i < tensors; i++) {
        String name = string(MAX_KEY_BYTES, "tensor name");
        long dims = u32();
        if (dims > MAX_DIMS) {
          throw new Bad("tensor '" + printable(name) + "' has " + dims + " dimensions, over "
              + MAX_DIMS);
        }
        long elements = 1;
        for (int d = 0; d < dims; d++) {
          long n = u64();
          if (n < 0) {
            throw new Bad("tensor '" + printable(name) + "' has a negative dimension");
          }
          elements = multiply(elements, n, name);
        }
        int type = (int) u32();
        long offset = u64();
        TensorType t = TENSOR_TYPES.get(type);
        String typeName = t == null ? "type" + type : t.name();
        elementsByType.merge(typeName, elements, Long::sum);
        parameters = add(parameters, elements, name);
        if (t != null && offset >= 0) {
          long bytes = multiply(elements / t.blockElements(), t.blockBytes(), name);
          dataBytes = Math.max(dataBytes, add(offset, bytes, name));
          knownBytes = add(knownBytes, bytes, name);
        } else {
          unknownType = true;
        }
      }
      long alignment = integer("general.alignment", 32);
      if (alignment <= 0 || alignment > (1 << 20)) {
        throw new Bad("general.alignment " + alignment + " is out of range");
      }
      long dataStart = (position + alignment - 1) / alignment * alignment;
      if (dataStart + dataBytes > size) {
        throw new Bad("truncated: its tensors need " + (dataStart + dataBytes)
            + " bytes, the file has " + size);
      }
      long weightBytes = unknownType ? Math.max(knownBytes, size - dataStart) : knownBytes;
      return facts(parameters, elementsByType, weightBytes);
    }

    private GgufHeader facts(long parameters, Map<String, Long> elementsByType,
        long weightBytes) {
      Object arch = values.get("general.architecture");
      if (!(arch instanceof String a)) {
        throw new Bad("it has no general.architecture");
      }
      if (!ARCHITECTURES.contains(a)) {
        throw new Bad("unknown architecture '" + printable(a) + "' (llama.cpp cannot load it)");
      }
      long fileType = integer("general.file_type", -1);
      String named = fileType == (int) fileType ? FILE_TYPES.get((int) fileType) : null;
      String quantization = named != null ? named : elementsByType.entrySet().stream()
            .max(Map.Entry.<String, Long>comparingByValue().thenComparing(Map.Entry::getKey))
            .map(Map.Entry::getKey).orElse("unknown");
      long embedding = integer(a + ".embedding_length", 0);
      long heads = integer(a + ".attention.head_count", 0);
      long kvHeads = integer(a + ".attention.head_count_kv", heads);
      long headSize = heads > 0 ? embedding / heads : 0;
      long pooling = integer(a + ".pooling_type", -1);
      return new GgufHeader(size, a, parameters, quantization,
          integer(a + ".context_length", 0), embedding, integer(a + ".block_count", 0), heads,
          kvHeads, integer(a + ".attention.key_length", headSize),
          integer(a + ".attention.value_length", headSize),
          values.get("tokenizer.chat_template") instanceof String,
          pooling >= 0 && pooling < POOLING.length ? POOLING[(int) pooling] : "", weightBytes,
          vocabulary);
    }

    /** An integer value; {@code fallback} when absent; a bad type or a negative one fails. */
    private long integer(String key, long fallback) {
      Object v = values.get(key);
      if (v == null) {
        return fallback;
      }
      if (!(v instanceof Long n)) {
        throw new Bad(key + " is not an integer");
      }
      if (n < 0) {
        throw new Bad(key + " is out of range");
      }
      return n;
    }

    /**
     * Reads one value of {@code type}; keeps strings and integers (arrays are skipped: the
     * vocabulary is not needed here).
     */
    private @Nullable Object value(int type, String key, int depth) throws IOException {
      return switch (type) {
        case 0, 7 -> (long) (bytes(1)[0] & 0xff);
        case 1 -> (long) bytes(1)[0];
        case 2 -> (long) (u16());
        case 3 -> (long) (short) u16();
        case 4 -> u32();
        case 5 -> (long) (int) u32();
        case 6 -> {
          skip(4);
          yield null;
        }
        case 8 -> {
          // Only short strings are kept (names, the chat template); a long one is skipped.
          long n = length(Long.MAX_VALUE, key);
          if (n > MAX_KEPT_STRING) {
            skip(n);
            yield "";
          }
          yield new String(bytes((int) n), StandardCharsets.UTF_8);
        }
        case 9 -> {
          if (depth >= MAX_NESTING) {
            throw new Bad("arrays nested deeper than " + MAX_NESTING + " at " + printable(key));
          }
          int itemType = (int) u32();
          long count = u64();
          if (count < 0 || count > MAX_ARRAY || count > size - position) {
            throw new Bad("array " + printable(key) + " has " + Long.toUnsignedString(count)
                + " items, more than the file can hold");
          }
          if (key.equals("tokenizer.ggml.tokens") && depth == 0) {
            vocabulary = count;
          }
          long width = fixedWidth(itemType);
          if (width > 0) {
            skip(multiply(count, width, key));
          } else {
            for (long i = 0; i < count; i++) {
              if (itemType == 8) {
                skip(length(Long.MAX_VALUE, key));
              } else {
                value(itemType, key, depth + 1);
              }
            }
          }
          yield null;
        }
        case 10 -> u64();
        case 11 -> u64();
        case 12 -> {
          skip(8);
          yield null;
        }
        default -> throw new Bad("value type " + type + " of " + printable(key)
            + " is not a GGUF type");
      };
    }

    private static long fixedWidth(int type) {
      return switch (type) {
        case 0, 1, 7 -> 1;
        case 2, 3 -> 2;
        case 4, 5, 6 -> 4;
        case 10, 11, 12 -> 8;
        default -> 0;
      };
    }

    /** A string's length, checked against the rest of the file and {@code limit}. */
    private long length(long limit, String what) throws IOException {
      long n = u64();
      if (n < 0 || n > size - position) {
        throw new Bad("a string in " + printable(what) + " is longer ("
            + Long.toUnsignedString(n) + " bytes) than the rest of the file; truncated?");
      }
      if (n > limit) {
        throw new Bad("a string in " + printable(what) + " is over the limit of " + limit
            + " bytes");
      }
      return n;
    }

    private String string(long limit, String what) throws IOException {
      return new String(bytes((int) length(limit, what)), StandardCharsets.UTF_8);
    }

    private byte[] bytes(int n) throws IOException {
      byte[] b = in.readNBytes(n);
      if (b.length < n) {
        throw truncated();
      }
      position += n;
      return b;
    }

    private void skip(long n) throws IOException {
      if (n > size - position) {
        throw truncated();
      }
      try {
        in.skipNBytes(n);
      } catch (EOFException e) {
        throw truncated();
      }
      position += n;
    }

    private Bad truncated() {
      return new Bad("truncated: the header ends early, at byte " + position + " of " + size);
    }

    private int u16() throws IOException {
      byte[] b = bytes(2);
      return (b[0] & 0xff) | (b[1] & 0xff) << 8;
    }

    private long u32() throws IOException {
      byte[] b = bytes(4);
      return (b[0] & 0xffL) | (b[1] & 0xffL) << 8 | (b[2] & 0xffL) << 16 | (b[3] & 0xffL) << 24;
    }

    private long u64() throws IOException {
      byte[] b = bytes(8);
      long v = 0;
      for (int i = 7; i >= 0; i--) {
        v = v << 8 | (b[i] & 0xffL);
      }
      return v;
    }

    private static long multiply(long a, long b, String what) {
      try {
        return Math.multiplyExact(a, b);
      } catch (ArithmeticException e) {
        throw new Bad("sizes of " + printable(what) + " overflow");
      }
    }

    private static long add(long a, long b, String what) {
      try {
        return Math.addExact(a, b);
      } catch (ArithmeticException e) {
        throw new Bad("sizes of " + printable(what) + " overflow");
      }
    }

    /** Up to 64 characters of a name from the file, control characters replaced. */
    private static String printable(String s) {
      String cut = s.length() > 64 ? s.substring(0, 64) + "..." : s;
      return cut.replaceAll("\\p{Cntrl}", "?");
    }
  }
}
