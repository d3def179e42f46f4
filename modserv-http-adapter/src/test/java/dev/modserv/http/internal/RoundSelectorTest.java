package dev.modserv.http.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.core.RoundEnd;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A lost wake-up would hang a test, or the server's stop: each is cut off after a minute. */
@Timeout(60)
class RoundSelectorTest {
  private final Server server = new Server(new ResumingThreadPool());
  private final List<String> ran = new CopyOnWriteArrayList<>();
  private final CompletableFuture<Thread> handlerThread = new CompletableFuture<>();
  private final CompletableFuture<Thread> answerThread = new CompletableFuture<>();
  private final CompletableFuture<Boolean> handlerHadReturned = new CompletableFuture<>();
  private final ResumingThreadPoolTest.Resumed resumed = new ResumingThreadPoolTest.Resumed();

  @AfterEach
  void stop() throws Exception {
    server.stop();
  }

  /** Leaves its answer to the round's end, with a failing task and another before it. */
  private final class Deferring extends Handler.Abstract.NonBlocking {
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
      handlerThread.complete(Thread.currentThread());
      RoundEnd roundEnd = RoundSelector.current();
      if (roundEnd == null) {
        response.setStatus(500);
        callback.succeeded();
        return true;
      }
      AtomicBoolean returned = new AtomicBoolean();
      Runnable answer = () -> {
        ran.add("answer");
        answerThread.complete(Thread.currentThread());
        handlerHadReturned.complete(returned.get());
        server.getThreadPool().execute(resumed);
        Content.Sink.write(response, true, "ok", callback);
      };
      roundEnd.runAtEnd(answer);
      roundEnd.runAtEnd(() -> {
        ran.add("failing");
        throw new IllegalStateException("a task that fails");
      });
      roundEnd.runAtEnd(() -> ran.add("other"));
      roundEnd.runAtEnd(answer);
      returned.set(true);
      return true;
    }
  }

  @Test
  void aRequestsTasksRunOnItsSelectorsThreadAfterTheHandlerReturns() throws Exception {
    ServerConnector connector = RoundSelector.tcp(server, 1, Duration.ZERO, new HttpConnectionFactory());
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    server.setHandler(new Deferring());
    server.start();

    HttpResponse<String> response;
    try (HttpClient client = HttpClient.newHttpClient()) {
      response = client.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/")).build(),
          HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("ok");
    assertThat(ran).as("in order given; a task given twice runs once, in its last place; a"
        + " failing task does not stop the others").containsExactly("failing", "other", "answer");
    assertThat(handlerHadReturned.get(5, TimeUnit.SECONDS)).isTrue();
    Thread selectorThread = handlerThread.get(5, TimeUnit.SECONDS);
    assertThat(answerThread.get(5, TimeUnit.SECONDS)).isSameAs(selectorThread);
    assertThat(resumed.ranOn.get(5, TimeUnit.SECONDS))
        .as("a connection resumed at a round's end is resumed in place").isSameAs(selectorThread);
  }

  @Test
  void noThreadButASelectorsHasARoundEnd() throws Exception {
    assertThat(RoundSelector.current()).isNull();
    CompletableFuture<RoundEnd> onPool = new CompletableFuture<>();
    server.start();
    server.getThreadPool().execute(() -> onPool.complete(RoundSelector.current()));
    assertThat(onPool.get(5, TimeUnit.SECONDS)).isNull();
  }

  @Test
  void onceItsSelectorHasStoppedARoundEndRunsATaskAtOnce() throws Exception {
    CompletableFuture<RoundEnd> captured = new CompletableFuture<>();
    ServerConnector connector = RoundSelector.tcp(server, 1, Duration.ZERO, new HttpConnectionFactory());
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    server.setHandler(new Handler.Abstract.NonBlocking() {
      @Override
      public boolean handle(Request request, Response response, Callback callback) {
        captured.complete(RoundSelector.current());
        Content.Sink.write(response, true, "ok", callback);
        return true;
      }
    });
    server.start();
    try (HttpClient client = HttpClient.newHttpClient()) {
      client.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/")).build(),
          HttpResponse.BodyHandlers.discarding());
    }
    RoundEnd roundEnd = captured.get(5, TimeUnit.SECONDS);
    assertThat(roundEnd).isNotNull();
    server.stop();

    CompletableFuture<Thread> ranOn = new CompletableFuture<>();
    roundEnd.runAtEnd(() -> ranOn.complete(Thread.currentThread()));
    assertThat(ranOn).as("no selector is left to run it: it runs here, rather than never")
        .isCompletedWithValue(Thread.currentThread());
  }

  /** A started connector with one selector that polls for {@code spin}; returns that selector. */
  private RoundSelector pollingSelector(Duration spin) throws Exception {
    ServerConnector connector = RoundSelector.tcp(server, 1, spin, new HttpConnectionFactory());
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    server.start();
    return connector.getSelectorManager().getBeans(RoundSelector.class).iterator().next();
  }

  /** Submits an update from this thread and waits until the selector applied it. */
  private static void applied(RoundSelector selector, int i) throws Exception {
    CompletableFuture<Integer> applied = new CompletableFuture<>();
    selector.submit(s -> applied.complete(i));
    assertThat(applied.get(5, TimeUnit.SECONDS)).isEqualTo(i);
  }

  /** Sends {@code n} requests one after another: the selector's waits are short, so it polls. */
  private static void requestsInARow(HttpClient client, int port, int n) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
        .build();
    for (int i = 0; i < n; i++) {
      client.send(request, HttpResponse.BodyHandlers.discarding());
    }
  }

  private int port() {
    return ((ServerConnector) server.getConnectors()[0]).getLocalPort();
  }

  @Test
  void anUpdateSubmittedWhileTheSelectorPollsOrSleepsIsApplied() throws Exception {
    // After requests in a row the selector polls for 1 ms: the update comes while it polls
    // (whose wake-up a poll takes) or after, while it sleeps.
    RoundSelector selector = pollingSelector(Duration.ofMillis(1));
    Random random = new Random(17);
    try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .build()) {
      for (int i = 0; i < 200; i++) {
        requestsInARow(client, port(), 5);
        long until = System.nanoTime() + random.nextInt(1_500_000);
        while (System.nanoTime() < until) {
          Thread.onSpinWait();
        }
        applied(selector, i);
      }
    }
    assertThat(selector.getPolls()).as("the selector polled").isGreaterThan(100);
  }

  @Test
  void aDumpWhileTheSelectorPollsListsItsKeys() throws Exception {
    // Jetty queues a dump's update without submit(): a poll that took its wake-up must still
    // return, or the dump waits 5 s and shows no keys.
    RoundSelector selector = pollingSelector(Duration.ofMillis(10));
    try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .build()) {
      for (int i = 0; i < 5; i++) {
        requestsInARow(client, port(), 20);   // the selector polls for 10 ms from here
        StringBuilder dump = new StringBuilder();
        selector.dump(dump, "");
        assertThat(dump.toString()).contains("keys @").doesNotContain("No dump keys retrieved");
      }
    }
    assertThat(selector.getPolls()).as("the selector polled").isPositive();
  }

  @Test
  void aSelectorPollsOnlyWhileItsRequestsComeWithinTheSpin() throws Exception {
    // Answered at the round's end, as the adapter answers model calls: each request then leaves
    // an update that cuts the selector's next wait short, which must not count as a short wait.
    server.setHandler(new Handler.Abstract.NonBlocking() {
      @Override
      public boolean handle(Request request, Response response, Callback callback) {
        RoundEnd roundEnd = RoundSelector.current();
        assertThat(roundEnd).isNotNull();
        roundEnd.runAtEnd(() -> Content.Sink.write(response, true, "ok", callback));
        return true;
      }
    });
    RoundSelector selector = pollingSelector(Duration.ofMillis(5));
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port() + "/"))
        .build();
    try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .build()) {
      for (int i = 0; i < 10; i++) {
        client.send(request, HttpResponse.BodyHandlers.discarding());
        Thread.sleep(30);
      }
      assertThat(selector.getPolls()).as("requests 30 ms apart, a spin of 5 ms: each poll would"
          + " cost the whole spin for nothing").isLessThanOrEqualTo(2);
      long before = selector.getPolls();
      requestsInARow(client, port(), 200);
      assertThat(selector.getPolls()).as("requests one after another").isGreaterThan(before + 10);
    }
  }
}
