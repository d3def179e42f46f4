package dev.modserv.http.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.modserv.api.ErrorCode;
import dev.modserv.http.HostExchange;
import io.micrometer.observation.Observation;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request being answered: the wire it came on (the adapter's Jetty server, or a host's server
 * through {@link HostExchange}), the request id, the matched route and its parameters. It
 * completes exactly once, from any thread.
 */
public final class Exchange {
  private static final Logger log = LoggerFactory.getLogger(Exchange.class);
  private static final byte[] EMPTY = new byte[0];
  static final String JSON = "application/json";

  private final HostExchange wire;
  /** The Jetty request on the adapter's own server; null for a host's. */
  private final @Nullable Request jetty;
  private final Settings settings;
  private final String requestId;
  private final long startNanos;
  private final AtomicBoolean done = new AtomicBoolean();
  private volatile boolean modelCalled;
  private volatile @Nullable Observation observation;
  private volatile @Nullable String traceId;
  private String route = "unmatched";
  private Map<String, String> params = Map.of();
  private byte[] body = EMPTY;
  private boolean bodyRead;
  private ErrorShape errorShape = ErrorShape.PLAIN;
  private boolean streaming;
  /** What a streamed answer wrote, for the access log; written by one streaming thread at a time. */
  private long streamedBytes;

  Exchange(HostExchange wire, @Nullable Request jetty, Settings settings, String requestId,
      long startNanos) {
    this.wire = wire;
    this.jetty = jetty;
    this.settings = settings;
    this.requestId = requestId;
    this.startNanos = startNanos;
  }

  /**
   * Notes that the model server was called for this request: it counts the errors it answers
   * ({@code modserv.errors}), the adapter only those it finds before.
   */
  public void modelCalled() {
    modelCalled = true;
  }

  /** Observes this request with {@code o}, whose span is {@code traceparent} (when traced). */
  void observe(Observation o, @Nullable String traceparent) {
    this.observation = o;
    // 00-<32 hex trace id>-<16 hex span id>-<flags>
    this.traceId = traceparent == null || traceparent.length() < 35 ? null
        : traceparent.substring(3, 35);
  }

  /** Returns the request's observation; null when requests are not observed. */
  @Nullable Observation observation() {
    return observation;
  }

  /** Returns the trace id of the request's span; null when it is not traced. */
  public @Nullable String traceId() {
    return traceId;
  }

  /**
   * Returns the Jetty request, for the routes only the adapter's own server serves (operations,
   * node fit); a host's server has none.
   *
   * @throws IllegalStateException for a request a host's server received
   */
  public Request request() {
    Request r = jetty;
    if (r == null) {
      throw new IllegalStateException("route " + route + " is served by the adapter's own server"
          + " only");
    }
    return r;
  }

  /** Returns the value of request header {@code name}, or null. */
  public @Nullable String requestHeader(String name) {
    return wire.requestHeader(name);
  }

  /** Runs {@code action} when the client goes away before the answer ends. */
  public void onClientGone(Runnable action) {
    wire.onClientGone(action);
  }

  /** Returns the adapter's settings. */
  public Settings settings() {
    return settings;
  }

  /** Returns the request id echoed in {@code X-Request-Id}. */
  public String requestId() {
    return requestId;
  }

  /** Returns {@link System#nanoTime()} when the request arrived. */
  public long startNanos() {
    return startNanos;
  }

  /** Returns the path parameter {@code name} of the matched route. */
  public String param(String name) {
    String v = params.get(name);
    if (v == null) {
      throw new IllegalStateException("route " + route + " has no parameter " + name);
    }
    return v;
  }

  /** Returns the path parameter {@code name}, or null when the matched route has none. */
  public @Nullable String optionalParam(String name) {
    return params.get(name);
  }

  Map<String, String> params() {
    return params;
  }

  /** Returns the request body (empty for routes that take none). */
  public byte[] body() {
    return body;
  }

  void route(String template, Map<String, String> parameters, ErrorShape shape) {
    this.route = template;
    this.params = parameters;
    this.errorShape = shape;
  }

  void body(byte[] bytes) {
    this.body = bytes;
    this.bodyRead = true;
  }

  /** Sets a response header; call before answering. */
  public void header(String name, String value) {
    wire.responseHeader(name, value);
  }

  /** Answers {@code status} with a JSON body. */
  public void json(int status, byte[] json) {
    send(status, JSON, json);
  }

  /** Writes a JSON answer from the result of some work. */
  @FunctionalInterface
  public interface ResultWriter<T> {
    void write(JsonGenerator g, T result) throws IOException;
  }

  /**
   * Once {@code work} is done, answers {@code status} with the JSON {@code body} writes for its
   * result, or the error it failed with (as {@link #fail} maps it).
   */
  public <T> void jsonWhenDone(CompletionStage<T> work, int status, ResultWriter<T> body) {
    work.whenComplete((result, failure) -> {
      if (failure != null) {
        fail(failure);
        return;
      }
      try {
        json(status, Json.write(g -> body.write(g, result)));
      } catch (RuntimeException e) {
        fail(e); // thrown in a callback, it would be lost and the request left unanswered
      }
    });
  }

  /** Answers with the status and message {@code failure} maps to, in the route's dialect. */
  public void fail(Throwable failure) {
    Failure f = failure(failure);
    ErrorCode code = f.code();
    if (!modelCalled && code != null) {
      settings.timers().refused(code);
    }
    Duration retry = f.retryAfter();
    if (retry != null) {
      long seconds = Math.max(1, retry.getSeconds() + (retry.getNano() > 0 ? 1 : 0));
      wire.responseHeader(HttpHeader.RETRY_AFTER.asString(), Long.toString(seconds));
    }
    json(f.status(), errorShape.render(f));
  }

  /**
   * Maps {@code failure} to what this request answers; one no rule maps (a bug) is logged at ERROR
   * with the request id, and answered without its details.
   */
  public Failure failure(Throwable failure) {
    Failure f = Failure.of(failure, settings.maxBodyBytes());
    if (!f.unexpected()) {
      return f;
    }
    AccessLog.enter(requestId);
    try {
      log.error("request {} {} failed", requestId, route,
          ClientText.escaped(Failure.unwrap(failure)));
    } finally {
      AccessLog.exit();
    }
    return f.withMessage("internal error (request id " + requestId + ")");
  }

  /**
   * Starts a streamed 200 answer of {@code contentType} (no length; chunked): add to it with {@link
   * #write}, one write at a time, and end it with {@link #endStream}. Nothing here blocks, so any
   * thread may stream, an engine's included.
   *
   * @throws IllegalStateException when the request was answered already
   */
  public void startStream(String contentType) {
    if (!done.compareAndSet(false, true)) {
      throw new IllegalStateException("request " + requestId + " was answered already");
    }
    wire.responseHeader(HttpHeader.CACHE_CONTROL.asString(), "no-cache");
    wire.startStream(contentType);
    streaming = true;
  }

  /**
   * Adds {@code bytes} to the streamed answer without waiting: {@code written} completes once they
   * are written (often at once, on this thread); write again only after it did.
   */
  public void write(byte[] bytes, HostExchange.Written written) {
    streamedBytes += bytes.length;
    wire.write(bytes, written);
  }

  /**
   * Ends a streamed answer: completes it when {@code failure} is null, else aborts it (the client
   * went away, or writing failed). Records the request's metrics either way. Call it with no write
   * under way.
   */
  public void endStream(@Nullable Throwable failure) {
    if (!streaming) {
      throw new IllegalStateException("request " + requestId + " has no stream to end");
    }
    record(failure == null ? 200 : 499, streamedBytes);
    wire.endStream(failure);
  }

  /** Answers {@code status} with {@code bytes} of {@code contentType}. */
  public void send(int status, String contentType, byte[] bytes) {
    if (!done.compareAndSet(false, true)) {
      return;
    }
    Request request = jetty;
    if (request != null && !bodyRead && (request.getLength() > 0
        || request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING))) {
      // Refused before its body was read: Jetty closes the connection when it cannot drain the
      // rest, and said here, the client does not send its next request into a closed socket.
      wire.responseHeader(HttpHeader.CONNECTION.asString(), "close");
    }
    record(status, bytes.length);
    wire.send(status, contentType, bytes);
  }

  /** Records the answered request: its timer, a debug line, the access log. */
  private void record(int status, long bytes) {
    long nanos = System.nanoTime() - startNanos;
    try {
      settings.timers().timer(route, wire.method(), status)
          .record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    } catch (RuntimeException e) {
      log.warn("could not record the metrics of request {}", requestId, e);
    }
    if (log.isDebugEnabled()) {
      log.debug("request {} {} {} -> {} in {} us", requestId,
          ClientText.escape(wire.method()), ClientText.escape(wire.path()), status, nanos / 1000);
    }
    Request request = jetty;
    if (request != null) {
      // A host's server keeps its own access log.
      AccessLog.log(request, route, status, bytes, body.length, nanos, requestId, traceId);
    }
    Observation o = observation;
    if (o != null) {
      o.contextualName(wire.method() + " " + route)
          .lowCardinalityKeyValue("route", route)
          .lowCardinalityKeyValue("status", Integer.toString(status))
          .stop();
    }
  }
}
