package dev.modserv.testkit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a random-weight llama model as a GGUF v3 file, for tests of the llama engine: a byte
 * fallback SentencePiece vocabulary ({@code <unk>}, {@code <s>}, {@code </s>}, the 256 {@code
 * <0xXX>} byte tokens, {@code ▁}, printable ASCII, a few words), a ChatML chat template, FP32
 * weights (or F16 or Q8_0 ones, {@link Builder#type}; norms stay FP32, as llama.cpp writes
 * them). Random weights make gibberish: tests assert structure, not meaning.
 *
 * <pre>{@code
 * Path gguf = TinyLlama.builder().width(64).layers(2).build().write(dir.resolve("tiny.gguf"));
 * }</pre>
 *
 * <p>By default the end-of-sequence token's output row is zero, so greedy decoding never picks it
 * and generations run to their token limit (tests of {@code length} rely on it); {@link
 * Builder#eosReachable} turns that off.
 */
public final class TinyLlama {
  /** The ChatML template written as {@code tokenizer.chat_template}. */
  public static final String CHAT_TEMPLATE = "{% for message in messages %}{{'<|im_start|>'"
      + " + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
      + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

  private static final String[] WORDS = {"the", "hello", "world", "model", "serve", "token",
      "java", "llama", "and", "of", "to", "in", "is", "it", "that", "for"};

  private static final int GGUF_UINT32 = 4;
  private static final int GGUF_INT32 = 5;
  private static final int GGUF_FLOAT32 = 6;
  private static final int GGUF_STRING = 8;
  private static final int GGUF_ARRAY = 9;
  private static final int GGML_F32 = 0;
  private static final int GGML_F16 = 1;
  private static final int GGML_Q8_0 = 8;
  private static final int Q8_BLOCK = 32;
  private static final int ALIGNMENT = 32;

  private final int width;
  private final int layers;
  private final int heads;
  private final int kvHeads;
  private final int feedForward;
  private final int context;
  private final long seed;
  private final boolean eosReachable;
  private final String type;

  private TinyLlama(Builder b) {
    this.width = b.width;
    this.layers = b.layers;
    this.heads = b.heads;
    this.kvHeads = b.kvHeads;
    this.feedForward = b.feedForward > 0 ? b.feedForward : b.width * 2;
    this.context = b.context;
    this.seed = b.seed;
    this.eosReachable = b.eosReachable;
    this.type = b.type;
  }

  /** Returns a builder: 64 wide, 2 layers, 4 heads, context 512, seed 42. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns the vocabulary, in token id order. */
  public static List<String> vocabulary() {
    List<String> tokens = new ArrayList<>();
    tokens.add("<unk>");
    tokens.add("<s>");
    tokens.add("</s>");
    for (int i = 0; i < 256; i++) {
      tokens.add(String.format("<0x%02X>", i));
    }
    tokens.add("\u2581");
    for (char c = '!'; c <= '~'; c++) {
      tokens.add(String.valueOf(c));
    }
    // Every prefix of every word, so that SentencePiece merges reach whole words and re-encoding a
    // generated text gives back its tokens.
    java.util.Set<String> pieces = new java.util.LinkedHashSet<>();
    for (String w : WORDS) {
      for (int i = 1; i <= w.length(); i++) {
        pieces.add("\u2581" + w.substring(0, i));
        if (i > 1) {
          pieces.add(w.substring(0, i));
        }
      }
    }
    tokens.addAll(pieces);
    return tokens;
  }

  /** Writes the model to {@code file} (replacing it) and returns {@code file}. */
  public Path write(Path file) throws IOException {
    List<String> vocab = vocabulary();
    int nVocab = vocab.size();
    int headDim = width / heads;
    int kvWidth = headDim * kvHeads;

    Map<String, Object> kv = new LinkedHashMap<>();
    kv.put("general.architecture", "llama");
    kv.put("general.name", "modserv-tiny-llama");
    kv.put("llama.context_length", context);
    kv.put("llama.embedding_length", width);
    kv.put("llama.block_count", layers);
    kv.put("llama.feed_forward_length", feedForward);
    kv.put("llama.rope.dimension_count", headDim);
    kv.put("llama.attention.head_count", heads);
    kv.put("llama.attention.head_count_kv", kvHeads);
    kv.put("llama.attention.layer_norm_rms_epsilon", 1e-5f);
    kv.put("llama.vocab_size", nVocab);
    kv.put("tokenizer.ggml.model", "llama");
    kv.put("tokenizer.ggml.tokens", vocab.toArray(String[]::new));
    float[] scores = new float[nVocab];
    int[] types = new int[nVocab];
    for (int i = 0; i < nVocab; i++) {
      String t = vocab.get(i);
      if (i == 0) {
        types[i] = 2;            // unknown
      } else if (i < 3) {
        types[i] = 3;            // control
      } else if (i < 259) {
        types[i] = 6;            // byte
      } else {
        types[i] = 1;            // normal
        scores[i] = -1000f + t.length() * 10f;   // longer pieces merge first
      }
    }
    kv.put("tokenizer.ggml.scores", scores);
    kv.put("tokenizer.ggml.token_type", types);
    kv.put("tokenizer.ggml.bos_token_id", 1);
    kv.put("tokenizer.ggml.eos_token_id", 2);
    kv.put("tokenizer.ggml.unknown_token_id", 0);
    kv.put("tokenizer.ggml.add_bos_token", Boolean.TRUE);
    kv.put("tokenizer.chat_template", CHAT_TEMPLATE);

    Map<String, long[]> tensors = new LinkedHashMap<>();
    tensors.put("token_embd.weight", new long[] {width, nVocab});
    for (int l = 0; l < layers; l++) {
      String p = "blk." + l + ".";
      tensors.put(p + "attn_norm.weight", new long[] {width});
      tensors.put(p + "attn_q.weight", new long[] {width, width});
      tensors.put(p + "attn_k.weight", new long[] {width, kvWidth});
      tensors.put(p + "attn_v.weight", new long[] {width, kvWidth});
      tensors.put(p + "attn_output.weight", new long[] {width, width});
      tensors.put(p + "ffn_norm.weight", new long[] {width});
      tensors.put(p + "ffn_gate.weight", new long[] {width, feedForward});
      tensors.put(p + "ffn_up.weight", new long[] {width, feedForward});
      tensors.put(p + "ffn_down.weight", new long[] {feedForward, width});
    }
    tensors.put("output_norm.weight", new long[] {width});
    tensors.put("output.weight", new long[] {width, nVocab});

    Out header = new Out();
    header.bytes("GGUF".getBytes(StandardCharsets.US_ASCII));
    header.u32(3);
    header.u64(tensors.size());
    header.u64(kv.size());
    kv.forEach((key, value) -> {
      header.string(key);
      header.value(value);
    });
    long offset = 0;
    List<Long> offsets = new ArrayList<>();
    for (Map.Entry<String, long[]> t : tensors.entrySet()) {
      header.string(t.getKey());
      header.u32(t.getValue().length);
      for (long d : t.getValue()) {
        header.u64(d);
      }
      header.u32(ggmlType(t.getValue()));
      header.u64(offset);
      offsets.add(offset);
      offset = align(offset + bytes(t.getValue()));
    }
    header.pad();

    SplittableRandom random = new SplittableRandom(seed);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE,
        StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer head = header.buffer();
      while (head.hasRemaining()) {
        ch.write(head);
      }
      long dataStart = ch.position();
      int i = 0;
      for (Map.Entry<String, long[]> t : tensors.entrySet()) {
        long n = elements(t.getValue());
        float[] values = new float[Math.toIntExact(n)];
        String name = t.getKey();
        boolean norm = name.endsWith("norm.weight");
        long rowLength = t.getValue()[0];
        float scale = (float) (1.0 / Math.sqrt(rowLength));
        for (long k = 0; k < n; k++) {
          float v;
          if (norm) {
            v = 1f;
          } else if (!eosReachable && name.equals("output.weight") && k / rowLength == 2) {
            v = 0f;
          } else {
            v = (float) ((random.nextDouble() * 2 - 1) * scale * 1.7);
          }
          values[(int) k] = v;
        }
        ByteBuffer data = encode(values, ggmlType(t.getValue()), bytes(t.getValue()));
        long at = dataStart + offsets.get(i++);
        while (data.hasRemaining()) {
          at += ch.write(data, at);
        }
      }
      long end = dataStart + offset;
      if (ch.size() < end) {
        ch.write(ByteBuffer.allocate(1), end - 1);
      }
    }
    return file;
  }

  /** Norms (one dimension) stay FP32; matrices take the chosen type. */
  private int ggmlType(long[] dims) {
    if (dims.length == 1) {
      return GGML_F32;
    }
    return switch (type) {
      case "F16" -> GGML_F16;
      case "Q8_0" -> GGML_Q8_0;
      default -> GGML_F32;
    };
  }

  private long bytes(long[] dims) {
    long n = elements(dims);
    return switch (ggmlType(dims)) {
      case GGML_F16 -> 2 * n;
      case GGML_Q8_0 -> n / Q8_BLOCK * (2 + Q8_BLOCK);
      default -> 4 * n;
    };
  }

  /** The values in a ggml type: FP32, FP16, or Q8_0 blocks (an FP16 scale, 32 signed bytes). */
  private static ByteBuffer encode(float[] values, int ggmlType, long bytes) {
    ByteBuffer data = ByteBuffer.allocate(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
    switch (ggmlType) {
      case GGML_F16 -> {
        for (float v : values) {
          data.putShort(Float.floatToFloat16(v));
        }
      }
      case GGML_Q8_0 -> {
        for (int b = 0; b < values.length; b += Q8_BLOCK) {
          float max = 0;
          for (int i = b; i < b + Q8_BLOCK; i++) {
            max = Math.max(max, Math.abs(values[i]));
          }
          float scale = max / 127f;
          data.putShort(Float.floatToFloat16(scale));
          for (int i = b; i < b + Q8_BLOCK; i++) {
            data.put((byte) (scale == 0 ? 0 : Math.round(values[i] / scale)));
          }
        }
      }
      default -> {
        for (float v : values) {
          data.putFloat(v);
        }
      }
    }
    return data.flip();
  }

  private static long elements(long[] dims) {
    long n = 1;
    for (long d : dims) {
      n *= d;
    }
    return n;
  }

  private static long align(long n) {
    return (n + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
  }

  /** A growing little-endian buffer for the header. */
  private static final class Out {
    private ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

    private void room(int n) {
      if (buf.remaining() < n) {
        ByteBuffer bigger = ByteBuffer.allocate(Math.max(buf.capacity() * 2, buf.position() + n))
            .order(ByteOrder.LITTLE_ENDIAN);
        buf.flip();
        bigger.put(buf);
        buf = bigger;
      }
    }

    void bytes(byte[] b) {
      room(b.length);
      buf.put(b);
    }

    void u32(int v) {
      room(4);
      buf.putInt(v);
    }

    void u64(long v) {
      room(8);
      buf.putLong(v);
    }

    void string(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      u64(b.length);
      bytes(b);
    }

    void value(Object value) {
      switch (value) {
        case String s -> {
          u32(GGUF_STRING);
          string(s);
        }
        case Integer i -> {
          u32(GGUF_UINT32);
          u32(i);
        }
        case Float f -> {
          u32(GGUF_FLOAT32);
          room(4);
          buf.putFloat(f);
        }
        case Boolean b -> {
          u32(7);
          room(1);
          buf.put((byte) (b ? 1 : 0));
        }
        case String[] a -> {
          u32(GGUF_ARRAY);
          u32(GGUF_STRING);
          u64(a.length);
          for (String s : a) {
            string(s);
          }
        }
        case float[] a -> {
          u32(GGUF_ARRAY);
          u32(GGUF_FLOAT32);
          u64(a.length);
          room(4 * a.length);
          for (float f : a) {
            buf.putFloat(f);
          }
        }
        case int[] a -> {
          u32(GGUF_ARRAY);
          u32(GGUF_INT32);
          u64(a.length);
          room(4 * a.length);
          for (int x : a) {
            buf.putInt(x);
          }
        }
        default -> throw new IllegalArgumentException("no GGUF type for " + value.getClass());
      }
    }

    void pad() {
      int pad = (int) (align(buf.position()) - buf.position());
      bytes(new byte[pad]);
    }

    ByteBuffer buffer() {
      ByteBuffer out = buf.duplicate();
      out.flip();
      return out;
    }
  }

  /** Sets the model's size and seed. */
  public static final class Builder {
    private int width = 64;
    private int layers = 2;
    private int heads = 4;
    private int kvHeads = 4;
    private int feedForward;
    private int context = 512;
    private long seed = 42;
    private boolean eosReachable;
    private String type = "F32";

    private Builder() {}

    /**
     * Sets the type of the weight matrices: {@code F32} (the default), {@code F16} or {@code
     * Q8_0} (then the width and the feed-forward width must be multiples of 32).
     */
    public Builder type(String type) {
      if (!List.of("F32", "F16", "Q8_0").contains(type)) {
        throw new IllegalArgumentException("type must be F32, F16 or Q8_0: " + type);
      }
      this.type = type;
      return this;
    }

    /** Sets the embedding width (a multiple of the head count); defaults to 64. */
    public Builder width(int width) {
      this.width = positive("width", width);
      return this;
    }

    /** Sets the number of transformer blocks; defaults to 2. */
    public Builder layers(int layers) {
      this.layers = positive("layers", layers);
      return this;
    }

    /** Sets the attention heads (and key/value heads); defaults to 4. */
    public Builder heads(int heads) {
      this.heads = positive("heads", heads);
      this.kvHeads = heads;
      return this;
    }

    /** Sets the feed-forward width; defaults to twice the width. */
    public Builder feedForward(int feedForward) {
      this.feedForward = positive("feedForward", feedForward);
      return this;
    }

    /** Sets the trained context length written to the file; defaults to 512. */
    public Builder context(int context) {
      this.context = positive("context", context);
      return this;
    }

    /** Sets the weights' random seed; defaults to 42. */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** Lets decoding pick end-of-sequence (off by default: generations run to their limit). */
    public Builder eosReachable(boolean reachable) {
      this.eosReachable = reachable;
      return this;
    }

    /** Returns the writer. */
    public TinyLlama build() {
      if (width % heads != 0) {
        throw new IllegalArgumentException("width " + width + " is not a multiple of the "
            + heads + " heads");
      }
      int ff = feedForward > 0 ? feedForward : width * 2;
      if (type.equals("Q8_0") && (width % Q8_BLOCK != 0 || ff % Q8_BLOCK != 0)) {
        throw new IllegalArgumentException("Q8_0 needs a width and a feed-forward width that are"
            + " multiples of " + Q8_BLOCK + ": " + width + ", " + ff);
      }
      return new TinyLlama(this);
    }

    private static int positive(String what, int n) {
      if (n < 1) {
        throw new IllegalArgumentException(what + " must be >= 1: " + n);
      }
      return n;
    }
  }
}
