package dev.herald.server;

import java.util.concurrent.Executor;

/**
 * One request and the means to answer it. Every method may be called from any thread; the work hops to the
 * connection's event loop.
 */
public interface Exchange {
    Request request();

    /** Sends the whole response. Only the first call has an effect. */
    void respond(Response response);

    /**
     * Starts a long-running response: the status and headers go out now and the body follows through the
     * returned stream until {@link ResponseStream#end()} or a reset. Counts as this exchange's response.
     */
    ResponseStream stream(int status, Headers headers);

    /** The event loop that owns this exchange, for handlers that want to continue there. */
    Executor eventLoop();

    /** Whether the stream or connection is still open (false after a reset or disconnect). */
    boolean isOpen();
}
