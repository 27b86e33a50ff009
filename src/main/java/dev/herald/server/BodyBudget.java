package dev.herald.server;

import dev.herald.config.HeraldConfig;
import io.netty.channel.Channel;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The request body bytes that the streams of one HTTP/2 connection hold while their requests are incomplete (a body
 * is handed to the application only whole), counted against {@code http2.max-buffered-body-per-connection} and,
 * with every other connection's, against {@code http2.max-buffered-body}. A stream whose next DATA frame would go
 * beyond either is answered 503 by its handler and its body dropped; the connection's other streams go on.
 *
 * <p>Why a count and not flow control: {@code Http2MultiplexHandler} returns a DATA frame's bytes to the stream's and
 * the connection's receive windows as soon as the stream channel has read it, so the connection window bounds
 * nothing that is buffered. Holding those WINDOW_UPDATEs back until a request is dispatched
 * ({@code AUTO_STREAM_FLOW_CONTROL} off) cannot replace the count: Netty returns a stream's bytes to both windows
 * at once ({@code consumeBytes}), so a body over the stream window (when {@code max-request-body} is larger) would
 * wait forever; and since a request waits for its whole body, uploads that together fill the connection window
 * would all wait for bytes their client may no longer send, until {@code idle-timeout}. Refusing one stream lets
 * the others finish.
 *
 * <p>Used on the connection's event loop only (its stream channels share it); the server-wide count is shared.
 */
final class BodyBudget {
    static final String PER_CONNECTION = "http2.max-buffered-body-per-connection";
    static final String TOTAL = "http2.max-buffered-body";

    private final AtomicLong total;
    private final long connectionLimit;
    private final long totalLimit;
    private long held;
    private boolean closed;

    private BodyBudget(ServerContext server) {
        this.total = server.metrics.bufferedRequestBodies;
        this.connectionLimit = perConnectionLimit(server.config);
        this.totalLimit = totalLimit(server.config);
    }

    /**
     * The budget of {@code connection}. When it closes, what its streams still hold leaves the server-wide count at
     * once, whether or not each stream channel is told it closed.
     */
    static BodyBudget of(ServerContext server, Channel connection) {
        BodyBudget budget = new BodyBudget(server);
        connection.closeFuture().addListener(f -> budget.connectionClosed());
        return budget;
    }

    /** {@code http2.max-buffered-body-per-connection}, {@code auto} resolved: four times {@code max-request-body}. */
    static long perConnectionLimit(HeraldConfig c) {
        long v = c.maxBufferedBodyPerConnection();
        return v == HeraldConfig.SIZE_AUTO ? 4L * c.maxRequestBody() : v;
    }

    /**
     * {@code http2.max-buffered-body}, {@code auto} resolved: a quarter of the JVM's maximum memory, which is also
     * Netty's default limit on direct memory, where the bodies are; at least {@code max-request-body}.
     */
    static long totalLimit(HeraldConfig c) {
        long v = c.maxBufferedBody();
        return v == HeraldConfig.SIZE_AUTO ? Math.max(Runtime.getRuntime().maxMemory() / 4, c.maxRequestBody()) : v;
    }

    /**
     * Counts {@code n} more bytes for a stream of this connection if they fit; if not, counts nothing and returns
     * the name of the limit they would exceed.
     */
    String take(int n) {
        if (closed || held + n > connectionLimit) {
            return PER_CONNECTION;
        }
        if (total.addAndGet(n) > totalLimit) {
            total.addAndGet(-n);
            return TOTAL;
        }
        held += n;
        return null;
    }

    /** Uncounts {@code n} bytes taken earlier: the body was dispatched or dropped. */
    void giveBack(long n) {
        held -= n;
        if (!closed) {
            total.addAndGet(-n);
        }
    }

    long limit(String name) {
        return PER_CONNECTION.equals(name) ? connectionLimit : totalLimit;
    }

    private void connectionClosed() {
        if (!closed) {
            closed = true;
            total.addAndGet(-held);
        }
    }
}
