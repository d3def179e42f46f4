package dev.modserv.http.internal;

import dev.modserv.http.HostExchange;
import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.jspecify.annotations.Nullable;

/** A request on the adapter's own Jetty server, as the routes answer it. */
final class JettyExchange implements HostExchange {
  private final Request request;
  private final Response response;
  private final Callback callback;

  JettyExchange(Request request, Response response, Callback callback) {
    this.request = request;
    this.response = response;
    this.callback = callback;
  }

  @Override
  public String method() {
    return request.getMethod();
  }

  @Override
  public String path() {
    return request.getHttpURI().getPath();
  }

  @Override
  public @Nullable String requestHeader(String name) {
    return request.getHeaders().get(name);
  }

  /** Not used: the router reads the body asynchronously and gives it to the exchange. */
  @Override
  public byte[] body() {
    throw new UnsupportedOperationException("the router reads Jetty request bodies");
  }

  @Override
  public void responseHeader(String name, String value) {
    response.getHeaders().put(name, value);
  }

  @Override
  public void send(int status, String contentType, byte[] body) {
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
    response.write(true, ByteBuffer.wrap(body), callback);
  }

  @Override
  public void startStream(String contentType) {
    response.setStatus(200);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
  }

  @Override
  public void write(byte[] bytes, Written written) {
    response.write(false, ByteBuffer.wrap(bytes),
        Callback.from(() -> written.done(null), written::done));
  }

  @Override
  public void endStream(@Nullable Throwable failure) {
    if (failure == null) {
      callback.succeeded();
    } else {
      callback.failed(failure);
    }
  }

  @Override
  public void onClientGone(Runnable action) {
    request.addFailureListener(failure -> action.run());
  }
}
