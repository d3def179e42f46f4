package dev.modserv.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.modserv.api.DataType;
import dev.modserv.core.BatchingPolicy;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServer;
import dev.modserv.grpc.internal.GrpcErrors;
import dev.modserv.grpc.internal.proto.GRPCInferenceServiceGrpc;
import dev.modserv.grpc.internal.proto.GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub;
import dev.modserv.grpc.internal.proto.InferParameter;
import dev.modserv.grpc.internal.proto.InferTensorContents;
import dev.modserv.grpc.internal.proto.ModelInferRequest;
import dev.modserv.grpc.internal.proto.ModelInferRequest.InferInputTensor;
import dev.modserv.grpc.internal.proto.ModelInferResponse;
import dev.modserv.grpc.internal.proto.ModelMetadataRequest;
import dev.modserv.grpc.internal.proto.ModelMetadataResponse;
import dev.modserv.grpc.internal.proto.ModelReadyRequest;
import dev.modserv.grpc.internal.proto.ModelRepositoryParameter;
import dev.modserv.grpc.internal.proto.RepositoryIndexRequest;
import dev.modserv.grpc.internal.proto.RepositoryModelLoadRequest;
import dev.modserv.grpc.internal.proto.RepositoryModelUnloadRequest;
import dev.modserv.grpc.internal.proto.ServerLiveRequest;
import dev.modserv.grpc.internal.proto.ServerMetadataRequest;
import dev.modserv.grpc.internal.proto.ServerReadyRequest;
import dev.modserv.onnx.OnnxBackend;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.MetadataUtils;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The adapter over a real {@link ModelServer} with ONNX models, called through real grpc-java
 * channels over TCP and over a Unix domain socket.
 */
class GrpcAdapterTest {
  /** Every type the protocol carries in typed contents. */
  static final List<DataType> CONTENT_TYPES = List.of(DataType.BOOL, DataType.UINT8,
      DataType.INT8, DataType.INT16, DataType.INT32, DataType.INT64, DataType.FP32,
      DataType.FP64, DataType.STRING);

  @TempDir static Path tmp;
  static Path root;
  static SimpleMeterRegistry meters;
  static ModelServer server;
  static GrpcAdapter adapter;
  static ManagedChannel tcp;
  static ManagedChannel unix;

  static Path model(String name, List<DataType> types) throws Exception {
    Path dir = Files.createDirectories(root.resolve(name).resolve("1"));
    return OnnxIdentityModel.write(dir.resolve("model.onnx"), types);
  }

  @BeforeAll
  static void start() throws Exception {
    root = Files.createDirectories(tmp.resolve("models"));
    meters = new SimpleMeterRegistry();
    server = ModelServer.builder().backend(new OnnxBackend()).discoverBackends(false)
        .meterRegistry(meters).build();
    server.registry().load("all", 1, model("all", List.of(DataType.values()))).join();
    server.registry().load("contents", 1, model("contents", CONTENT_TYPES)).join();
    // A batch window long enough for 64 concurrent calls to meet in batches.
    server.registry().configure("rows", ModelConfig.builder().warmup(false).batching(
        BatchingPolicy.builder().maxBatchSize(64).maxQueueDelay(Duration.ofMillis(50))
            .maxQueueSize(256).instances(1).build()).build());
    server.registry().load("rows", 1, model("rows", List.of(DataType.FP32))).join();
    // A single call waits out the whole window: what the deadline and drain tests need.
    server.registry().configure("slow", ModelConfig.builder().warmup(false).batching(
        BatchingPolicy.builder().maxBatchSize(64).maxQueueDelay(Duration.ofMillis(400))
            .maxQueueSize(256).instances(1).build()).build());
    server.registry().load("slow", 1, model("slow", List.of(DataType.FP32))).join();
    // A window far longer than the deadline test's deadline, which is long enough to reach the
    // server on a loaded machine.
    server.registry().configure("glacial", ModelConfig.builder().warmup(false).batching(
        BatchingPolicy.builder().maxBatchSize(64).maxQueueDelay(Duration.ofSeconds(4))
            .maxQueueSize(256).instances(1).build()).build());
    server.registry().load("glacial", 1, model("glacial", List.of(DataType.FP32))).join();
    model("later", List.of(DataType.INT64)); // in the root, not loaded
    adapter = GrpcAdapter.builder(server).port(0).unixSocket(tmp.resolve("grpc.sock"))
        .management(root).build();
    adapter.start();
    tcp = channel("127.0.0.1:" + adapter.port());
    unix = channel("unix://" + tmp.resolve("grpc.sock").toAbsolutePath());
  }

  static ManagedChannel channel(String target) {
    return Grpc.newChannelBuilder(target, InsecureChannelCredentials.create()).build();
  }

  @AfterAll
  static void stop() throws Exception {
    tcp.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    unix.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    adapter.close();
    server.close();
  }

  static GRPCInferenceServiceBlockingStub stub(String transport) {
    return GRPCInferenceServiceGrpc.newBlockingStub(transport.equals("tcp") ? tcp : unix)
        .withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  static StatusRuntimeException failure(Runnable call) {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      return e;
    }
    throw new AssertionError("the call did not fail");
  }

  // ---- health and metadata ----

  @ParameterizedTest
  @ValueSource(strings = {"tcp", "unix"})
  void serverHealthAndMetadata(String transport) {
    var stub = stub(transport);
    assertThat(stub.serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
    assertThat(stub.serverReady(ServerReadyRequest.getDefaultInstance()).getReady()).isTrue();
    var md = stub.serverMetadata(ServerMetadataRequest.getDefaultInstance());
    assertThat(md.getName()).isEqualTo("modserv");
    assertThat(md.getVersion()).isNotBlank();
    assertThat(md.getExtensionsList()).contains("model_repository", "classification");
  }

  @ParameterizedTest
  @ValueSource(strings = {"tcp", "unix"})
  void modelReadyAndMetadata(String transport) {
    var stub = stub(transport);
    assertThat(stub.modelReady(ModelReadyRequest.newBuilder().setName("all").build()).getReady())
        .isTrue();
    assertThat(stub.modelReady(ModelReadyRequest.newBuilder().setName("all").setVersion("1")
        .build()).getReady()).isTrue();
    ModelMetadataResponse md = stub.modelMetadata(ModelMetadataRequest.newBuilder()
        .setName("all").build());
    assertThat(md.getName()).isEqualTo("all");
    assertThat(md.getVersionsList()).containsExactly("1");
    assertThat(md.getPlatform()).isNotBlank().isNotEqualTo("unknown");
    assertThat(md.getInputsList()).extracting(ModelMetadataResponse.TensorMetadata::getDatatype)
        .containsExactlyInAnyOrder("FP32", "FP64", "FP16", "BF16", "INT8", "INT16", "INT32",
            "INT64", "UINT8", "BOOL", "BYTES");
    assertThat(md.getInputs(0).getShapeList()).containsExactly(-1L, 2L);
    assertThat(md.getOutputsList()).hasSize(11);
    assertThat(md.getOutputsList()).extracting(ModelMetadataResponse.TensorMetadata::getName)
        .contains("out_string", "out_bf16");
  }

  // ---- inference: every type, both forms ----

  /** Two rows of two elements of {@code type}, covering each type's extremes, as contents. */
  static InferTensorContents contents(DataType type) {
    var c = InferTensorContents.newBuilder();
    switch (type) {
      case BOOL -> c.addAllBoolContents(List.of(true, false, false, true));
      case UINT8 -> c.addAllUintContents(List.of(255, 127, 0, 1));
      case INT8 -> c.addAllIntContents(List.of(-128, 127, 0, 1));
      case INT16 -> c.addAllIntContents(List.of(-32768, 32767, 0, 1));
      case INT32 -> c.addAllIntContents(List.of(Integer.MIN_VALUE, Integer.MAX_VALUE, 0, 1));
      case INT64 -> c.addAllInt64Contents(List.of(Long.MIN_VALUE, Long.MAX_VALUE, 0L, 1L));
      case FP32 -> c.addAllFp32Contents(List.of(1.5f, -2f, Float.MAX_VALUE, Float.NaN));
      case FP64 -> c.addAllFp64Contents(List.of(1e300, -2d, 0d, Double.MIN_VALUE));
      case STRING -> c.addAllBytesContents(List.of(ByteString.copyFromUtf8("a"),
          ByteString.EMPTY, ByteString.copyFromUtf8("ünï"), ByteString.copyFromUtf8("d")));
      default -> throw new IllegalArgumentException(type + " has no contents");
    }
    return c.build();
  }

  static InferInputTensor.Builder input(DataType type) {
    return InferInputTensor.newBuilder().setName("in_" + OnnxIdentityModel.part(type))
        .setDatatype(type == DataType.STRING ? "BYTES" : type.name()).addShape(2).addShape(2);
  }

  @ParameterizedTest
  @ValueSource(strings = {"tcp", "unix"})
  void everyTypeInContents(String transport) {
    var request = ModelInferRequest.newBuilder().setModelName("contents").setId("call-7");
    for (DataType t : CONTENT_TYPES) {
      request.addInputs(input(t).setContents(contents(t)));
    }
    ModelInferResponse response = stub(transport).modelInfer(request.build());
    assertThat(response.getModelName()).isEqualTo("contents");
    assertThat(response.getModelVersion()).isEqualTo("1");
    assertThat(response.getId()).isEqualTo("call-7");
    assertThat(response.getRawOutputContentsCount()).isZero();
    assertThat(response.getOutputsCount()).isEqualTo(CONTENT_TYPES.size());
    for (var out : response.getOutputsList()) {
      DataType t = DataType.valueOf(out.getDatatype().equals("BYTES") ? "STRING"
          : out.getDatatype());
      assertThat(out.getName()).isEqualTo("out_" + OnnxIdentityModel.part(t));
      assertThat(out.getShapeList()).containsExactly(2L, 2L);
      assertThat(out.getContents()).as(out.getName()).isEqualTo(contents(t));
    }
  }

  /** {@code type}'s elements in the raw layout: 2 x 2 of each type, little-endian. */
  static ByteString raw(DataType type) {
    if (type == DataType.STRING) {
      ByteString.Output out = ByteString.newOutput();
      for (String s : new String[] {"héllo", "", "wörld", "!"}) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array(),
            0, 4);
        out.write(b, 0, b.length);
      }
      return out.toByteString();
    }
    byte[] bytes = new byte[4 * type.byteSize()];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) (type == DataType.BOOL ? i % 2 : 31 * i + 7);
    }
    return ByteString.copyFrom(bytes);
  }

  @ParameterizedTest
  @ValueSource(strings = {"tcp", "unix"})
  void everyTypeRaw(String transport) {
    var request = ModelInferRequest.newBuilder().setModelName("all").setModelVersion("1");
    for (DataType t : DataType.values()) {
      request.addInputs(input(t)).addRawInputContents(raw(t));
    }
    ModelInferResponse response = stub(transport).modelInfer(request.build());
    assertThat(response.getOutputsCount()).isEqualTo(DataType.values().length);
    assertThat(response.getRawOutputContentsCount()).isEqualTo(response.getOutputsCount());
    for (int i = 0; i < response.getOutputsCount(); i++) {
      var out = response.getOutputs(i);
      DataType t = DataType.valueOf(out.getDatatype().equals("BYTES") ? "STRING"
          : out.getDatatype());
      assertThat(out.hasContents()).isFalse();
      assertThat(out.getShapeList()).containsExactly(2L, 2L);
      assertThat(response.getRawOutputContents(i)).as(out.getName()).isEqualTo(raw(t));
    }
  }

  @Test
  void requestedOutputsComeInTheirOrderAndAloneAndHalfFloatsAnswerRaw() {
    var request = ModelInferRequest.newBuilder().setModelName("all");
    for (DataType t : DataType.values()) {
      request.addInputs(input(t)).addRawInputContents(raw(t));
    }
    request.addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder()
        .setName("out_string"));
    request.addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder()
        .setName("out_int64"));
    var response = stub("tcp").modelInfer(request.build());
    assertThat(response.getOutputsList()).extracting(o -> o.getName())
        .containsExactly("out_string", "out_int64");
    assertThat(response.getRawOutputContentsList())
        .containsExactly(raw(DataType.STRING), raw(DataType.INT64));
  }

  @Test
  void classificationAnswersTheTopClassesAsBytes() {
    var request = ModelInferRequest.newBuilder().setModelName("rows")
        .addInputs(input(DataType.FP32).setShape(0, 1).setContents(InferTensorContents
            .newBuilder().addFp32Contents(0.25f).addFp32Contents(0.75f)))
        .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("out_fp32")
            .putParameters("classification", InferParameter.newBuilder().setInt64Param(1)
                .build()));
    var out = stub("tcp").modelInfer(request.build()).getOutputs(0);
    assertThat(out.getDatatype()).isEqualTo("BYTES");
    assertThat(out.getContents().getBytesContents(0).toStringUtf8()).startsWith("0.75").endsWith(":1");
  }

  // ---- errors ----

  static ModelInferRequest.Builder contentsCall() {
    var request = ModelInferRequest.newBuilder().setModelName("contents");
    for (DataType t : CONTENT_TYPES) {
      request.addInputs(input(t).setContents(contents(t)));
    }
    return request;
  }

  static void assertStatus(StatusRuntimeException e, Status.Code code, String errorCode,
      String... inMessage) {
    assertThat(e.getStatus().getCode()).as(e.toString()).isEqualTo(code);
    assertThat(e.getTrailers().get(GrpcErrors.ERROR_CODE)).isEqualTo(errorCode);
    if (inMessage.length > 0) {
      assertThat(e.getStatus().getDescription()).contains(inMessage);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"tcp", "unix"})
  void errorsAnswerTheirStatusNamingTheField(String transport) {
    var stub = stub(transport);
    assertStatus(failure(() -> stub.modelInfer(contentsCall().setModelName("nope").build())),
        Status.Code.NOT_FOUND, "MODEL_NOT_FOUND", "nope");
    assertStatus(failure(() -> stub.modelInfer(contentsCall().setModelVersion("9").build())),
        Status.Code.NOT_FOUND, "VERSION_NOT_FOUND");
    assertStatus(failure(() -> stub.modelMetadata(ModelMetadataRequest.newBuilder()
        .setName("nope").build())), Status.Code.NOT_FOUND, "MODEL_NOT_FOUND");
    assertStatus(failure(() -> stub.modelInfer(contentsCall().setInputs(0,
        input(DataType.BOOL).setDatatype("UINT32").setContents(contents(DataType.BOOL)))
        .build())), Status.Code.INVALID_ARGUMENT, "INVALID_INPUT", "inputs[0].datatype",
        "not supported");
    assertStatus(failure(() -> stub.modelInfer(contentsCall().setInputs(6,
        input(DataType.FP32).setContents(InferTensorContents.newBuilder().addFp32Contents(1)))
        .build())), Status.Code.INVALID_ARGUMENT, "INVALID_INPUT",
        "inputs[6].contents.fp32_contents", "holds 4 elements, got 1");
    assertStatus(failure(() -> stub.modelInfer(contentsCall().setInputs(2,
        input(DataType.INT8).setContents(InferTensorContents.newBuilder()
            .addAllIntContents(List.of(1, 2, 3, 300)))).build())),
        Status.Code.INVALID_ARGUMENT, "INVALID_INPUT", "int_contents[3]", "out of range");
    assertStatus(failure(() -> stub.modelInfer(ModelInferRequest.newBuilder()
        .setModelName("all").addInputs(input(DataType.FP16).setContents(InferTensorContents
            .getDefaultInstance())).build())), Status.Code.INVALID_ARGUMENT, "INVALID_INPUT",
        "raw_input_contents");
    assertStatus(failure(() -> stub.modelInfer(ModelInferRequest.newBuilder()
        .setModelName("rows").addInputs(input(DataType.FP32))
        .addRawInputContents(ByteString.copyFrom(new byte[15])).build())),
        Status.Code.INVALID_ARGUMENT, "INVALID_INPUT", "raw_input_contents[0]", "needs 16 bytes");
    assertStatus(failure(() -> stub.modelInfer(contentsCall().removeInputs(8).build())),
        Status.Code.INVALID_ARGUMENT, "INVALID_INPUT", "missing input 'in_string'");
    assertStatus(failure(() -> stub.modelInfer(contentsCall().addOutputs(
        ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("nope")).build())),
        Status.Code.INVALID_ARGUMENT, "INVALID_INPUT", "unknown output 'nope'");
    assertStatus(failure(() -> stub.modelInfer(contentsCall().setInputs(0,
        input(DataType.BOOL).setShape(0, -2).setContents(contents(DataType.BOOL))).build())),
        Status.Code.INVALID_ARGUMENT, "INVALID_INPUT", "inputs[0].shape[0]");
    assertStatus(failure(() -> stub.modelInfer(ModelInferRequest.newBuilder().setModelName("x")
        .build())), Status.Code.INVALID_ARGUMENT, "INVALID_INPUT", "inputs");
  }

  @Test
  void queueFullIsUnavailableWithRetryInfo() {
    var e = GrpcErrors.toStatus(new java.util.concurrent.CompletionException(
        new dev.modserv.api.ModelServingException(dev.modserv.api.ErrorCode.QUEUE_FULL,
            "queue of 'm' is full", null, Duration.ofMillis(1500))));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(e.getTrailers().get(GrpcErrors.RETRY_AFTER)).isEqualTo("2");
    var details = io.grpc.protobuf.StatusProto.fromThrowable(e);
    assertThat(details).isNotNull();
    assertThat(details.getDetailsList()).singleElement().satisfies(any -> {
      var retry = any.unpack(com.google.rpc.RetryInfo.class);
      assertThat(retry.getRetryDelay().getSeconds()).isEqualTo(1);
      assertThat(retry.getRetryDelay().getNanos()).isEqualTo(500_000_000);
    });
  }

  @Test
  void everyErrorCodeHasItsStatus() {
    for (var code : dev.modserv.api.ErrorCode.values()) {
      var e = GrpcErrors.toStatus(new dev.modserv.api.ModelServingException(code, "x"));
      assertThat(e.getStatus().getCode()).as(code.name()).isEqualTo(GrpcErrors.of(code))
          .isNotIn(Status.Code.OK, Status.Code.UNKNOWN);
    }
    assertThat(GrpcErrors.of(dev.modserv.api.ErrorCode.TIMEOUT))
        .isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    assertThat(GrpcErrors.of(dev.modserv.api.ErrorCode.UNAUTHORIZED))
        .isEqualTo(Status.Code.UNAUTHENTICATED);
  }

  // ---- deadlines ----

  static ModelInferRequest.Builder slowCall() {
    return ModelInferRequest.newBuilder().setModelName("slow").addInputs(input(DataType.FP32)
        .setShape(0, 1).setContents(InferTensorContents.newBuilder().addFp32Contents(1)
            .addFp32Contents(2)));
  }

  static double timeouts(String model) {
    return meters.find("modserv.requests").tag("model", model).tag("outcome", "timeout")
        .counters().stream().mapToDouble(c -> c.count()).sum();
  }

  @Test
  void theClientsDeadlineBecomesTheRequestsDeadline() throws Exception {
    double before = timeouts("glacial");
    // Connected first, so the deadline is spent at the server, not on the connection.
    stub("tcp").serverLive(ServerLiveRequest.getDefaultInstance());
    var e = failure(() -> GRPCInferenceServiceGrpc.newBlockingStub(tcp)
        .withDeadlineAfter(1, TimeUnit.SECONDS).modelInfer(slowCall().setModelName("glacial")
            .build()));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    // The server gave up on the request too (it is never run) rather than running it for no one
    // once the batch window closed: without the deadline it would count a success.
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (timeouts("glacial") == before && System.nanoTime() < until) {
      Thread.sleep(20);
    }
    assertThat(timeouts("glacial")).isEqualTo(before + 1);
  }

  @Test
  void tritonsTimeoutParameterIsAServerSideDeadline() {
    var e = failure(() -> stub("tcp").modelInfer(slowCall().putParameters("timeout",
        InferParameter.newBuilder().setInt64Param(20_000).build()).build()));
    assertStatus(e, Status.Code.DEADLINE_EXCEEDED, "TIMEOUT");
  }

  // ---- concurrency ----

  @Test
  void concurrentSingleRowCallsEachGetTheirOwnRowInSharedBatches() {
    var async = GRPCInferenceServiceGrpc.newFutureStub(tcp);
    List<com.google.common.util.concurrent.ListenableFuture<ModelInferResponse>> sent =
        new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      sent.add(async.withDeadlineAfter(30, TimeUnit.SECONDS).modelInfer(ModelInferRequest
          .newBuilder().setModelName("rows").setId("row-" + i).addInputs(input(DataType.FP32)
              .setShape(0, 1).setContents(InferTensorContents.newBuilder().addFp32Contents(i)
                  .addFp32Contents(-i))).build()));
    }
    for (int i = 0; i < 64; i++) {
      ModelInferResponse r = com.google.common.util.concurrent.Futures.getUnchecked(sent.get(i));
      assertThat(r.getId()).isEqualTo("row-" + i);
      assertThat(r.getOutputs(0).getShapeList()).containsExactly(1L, 2L);
      assertThat(r.getOutputs(0).getContents().getFp32ContentsList())
          .containsExactly((float) i, (float) -i);
    }
    DistributionSummary batches = meters.find("modserv.batch.size").tag("model", "rows")
        .summary();
    assertThat(batches).isNotNull();
    assertThat(batches.max()).as("the largest batch").isGreaterThan(1);
    assertThat(batches.count()).as("batches for 64 calls").isLessThan(64);
  }

  // ---- the repository extension ----

  @Test
  void repositoryIndexLoadAndUnload() {
    var stub = stub("unix");
    var index = stub.repositoryIndex(RepositoryIndexRequest.getDefaultInstance());
    assertThat(index.getModelsList()).anySatisfy(m -> {
      assertThat(m.getName()).isEqualTo("contents");
      assertThat(m.getVersion()).isEqualTo("1");
      assertThat(m.getState()).isEqualTo("READY");
    });
    assertStatus(failure(() -> stub.modelReady(ModelReadyRequest.newBuilder().setName("later")
        .build())), Status.Code.NOT_FOUND, "MODEL_NOT_FOUND");
    assertStatus(failure(() -> stub.repositoryModelLoad(RepositoryModelLoadRequest.newBuilder()
        .setModelName("later").putParameters("version", ModelRepositoryParameter.newBuilder()
            .setInt64Param(3).build()).build())), Status.Code.NOT_FOUND, "VERSION_NOT_FOUND",
        "[1]");
    assertStatus(failure(() -> stub.repositoryModelLoad(RepositoryModelLoadRequest.newBuilder()
        .setModelName("later").putParameters("config", ModelRepositoryParameter.newBuilder()
            .setStringParam("{}").build()).build())), Status.Code.INVALID_ARGUMENT,
        "INVALID_INPUT", "parameters.config");
    assertStatus(failure(() -> stub.repositoryModelLoad(RepositoryModelLoadRequest.newBuilder()
        .setModelName("..").build())), Status.Code.INVALID_ARGUMENT, "INVALID_INPUT",
        "model_name");
    assertStatus(failure(() -> stub.repositoryModelLoad(RepositoryModelLoadRequest.newBuilder()
        .setModelName("absent").build())), Status.Code.NOT_FOUND, "MODEL_NOT_FOUND");

    stub.repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("later")
        .build());
    assertThat(stub.modelReady(ModelReadyRequest.newBuilder().setName("later").build())
        .getReady()).isTrue();
    assertThat(stub.repositoryIndex(RepositoryIndexRequest.newBuilder().setReady(true).build())
        .getModelsList()).anySatisfy(m -> assertThat(m.getName()).isEqualTo("later"));
    var ids = stub.modelInfer(ModelInferRequest.newBuilder().setModelName("later")
        .addInputs(input(DataType.INT64).setShape(0, 1).setContents(InferTensorContents
            .newBuilder().addInt64Contents(4).addInt64Contents(5))).build());
    assertThat(ids.getOutputs(0).getContents().getInt64ContentsList()).containsExactly(4L, 5L);

    stub.repositoryModelUnload(RepositoryModelUnloadRequest.newBuilder().setModelName("later")
        .build());
    assertThat(server.registry().versions("later")).isEmpty();
    assertStatus(failure(() -> stub.repositoryModelUnload(RepositoryModelUnloadRequest
        .newBuilder().setModelName("later").build())), Status.Code.NOT_FOUND, "MODEL_NOT_FOUND");
  }

  @Test
  void aVersionFolderHoldingALinkOutOfTheRootIsRefused() throws Exception {
    Path outside = Files.writeString(tmp.resolve("secret.bin"), "not for the server");
    Path dir = model("leaky", List.of(DataType.FP32)).getParent();
    Files.createSymbolicLink(dir.resolve("extra.bin"), outside);
    assertStatus(failure(() -> stub("tcp").repositoryModelLoad(RepositoryModelLoadRequest
        .newBuilder().setModelName("leaky").build())), Status.Code.INVALID_ARGUMENT,
        "INVALID_INPUT", "resolves outside the model root");
    assertThat(server.registry().versions("leaky")).isEmpty();
  }

  // ---- health, auth, drain: adapters of their own ----

  @Test
  void healthServiceAnswersForTheServerAndEachModel() {
    var health = HealthGrpc.newBlockingStub(unix);
    assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
        .isEqualTo(ServingStatus.SERVING);
    assertThat(health.check(HealthCheckRequest.newBuilder()
        .setService("inference.GRPCInferenceService").build()).getStatus())
        .isEqualTo(ServingStatus.SERVING);
    assertThat(health.check(HealthCheckRequest.newBuilder().setService("rows").build())
        .getStatus()).isEqualTo(ServingStatus.SERVING);
    assertThat(failure(() -> health.check(HealthCheckRequest.newBuilder().setService("nope")
        .build())).getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
  }

  @Test
  void readinessFollowsTheHttpRuleLazyModelsServeAndFailedOnesAreStrict() throws Exception {
    Path lazy = model("lazy", List.of(DataType.FP32));
    server.registry().register("lazy", 1, lazy);
    Path broken = Files.createDirectories(tmp.resolve("broken")).resolve("model.onnx");
    Files.writeString(broken, "not an onnx model");
    assertThat(server.registry().load("broken", 1, broken)).failsWithin(Duration.ofSeconds(30));
    for (boolean strict : new boolean[] {true, false}) {
      try (GrpcAdapter a = GrpcAdapter.builder(server).port(0).requireModel("lazy")
          .requireModel("broken").strictReadiness(strict).build()) {
        a.start();
        ManagedChannel ch = channel("127.0.0.1:" + a.port());
        try {
          // Registered to load on its first request: it can be served, as over HTTP.
          assertThat(HealthGrpc.newBlockingStub(ch).check(HealthCheckRequest.newBuilder()
              .setService("lazy").build()).getStatus()).isEqualTo(ServingStatus.SERVING);
          assertThat(GRPCInferenceServiceGrpc.newBlockingStub(ch)
              .serverReady(ServerReadyRequest.getDefaultInstance()).getReady())
              .as("strict=%s", strict).isEqualTo(!strict);
        } finally {
          ch.shutdownNow();
        }
      }
    }
  }

  @Test
  void withNoKeyTheRepositoryAnswersOnlyClientsOnThisMachine() throws Exception {
    java.net.InetAddress external = null;
    for (var nic : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
      for (var address : java.util.Collections.list(nic.getInetAddresses())) {
        if (!address.isLoopbackAddress() && address instanceof java.net.Inet4Address) {
          external = address;
        }
      }
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(external != null, "no non-loopback address");
    try (GrpcAdapter open = GrpcAdapter.builder(server).port(0).host("0.0.0.0").management(root)
        .build()) {
      open.start();
      ManagedChannel remote = channel(external.getHostAddress() + ":" + open.port());
      ManagedChannel local = channel("127.0.0.1:" + open.port());
      try {
        var fromAfar = GRPCInferenceServiceGrpc.newBlockingStub(remote);
        assertThat(failure(() -> fromAfar.repositoryIndex(RepositoryIndexRequest
            .getDefaultInstance())).getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(failure(() -> fromAfar.repositoryModelUnload(RepositoryModelUnloadRequest
            .newBuilder().setModelName("contents").build())).getStatus().getCode())
            .isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(server.registry().versions("contents")).isNotEmpty();
        // Inference stays open to everyone; the repository to clients on this machine.
        assertThat(fromAfar.serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
        assertThat(GRPCInferenceServiceGrpc.newBlockingStub(local).repositoryIndex(
            RepositoryIndexRequest.getDefaultInstance()).getModelsList()).isNotEmpty();
      } finally {
        remote.shutdownNow();
        local.shutdownNow();
      }
    }
  }

  @Test
  void aRequiredModelNotReadyMakesTheServerNotReady() throws Exception {
    try (GrpcAdapter waiting = GrpcAdapter.builder(server).port(0).requireModel("absent")
        .build()) {
      waiting.start();
      ManagedChannel ch = channel("127.0.0.1:" + waiting.port());
      try {
        assertThat(GRPCInferenceServiceGrpc.newBlockingStub(ch)
            .serverReady(ServerReadyRequest.getDefaultInstance()).getReady()).isFalse();
        assertThat(HealthGrpc.newBlockingStub(ch).check(HealthCheckRequest.getDefaultInstance())
            .getStatus()).isEqualTo(ServingStatus.NOT_SERVING);
        // No model root: the repository extension is off.
        assertThat(failure(() -> GRPCInferenceServiceGrpc.newBlockingStub(ch)
            .repositoryIndex(RepositoryIndexRequest.getDefaultInstance())).getStatus().getCode())
            .isEqualTo(Status.Code.UNIMPLEMENTED);
      } finally {
        ch.shutdownNow();
      }
    }
  }

  @Test
  void theApiKeyIsRequiredAsBearerMetadataExceptOnProbes() throws Exception {
    try (GrpcAdapter keyed = GrpcAdapter.builder(server).port(0).apiKey("s3cret").build()) {
      keyed.start();
      ManagedChannel ch = channel("127.0.0.1:" + keyed.port());
      try {
        Function<String, GRPCInferenceServiceBlockingStub> with = value -> {
          Metadata m = new Metadata();
          m.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), value);
          return GRPCInferenceServiceGrpc.newBlockingStub(ch)
              .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(m));
        };
        var bare = GRPCInferenceServiceGrpc.newBlockingStub(ch);
        var request = ModelMetadataRequest.newBuilder().setName("rows").build();
        assertStatus(failure(() -> bare.modelMetadata(request)), Status.Code.UNAUTHENTICATED,
            "UNAUTHORIZED", "authorization");
        assertStatus(failure(() -> with.apply("Bearer wrong").modelMetadata(request)),
            Status.Code.UNAUTHENTICATED, "UNAUTHORIZED", "wrong API key");
        assertThat(with.apply("Bearer s3cret").modelMetadata(request).getName())
            .isEqualTo("rows");
        assertThat(bare.serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
        assertThat(bare.serverReady(ServerReadyRequest.getDefaultInstance()).getReady())
            .isTrue();
        assertThat(HealthGrpc.newBlockingStub(ch).check(HealthCheckRequest.getDefaultInstance())
            .getStatus()).isEqualTo(ServingStatus.SERVING);
      } finally {
        ch.shutdownNow();
      }
    }
  }

  @Test
  void closeLetsCallsInFlightFinishAndRefusesNewOnes() throws Exception {
    Path sock = tmp.resolve("drain.sock");
    GrpcAdapter draining = GrpcAdapter.builder(server).port(0).unixSocket(sock)
        .gracePeriod(Duration.ofSeconds(10)).build();
    draining.start();
    ManagedChannel ch = channel("unix://" + sock.toAbsolutePath());
    try {
      var inFlight = GRPCInferenceServiceGrpc.newFutureStub(ch).modelInfer(slowCall().build());
      // The call is queued for the slow model's 400 ms window when close begins.
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (server.registry().versions("slow").get(0).queuedRequests() == 0
          && System.nanoTime() < until) {
        Thread.sleep(5);
      }
      draining.close();
      assertThat(inFlight.get(5, TimeUnit.SECONDS).getOutputs(0).getContents()
          .getFp32ContentsList()).containsExactly(1f, 2f);
      assertThat(failure(() -> GRPCInferenceServiceGrpc.newBlockingStub(ch)
          .withDeadlineAfter(5, TimeUnit.SECONDS)
          .serverLive(ServerLiveRequest.getDefaultInstance())).getStatus().getCode())
          .isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(sock).doesNotExist();
    } finally {
      ch.shutdownNow();
      draining.close();
    }
  }

  @Test
  void aPathHoldingAFileIsNotTakenForASocket() throws Exception {
    Path file = Files.writeString(tmp.resolve("not-a-socket"), "data");
    GrpcAdapter a = GrpcAdapter.builder(server).port(0).unixSocket(file).build();
    assertThatThrownBy(a::start).hasMessageContaining("is not a socket");
    a.close();
    assertThat(Files.readString(file)).isEqualTo("data");
  }
}
