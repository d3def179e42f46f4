package dev.modserv.server.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.google.protobuf.ByteString;
import dev.modserv.grpc.internal.proto.GRPCInferenceServiceGrpc;
import dev.modserv.grpc.internal.proto.InferTensorContents;
import dev.modserv.grpc.internal.proto.ModelInferRequest;
import dev.modserv.grpc.internal.proto.ModelInferResponse;
import dev.modserv.grpc.internal.proto.ServerReadyRequest;
import dev.modserv.onnx.AllMiniLmL6V2;
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
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code modserv serve --grpc-port 0 --grpc-socket PATH} on the default MiniLM: BYTES text in,
 * the FP32 embedding out, equal to {@code ModelServer.embed}, over TCP and the Unix socket, with
 * the HTTP side's API key; the health service; both sides stop together.
 */
class GrpcServeTest {
  @TempDir Path tmp;

  private static final List<String> TEXTS = List.of("hello world", "gRPC carries the same model");

  @Test
  void servesTheDefaultModelOverGrpcWithTheApiKey() throws Exception {
    Path key = Files.writeString(tmp.resolve("key"), "k3y\n");
    Path socket = tmp.resolve("grpc.sock");
    ServeCommand cmd = new ServeCommand(s -> { });
    Map<String, String> env = Map.of("XDG_CACHE_HOME", tmp.resolve("cache").toString());
    ServeCommand.commandLine(cmd, env).parseArgs("--host", "127.0.0.1", "--port", "0",
        "--grpc-port", "0", "--grpc-socket", socket.toString(), "--api-key-file",
        key.toString());
    ServeOptions options = cmd.options(env);
    assertThat(options.grpc()).isEqualTo(new ServeOptions.Grpc(0, socket));

    StandaloneServer server = StandaloneServer.start(options);
    ManagedChannel tcp = Grpc.newChannelBuilder("127.0.0.1:" + server.grpc().port(),
        InsecureChannelCredentials.create()).build();
    ManagedChannel unix = Grpc.newChannelBuilder("unix://" + socket.toAbsolutePath(),
        InsecureChannelCredentials.create()).build();
    try {
      float[][] expected = server.modelServer().embed(AllMiniLmL6V2.NAME, TEXTS);
      Metadata auth = new Metadata();
      auth.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer k3y");
      for (ManagedChannel ch : List.of(tcp, unix)) {
        var stub = GRPCInferenceServiceGrpc.newBlockingStub(ch)
            .withDeadlineAfter(30, TimeUnit.SECONDS);
        assertThat(stub.serverReady(ServerReadyRequest.getDefaultInstance()).getReady())
            .isTrue();
        assertThat(HealthGrpc.newBlockingStub(ch).check(HealthCheckRequest.getDefaultInstance())
            .getStatus()).isEqualTo(ServingStatus.SERVING);
        assertThatThrownBy(() -> stub.modelInfer(contents().build()))
            .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(
                e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));

        var keyed = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(auth));
        ModelInferResponse typed = keyed.modelInfer(contents().build());
        assertThat(typed.getOutputs(0).getName()).isEqualTo("embedding");
        assertThat(typed.getOutputs(0).getDatatype()).isEqualTo("FP32");
        assertThat(typed.getOutputs(0).getShapeList()).containsExactly(2L, 384L);
        assertEmbeddings(typed.getOutputs(0).getContents().getFp32ContentsList(), expected);

        ModelInferResponse raw = keyed.modelInfer(rawBytes().build());
        assertThat(raw.getOutputs(0).getShapeList()).containsExactly(2L, 384L);
        var floats = raw.getRawOutputContents(0).asReadOnlyByteBuffer()
            .order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        float[] got = new float[floats.remaining()];
        floats.get(got);
        assertEmbeddings(toList(got), expected);
      }
    } finally {
      server.close();
      tcp.shutdownNow();
      unix.shutdownNow();
    }
    assertThat(socket).doesNotExist();
  }

  private static List<Float> toList(float[] a) {
    Float[] boxed = new Float[a.length];
    for (int i = 0; i < a.length; i++) {
      boxed[i] = a[i];
    }
    return List.of(boxed);
  }

  private static void assertEmbeddings(List<Float> flat, float[][] expected) {
    assertThat(flat).hasSize(expected.length * expected[0].length);
    for (int r = 0; r < expected.length; r++) {
      for (int c = 0; c < expected[r].length; c++) {
        // The documented tolerance of a vector across batches (docs/embedding-cache.md).
        assertThat(flat.get(r * expected[r].length + c)).isCloseTo(expected[r][c], within(1e-5f));
      }
    }
  }

  private static ModelInferRequest.InferInputTensor.Builder text() {
    return ModelInferRequest.InferInputTensor.newBuilder().setName("text").setDatatype("BYTES")
        .addShape(TEXTS.size());
  }

  private static ModelInferRequest.Builder contents() {
    var c = InferTensorContents.newBuilder();
    TEXTS.forEach(t -> c.addBytesContents(ByteString.copyFromUtf8(t)));
    return ModelInferRequest.newBuilder().setModelName(AllMiniLmL6V2.NAME)
        .addInputs(text().setContents(c));
  }

  private static ModelInferRequest.Builder rawBytes() {
    ByteString.Output out = ByteString.newOutput();
    for (String t : TEXTS) {
      byte[] b = t.getBytes(StandardCharsets.UTF_8);
      out.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array(),
          0, 4);
      out.write(b, 0, b.length);
    }
    return ModelInferRequest.newBuilder().setModelName(AllMiniLmL6V2.NAME).addInputs(text())
        .addRawInputContents(out.toByteString());
  }
}
