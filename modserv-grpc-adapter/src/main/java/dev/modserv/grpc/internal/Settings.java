package dev.modserv.grpc.internal;

import dev.modserv.core.ModelServer;
import dev.modserv.core.ModelState;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * What the services need, fixed when the adapter is built.
 *
 * @param server the model server every call goes to
 * @param modelRoot the real path of the model root the repository RPCs load from; null turns them
 *     off (they answer UNIMPLEMENTED, as on a server without the extension)
 * @param requiredModels models that must have a READY version with queue room for readiness
 * @param accepting false once shutdown began: readiness and health answer not serving
 * @param version modserv's version, for server metadata
 */
public record Settings(ModelServer server, @Nullable Path modelRoot, List<String> requiredModels,
    AtomicBoolean accepting, String version) {

  /** Copies the list. */
  public Settings {
    requiredModels = List.copyOf(requiredModels);
  }

  /** Whether the adapter accepts calls and every required model can serve one now. */
  public boolean ready() {
    if (!accepting.get()) {
      return false;
    }
    for (String name : requiredModels) {
      boolean ready = server.registry().versions(name).stream()
          .anyMatch(s -> s.state() == ModelState.READY && !s.queueFull());
      if (!ready) {
        return false;
      }
    }
    return true;
  }
}
