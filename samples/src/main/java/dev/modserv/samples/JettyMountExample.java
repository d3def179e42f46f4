package dev.modserv.samples;

import dev.modserv.core.ModelServer;
import dev.modserv.http.HttpAdapter;
import java.nio.file.Path;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandler;
import org.eclipse.jetty.server.handler.ContextHandlerCollection;
import org.eclipse.jetty.util.Callback;

/**
 * An application with a Jetty 12 server of its own that mounts modserv's REST routes under {@code
 * /ml} next to its own handler at {@code /}: {@code POST /ml/api/predict}, {@code GET
 * /ml/v2/models/mlp}, ... The adapter is not started; its {@link HttpAdapter#handler()} is.
 */
public final class JettyMountExample implements AutoCloseable {
  private final ModelServer models;
  private final HttpAdapter adapter;
  private final Server jetty;

  private JettyMountExample(ModelServer models, HttpAdapter adapter, Server jetty) {
    this.models = models;
    this.adapter = adapter;
    this.jetty = jetty;
  }

  /** Starts the application on {@code port} (0 for a free one) with {@code onnxFile} as "mlp". */
  public static JettyMountExample start(int port, Path onnxFile) throws Exception {
    ModelServer models = ModelServer.builder().build();
    models.registry().load("mlp", 1, onnxFile).join();
    HttpAdapter adapter = HttpAdapter.builder(models).build();

    Server jetty = new Server();
    ServerConnector connector = new ServerConnector(jetty);
    connector.setPort(port);
    jetty.addConnector(connector);
    ContextHandlerCollection contexts = new ContextHandlerCollection(
        new ContextHandler(adapter.handler(), "/ml"),
        new ContextHandler(new Hello(), "/"));
    jetty.setHandler(contexts);
    jetty.start();
    return new JettyMountExample(models, adapter, jetty);
  }

  /** Returns the port the application listens on. */
  public int port() {
    return ((ServerConnector) jetty.getConnectors()[0]).getLocalPort();
  }

  @Override
  public void close() throws Exception {
    adapter.close(); // readiness turns 503
    jetty.stop();    // the application owns the Jetty server
    models.close();  // then the models unload
  }

  /** The application's own route. */
  private static final class Hello extends Handler.Abstract.NonBlocking {
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; charset=utf-8");
      Content.Sink.write(response, true, "hello from the application\n", callback);
      return true;
    }
  }

  /** {@code JettyMountExample <model.onnx> [port]}: serves until stopped. */
  public static void main(String[] args) throws Exception {
    int port = args.length > 1 ? Integer.parseInt(args[1]) : 8080;
    JettyMountExample app = start(port, Path.of(args[0]));
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        app.close();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }));
    System.out.println("try: curl -s http://127.0.0.1:" + app.port()
        + "/ml/api/predict -H 'Content-Type: application/json' -d '{\"model\": \"mlp\", \"inputs\": [[0.5, -1, 2, 0.25]]}'");
    System.out.println("(Ctrl-C stops)");
  }
}
