package dev.modserv.http.internal;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.modserv.api.DataType;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelRef;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.core.ModelState;
import dev.modserv.core.ModelStatus;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The Open Inference Protocol v2 (KServe, Triton) over JSON: server and model metadata, health,
 * model readiness and inference ({@code reference/anchors-serving.md} §2).
 */
final class OipApi {
  private final Settings settings;

  OipApi(Settings settings) {
    this.settings = settings;
  }

  void serverMetadata(Exchange ex) {
    ex.json(200, Json.write(g -> {
      g.writeStartObject();
      g.writeStringField("name", "modserv");
      g.writeStringField("version", settings.version());
      g.writeArrayFieldStart("extensions");
      g.writeEndArray();
      g.writeEndObject();
    }));
  }

  void live(Exchange ex) {
    ex.json(200, Json.write(g -> {
      g.writeStartObject();
      g.writeBooleanField("live", true);
      g.writeEndObject();
    }));
  }

  void ready(Exchange ex) {
    boolean ready = Operations.ready(settings);
    ex.json(ready ? 200 : 503, Json.write(g -> {
      g.writeStartObject();
      g.writeBooleanField("ready", ready);
      g.writeEndObject();
    }));
  }

  private static ModelRef ref(Exchange ex) {
    String name = ex.param("m");
    try {
      return Models.ref(name, ex.param("v"));
    } catch (IllegalStateException noVersion) {
      return ModelRef.of(name);
    }
  }

  private static @Nullable String versionParam(Exchange ex) {
    try {
      return ex.param("v");
    } catch (IllegalStateException noVersion) {
      return null;
    }
  }

  void modelMetadata(Exchange ex) {
    String name = ex.param("m");
    ModelStatus status = Models.status(settings.server().registry(), ref(ex));
    ModelMetadata md = status.metadata().orElseThrow(() -> new ModelServingException(
        ErrorCode.MODEL_NOT_READY, "model '" + name + "' version " + status.version()
            + " is " + status.state() + "; its metadata is known once it is loaded"));
    List<ModelStatus> versions = settings.server().registry().versions(name);
    ex.json(200, Json.write(g -> {
      g.writeStartObject();
      g.writeStringField("name", name);
      g.writeArrayFieldStart("versions");
      for (ModelStatus s : versions) {
        if (s.state() == ModelState.READY) {
          g.writeString(Long.toString(s.version()));
        }
      }
      g.writeEndArray();
      g.writeStringField("platform", md.engine());
      Json.writeSpecs(g, "inputs", md.inputs());
      Json.writeSpecs(g, "outputs", md.outputs());
      if (!md.properties().isEmpty()) {
        g.writeObjectFieldStart("properties");
        for (var e : md.properties().entrySet()) {
          g.writeStringField(e.getKey(), e.getValue());
        }
        g.writeEndObject();
      }
      g.writeEndObject();
    }));
  }

  void modelReady(Exchange ex) {
    String name = ex.param("m");
    ModelStatus status = Models.status(settings.server().registry(), ref(ex));
    boolean ready = versionParam(ex) == null
        ? settings.server().registry().versions(name).stream()
            .anyMatch(s -> s.state() == ModelState.READY)
        : status.state() == ModelState.READY;
    ex.json(ready ? 200 : 503, Json.write(g -> {
      g.writeStartObject();
      g.writeStringField("name", name);
      g.writeBooleanField("ready", ready);
      g.writeEndObject();
    }));
  }

  private record Input(String name, DataType type, long[] shape, JsonTensor data) {}

  void infer(Exchange ex) throws IOException {
    String id = null;
    List<Input> inputs = new ArrayList<>();
    List<String> outputs = new ArrayList<>();
    try (JsonParser p = Json.parser(ex.body())) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw HttpError.badField("", "expected an inference request object, got "
            + Json.describe(p.currentToken()));
      }
      boolean sawInputs = false;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken t = p.nextToken();
        switch (field) {
          case "id" -> {
            if (t != JsonToken.VALUE_STRING) {
              throw HttpError.badField("id", "expected a string, got " + Json.describe(t));
            }
            id = p.getText();
          }
          case "inputs" -> {
            sawInputs = true;
            expect(p, JsonToken.START_ARRAY, "inputs", "an array of input tensors");
            int i = 0;
            while (p.nextToken() != JsonToken.END_ARRAY) {
              inputs.add(input(p, "inputs[" + i++ + "]"));
            }
          }
          case "outputs" -> {
            expect(p, JsonToken.START_ARRAY, "outputs", "an array of requested outputs");
            int i = 0;
            while (p.nextToken() != JsonToken.END_ARRAY) {
              outputs.add(output(p, "outputs[" + i++ + "]"));
            }
          }
          default -> p.skipChildren();
        }
      }
      if (!sawInputs || inputs.isEmpty()) {
        throw HttpError.badField("inputs", "is required and must not be empty");
      }
    }
    InferenceRequest.Builder b = InferenceRequest.builder(ref(ex));
    if (settings.requestTimeout() != null) {
      b.timeout(settings.requestTimeout());
    }
    for (int i = 0; i < inputs.size(); i++) {
      Input in = inputs.get(i);
      b.input(in.name(), in.data().toTensor(in.type(), in.shape(), "inputs[" + i + "].data"));
    }
    if (!outputs.isEmpty()) {
      b.outputs(outputs.toArray(String[]::new));
    }
    if (id != null) {
      b.id(id);
    }
    String echoed = id;
    settings.calls().infer(ex, b.build(), result -> response(result, echoed, outputs));
  }

  private static byte[] response(InferenceResult result, @Nullable String id,
      List<String> requested) {
    return Json.write(g -> {
      g.writeStartObject();
      g.writeStringField("model_name", result.model());
      g.writeStringField("model_version", Long.toString(result.version()));
      if (id != null) {
        g.writeStringField("id", id);
      }
      g.writeArrayFieldStart("outputs");
      Iterable<String> names = requested.isEmpty() ? result.outputs().keySet() : requested;
      for (String name : names) {
        Tensor t = result.outputs().get(name);
        if (t == null) {
          continue;
        }
        g.writeStartObject();
        g.writeStringField("name", name);
        g.writeStringField("datatype", Json.wireName(t.dataType()));
        g.writeFieldName("shape");
        Json.writeShape(g, t.shape());
        g.writeFieldName("data");
        Json.writeFlat(g, t);
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
    });
  }

  private static void expect(JsonParser p, JsonToken token, String path, String what) {
    if (p.currentToken() != token) {
      throw HttpError.badField(path, "expected " + what + ", got " + Json.describe(p.currentToken()));
    }
  }

  private static Input input(JsonParser p, String path) throws IOException {
    expect(p, JsonToken.START_OBJECT, path, "an input tensor object");
    String name = null;
    DataType type = null;
    long[] shape = null;
    JsonTensor data = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken t = p.nextToken();
      switch (field) {
        case "name" -> {
          if (t != JsonToken.VALUE_STRING || p.getText().isEmpty()) {
            throw HttpError.badField(path + ".name", "expected a name, got " + Json.describe(t));
          }
          name = p.getText();
        }
        case "datatype" -> {
          if (t != JsonToken.VALUE_STRING) {
            throw HttpError.badField(path + ".datatype", "expected a datatype name, got "
                + Json.describe(t));
          }
          type = dataType(p.getText(), path + ".datatype");
        }
        case "shape" -> {
          expect(p, JsonToken.START_ARRAY, path + ".shape", "an array of dimensions");
          List<Long> dims = new ArrayList<>();
          while (p.nextToken() != JsonToken.END_ARRAY) {
            if (p.currentToken() != JsonToken.VALUE_NUMBER_INT || p.getLongValue() < 0) {
              throw HttpError.badField(path + ".shape[" + dims.size() + "]",
                  "expected a dimension >= 0, got " + p.getText());
            }
            dims.add(p.getLongValue());
          }
          shape = dims.stream().mapToLong(Long::longValue).toArray();
        }
        case "data" -> data = JsonTensor.read(p, path + ".data");
        default -> p.skipChildren();
      }
    }
    if (name == null) {
      throw HttpError.badField(path + ".name", "is required");
    }
    if (type == null) {
      throw HttpError.badField(path + ".datatype", "is required");
    }
    if (shape == null) {
      throw HttpError.badField(path + ".shape", "is required");
    }
    if (data == null) {
      throw HttpError.badField(path + ".data",
          "is required (the binary tensor data extension is not supported yet)");
    }
    return new Input(name, type, shape, data);
  }

  private static String output(JsonParser p, String path) throws IOException {
    expect(p, JsonToken.START_OBJECT, path, "a requested output object");
    String name = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken t = p.nextToken();
      if (field.equals("name")) {
        if (t != JsonToken.VALUE_STRING) {
          throw HttpError.badField(path + ".name", "expected a name, got " + Json.describe(t));
        }
        name = p.getText();
      } else {
        p.skipChildren();
      }
    }
    if (name == null) {
      throw HttpError.badField(path + ".name", "is required");
    }
    return name;
  }

  private static final Map<String, DataType> TYPES = Map.ofEntries(
      Map.entry("BOOL", DataType.BOOL), Map.entry("UINT8", DataType.UINT8),
      Map.entry("INT8", DataType.INT8), Map.entry("INT16", DataType.INT16),
      Map.entry("INT32", DataType.INT32), Map.entry("INT64", DataType.INT64),
      Map.entry("FP16", DataType.FP16), Map.entry("BF16", DataType.BF16),
      Map.entry("FP32", DataType.FP32), Map.entry("FP64", DataType.FP64),
      Map.entry("BYTES", DataType.STRING));

  private static DataType dataType(String wire, String path) {
    DataType type = TYPES.get(wire);
    if (type == null) {
      throw HttpError.badField(path, wire.matches("UINT(16|32|64)")
          ? "datatype " + wire + " is not supported by modserv"
          : "unknown datatype '" + wire + "'; expected one of " + new java.util.TreeSet<>(
              TYPES.keySet()));
    }
    return type;
  }
}
