package dev.modserv.http.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.modserv.core.ModelStatus;
import java.io.IOException;

/** A model version's status as the native and management APIs write it. */
public final class StatusJson {
  private StatusJson() {}

  /** Writes {@code {version, state, labels, engine?, inputs?, outputs?, properties?, loaded_at?, ...}}. */
  public static void write(JsonGenerator g, ModelStatus s) throws IOException {
    g.writeStartObject();
    g.writeNumberField("version", s.version());
    g.writeStringField("state", s.state().name());
    g.writeArrayFieldStart("labels");
    for (String l : s.labels().stream().sorted().toList()) {
      g.writeString(l);
    }
    g.writeEndArray();
    if (s.metadata().isPresent()) {
      g.writeStringField("engine", s.metadata().get().engine());
      Json.writeSpecs(g, "inputs", s.metadata().get().inputs());
      Json.writeSpecs(g, "outputs", s.metadata().get().outputs());
      g.writeObjectFieldStart("properties");
      for (var p : new java.util.TreeMap<>(s.metadata().get().properties()).entrySet()) {
        g.writeStringField(p.getKey(), p.getValue());
      }
      g.writeEndObject();
    }
    if (s.loadedAt().isPresent()) {
      g.writeStringField("loaded_at", s.loadedAt().get().toString());
    }
    g.writeBooleanField("warmed_up", s.warmedUp());
    if (s.warmupTime().isPresent()) {
      g.writeNumberField("warmup_ms", s.warmupTime().get().toMillis());
    }
    if (s.failure().isPresent()) {
      g.writeStringField("failure", s.failure().get());
    }
    g.writeEndObject();
  }
}
