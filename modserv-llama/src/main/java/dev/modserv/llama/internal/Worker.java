package dev.modserv.llama.internal;

import dev.modserv.api.FinishReason;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Usage;
import dev.modserv.spi.GenerationHandle;
import dev.modserv.spi.GenerationSink;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The worker process's main class: connects to the parent's socket (twice: commands in, events
 * out), loads one model, serves generations and embeddings until told to stop or until the parent
 * goes away, then exits (the binding's native thread would keep the JVM alive otherwise). Its
 * stdout and stderr are read by the parent and become log lines there.
 */
public final class Worker {
  private final Object writeLock = new Object();
  private final OutputStream out;
  private final Map<Integer, GenerationHandle> running = new ConcurrentHashMap<>();
  private volatile @org.jspecify.annotations.Nullable Engine engine;

  private Worker(OutputStream out) {
    this.out = out;
  }

  /**
   * Runs a worker.
   *
   * @param args the parent's Unix socket path
   */
  public static void main(String[] args) {
    PrintStream err = System.err;
    int status = 0;
    UnixDomainSocketAddress parent = UnixDomainSocketAddress.of(Path.of(args[0]));
    // The parent takes the first connection for commands, the second for events.
    try (SocketChannel commands = SocketChannel.open(parent);
        SocketChannel events = SocketChannel.open(parent)) {
      DataInputStream in = new DataInputStream(new BufferedInputStream(
          Channels.newInputStream(commands), 1 << 16));
      OutputStream out = new BufferedOutputStream(Channels.newOutputStream(events), 1 << 16);
      new Worker(out).serve(in);
    } catch (EOFException e) {
      err.println("modserv-llama worker: the parent closed the connection; exiting");
    } catch (IOException | RuntimeException e) {
      err.println("modserv-llama worker failed: " + e);
      e.printStackTrace(err);
      status = 1;
    }
    err.flush();
    // The binding's native server thread is not a daemon: only exit() ends this JVM.
    Runtime.getRuntime().halt(status);
  }

  private void serve(DataInputStream in) throws IOException {
    while (true) {
      Frames.Frame f = Frames.read(in);
      switch (f.type) {
        case Frames.LOAD -> load(f);
        case Frames.GENERATE -> generate(f);
        case Frames.CANCEL -> {
          GenerationHandle h = running.get(f.i32());
          if (h != null) {
            h.cancel();
          }
        }
        case Frames.EMBED -> embed(f);
        case Frames.SHUTDOWN -> {
          running.values().forEach(GenerationHandle::cancel);
          return;
        }
        default -> throw new IOException("unknown frame type " + f.type);
      }
    }
  }

  private Engine engine() {
    Engine e = engine;
    if (e == null) {
      throw new IllegalStateException("no model loaded");
    }
    return e;
  }

  private void load(Frames.Frame f) throws IOException {
    Path path = Path.of(f.str());
    Map<String, String> options = f.map();
    try {
      Engine e = Engine.load(path, LlamaOptions.parse(
          new dev.modserv.spi.ModelSource(path, options)));
      engine = e;
      send(new Frames.Writer(Frames.LOADED).map(Map.of("dimensions",
          Integer.toString(e.dimensions()))));
    } catch (RuntimeException e) {
      failed(0, e);
    }
  }

  private void generate(Frames.Frame f) throws IOException {
    int id = f.i32();
    try {
      GenerationRequest request = Frames.request(f);
      GenerationHandle h = engine().generate(request, new Sink(id));
      running.put(id, h);
    } catch (RuntimeException e) {
      failed(id, e);
    }
  }

  private void embed(Frames.Frame f) throws IOException {
    int id = f.i32();
    int n = f.i32();
    List<String> texts = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      texts.add(f.str());
    }
    // Embeddings block in native code: off the reading thread.
    Thread.ofPlatform().daemon().name("modserv-llama-embed").start(() -> {
      try {
        Engine.Embedded embedded = engine().embed(texts);
        float[][] vectors = embedded.vectors();
        int dims = vectors.length == 0 ? 0 : vectors[0].length;
        Frames.Writer w = new Frames.Writer(Frames.EMBEDDING).i32(id).i32(vectors.length)
            .i32(dims);
        for (float[] v : vectors) {
          for (float x : v) {
            w.f32(x);
          }
        }
        for (long t : embedded.tokens()) {
          w.i32((int) t);
        }
        send(w);
      } catch (IOException e) {
        lost(e);
      } catch (RuntimeException e) {
        try {
          failed(id, e);
        } catch (IOException io) {
          lost(io);
        }
      }
    });
  }

  private void failed(int id, Throwable e) throws IOException {
    String code = e instanceof ModelServingException mse ? mse.code().name() : "BACKEND_ERROR";
    send(new Frames.Writer(Frames.FAILED).i32(id).str(code).str(String.valueOf(e.getMessage())));
  }

  private void send(Frames.Writer w) throws IOException {
    synchronized (writeLock) {
      w.sendTo(out);
    }
  }

  private static void lost(IOException e) {
    System.err.println("modserv-llama worker: the parent connection broke: " + e);
    Runtime.getRuntime().halt(1);
  }

  /**
   * Sends one generation's events to the parent. The prompt's token count travels in the same
   * write as the first token (or the end), so that it adds no round trip before the first token.
   */
  private final class Sink implements GenerationSink {
    private final int id;
    private int promptTokens = -1;
    private boolean promptSent;

    Sink(int id) {
      this.id = id;
    }

    @Override
    public void prompt(int promptTokens) {
      this.promptTokens = promptTokens;
    }

    @Override
    public void token(String text, int tokens) {
      write(new Frames.Writer(Frames.TOKEN).i32(id).str(text).i32(tokens));
    }

    @Override
    public void complete(FinishReason reason, Usage usage) {
      running.remove(id);
      write(new Frames.Writer(Frames.DONE).i32(id).i32(reason.ordinal())
          .i32(usage.promptTokens()).i32(usage.completionTokens()));
    }

    @Override
    public void fail(Throwable error) {
      running.remove(id);
      try {
        failed(id, error);
      } catch (IOException e) {
        lost(e);
      }
    }

    private void write(Frames.Writer frame) {
      try {
        synchronized (writeLock) {
          if (!promptSent && promptTokens >= 0) {
            promptSent = true;
            new Frames.Writer(Frames.PROMPT).i32(id).i32(promptTokens).writeTo(out);
          }
          frame.sendTo(out);
        }
      } catch (IOException e) {
        lost(e);
      }
    }
  }

  static {
    // The binding and llama.cpp write to stdout; keep it line-buffered UTF-8 for the parent.
    System.setOut(new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true,
        StandardCharsets.UTF_8));
  }
}
