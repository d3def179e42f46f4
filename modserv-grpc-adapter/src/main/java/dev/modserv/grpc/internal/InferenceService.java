package dev.modserv.grpc.internal;

import dev.modserv.api.DataType;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelRef;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import dev.modserv.core.ModelProcessing;
import dev.modserv.core.ModelRegistry;
import dev.modserv.core.ModelState;
import dev.modserv.core.ModelStatus;
import dev.modserv.grpc.internal.proto.GRPCInferenceServiceGrpc;
import dev.modserv.grpc.internal.proto.InferParameter;
import dev.modserv.grpc.internal.proto.ModelInferRequest;
import dev.modserv.grpc.internal.proto.ModelInferResponse;
import dev.modserv.grpc.internal.proto.ModelMetadataRequest;
import dev.modserv.grpc.internal.proto.ModelMetadataResponse;
import dev.modserv.grpc.internal.proto.ModelReadyRequest;
import dev.modserv.grpc.internal.proto.ModelReadyResponse;
import dev.modserv.grpc.internal.proto.RepositoryIndexRequest;
import dev.modserv.grpc.internal.proto.RepositoryIndexResponse;
import dev.modserv.grpc.internal.proto.RepositoryModelLoadRequest;
import dev.modserv.grpc.internal.proto.RepositoryModelLoadResponse;
import dev.modserv.grpc.internal.proto.RepositoryModelUnloadRequest;
import dev.modserv.grpc.internal.proto.RepositoryModelUnloadResponse;
import dev.modserv.grpc.internal.proto.ServerLiveRequest;
import dev.modserv.grpc.internal.proto.ServerLiveResponse;
import dev.modserv.grpc.internal.proto.ServerMetadataRequest;
import dev.modserv.grpc.internal.proto.ServerMetadataResponse;
import dev.modserv.grpc.internal.proto.ServerReadyRequest;
import dev.modserv.grpc.internal.proto.ServerReadyResponse;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The Open Inference Protocol v2 gRPC service over a {@code ModelServer}: health, metadata,
 * inference and (with a model root) the repository extension. Calls never block the thread they
 * arrive on for a model: inference goes through {@code inferAsync} and answers when it completes,
 * so concurrent calls to one model form batches.
 */
public final class InferenceService extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {
  /** Request parameters the protocol's clients set for the server, not for the engine. */
  private static final String PRIORITY = "priority";
  /** tritonclient's per-request timeout, in microseconds. */
  private static final String TIMEOUT_MICROS = "timeout";
  /** The classification extension on a requested output: how many classes to answer. */
  private static final String CLASSIFICATION = "classification";

  private final Settings settings;
  private final @Nullable Repository repository;

  /** Serves {@code settings}' model server. */
  public InferenceService(Settings settings) {
    this.settings = settings;
    this.repository = settings.modelRoot() == null ? null
        : new Repository(settings.server().registry(), settings.modelRoot());
  }

  private ModelRegistry registry() {
    return settings.server().registry();
  }

  /** Answers {@code work}'s value, or its failure as a status. */
  private static <T> void answer(StreamObserver<T> observer, Supplier<T> work) {
    T value;
    try {
      value = work.get();
    } catch (RuntimeException e) {
      observer.onError(GrpcErrors.toStatus(e));
      return;
    }
    observer.onNext(value);
    observer.onCompleted();
  }

  /** Answers when {@code future} completes, unless the client has gone. */
  private static <T> void answerWhenDone(StreamObserver<T> observer, CompletableFuture<T> future) {
    future.whenComplete((value, failure) -> {
      if (observer instanceof ServerCallStreamObserver<T> call && call.isCancelled()) {
        return;
      }
      if (failure != null) {
        observer.onError(GrpcErrors.toStatus(failure));
      } else {
        observer.onNext(value);
        observer.onCompleted();
      }
    });
  }

  @Override
  public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> answer) {
    answer(answer, () -> ServerLiveResponse.newBuilder().setLive(true).build());
  }

  @Override
  public void serverReady(ServerReadyRequest request, StreamObserver<ServerReadyResponse> answer) {
    answer(answer, () -> ServerReadyResponse.newBuilder().setReady(settings.ready()).build());
  }

  @Override
  public void serverMetadata(ServerMetadataRequest request,
      StreamObserver<ServerMetadataResponse> answer) {
    answer(answer, () -> {
      ServerMetadataResponse.Builder b = ServerMetadataResponse.newBuilder().setName("modserv")
          .setVersion(settings.version()).addExtensions("classification");
      if (repository != null) {
        b.addExtensions("model_repository");
      }
      return b.build();
    });
  }

  @Override
  public void modelReady(ModelReadyRequest request, StreamObserver<ModelReadyResponse> answer) {
    answer(answer, () -> {
      ModelRef ref = ref(request.getName(), "name", request.getVersion(), "version");
      ModelStatus status = status(ref);
      boolean ready = request.getVersion().isEmpty()
          ? registry().versions(ref.name()).stream().anyMatch(s -> s.state() == ModelState.READY)
          : status.state() == ModelState.READY;
      return ModelReadyResponse.newBuilder().setReady(ready).build();
    });
  }

  @Override
  public void modelMetadata(ModelMetadataRequest request,
      StreamObserver<ModelMetadataResponse> answer) {
    answer(answer, () -> {
      ModelRef ref = ref(request.getName(), "name", request.getVersion(), "version");
      ModelStatus status = status(ref);
      ModelMetadataResponse.Builder b = ModelMetadataResponse.newBuilder().setName(ref.name());
      registry().versions(ref.name()).stream().filter(s -> s.state() == ModelState.READY)
          .forEach(s -> b.addVersions(Long.toString(s.version())));
      // A version never loaded has no known inputs and outputs yet.
      ModelMetadata known = status.metadata().orElse(null);
      b.setPlatform(known == null ? "unknown" : known.engine());
      if (known != null) {
        known.inputs().forEach(s -> b.addInputs(tensorMetadata(s)));
        known.outputs().forEach(s -> b.addOutputs(tensorMetadata(s)));
      }
      return b.build();
    });
  }

  private static ModelMetadataResponse.TensorMetadata tensorMetadata(TensorSpec spec) {
    ModelMetadataResponse.TensorMetadata.Builder b = ModelMetadataResponse.TensorMetadata
        .newBuilder().setName(spec.name()).setDatatype(WireTensors.wireName(spec.dataType()));
    if (spec.isRankKnown()) {
      for (long d : spec.shape()) {
        b.addShape(d);
      }
    } else {
      // Unknown rank: the protocol has no word for it; one dimension of any size is the closest.
      b.addShape(-1);
    }
    return b.build();
  }

  /** The model and version (or label) a call names; an empty version is the latest. */
  static ModelRef ref(String name, String nameField, String version, String versionField) {
    if (name.isEmpty()) {
      throw WireTensors.bad(nameField, "is required");
    }
    try {
      ModelRef.requireName(name);
      if (version.isEmpty()) {
        return ModelRef.of(name);
      }
      if (version.chars().allMatch(c -> c >= '0' && c <= '9')) {
        try {
          return ModelRef.of(name, Long.parseLong(version));
        } catch (NumberFormatException tooLarge) {
          throw new IllegalArgumentException("too large");
        }
      }
      return ModelRef.labelled(name, version);
    } catch (IllegalArgumentException e) {
      throw WireTensors.bad(version.isEmpty() ? nameField : versionField, "'" + name
          + (version.isEmpty() ? "" : "' version '" + version) + "' is not valid: "
          + e.getMessage());
    }
  }

  /** The version {@code ref} points at now: as asked, else the newest READY, else the newest. */
  private ModelStatus status(ModelRef ref) {
    List<ModelStatus> versions = new ArrayList<>(registry().versions(ref.name()));
    if (versions.isEmpty()) {
      registry().registered().stream().filter(s -> s.name().equals(ref.name()))
          .forEach(versions::add);
    }
    if (versions.isEmpty()) {
      throw new ModelServingException(ErrorCode.MODEL_NOT_FOUND, "no model named '" + ref.name()
          + "'");
    }
    var found = ref.version().isPresent()
        ? versions.stream().filter(s -> s.version() == ref.version().getAsLong()).findFirst()
        : ref.label().isPresent() && !ref.isLatest()
            ? versions.stream().filter(s -> s.labels().contains(ref.label().get())).findFirst()
            : versions.stream().max(Comparator.comparing((ModelStatus s) ->
                s.state() == ModelState.READY).thenComparingLong(ModelStatus::version));
    return found.orElseThrow(() -> new ModelServingException(ErrorCode.VERSION_NOT_FOUND,
        "model '" + ref.name() + "' has no version " + ref + "; it has "
            + versions.stream().map(s -> Long.toString(s.version())).toList()));
  }

  // ---- inference ----

  @Override
  public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> answer) {
    CompletableFuture<ModelInferResponse> response;
    try {
      Call call = call(request);
      response = settings.server().inferAsync(call.request())
          .thenApply(result -> response(request, call, result));
    } catch (RuntimeException e) {
      answer.onError(GrpcErrors.toStatus(e));
      return;
    }
    answerWhenDone(answer, response);
  }

  /**
   * A parsed call: the request to run, whether to answer raw, and the class count of each
   * requested output (0: the tensor itself).
   */
  private record Call(InferenceRequest request, boolean raw, Map<String, Integer> classes) {}

  private Call call(ModelInferRequest r) {
    if (!settings.accepting().get()) {
      throw new ModelServingException(ErrorCode.SHUTTING_DOWN, "the server is shutting down;"
          + " send the request to another replica");
    }
    ModelRef ref = ref(r.getModelName(), "model_name", r.getModelVersion(), "model_version");
    InferenceRequest.Builder b = InferenceRequest.builder(ref);
    if (r.getInputsCount() == 0) {
      throw WireTensors.bad("inputs", "is required and must not be empty");
    }
    boolean raw = r.getRawInputContentsCount() > 0;
    if (raw && r.getRawInputContentsCount() != r.getInputsCount()) {
      throw WireTensors.bad("raw_input_contents", "has " + r.getRawInputContentsCount()
          + " entries for " + r.getInputsCount() + " inputs; give one per input, in order");
    }
    for (int i = 0; i < r.getInputsCount(); i++) {
      b.input(r.getInputs(i).getName(), input(r, i, raw));
    }
    Map<String, Integer> classes = new java.util.LinkedHashMap<>();
    for (int i = 0; i < r.getOutputsCount(); i++) {
      ModelInferRequest.InferRequestedOutputTensor o = r.getOutputs(i);
      String field = "outputs[" + i + "]";
      if (o.getName().isEmpty()) {
        throw WireTensors.bad(field + ".name", "is required");
      }
      int count = 0;
      InferParameter c = o.getParametersMap().get(CLASSIFICATION);
      if (c != null) {
        if (c.getParameterChoiceCase() != InferParameter.ParameterChoiceCase.INT64_PARAM
            || c.getInt64Param() < 1 || c.getInt64Param() > Integer.MAX_VALUE) {
          throw WireTensors.bad(field + ".parameters.classification",
              "expected a class count >= 1 (int64_param)");
        }
        count = (int) c.getInt64Param();
      }
      classes.put(o.getName(), count);
    }
    if (!classes.isEmpty()) {
      b.outputs(classes.keySet().toArray(String[]::new));
    }
    if (!r.getId().isEmpty()) {
      b.id(r.getId());
    }
    Duration timeout = deadline();
    for (Map.Entry<String, InferParameter> p : r.getParametersMap().entrySet()) {
      String key = p.getKey();
      InferParameter v = p.getValue();
      String field = "parameters." + key;
      switch (key) {
        case PRIORITY -> b.priority((int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE,
            integer(v, field))));
        case TIMEOUT_MICROS -> {
          long micros = integer(v, field);
          if (micros > 0) {
            Duration asked = Duration.ofNanos(micros > Long.MAX_VALUE / 1000
                ? Long.MAX_VALUE : micros * 1000);
            timeout = timeout == null || asked.compareTo(timeout) < 0 ? asked : timeout;
          }
        }
        // tritonclient's per-output flag of the HTTP binary extension: no meaning over gRPC.
        case "binary_data_output" -> { }
        default -> {
          String text = WireTensors.parameterText(v);
          if (text == null) {
            throw WireTensors.bad(field, "has no value");
          }
          b.parameter(key, text);
        }
      }
    }
    if (timeout != null) {
      b.timeout(timeout);
    }
    return new Call(b.build(), raw, classes);
  }

  /** The client's deadline as the request's timeout; null when it set none. */
  private static @Nullable Duration deadline() {
    Deadline deadline = Context.current().getDeadline();
    if (deadline == null) {
      return null;
    }
    long nanos = deadline.timeRemaining(TimeUnit.NANOSECONDS);
    if (nanos <= 0) {
      throw new ModelServingException(ErrorCode.TIMEOUT, "the call's deadline passed before it"
          + " could run; give it more time");
    }
    return Duration.ofNanos(nanos);
  }

  private static long integer(InferParameter v, String field) {
    return switch (v.getParameterChoiceCase()) {
      case INT64_PARAM -> v.getInt64Param();
      case UINT64_PARAM -> v.getUint64Param() < 0 ? Long.MAX_VALUE : v.getUint64Param();
      default -> throw WireTensors.bad(field, "expected an int64_param or uint64_param");
    };
  }

  private static Tensor input(ModelInferRequest r, int i, boolean raw) {
    ModelInferRequest.InferInputTensor in = r.getInputs(i);
    String field = "inputs[" + i + "]";
    if (in.getName().isEmpty()) {
      throw WireTensors.bad(field + ".name", "is required");
    }
    if (in.getDatatype().isEmpty()) {
      throw WireTensors.bad(field + ".datatype", "is required");
    }
    DataType type = WireTensors.dataType(in.getDatatype(), field + ".datatype");
    int count = WireTensors.elementCount(in.getShapeList(), field + ".shape");
    long[] shape = in.getShapeList().stream().mapToLong(Long::longValue).toArray();
    if (raw) {
      if (in.hasContents()) {
        throw WireTensors.bad(field + ".contents", "give contents or raw_input_contents, not"
            + " both");
      }
      return WireTensors.fromRaw(type, shape, count, r.getRawInputContents(i),
          "raw_input_contents[" + i + "]");
    }
    return WireTensors.fromContents(type, shape, count, in.getContents(), field);
  }

  /**
   * The response: the requested outputs in their order (every output when none was asked for),
   * raw when the request sent raw inputs or an output has no contents field (FP16, BF16), else
   * typed contents.
   */
  private static ModelInferResponse response(ModelInferRequest request, Call call,
      InferenceResult result) {
    List<Map.Entry<String, Tensor>> outputs = new ArrayList<>();
    if (call.classes().isEmpty()) {
      outputs.addAll(result.outputs().entrySet());
    } else {
      for (Map.Entry<String, Integer> wanted : call.classes().entrySet()) {
        Tensor t = result.requireOutput(wanted.getKey());
        if (wanted.getValue() > 0) {
          t = ModelProcessing.classify(wanted.getKey(), t, wanted.getValue(), null);
        }
        outputs.add(Map.entry(wanted.getKey(), t));
      }
    }
    boolean raw = call.raw() || outputs.stream()
        .anyMatch(o -> !WireTensors.hasContentsField(o.getValue().dataType()));
    ModelInferResponse.Builder b = ModelInferResponse.newBuilder().setModelName(result.model())
        .setModelVersion(Long.toString(result.version())).setId(request.getId());
    for (Map.Entry<String, Tensor> o : outputs) {
      Tensor t = o.getValue();
      ModelInferResponse.InferOutputTensor.Builder ob = ModelInferResponse.InferOutputTensor
          .newBuilder().setName(o.getKey()).setDatatype(WireTensors.wireName(t.dataType()));
      for (long d : t.shape()) {
        ob.addShape(d);
      }
      if (raw) {
        b.addRawOutputContents(WireTensors.toRaw(t));
      } else {
        ob.setContents(WireTensors.toContents(t));
      }
      b.addOutputs(ob);
    }
    return b.build();
  }

  // ---- the repository extension ----

  private Repository repository() {
    if (repository == null) {
      throw Status.UNIMPLEMENTED.withDescription("the model repository extension is off: the"
          + " server was started without a model root").asRuntimeException();
    }
    return repository;
  }

  @Override
  public void repositoryIndex(RepositoryIndexRequest request,
      StreamObserver<RepositoryIndexResponse> answer) {
    answer(answer, () -> repository().index(request.getReady()));
  }

  @Override
  public void repositoryModelLoad(RepositoryModelLoadRequest request,
      StreamObserver<RepositoryModelLoadResponse> answer) {
    CompletableFuture<RepositoryModelLoadResponse> done;
    try {
      done = repository().load(request.getModelName(), request.getParametersMap())
          .thenApply(status -> RepositoryModelLoadResponse.getDefaultInstance());
    } catch (RuntimeException e) {
      answer.onError(GrpcErrors.toStatus(e));
      return;
    }
    answerWhenDone(answer, done);
  }

  @Override
  public void repositoryModelUnload(RepositoryModelUnloadRequest request,
      StreamObserver<RepositoryModelUnloadResponse> answer) {
    CompletableFuture<RepositoryModelUnloadResponse> done;
    try {
      String name = request.getModelName();
      done = repository().unload(name)
          .thenApply(v -> {
            settings.readiness().unloaded(name);
            return RepositoryModelUnloadResponse.getDefaultInstance();
          });
    } catch (RuntimeException e) {
      answer.onError(GrpcErrors.toStatus(e));
      return;
    }
    answerWhenDone(answer, done);
  }
}
