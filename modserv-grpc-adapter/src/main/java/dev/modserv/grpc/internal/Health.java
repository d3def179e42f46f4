package dev.modserv.grpc.internal;

import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;

/**
 * The standard {@code grpc.health.v1.Health} service, for Kubernetes gRPC probes and load
 * balancers. Service {@code ""} and {@code inference.GRPCInferenceService} are SERVING when the
 * server is ready (as {@code ServerReady}); a model's name is SERVING when it can take a request
 * now (a READY version with queue room, or one that loads on demand); any other name is
 * NOT_FOUND. Each check is answered from the state of that moment, so {@code
 * Watch} (a stream of changes) is not offered: it answers UNIMPLEMENTED, which the protocol's
 * clients take as "use Check".
 */
public final class Health extends HealthGrpc.HealthImplBase {
  /** The service name of the inference service. */
  public static final String INFERENCE_SERVICE = "inference.GRPCInferenceService";

  private final Settings settings;

  /** Answers for {@code settings}' server. */
  public Health(Settings settings) {
    this.settings = settings;
  }

  @Override
  public void check(HealthCheckRequest request, StreamObserver<HealthCheckResponse> answer) {
    String service = request.getService();
    boolean serving;
    if (service.isEmpty() || service.equals(INFERENCE_SERVICE)) {
      serving = settings.ready();
    } else if (!settings.server().registry().versions(service).isEmpty()
        || settings.server().registry().registered().stream()
            .anyMatch(s -> s.name().equals(service))) {
      serving = settings.accepting().get() && settings.readiness().canServe(service);
    } else {
      answer.onError(Status.NOT_FOUND.withDescription("no service or model of that name")
          .asRuntimeException());
      return;
    }
    answer.onNext(HealthCheckResponse.newBuilder()
        .setStatus(serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING).build());
    answer.onCompleted();
  }
}
