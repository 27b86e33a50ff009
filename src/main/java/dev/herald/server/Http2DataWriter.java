package dev.herald.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Flags;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameTypes;
import io.netty.handler.codec.http2.Http2RemoteFlowController;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.AttributeKey;
import io.netty.util.collection.IntObjectHashMap;

import java.util.ArrayList;
import java.util.List;

/**
 * The DATA frames of one HTTP/2 connection's long-running responses, gathered into one buffer per burst.
 *
 * <h2>Why</h2>
 * An event fanned out to 10,000 streams is 10,000 DATA frames. Through a stream's child channel each frame costs a
 * pass through two pipelines, a promise with its listeners, an entry in the remote flow controller's queue, a
 * visit of its byte distributor at the next flush, and two outbound-buffer entries (frame header and payload); a
 * profile at 1,000,000 frames/s put 60% of a core there. Here a frame is its 9-byte header (written by Netty's
 * {@link Http2CodecUtil#writeFrameHeader}) and its payload appended to one pooled buffer per connection, written to
 * the frame codec's context once per burst, and flushed once, after the burst.
 *
 * <h2>Flow control stays Netty's</h2>
 * A chunk takes this path only when it fits both the stream's and the connection's send windows as Netty's remote
 * flow controller counts them, and none of the stream's writes through its child channel is still waiting in that
 * controller. Both windows are then charged
 * through the controller itself ({@link Http2RemoteFlowController#incrementWindowSize} with the negative size, as
 * a SETTINGS decrease of the initial window does), so Netty's view of every window stays what the client has
 * granted, and the client's WINDOW_UPDATEs work as always. A stream's window is taken in chunks (see
 * {@link Stream}), the connection's per write. Any other chunk goes the normal way, through the stream's child
 * channel, and queues in the flow controller behind everything written before it.
 *
 * <h2>Order</h2>
 * Bytes appended here reach the codec's context and the socket when the burst ends, or earlier once the buffer
 * holds {@link #WRITE_OUT_BYTES}. Anything else one of these streams writes through its child channel (its end, a
 * reset, a chunk that did not fit) first calls {@link #writePending()}, so the stream's own frames never pass each
 * other.
 * Frames of different streams may interleave in any order, as HTTP/2 allows.
 *
 * <h2>Backpressure</h2>
 * The child channel only sees its own pending bytes, and the frames here never pass through it; so the streams
 * also look at the connection's writability ({@link #isWritable()}), and {@link #writabilityChanged()} wakes every
 * registered stream when the connection can take more. Netty's frame logger does not see these DATA frames.
 *
 * <p>Event-loop confined: created, used and flushed on the connection's event loop.
 */
final class Http2DataWriter implements Runnable {
    private static final AttributeKey<Http2DataWriter> KEY = AttributeKey.valueOf(Http2DataWriter.class, "writer");
    /** Write and flush the gathered frames once they reach this size: one socket write per this many bytes. */
    static final int WRITE_OUT_BYTES = 32 * 1024;
    /** Send window taken from Netty's count at a time, for many small writes; see {@link Stream}. */
    static final int CREDIT_CHUNK = 32 * 1024;
    private static final Http2Flags NO_FLAGS = new Http2Flags();

    private final Channel connection;
    private final ChannelHandlerContext codecCtx;
    private final Http2FrameCodec codec;
    private final Http2Connection http2;
    private final Http2RemoteFlowController flow;
    /** The long-running streams writing through this writer, by stream id. */
    private final IntObjectHashMap<Stream> streams = new IntObjectHashMap<>();
    private ByteBuf pending;
    private boolean flushScheduled;
    /** The connection's writability as of its last writability event (saves three dependent loads per write). */
    private boolean writable;

    private Http2DataWriter(Channel connection, ChannelHandlerContext codecCtx) {
        this.connection = connection;
        this.codecCtx = codecCtx;
        this.codec = (Http2FrameCodec) codecCtx.handler();
        this.http2 = codec.connection();
        this.flow = http2.remote().flowController();
        this.writable = connection.isWritable();
        http2.addListener(new Http2ConnectionAdapter() {
            @Override
            public void onStreamClosed(Http2Stream stream) {
                Stream s = streams.get(stream.id());
                if (s != null) {
                    s.netty = null; // closed (a reset, GOAWAY, the end): nothing more may be sent on it
                }
            }
        });
    }

    /** The writer of {@code connection}, an HTTP/2 connection with Netty's frame codec; created on first use. */
    static Http2DataWriter of(Channel connection) {
        Http2DataWriter w = connection.attr(KEY).get();
        if (w == null) {
            ChannelHandlerContext ctx = connection.pipeline().context(Http2FrameCodec.class);
            if (ctx == null) {
                throw new IllegalStateException(connection + " has no HTTP/2 frame codec");
            }
            w = new Http2DataWriter(connection, ctx);
            connection.attr(KEY).set(w);
        }
        return w;
    }

    /** The writer of {@code connection} if it has one, else null. */
    static Http2DataWriter ifPresent(Channel connection) {
        return connection.attr(KEY).get();
    }

    /** Whether the connection takes more bytes without growing its outbound buffer past the high-water mark. */
    boolean isWritable() {
        return writable;
    }

    /** The connection's writability changed; when writable again, every registered stream may write. */
    void writabilityChanged() {
        writable = connection.isWritable();
        if (!writable || streams.isEmpty()) {
            return;
        }
        for (Stream s : new ArrayList<>(streams.values())) {
            s.writabilityChanged();
        }
    }

    /**
     * The client changed SETTINGS_INITIAL_WINDOW_SIZE, and Netty moved every stream's window by the difference:
     * the windows taken in advance go back first, so that none is spent past what the client now allows.
     */
    void initialWindowChanged() {
        for (Stream s : streams.values()) {
            s.giveBack();
        }
    }

    /**
     * Appends {@code parts} (together {@code size} bytes, more than zero) as DATA frames of {@code s} if they fit
     * its send windows and none of its child-channel writes waits in the flow controller; false (nothing written)
     * when the caller must write them through the child channel instead.
     */
    boolean write(Stream s, List<byte[]> parts, int size) {
        if (s.netty == null || s.queued > 0) {
            return false;
        }
        Http2Stream connectionStream = http2.connectionStream();
        if (flow.windowSize(connectionStream) < size || !s.reserve(size)) {
            return false;
        }
        int maxFrame = codec.encoder().configuration().frameSizePolicy().maxFrameSize();
        int frames = (size + maxFrame - 1) / maxFrame;
        ByteBuf out = buffer(size + frames * Http2CodecUtil.FRAME_HEADER_LENGTH);
        int id = s.id;
        int part = 0;
        int offset = 0;
        for (int left = size; left > 0; ) {
            int len = Math.min(left, maxFrame);
            Http2CodecUtil.writeFrameHeader(out, len, Http2FrameTypes.DATA, NO_FLAGS, id);
            left -= len;
            while (len > 0) {
                byte[] p = parts.get(part);
                int n = Math.min(len, p.length - offset);
                out.writeBytes(p, offset, n);
                len -= n;
                offset += n;
                if (offset == p.length) {
                    part++;
                    offset = 0;
                }
            }
        }
        s.credit -= size;
        charge(connectionStream, size);
        if (pending.readableBytes() >= WRITE_OUT_BYTES) {
            // out now, not at the end of the burst: a burst over the connection's high-water mark would make it
            // unwritable (and wake all of its streams when it drains) while a socket write would take it at once
            writePending();
            connection.flush();
        }
        requestFlush();
        return true;
    }

    /** Takes {@code bytes} off Netty's count of {@code stream}'s send window (negative: gives them back). */
    private void charge(Http2Stream stream, int bytes) {
        try {
            flow.incrementWindowSize(stream, -bytes);
        } catch (Http2Exception e) {
            // only a window growing past 2^31-1 fails, and what is given back was taken before
            throw new IllegalStateException("charging " + bytes + " bytes to stream " + stream.id(), e);
        }
    }

    /**
     * A long-running response on one HTTP/2 stream of this connection, whose chunks the writer appends directly
     * when they fit. Its send window is taken from Netty's count in chunks of up to {@link #CREDIT_CHUNK} bytes
     * ({@code credit}), so that a small write touches neither the flow controller nor its byte distributor; what is
     * left is given back before anything of the stream goes through Netty again. One object with the response
     * stream itself: a write then touches it, the writer and the buffer, not three more objects per stream.
     */
    abstract static class Stream extends AbstractResponseStream {
        final Http2DataWriter writer;
        final int id;
        /** Netty's stream while it is open; null once closed. */
        private Http2Stream netty;
        /** Window bytes taken from Netty's count and not yet written. */
        private int credit;
        /** Writes of this stream through the child channel not yet completed (queued in the flow controller). */
        private int queued;

        /** {@code child} is the stream's channel of {@code Http2MultiplexHandler}, its stream {@code id}. */
        Stream(Channel child, AbstractExchange exchange, int status, int id) {
            super(child, exchange, status);
            this.writer = of(child.parent());
            this.id = id;
            this.netty = writer.http2.stream(id);
            if (netty != null) {
                writer.streams.put(id, this);
            }
        }

        @Override
        public boolean isWritable() {
            return super.isWritable() && writer.writable;
        }

        private boolean reserve(int size) {
            if (credit >= size) {
                return true;
            }
            int take = Math.min(writer.flow.windowSize(netty), Math.max(size - credit, CREDIT_CHUNK));
            if (credit + take < size) {
                return false;
            }
            writer.charge(netty, take);
            credit += take;
            return true;
        }

        /**
         * Before a frame of this stream goes through the child channel: the frames gathered so far go first, and
         * Netty's count of the window is made exact again.
         */
        final void beforeChildWrite() {
            writer.writePending();
            giveBack();
        }

        /** Returns the window taken in advance to Netty's count. */
        private void giveBack() {
            if (credit > 0 && netty != null) {
                // clamped: a client whose WINDOW_UPDATEs took its real window past 2^31-1 (its own protocol
                // error, which Netty's reduced count did not see) gets the maximum, not an exception here
                // (long: after a lowered SETTINGS_INITIAL_WINDOW_SIZE Netty's count can be negative)
                long room = (long) Integer.MAX_VALUE - writer.flow.windowSize(netty);
                writer.charge(netty, (int) -Math.min(credit, room));
            }
            credit = 0;
        }

        /** A write through the child channel was queued; {@link #childWriteDone()} when it completes. */
        final void childWriteQueued() {
            queued++;
        }

        final void childWriteDone() {
            queued--;
        }

        @Override
        void onClosed() {
            writer.streams.remove(id);
        }
    }

    /** The pending buffer, with room for {@code bytes} more. */
    private ByteBuf buffer(int bytes) {
        if (pending != null && pending.maxWritableBytes() < bytes) {
            writePending();
        }
        if (pending == null) {
            // grows as needed (an event to 100 streams is about 15 KB), up to what one burst may gather: 100
            // connections' worth of 64 KiB buffers at once would stay in the allocator's pool (RSS) for good
            pending = codecCtx.alloc().directBuffer(Math.max(bytes, 4096), Math.max(bytes, 2 * WRITE_OUT_BYTES));
        }
        return pending;
    }

    /** Writes the gathered frames to the codec's context, unflushed. */
    void writePending() {
        ByteBuf b = pending;
        if (b != null) {
            pending = null;
            codecCtx.write(b, codecCtx.voidPromise());
        }
    }

    /** Flushes the connection once the tasks queued on its event loop so far have run. */
    void requestFlush() {
        if (!flushScheduled) {
            flushScheduled = true;
            connection.eventLoop().execute(this);
        }
    }

    /** The connection is gone: drops what was not written. */
    void closed() {
        ByteBuf b = pending;
        if (b != null) {
            pending = null;
            b.release();
        }
        streams.clear();
    }

    @Override
    public void run() {
        flushScheduled = false;
        writePending();
        connection.flush();
    }
}
