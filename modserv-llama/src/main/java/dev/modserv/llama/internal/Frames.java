package dev.modserv.llama.internal;

import dev.modserv.api.ChatMessage;
import dev.modserv.api.GenerationRequest;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The worker protocol: frames of {@code [int length][byte type][payload]}, big-endian, strings as
 * {@code [int length][UTF-8]}. Each generation and embedding carries a request id chosen by the
 * parent; replies for several ids interleave.
 *
 * <pre>
 * parent → worker: LOAD(path, options) GENERATE(id, request) CANCEL(id) EMBED(id, texts) SHUTDOWN
 * worker → parent: LOADED(properties) PROMPT(id, tokens) TOKEN(id, text, steps)
 *                  DONE(id, reason, prompt, completion) FAILED(id, code, message)
 *                  EMBEDDING(id, rows, dims, floats)
 * </pre>
 */
final class Frames {
  static final byte LOAD = 1;
  static final byte GENERATE = 2;
  static final byte CANCEL = 3;
  static final byte EMBED = 4;
  static final byte SHUTDOWN = 5;
  static final byte LOADED = 10;
  static final byte PROMPT = 11;
  static final byte TOKEN = 12;
  static final byte DONE = 13;
  static final byte FAILED = 14;
  static final byte EMBEDDING = 15;

  /** A frame larger than this is a protocol error. */
  static final int MAX_FRAME = 256 << 20;

  private Frames() {}

  /** Builds one frame's payload. */
  static final class Writer {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
    private final DataOutputStream out = new DataOutputStream(bytes);
    private final byte type;

    Writer(byte type) {
      this.type = type;
    }

    Writer i32(int v) {
      try {
        out.writeInt(v);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      return this;
    }

    Writer i64(long v) {
      try {
        out.writeLong(v);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      return this;
    }

    Writer f64(double v) {
      try {
        out.writeDouble(v);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      return this;
    }

    Writer f32(float v) {
      try {
        out.writeFloat(v);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      return this;
    }

    Writer str(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      i32(b.length);
      bytes.writeBytes(b);   // DataOutputStream does not buffer: order is kept
      return this;
    }

    Writer map(Map<String, String> m) {
      i32(m.size());
      for (Map.Entry<String, String> e : m.entrySet()) {
        str(e.getKey());
        str(e.getValue());
      }
      return this;
    }

    /** Writes and flushes the frame; the caller serialises writers of one stream. */
    void sendTo(OutputStream stream) throws IOException {
      writeTo(stream);
      stream.flush();
    }

    /** Writes the frame without flushing; the caller serialises writers of one stream. */
    void writeTo(OutputStream stream) throws IOException {
      out.flush();
      byte[] payload = bytes.toByteArray();
      byte[] frame = new byte[5 + payload.length];
      int n = payload.length + 1;
      frame[0] = (byte) (n >>> 24);
      frame[1] = (byte) (n >>> 16);
      frame[2] = (byte) (n >>> 8);
      frame[3] = (byte) n;
      frame[4] = type;
      System.arraycopy(payload, 0, frame, 5, payload.length);
      stream.write(frame);
    }
  }

  /** One frame read. */
  static final class Frame {
    final byte type;
    private final DataInputStream in;

    Frame(byte type, byte[] payload) {
      this.type = type;
      this.in = new DataInputStream(new java.io.ByteArrayInputStream(payload));
    }

    int i32() throws IOException {
      return in.readInt();
    }

    long i64() throws IOException {
      return in.readLong();
    }

    double f64() throws IOException {
      return in.readDouble();
    }

    float f32() throws IOException {
      return in.readFloat();
    }

    String str() throws IOException {
      int n = in.readInt();
      if (n < 0 || n > MAX_FRAME) {
        throw new IOException("bad string length " + n);
      }
      return new String(in.readNBytes(n), StandardCharsets.UTF_8);
    }

    Map<String, String> map() throws IOException {
      int n = in.readInt();
      Map<String, String> m = new LinkedHashMap<>();
      for (int i = 0; i < n; i++) {
        m.put(str(), str());
      }
      return m;
    }
  }

  /** Reads the next frame; throws {@link EOFException} at the end of the stream. */
  static Frame read(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 1 || n > MAX_FRAME) {
      throw new IOException("bad frame length " + n);
    }
    byte type = in.readByte();
    byte[] payload = in.readNBytes(n - 1);
    if (payload.length != n - 1) {
      throw new EOFException("frame cut short");
    }
    return new Frame(type, payload);
  }

  /** Writes a generation request (the model reference is not sent). */
  static void request(Writer w, GenerationRequest r) throws IOException {
    w.str(r.prompt().orElse(""));
    w.i32(r.isChat() ? r.messages().size() : -1);
    for (ChatMessage m : r.messages()) {
      w.str(m.role()).str(m.content());
    }
    w.i32(r.maxTokens());
    optional(w, r.temperature().isPresent(), r.temperature().orElse(0));
    optional(w, r.topP().isPresent(), r.topP().orElse(0));
    optional(w, r.topK().isPresent(), r.topK().orElse(0));
    optional(w, r.minP().isPresent(), r.minP().orElse(0));
    optional(w, r.repeatPenalty().isPresent(), r.repeatPenalty().orElse(0));
    w.i64(r.seed().orElse(-1));
    w.i32(r.stop().size());
    for (String s : r.stop()) {
      w.str(s);
    }
    w.str(r.grammar().orElse("\u0000"));
    w.str(r.jsonSchema().orElse("\u0000"));
  }

  private static void optional(Writer w, boolean present, double value) throws IOException {
    w.f64(present ? value : Double.NaN);
  }

  /** Reads a generation request written by {@link #request}, for the model {@code "worker"}. */
  static GenerationRequest request(Frame f) throws IOException {
    GenerationRequest.Builder b = GenerationRequest.builder("worker");
    String prompt = f.str();
    int messages = f.i32();
    if (messages < 0) {
      b.prompt(prompt);
    } else {
      List<ChatMessage> list = new ArrayList<>();
      for (int i = 0; i < messages; i++) {
        list.add(new ChatMessage(f.str(), f.str()));
      }
      b.messages(list);
    }
    b.maxTokens(f.i32());
    double v = f.f64();
    if (!Double.isNaN(v)) {
      b.temperature(v);
    }
    v = f.f64();
    if (!Double.isNaN(v)) {
      b.topP(v);
    }
    v = f.f64();
    if (!Double.isNaN(v)) {
      b.topK((int) v);
    }
    v = f.f64();
    if (!Double.isNaN(v)) {
      b.minP(v);
    }
    v = f.f64();
    if (!Double.isNaN(v)) {
      b.repeatPenalty(v);
    }
    long seed = f.i64();
    if (seed >= 0) {
      b.seed(seed);
    }
    int stops = f.i32();
    List<String> stop = new ArrayList<>();
    for (int i = 0; i < stops; i++) {
      stop.add(f.str());
    }
    b.stop(stop);
    String grammar = f.str();
    if (!grammar.equals("\u0000")) {
      b.grammar(grammar);
    }
    String schema = f.str();
    if (!schema.equals("\u0000")) {
      b.jsonSchema(schema);
    }
    return b.build();
  }
}
