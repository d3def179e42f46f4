package dev.modserv.spring.internal;

import dev.modserv.http.HostExchange;
import dev.modserv.http.HostedRoutes;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.BodyExtractors;
import org.springframework.web.reactive.function.BodyInserters;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * WebFlux's handler for the routes: gathers the body (within the limit) and lets {@link
 * HostedRoutes} answer, on the event loop (it does not block there); a streamed answer becomes a
 * {@code Flux} of buffers, and a client that cancels it stops the generation.
 */
public final class ReactiveRoutes {
  private final HostedRoutes routes;
  private final String basePath;
  private final long maxBodyBytes;

  /** Serves {@code routes} under {@code basePath}, bodies up to {@code maxBodyBytes}. */
  public ReactiveRoutes(HostedRoutes routes, String basePath, long maxBodyBytes) {
    this.routes = routes;
    this.basePath = basePath;
    this.maxBodyBytes = maxBodyBytes;
  }

  /** Answers {@code request}. */
  public Mono<ServerResponse> handle(ServerRequest request) {
    return request.body(BodyExtractors.toDataBuffers())
        .collect(() -> new BoundedBody(maxBodyBytes), ReactiveRoutes::add)
        .flatMap(body -> {
          Exchange ex = new Exchange(request,
              request.requestPath().pathWithinApplication().value()
                  .substring(basePath.length()), body.toByteArray());
          routes.serve(ex);
          return ex.answer();
        });
  }

  private static void add(BoundedBody body, DataBuffer buffer) {
    try {
      byte[] bytes = new byte[buffer.readableByteCount()];
      buffer.read(bytes);
      body.add(bytes, 0, bytes.length);
    } finally {
      DataBufferUtils.release(buffer);
    }
  }

  /** One request on the reactive server, answered once. */
  private static final class Exchange implements HostExchange {
    private final ServerRequest request;
    private final String path;
    private final byte[] body;
    private final HttpHeaders headers = new HttpHeaders();
    private final Sinks.One<ServerResponse> answer = Sinks.one();
    private final List<Runnable> onGone = new CopyOnWriteArrayList<>();
    private volatile boolean ended;
    private Sinks.@Nullable Many<DataBuffer> chunks;

    Exchange(ServerRequest request, String path, byte[] body) {
      this.request = request;
      this.path = path;
      this.body = body;
    }

    Mono<ServerResponse> answer() {
      return answer.asMono().doOnCancel(this::gone);
    }

    private void gone() {
      if (!ended) {
        onGone.forEach(Runnable::run);
      }
    }

    @Override
    public String method() {
      return request.method().name();
    }

    @Override
    public String path() {
      return path;
    }

    @Override
    public @Nullable String requestHeader(String name) {
      return request.headers().firstHeader(name);
    }

    @Override
    public byte[] body() {
      return body;
    }

    @Override
    public void responseHeader(String name, String value) {
      headers.set(name, value);
    }

    @Override
    public void send(int status, String contentType, byte[] bytes) {
      ended = true;
      ServerResponse.status(status)
          .headers(h -> h.addAll(headers))
          .contentType(MediaType.parseMediaType(contentType))
          .bodyValue(bytes)
          .subscribe(answer::tryEmitValue, answer::tryEmitError);
    }

    @Override
    public void startStream(String contentType) {
      Sinks.Many<DataBuffer> sink = Sinks.many().unicast().onBackpressureBuffer();
      chunks = sink;
      ServerResponse.ok()
          .headers(h -> h.addAll(headers))
          .contentType(MediaType.parseMediaType(contentType))
          .body(BodyInserters.fromDataBuffers(sink.asFlux().doOnCancel(this::gone)))
          .subscribe(answer::tryEmitValue, answer::tryEmitError);
    }

    /** Never waits: the buffer goes to the response's queue, which Netty drains. */
    @Override
    public void write(byte[] bytes, Written written) {
      Sinks.Many<DataBuffer> sink = chunks;
      if (sink == null) {
        throw new IllegalStateException("write before startStream");
      }
      if (sink.tryEmitNext(DefaultDataBufferFactory.sharedInstance.wrap(bytes)).isFailure()) {
        written.done(new IOException("the client went away"));
      } else {
        written.done(null);
      }
    }

    @Override
    public void endStream(@Nullable Throwable failure) {
      ended = true;
      Sinks.Many<DataBuffer> sink = chunks;
      if (sink == null) {
        return;
      }
      if (failure == null) {
        sink.tryEmitComplete();
      } else {
        sink.tryEmitError(failure);
      }
    }

    @Override
    public void onClientGone(Runnable action) {
      onGone.add(action);
    }
  }
}
