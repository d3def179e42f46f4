package dev.modserv.http.internal;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnixDomainSocketAddress;
import java.util.Locale;
import java.util.Set;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.jspecify.annotations.Nullable;

/**
 * The checks a request passes before its route runs, so that a web page cannot drive the server
 * from a browser ({@code docs/operations.md}, "Cross-site requests"): a state-changing request
 * from a foreign {@code Origin} is refused, a JSON body must say it is JSON, and the management
 * routes without an API key answer local clients only.
 */
final class RequestChecks {
  /** The header of the Open Inference Protocol's binary tensors: those bodies are not JSON. */
  static final String BINARY_TENSORS = "Inference-Header-Content-Length";

  private RequestChecks() {}

  /** Whether {@code method} changes state (browsers send these cross-site without asking). */
  static boolean changesState(String method) {
    return switch (method) {
      case "POST", "PUT", "DELETE", "PATCH" -> true;
      default -> false;
    };
  }

  /**
   * Refuses a browser's request from an origin that is neither this server's (the {@code Host}
   * it was sent to) nor one of {@code allowed} ({@code *} allows any). No {@code Origin} header:
   * not a browser, allowed.
   */
  static void origin(Request request, Set<String> allowed) {
    String origin = request.getHeaders().get(HttpHeader.ORIGIN);
    if (origin == null || allowed.contains("*") || allowed.contains(origin)
        || sameOrigin(origin, request.getHeaders().get(HttpHeader.HOST))) {
      return;
    }
    throw new HttpError(403, "a web page from another origin may not call " + request.getMethod()
        + " routes; allow its origin with --cors-origins (HttpAdapter.Builder.corsOrigins)");
  }

  /** Whether {@code origin} names {@code host} (its port too, when {@code host} has one). */
  static boolean sameOrigin(String origin, String host) {
    if (host == null || host.isEmpty()) {
      return false;
    }
    URI uri;
    try {
      uri = new URI(origin);
    } catch (URISyntaxException e) {
      return false;
    }
    String scheme = uri.getScheme();
    String originHost = uri.getHost();
    if (scheme == null || originHost == null) {
      return false; // "null" (a sandboxed page or a file) and anything malformed
    }
    int originPort = uri.getPort() >= 0 ? uri.getPort()
        : scheme.equalsIgnoreCase("https") ? 443 : 80;
    URI target;
    try {
      target = new URI("http://" + host);
    } catch (URISyntaxException e) {
      return false;
    }
    if (target.getHost() == null || !target.getHost().equalsIgnoreCase(originHost)) {
      return false;
    }
    // Behind a proxy the Host often has no port while the page's origin has the proxy's.
    return target.getPort() < 0 || target.getPort() == originPort;
  }

  /**
   * Requires a JSON {@code Content-Type} ({@code application/json} or {@code ...+json}, any
   * parameters) on a route that takes a JSON body. None at all is allowed (programmatic clients;
   * a browser always names one), as are the Open Inference Protocol's binary tensors.
   */
  static void jsonBody(Request request) {
    jsonBody(request.getHeaders().get(HttpHeader.CONTENT_TYPE),
        request.getHeaders().contains(BINARY_TENSORS));
  }

  /** {@link #jsonBody(Request)} on a {@code Content-Type} (null: none). */
  static void jsonBody(@Nullable String type, boolean binaryTensors) {
    if (type == null || binaryTensors) {
      return;
    }
    int semicolon = type.indexOf(';');
    String mime = (semicolon < 0 ? type : type.substring(0, semicolon)).strip()
        .toLowerCase(Locale.ROOT);
    if (mime.equals("application/json") || mime.startsWith("application/") && mime.endsWith("+json")) {
      return;
    }
    throw new HttpError(415, "the body must be JSON with Content-Type: application/json"
        + (mime.length() <= 64 && mime.chars().allMatch(c -> c > 0x20 && c < 0x7f)
            ? ", not " + mime : "") + " (with curl: -H 'Content-Type: application/json')");
  }

  /**
   * Whether the client is on this machine and calls it by a local name: the Unix domain socket,
   * or a loopback address with a {@code Host} that is a loopback name or address. The name
   * matters because of DNS rebinding: a web page whose own host name has come to resolve to
   * 127.0.0.1 reaches us from loopback, same-origin, with its own name in {@code Host}.
   */
  static boolean local(Request request) {
    SocketAddress remote = request.getConnectionMetaData().getRemoteSocketAddress();
    if (remote instanceof InetSocketAddress inet) {
      InetAddress address = inet.getAddress();
      return address != null && address.isLoopbackAddress()
          && loopbackName(request.getHeaders().get(HttpHeader.HOST));
    }
    return remote == null || remote instanceof UnixDomainSocketAddress;
  }

  /** Whether {@code host} (a Host header, maybe with a port; null or empty: none) is local. */
  static boolean loopbackName(@Nullable String host) {
    if (host == null || host.isEmpty()) {
      return true; // HTTP/1.0 clients send none; a browser always does
    }
    String name;
    if (host.startsWith("[")) {
      int end = host.indexOf(']');
      name = end < 0 ? host : host.substring(1, end);
    } else {
      int colon = host.lastIndexOf(':');
      name = colon < 0 ? host : host.substring(0, colon);
    }
    name = name.toLowerCase(Locale.ROOT);
    return name.equals("localhost") || name.equals("::1") || name.equals("0:0:0:0:0:0:0:1")
        || LOOPBACK_V4.matcher(name).matches();
  }

  private static final java.util.regex.Pattern LOOPBACK_V4 =
      java.util.regex.Pattern.compile("127(\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)){3}");
}
