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

    /**
     * The connection's TCP congestion window now, in bytes: what it may have in flight, which push budgets follow
     * ({@code push.max-bytes: auto}). -1 when the transport cannot tell (not Linux epoll), and in the default, for
     * exchanges without a socket (tests' fakes).
     */
    default long congestionWindowBytes() {
        return -1;
    }

    /**
     * Announces the resources this response's page needs, before {@link #respond}: on HTTP/2, when the client
     * allows push, they are promised (PUSH_PROMISE on this stream, ahead of the response HEADERS) and served on
     * the promised streams by the same application handler; whatever is not pushed is sent as
     * {@code 103 Early Hints} with one {@code Link: <path>; rel=preload} line each, and the same lines go on the
     * final response.
     *
     * <p>Nothing is announced for a request that is not GET, that is conditional ({@code If-None-Match},
     * {@code If-Modified-Since}, {@code Range}...: the client holds the page, so it holds its assets), that was
     * itself pushed, or once the response has started. Only the first call has an effect. The default does
     * nothing, for exchanges that cannot announce (tests' fakes).
     *
     * <p>A response's own {@code Link: <...>; rel=preload} headers (set by any handler) are pushed the same way
     * when {@link #respond} sends it, unless marked {@code nopush}; they stay on the response as hints.
     */
    default void preload(java.util.List<Preload> resources) {
        preload(resources, java.util.List.of());
    }

    /**
     * {@link #preload(java.util.List)}, noting the paths left out because the client is known to hold them (its
     * cache digest), for the access log and the {@code x-herald-push} debug header.
     */
    default void preload(java.util.List<Preload> resources, java.util.List<String> heldByClient) {
    }
}
