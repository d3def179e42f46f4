package dev.modserv.grpc.internal;

import dev.modserv.core.ModelServer;
import dev.modserv.core.Readiness;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * What the services need, fixed when the adapter is built.
 *
 * @param server the model server every call goes to
 * @param modelRoot the real path of the model root the repository RPCs load from; null turns them
 *     off (they answer UNIMPLEMENTED, as on a server without the extension)
 * @param readiness whether the server's required models can be served (shared rule with HTTP)
 * @param accepting false once shutdown began: readiness and health answer not serving
 * @param version modserv's version, for server metadata
 */
public record Settings(ModelServer server, @Nullable Path modelRoot, Readiness readiness,
    AtomicBoolean accepting, String version) {

  /** Whether the adapter accepts calls and every required model can be served. */
  public boolean ready() {
    return accepting.get() && readiness.ready();
  }
}
