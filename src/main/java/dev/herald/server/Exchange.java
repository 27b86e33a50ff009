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

    /** The event loop that owns this exchange, for handlers that want to continue there. */
    Executor eventLoop();

    /** Whether the stream or connection is still open (false after a reset or disconnect). */
    boolean isOpen();
}
