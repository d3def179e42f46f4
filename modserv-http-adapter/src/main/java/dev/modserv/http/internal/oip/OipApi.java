package dev.modserv.http.internal.oip;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.SerializedString;
import dev.modserv.api.DataType;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelRef;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.core.ModelProcessing;
import dev.modserv.core.ModelState;
import dev.modserv.core.ModelStatus;
import dev.modserv.http.internal.ClientText;
import dev.modserv.http.internal.DialectRoutes;
import dev.modserv.http.internal.Exchange;
import dev.modserv.http.internal.HttpError;
import dev.modserv.http.internal.Versions;
import dev.modserv.http.internal.Json;
import dev.modserv.http.internal.JsonTensor;
import dev.modserv.http.internal.Models;
import dev.modserv.http.internal.Names;
import dev.modserv.http.internal.Routes;
import dev.modserv.http.internal.Settings;
import dev.modserv.http.internal.Shapes;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The Open Inference Protocol v2 (KServe, Triton) over JSON: server and model metadata, health,
 * model readiness and inference ({@code reference/anchors-serving.md} §2), the binary tensor
 * extension ({@link OipBinary}) and, with the management model root, the repository extension
 * ({@link OipRepository}).
 */
public record OipApi(Settings settings) implements DialectRoutes {
  @Override
  public void register(Routes routes) {
    routes.get("/v2", this::serverMetadata);
    routes.get("/v2/health/live", this::live).open();
    routes.get("/v2/health/ready", this::ready).open();
    routes.get("/v2/models/{m}", this::modelMetadata);
    routes.get("/v2/models/{m}/versions/{v}", this::modelMetadata);
    routes.get("/v2/models/{m}/ready", this::modelReady);
    routes.get("/v2/models/{m}/versions/{v}/ready", this::modelReady);
    routes.post("/v2/models/{m}/infer", this::infer);
    routes.post("/v2/models/{m}/versions/{v}/infer", this::infer);
    if (settings.modelRoot() != null) {
      OipRepository repo = new OipRepository(settings);
      // These touch the file system: off the I/O thread.
      routes.post("/v2/repository/index", repo::index).blocking().management();
      routes.post("/v2/repository/models/{m}/load", repo::load).blocking().management();
      routes.post("/v2/repository/models/{m}/unload", repo::unload).management();
    }
  }

  void serverMetadata(Exchange ex) {
    ex.json(200, Json.write(g -> {
      g.writeStartObject();
      g.writeStringField("name", "modserv");
      g.writeStringField("version", settings.version());
      g.writeArrayFieldStart("extensions");
      g.writeString("binary_tensor_data");
      g.writeString("classification");
      if (settings.modelRoot() != null) {
        g.writeString("model_repository");
      }
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
    boolean ready = settings.readiness().ready();
    ex.json(ready ? 200 : 503, Json.write(g -> {
      g.writeStartObject();
      g.writeBooleanField("ready", ready);
      g.writeEndObject();
    }));
  }

  private static ModelRef ref(Exchange ex) {
    String name = Names.model("model", ex.param("m"));
    String version = versionParam(ex);
    return version == null ? ModelRef.of(name) : Versions.ref(name, "version", version);
  }

  /** The path's version; null on the routes without one (no exception: this is every infer). */
  private static @Nullable String versionParam(Exchange ex) {
    return ex.optionalParam("v");
  }

  void modelMetadata(Exchange ex) {
    String name = Names.model("model", ex.param("m"));
    ModelStatus status = Models.status(settings.server().registry(), ref(ex));
    // A version not loaded (registered, or unloaded while idle) shows its state and, when it was
    // loaded before, its inputs and outputs; else none.
    ModelMetadata known = status.metadata().orElse(null);
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
      g.writeStringField("platform", known == null ? "unknown" : known.engine());
      Json.writeSpecs(g, "inputs", known == null ? List.of() : known.inputs());
      Json.writeSpecs(g, "outputs", known == null ? List.of() : known.outputs());
      g.writeObjectFieldStart("properties");
      if (known != null) {
        for (var e : known.properties().entrySet()) {
          g.writeStringField(e.getKey(), e.getValue());
        }
      }
      g.writeStringField("state", status.state().name());
      g.writeStringField("version", Long.toString(status.version()));
      g.writeEndObject();
      g.writeEndObject();
    }));
  }

  void modelReady(Exchange ex) {
    String name = Names.model("model", ex.param("m"));
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

  /** An input tensor: JSON {@code data}, or {@code binarySize} raw bytes after the JSON. */
  private record Input(String name, DataType type, long[] shape, @Nullable JsonTensor data,
      long binarySize) {}

  /**
   * A requested output; {@code binary} null when its parameters do not say; {@code
   * classification} the count of classes to answer as Triton's classification extension does, 0
   * for the tensor itself.
   */
  record Requested(String name, @Nullable Boolean binary, int classification) {}

  /** A parsed inference request: its id, inputs, requested outputs and binary output choice. */
  private record Call(@Nullable String id, List<Input> inputs, List<Requested> requested,
      boolean binaryOutput) {}

  void infer(Exchange ex) throws Exception {
    byte[] body = ex.body();
    int jsonLength = OipBinary.headerLength(ex.requestHeader(OipBinary.HEADER),
        body.length);
    if (jsonLength == 0) {
      OipBinary.rawInfer(settings, ex, ref(ex));
      return;
    }
    Call call;
    try (JsonParser p = jsonLength < 0 ? Json.parser(body)
        : Json.FACTORY.createParser(body, 0, jsonLength)) {
      call = parse(p);
    }
    InferenceRequest.Builder b = InferenceRequest.builder(ref(ex));
    addInputs(b, call.inputs(), body, jsonLength);
    List<Requested> requested = call.requested();
    if (!requested.isEmpty()) {
      String[] outputs = new String[requested.size()];
      for (int i = 0; i < outputs.length; i++) {
        outputs[i] = requested.get(i).name();
      }
      b.outputs(outputs);
    }
    if (call.id() != null) {
      b.id(call.id());
    }
    settings.calls().infer(ex, b.build(),
        result -> answer(ex, result, call.id(), call.requested(), call.binaryOutput()));
  }

  private static Call parse(JsonParser p) throws IOException {
    if (p.nextToken() != JsonToken.START_OBJECT) {
      throw HttpError.badField("", "expected an inference request object, got "
          + Json.describe(p.currentToken()));
    }
    String id = null;
    List<Input> inputs = new ArrayList<>();
    List<Requested> requested = new ArrayList<>();
    boolean binaryOutput = false;
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
            Input in = input(p, "inputs[" + i + "]");
            for (int j = 0; j < inputs.size(); j++) {
              if (inputs.get(j).name().equals(in.name())) {
                throw HttpError.badField("inputs[" + i + "].name", "input "
                    + ClientText.quote(in.name()) + " is given twice (also inputs[" + j + "])");
              }
            }
            inputs.add(in);
            i++;
          }
        }
        case "outputs" -> {
          expect(p, JsonToken.START_ARRAY, "outputs", "an array of requested outputs");
          int i = 0;
          while (p.nextToken() != JsonToken.END_ARRAY) {
            requested.add(output(p, "outputs[" + i++ + "]"));
          }
        }
        case "parameters" -> {
          expect(p, JsonToken.START_OBJECT, "parameters", "an object");
          Boolean b = booleanParameter(p, "parameters", "binary_data_output");
          binaryOutput = b != null && b;
        }
        default -> p.skipChildren();
      }
    }
    if (!sawInputs || inputs.isEmpty()) {
      throw HttpError.badField("inputs", "is required and must not be empty");
    }
    return new Call(id, inputs, requested, binaryOutput);
  }

  /** Adds the inputs: JSON data, or binary data after the JSON header, in order. */
  private static void addInputs(InferenceRequest.Builder b, List<Input> inputs, byte[] body,
      int jsonLength) {
    int at = Math.max(jsonLength, 0);
    for (int i = 0; i < inputs.size(); i++) {
      Input in = inputs.get(i);
      JsonTensor data = in.data();
      if (data != null) {
        b.input(in.name(), data.toTensor(in.type(), in.shape(), "inputs[" + i + "].data"));
        continue;
      }
      String path = "inputs[" + i + "].parameters.binary_data_size";
      if (jsonLength < 0) {
        throw HttpError.badField(path, "binary data needs the " + OipBinary.HEADER + " header");
      }
      if (in.binarySize() > body.length - at) {
        throw HttpError.badField(path, in.binarySize() + " bytes, but only " + (body.length - at)
            + " remain after the JSON header and the inputs before it");
      }
      b.input(in.name(), OipBinary.decode(in.type(), in.shape(), body, at, (int) in.binarySize(),
          path));
      at += (int) in.binarySize();
    }
    if (at < body.length && jsonLength >= 0) {
      throw new HttpError(400, (body.length - at) + " bytes after the JSON header are not claimed"
          + " by any input's binary_data_size");
    }
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
    long binarySize = -1;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken t = p.nextToken();
      switch (field) {
        case "name" -> name = tensorName(p, t, path + ".name");
        case "datatype" -> {
          if (t != JsonToken.VALUE_STRING) {
            throw HttpError.badField(path + ".datatype", "expected a datatype name, got "
                + Json.describe(t));
          }
          type = dataType(p.getText(), path + ".datatype");
        }
        case "shape" -> {
          expect(p, JsonToken.START_ARRAY, path + ".shape", "an array of dimensions");
          long[] dims = new long[4];
          int rank = 0;
          while (p.nextToken() != JsonToken.END_ARRAY) {
            if (rank == Shapes.MAX_RANK) {
              throw HttpError.badField(path + ".shape[" + rank + "]", "a shape has at most "
                  + Shapes.MAX_RANK + " dimensions");
            }
            if (rank == dims.length) {
              dims = Arrays.copyOf(dims, Math.min(2 * rank, Shapes.MAX_RANK));
            }
            dims[rank] = dimension(p, path, rank);
            rank++;
          }
          shape = Arrays.copyOf(dims, rank);
        }
        case "data" -> data = JsonTensor.read(p, path + ".data");
        case "parameters" -> {
          expect(p, JsonToken.START_OBJECT, path + ".parameters", "an object");
          binarySize = longParameter(p, path + ".parameters", "binary_data_size");
        }
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
    if (data == null && binarySize < 0) {
      throw HttpError.badField(path + ".data",
          "is required (or parameters.binary_data_size with binary data after the JSON)");
    }
    if (data != null && binarySize >= 0) {
      throw HttpError.badField(path, "give data or parameters.binary_data_size, not both");
    }
    return new Input(name, type, shape, data, binarySize);
  }

  private static Requested output(JsonParser p, String path) throws IOException {
    expect(p, JsonToken.START_OBJECT, path, "a requested output object");
    String name = null;
    Boolean binary = null;
    int classification = 0;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken t = p.nextToken();
      if (field.equals("name")) {
        name = tensorName(p, t, path + ".name");
      } else if (field.equals("parameters")) {
        expect(p, JsonToken.START_OBJECT, path + ".parameters", "an object");
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String key = p.currentName();
          JsonToken v = p.nextToken();
          switch (key) {
            case "binary_data" -> binary = bool(v, path + ".parameters.binary_data");
            case "classification" -> classification = classCount(p, v,
                path + ".parameters.classification");
            default -> p.skipChildren();
          }
        }
      } else {
        p.skipChildren();
      }
    }
    if (name == null) {
      throw HttpError.badField(path + ".name", "is required");
    }
    return new Requested(name, binary, classification);
  }

  private static boolean bool(JsonToken t, String path) {
    if (t != JsonToken.VALUE_TRUE && t != JsonToken.VALUE_FALSE) {
      throw HttpError.badField(path, "expected true or false, got " + Json.describe(t));
    }
    return t == JsonToken.VALUE_TRUE;
  }

  /** The classification extension's count (tritonclient's {@code class_count}): an int >= 1. */
  private static int classCount(JsonParser p, JsonToken t, String path) throws IOException {
    return (int) whole(p, path, "a class count", 1, Integer.MAX_VALUE);
  }

  /** A tensor's name: a non-empty string. */
  private static String tensorName(JsonParser p, JsonToken t, String path) throws IOException {
    if (t != JsonToken.VALUE_STRING || p.getText().isEmpty()) {
      throw HttpError.badField(path, "expected a name, got " + (t == JsonToken.VALUE_STRING
          ? "an empty string" : Json.describe(t)));
    }
    return p.getText();
  }

  /**
   * The current token as a whole number from {@code min} to {@code max}, or 400 naming {@code
   * path}: never wrapped, however many digits it has.
   */
  /** Reads dimension {@code index} of a shape; its path is written only for an error. */
  private static long dimension(JsonParser p, String path, int index) throws IOException {
    if (p.currentToken() == JsonToken.VALUE_NUMBER_INT
        && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER && p.getLongValue() >= 0) {
      return p.getLongValue();
    }
    return whole(p, path + ".shape[" + index + "]", "a dimension", 0, Long.MAX_VALUE);
  }

  private static long whole(JsonParser p, String path, String what, long min, long max)
      throws IOException {
    if (p.currentToken() != JsonToken.VALUE_NUMBER_INT
        || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
        || p.getLongValue() < min || p.getLongValue() > max) {
      throw HttpError.badField(path, "expected " + what + " >= " + min
          + (max == Long.MAX_VALUE ? "" : " and <= " + max) + ", got "
          + (p.currentToken() == JsonToken.VALUE_NUMBER_INT
              || p.currentToken() == JsonToken.VALUE_NUMBER_FLOAT
              ? ClientText.echo(p.getText()) : Json.describe(p.currentToken())));
    }
    return p.getLongValue();
  }

  /** Reads a parameters object (current token its start), returning the boolean {@code key}. */
  private static @Nullable Boolean booleanParameter(JsonParser p, String path, String key)
      throws IOException {
    Boolean value = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken t = p.nextToken();
      if (field.equals(key)) {
        value = bool(t, path + "." + key);
      } else {
        p.skipChildren();
      }
    }
    return value;
  }

  /** Reads a parameters object (current token its start), returning {@code key} (-1 if absent). */
  private static long longParameter(JsonParser p, String path, String key) throws IOException {
    long value = -1;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken t = p.nextToken();
      if (field.equals(key)) {
        value = whole(p, path + "." + key, "a byte count", 0, Integer.MAX_VALUE);
      } else {
        p.skipChildren();
      }
    }
    return value;
  }

  /**
   * Answers an inference: JSON, or with the binary extension when any output is asked for as
   * binary ({@code allBinary}, or its own {@code parameters.binary_data}); those outputs carry
   * {@code parameters.binary_data_size} and no {@code data}, and their bytes follow the JSON.
   */
  static void answer(Exchange ex, InferenceResult result, @Nullable String id,
      List<Requested> requested, boolean allBinary) {
    List<byte[]> raw = new ArrayList<>();
    byte[] json = Json.write(g -> {
      g.writeStartObject();
      g.writeFieldName(MODEL_NAME);
      g.writeString(result.model());
      g.writeFieldName(MODEL_VERSION);
      g.writeString(Long.toString(result.version()));
      if (id != null) {
        g.writeFieldName(ID);
        g.writeString(id);
      }
      g.writeFieldName(OUTPUTS);
      g.writeStartArray();
      if (requested.isEmpty()) {
        for (Map.Entry<String, Tensor> output : result.outputs().entrySet()) {
          writeOutput(g, output.getKey(), output.getValue(), allBinary, raw);
        }
      }
      for (Requested r : requested) {
        Tensor t = result.outputs().get(r.name());
        if (t != null && r.classification() > 0) {
          t = ModelProcessing.classify(r.name(), t, r.classification(), null);
        }
        if (t != null) {
          writeOutput(g, r.name(), t, r.binary() != null ? r.binary() : allBinary, raw);
        }
      }
      g.writeEndArray();
      g.writeEndObject();
    });
    boolean binary = allBinary;
    for (Requested r : requested) {
      binary |= Boolean.TRUE.equals(r.binary());
    }
    if (!binary) {
      ex.json(200, json);
      return;
    }
    ex.header(OipBinary.HEADER, Integer.toString(json.length));
    ex.send(200, "application/octet-stream", OipBinary.body(json, raw));
  }

  // An answer's field names, quoted and encoded once: every inference answer writes them.
  private static final SerializableString MODEL_NAME = new SerializedString("model_name");
  private static final SerializableString MODEL_VERSION = new SerializedString("model_version");
  private static final SerializableString ID = new SerializedString("id");
  private static final SerializableString OUTPUTS = new SerializedString("outputs");
  private static final SerializableString NAME = new SerializedString("name");
  private static final SerializableString DATATYPE = new SerializedString("datatype");
  private static final SerializableString SHAPE = new SerializedString("shape");
  private static final SerializableString DATA = new SerializedString("data");

  private static void writeOutput(JsonGenerator g, String name, Tensor t, boolean binary,
      List<byte[]> raw) throws IOException {
    g.writeStartObject();
    g.writeFieldName(NAME);
    g.writeString(name);
    g.writeFieldName(DATATYPE);
    g.writeString(Json.wireName(t.dataType()));
    g.writeFieldName(SHAPE);
    Json.writeShape(g, t.shape());
    if (binary) {
      byte[] bytes = OipBinary.encode(t);
      raw.add(bytes);
      g.writeObjectFieldStart("parameters");
      g.writeNumberField("binary_data_size", bytes.length);
      g.writeEndObject();
    } else {
      g.writeFieldName(DATA);
      Json.writeFlat(g, t);
    }
    g.writeEndObject();
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
          : "unknown datatype " + ClientText.quote(wire) + "; expected one of "
              + new java.util.TreeSet<>(
              TYPES.keySet()));
    }
    return type;
  }
}
