package dev.modserv.http;

import org.jspecify.annotations.Nullable;

/**
 * One HTTP request that a web server of the application's own received (a servlet container
 * under Spring MVC, Spring WebFlux's Netty, ...), for {@link HostedRoutes} to answer with the
 * adapter's request and response mapping. The host implements it over its request and response.
 *
 * <p>The routes answer once, from any thread: either {@link #send} with the whole answer, or
 * {@link #startStream}, {@link #write}s (one at a time: the next after the last one's {@link
 * Written}), then {@link #endStream}. Response headers are set before either.
 */
public interface HostExchange {
  /** Returns the request's method, upper case ({@code POST}). */
  String method();

  /** Returns the request's path below the routes' base ({@code /v2/models/iris/infer}), no query. */
  String path();

  /** Returns the value of request header {@code name} (any case), or null when it is absent. */
  @Nullable String requestHeader(String name);

  /** Returns the request body as received (compressed when its Content-Encoding says so). */
  byte[] body();

  /** Sets response header {@code name}. */
  void responseHeader(String name, String value);

  /** Answers {@code status} with {@code body} of {@code contentType}, completing the request. */
  void send(int status, String contentType, byte[] body);

  /** Starts a streamed 200 answer of {@code contentType} (server-sent events, NDJSON). */
  void startStream(String contentType);

  /**
   * Sends {@code bytes} (one or more whole events) of the streamed answer to the client now, not
   * held in a buffer, and tells {@code written} when they are written or failed (the client went
   * away): at once on this thread, or later on another.
   */
  void write(byte[] bytes, Written written);

  /** Hears the end of one {@link #write}. */
  @FunctionalInterface
  interface Written {
    /** The bytes are written ({@code failure} null), or could not be. */
    void done(@Nullable Throwable failure);
  }

  /**
   * Ends the streamed answer: completes the request when {@code failure} is null, else aborts it
   * (the client went away, or writing failed).
   */
  void endStream(@Nullable Throwable failure);

  /**
   * Runs {@code action} when the client goes away before the answer ends, so that a generation
   * no one reads stops; may run at once when it is gone already.
   */
  void onClientGone(Runnable action);
}
