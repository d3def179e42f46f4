package dev.modserv.http.internal;

import dev.modserv.core.ModelState;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Liveness, readiness, metrics and the native API's health. */
final class Operations {
  private static final byte[] HEALTHY = "{\"status\":\"healthy\"}".getBytes(StandardCharsets.UTF_8);

  private final Settings settings;

  Operations(Settings settings) {
    this.settings = settings;
  }

  void health(Exchange ex) {
    ex.json(200, HEALTHY);
  }

  void apiHealth(Exchange ex) {
    ex.json(200, Json.write(g -> {
      g.writeStartObject();
      g.writeStringField("status", "ok");
      g.writeStringField("version", settings.version());
      g.writeEndObject();
    }));
  }

  /** The required models with no READY version whose queue has room; empty when ready. */
  static List<String> waiting(Settings settings) {
    List<String> waiting = new ArrayList<>();
    for (String name : settings.requiredModels()) {
      boolean ready = settings.server().registry().versions(name).stream()
          .anyMatch(s -> s.state() == ModelState.READY && !s.queueFull());
      if (!ready) {
        waiting.add(name);
      }
    }
    return waiting;
  }

  static boolean ready(Settings settings) {
    return settings.accepting().get() && waiting(settings).isEmpty();
  }

  void ready(Exchange ex) {
    List<String> waiting = waiting(settings);
    boolean accepting = settings.accepting().get();
    boolean ready = accepting && waiting.isEmpty();
    ex.json(ready ? 200 : 503, Json.write(g -> {
      g.writeStartObject();
      g.writeStringField("status", ready ? "ready" : accepting ? "not ready" : "shutting down");
      if (!waiting.isEmpty()) {
        g.writeArrayFieldStart("waiting");
        for (String w : waiting) {
          g.writeString(w);
        }
        g.writeEndArray();
      }
      g.writeEndObject();
    }));
  }

  void metrics(Exchange ex) {
    ex.send(200, "text/plain; version=0.0.4; charset=utf-8",
        settings.registry().scrape().getBytes(StandardCharsets.UTF_8));
  }
}
