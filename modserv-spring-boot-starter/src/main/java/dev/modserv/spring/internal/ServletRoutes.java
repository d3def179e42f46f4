package dev.modserv.spring.internal;

import dev.modserv.http.HostExchange;
import dev.modserv.http.HostedRoutes;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import org.jspecify.annotations.Nullable;
import org.springframework.web.HttpRequestHandler;

/**
 * Spring MVC's handler for the routes: reads the body (within the limit), goes asynchronous (the
 * answer may come from a model's thread, a stream may last), and lets {@link HostedRoutes} answer
 * on the servlet response.
 */
public final class ServletRoutes implements HttpRequestHandler {
  private final HostedRoutes routes;
  private final String basePath;
  private final long maxBodyBytes;

  /** Serves {@code routes} under {@code basePath}, bodies up to {@code maxBodyBytes}. */
  public ServletRoutes(HostedRoutes routes, String basePath, long maxBodyBytes) {
    this.routes = routes;
    this.basePath = basePath;
    this.maxBodyBytes = maxBodyBytes;
  }

  @Override
  public void handleRequest(HttpServletRequest request, HttpServletResponse response)
      throws IOException {
    BoundedBody body = new BoundedBody(maxBodyBytes);
    byte[] buffer = new byte[8192];
    try (InputStream in = request.getInputStream()) {
      for (int n; !body.full() && (n = in.read(buffer)) > 0; ) {
        body.add(buffer, 0, n);
      }
    }
    AsyncContext async = request.startAsync();
    async.setTimeout(0); // a generation streams as long as it takes; the routes keep deadlines
    String path = request.getRequestURI().substring(request.getContextPath().length()
        + basePath.length());
    routes.serve(new Exchange(request, response, async, path, body.toByteArray()));
  }

  /** One request on the servlet container, answered once. */
  private static final class Exchange implements HostExchange {
    private final HttpServletRequest request;
    private final HttpServletResponse response;
    private final AsyncContext async;
    private final String path;
    private final byte[] body;

    Exchange(HttpServletRequest request, HttpServletResponse response, AsyncContext async,
        String path, byte[] body) {
      this.request = request;
      this.response = response;
      this.async = async;
      this.path = path;
      this.body = body;
    }

    @Override
    public String method() {
      return request.getMethod();
    }

    @Override
    public String path() {
      return path;
    }

    @Override
    public @Nullable String requestHeader(String name) {
      return request.getHeader(name);
    }

    @Override
    public byte[] body() {
      return body;
    }

    @Override
    public void responseHeader(String name, String value) {
      response.setHeader(name, value);
    }

    /**
     * Servlet writes block until the client has read enough; answers come on a model's or a
     * generation's thread, which must never wait for a client, so each write runs on a virtual
     * thread of its own.
     */
    @Override
    public void send(int status, String contentType, byte[] bytes) {
      Thread.ofVirtual().name("modserv-servlet-write").start(() -> {
        try {
          response.setStatus(status);
          response.setContentType(contentType);
          response.setContentLength(bytes.length);
          response.getOutputStream().write(bytes);
        } catch (IOException e) {
          // The client went away: nothing is left to answer.
        } finally {
          async.complete();
        }
      });
    }

    @Override
    public void startStream(String contentType) {
      response.setStatus(200);
      response.setContentType(contentType);
    }

    /** A blocking write, flushed so the event leaves at once, off the caller's thread (see send). */
    @Override
    public void write(byte[] bytes, Written written) {
      Thread.ofVirtual().name("modserv-servlet-write").start(() -> {
        try {
          ServletOutputStream out = response.getOutputStream();
          out.write(bytes);
          out.flush();
        } catch (IOException e) {
          written.done(e);
          return;
        }
        written.done(null);
      });
    }

    @Override
    public void endStream(@Nullable Throwable failure) {
      async.complete();
    }

    @Override
    public void onClientGone(Runnable action) {
      async.addListener(new AsyncListener() {
        @Override
        public void onComplete(AsyncEvent event) {}

        @Override
        public void onTimeout(AsyncEvent event) {
          action.run();
        }

        @Override
        public void onError(AsyncEvent event) {
          action.run();
        }

        @Override
        public void onStartAsync(AsyncEvent event) {}
      });
    }
  }
}
