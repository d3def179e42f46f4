package dev.modserv.http.internal;

import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;
import org.jspecify.annotations.Nullable;

/**
 * Answers the errors Jetty answers itself, before a request reaches the router (a bad URI
 * encoding, a URI or headers too large, a failure past the router), in the adapter's {@code
 * {"error": "..."}} shape instead of Jetty's HTML page, so a client parses every error alike.
 */
public final class JsonErrorHandler extends ErrorHandler {

  /** Every method gets a body: Jetty's default leaves all but GET, POST and HEAD with none. */
  @Override
  public boolean errorPageForMethod(String method) {
    return true;
  }

  @Override
  protected void generateResponse(Request request, Response response, int code,
      @Nullable String message, @Nullable Throwable cause, Callback callback) {
    byte[] body = Json.error(describe(code, message));
    // Jetty may close the connection after an error of its own (a URI it refused while parsing
    // leaves the rest of the request unread) without saying so; a client that kept the connection
    // would send its next request into a closed socket. Said here, the client opens a new one.
    response.getHeaders().put(HttpHeader.CONNECTION, "close");
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, Exchange.JSON);
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
    response.write(true, ByteBuffer.wrap(body), callback);
  }

  /** The body of an error answered while the request was still being parsed. */
  @Override
  public ByteBuffer badMessageError(int status, @Nullable String reason,
      HttpFields.Mutable fields) {
    fields.put(HttpHeader.CONTENT_TYPE, Exchange.JSON);
    return ByteBuffer.wrap(Json.error(describe(status, reason)));
  }

  private static String describe(int code, @Nullable String message) {
    String reason = HttpStatus.getMessage(code);
    return message == null || message.isBlank() || message.equals(reason)
        ? reason : reason + ": " + message;
  }
}
