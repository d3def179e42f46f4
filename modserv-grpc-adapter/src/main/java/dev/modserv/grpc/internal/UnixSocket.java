package dev.modserv.grpc.internal;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;

/**
 * The gRPC server on a Unix domain socket, on the native epoll transport that grpc-netty-shaded
 * carries (Linux x86-64 and aarch64). A socket file left by a server that is gone is replaced; a
 * path holding anything else, or a socket some server still answers on, is refused. The file is
 * removed on close.
 */
public final class UnixSocket {
  private final Path path;
  private @Nullable EventLoopGroup loops;
  private boolean bound;

  /** A socket at {@code path}. */
  public UnixSocket(Path path) {
    this.path = path.toAbsolutePath();
  }

  /** Returns the socket's path. */
  public Path path() {
    return path;
  }

  /** Clears a stale socket file, then starts a server {@code configure} completes. */
  public Server start(UnaryOperator<NettyServerBuilder> configure) throws IOException {
    if (!Epoll.isAvailable()) {
      throw new IOException("Unix domain sockets need the native epoll transport (Linux), which"
          + " is not available here: " + Epoll.unavailabilityCause());
    }
    clearStale();
    EventLoopGroup group = new EpollEventLoopGroup(Runtime.getRuntime().availableProcessors());
    loops = group;
    Server server = configure.apply(NettyServerBuilder.forAddress(
            new DomainSocketAddress(path.toString()))
        .channelType(EpollServerDomainSocketChannel.class)
        .bossEventLoopGroup(group).workerEventLoopGroup(group))
        .build();
    server.start();
    bound = true;
    return server;
  }

  private void clearStale() throws IOException {
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if (Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS) || Files.isDirectory(path,
        LinkOption.NOFOLLOW_LINKS) || Files.isSymbolicLink(path)) {
      throw new IOException(path + " exists and is not a socket; remove it or pick another path");
    }
    try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      probe.connect(UnixDomainSocketAddress.of(path));
      throw new IOException("another server answers on " + path);
    } catch (IOException refused) {
      if (refused.getMessage() != null && refused.getMessage().startsWith("another server")) {
        throw refused;
      }
    }
    Files.deleteIfExists(path);
  }

  /** Stops the event loops and removes the socket file, once the server has stopped. */
  public void release() {
    EventLoopGroup group = loops;
    if (group != null) {
      group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
    }
    if (bound) {
      try {
        Files.deleteIfExists(path);
      } catch (IOException e) {
        // Nothing to do: a later start replaces a stale file.
      }
    }
  }
}
