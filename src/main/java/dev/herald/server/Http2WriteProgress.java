package dev.herald.server;

import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2RemoteFlowController;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.StreamByteDistributor;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Ticker;

/**
 * Netty's stream byte distributor, noting when the HTTP/2 flow controller last handed DATA of each stream to the
 * connection: the progress {@code send-timeout} looks for on a stream whose data waits for the client's
 * flow-control window ({@link Http2StreamHandler#checkSend}). Part of a frame counts, so a client that opens its
 * window a little at a time, and takes what that lets through, progresses with each WINDOW_UPDATE. The DATA of
 * long-running responses that {@link Http2DataWriter} appends directly is not seen here: it goes only when the
 * windows have room, so it never waits for them.
 *
 * <p>Event-loop confined, like the flow controller that calls it.
 */
final class Http2WriteProgress extends ForwardingDistributor {
    private static final AttributeKey<Http2WriteProgress> KEY =
            AttributeKey.valueOf(Http2WriteProgress.class, "progress");

    private final Http2Connection connection;
    private final Http2Connection.PropertyKey lastWrite;
    private final Ticker ticker;
    private final NotingWriter noting = new NotingWriter();
    /** When DATA of any stream last went to the connection ({@link Ticker#nanoTime()}). */
    private long lastAnyWrite = Long.MIN_VALUE;

    private Http2WriteProgress(StreamByteDistributor delegate, Http2Connection connection, Ticker ticker) {
        super(delegate);
        this.connection = connection;
        this.lastWrite = connection.newKey();
        this.ticker = ticker;
    }

    /** Wraps {@code delegate}, the distributor of {@code ch}'s HTTP/2 {@code connection}, and keeps it on {@code ch}. */
    static Http2WriteProgress attach(Channel ch, Http2Connection connection, StreamByteDistributor delegate) {
        Http2WriteProgress p = new Http2WriteProgress(delegate, connection, ch.eventLoop().ticker());
        ch.attr(KEY).set(p);
        return p;
    }

    /** The progress of {@code connection}'s streams, or null if it has none (not an HTTP/2 connection of Herald's). */
    static Http2WriteProgress of(Channel connection) {
        return connection.hasAttr(KEY) ? connection.attr(KEY).get() : null;
    }

    /** When DATA of stream {@code id} last went to the connection ({@link Ticker#nanoTime()}), or Long.MIN_VALUE. */
    long lastWrite(int id) {
        Http2Stream s = connection.stream(id);
        Stamp t = s == null ? null : s.getProperty(lastWrite);
        return t == null ? Long.MIN_VALUE : t.nanos;
    }

    /** Whether stream {@code id} has frames waiting in the flow controller. */
    boolean queued(int id) {
        Http2Stream s = connection.stream(id);
        return s != null && connection.remote().flowController().hasFlowControlled(s);
    }

    /**
     * Whether the client's flow-control window holds stream {@code id}: its own window is used up, or the
     * connection's is and no stream's DATA went out since {@code sinceNanos} (a client that keeps opening the
     * connection window a little, which other streams ahead of this one take, is reading: not this stream's staller).
     */
    boolean windowShut(int id, long sinceNanos) {
        Http2Stream s = connection.stream(id);
        Http2RemoteFlowController flow = connection.remote().flowController();
        return s != null && (flow.windowSize(s) <= 0
                || flow.windowSize(connection.connectionStream()) <= 0
                        && (lastAnyWrite == Long.MIN_VALUE || lastAnyWrite - sinceNanos <= 0));
    }

    @Override
    public boolean distribute(int maxBytes, Writer writer) throws Http2Exception {
        noting.target = writer;
        return delegate.distribute(maxBytes, noting);
    }

    /** The flow controller's writer, stamping each stream it writes bytes of. */
    private final class NotingWriter implements Writer {
        Writer target;

        @Override
        public void write(Http2Stream stream, int numBytes) {
            if (numBytes > 0) {
                Stamp t = stream.getProperty(lastWrite);
                if (t == null) {
                    t = new Stamp();
                    stream.setProperty(lastWrite, t);
                }
                t.nanos = ticker.nanoTime();
                lastAnyWrite = t.nanos;
            }
            target.write(stream, numBytes);
        }
    }

    /** A stream's last write; one per stream whose DATA went through the flow controller. */
    private static final class Stamp {
        long nanos;
    }
}
