package dev.modserv.onnx;

import dev.modserv.api.Capability;
import dev.modserv.api.Tensor;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.ModelSource;
import java.io.IOException;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.SocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Run in a fresh JVM by {@link NoOutboundConnectionTest}: records every URL the JVM's HTTP stack
 * is about to connect to (and refuses it, so nothing leaves the machine) while it loads the
 * embedding model and embeds a text, then prints what it saw.
 */
public final class OfflineProbe {
  private OfflineProbe() {}

  public static void main(String[] args) throws Exception {
    List<URI> asked = new CopyOnWriteArrayList<>();
    ProxySelector.setDefault(new ProxySelector() {
      @Override
      public List<Proxy> select(URI uri) {
        asked.add(uri);
        throw new IllegalArgumentException("no outbound connections in this test: " + uri);
      }

      @Override
      public void connectFailed(URI uri, SocketAddress sa, IOException ioe) {}
    });
    try (LoadedModel model = new OnnxBackend().load(ModelSource.of(Path.of(args[0])))) {
      Tensor out = model.run(Map.of(Capability.EMBEDDING_INPUT,
          Tensor.of(new String[] {"hello"}, 1)), Set.of()).get(Capability.EMBEDDING_OUTPUT);
      System.out.println("EMBEDDED " + out.dim(1));
    }
    System.out.println("ASKED " + asked);
  }
}
