package dev.herald.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;

import java.util.List;
import java.util.concurrent.Executor;

/**
 * What the HTTP/1.1 and HTTP/2 response streams share: the hop to the event loop, the listeners, exactly-once
 * close, and the access-log line when the stream ends.
 */
abstract class AbstractResponseStream implements ResponseStream {
    final Channel channel;
    private final EventLoop loop;
    private final AbstractExchange exchange;
    private final int status;
    private Runnable writable = () -> { };
    private Runnable closed = () -> { };
    private volatile boolean open = true;
    private boolean ended;
    /** The channel's writability as of its last writability event (event loop only; saves a volatile read). */
    private boolean channelWritable;
    long bytes;

    AbstractResponseStream(Channel channel, AbstractExchange exchange, int status) {
        this.channel = channel;
        this.loop = channel.eventLoop();
        this.channelWritable = channel.isWritable();
        this.exchange = exchange;
        this.status = status;
        exchange.server.openStreams.add(this);
    }

    @Override
    public final boolean write(byte[] data) {
        return write(List.of(data));
    }

    @Override
    public final boolean write(List<byte[]> parts) {
        if (!open) {
            return false;
        }
        if (!loop.inEventLoop()) {
            List<byte[]> copy = List.copyOf(parts);
            loop.execute(() -> write(copy));
            return true;
        }
        if (ended) {
            return false;
        }
        int size = 0;
        for (byte[] p : parts) {
            size += p.length;
        }
        if (size == 0) {
            return true;
        }
        bytes += size;
        writeParts(parts, size);
        return true;
    }

    /**
     * Writes {@code parts} ({@code size} bytes in all, more than zero) as one chunk: by default copied straight into
     * one pooled direct buffer (the socket needs direct memory anyway, and a wrapped heap array would be copied
     * there by the transport) and handed to {@link #writeChunk}.
     */
    void writeParts(List<byte[]> parts, int size) {
        ByteBuf buf = channel.alloc().directBuffer(size);
        for (byte[] p : parts) {
            buf.writeBytes(p);
        }
        writeChunk(buf);
    }

    @Override
    public boolean isWritable() {
        return open && (loop.inEventLoop() ? channelWritable : channel.isWritable());
    }

    @Override
    public final void onWritable(Runnable listener) {
        this.writable = listener;
    }

    @Override
    public final void onClose(Runnable listener) {
        this.closed = listener;
        if (!open) {
            loop.execute(listener);
        }
    }

    @Override
    public final void end() {
        if (!loop.inEventLoop()) {
            loop.execute(this::end);
            return;
        }
        if (ended || !open) {
            return;
        }
        ended = true;
        writeEnd();
    }

    @Override
    public final boolean isOpen() {
        return open;
    }

    @Override
    public final Executor eventLoop() {
        return loop;
    }

    /** Called by the protocol handler on the event loop. */
    final void writabilityChanged() {
        channelWritable = channel.isWritable();
        if (isWritable()) {
            writable.run();
        }
    }

    /** Called by the protocol handler on the event loop when the stream or connection is gone or ended. */
    final void closed(boolean clean) {
        if (!open) {
            return;
        }
        open = false;
        exchange.server.openStreams.remove(this);
        exchange.completed(status, bytes, clean ? "stream" : "stream-reset");
        onClosed();
        closed.run();
    }

    /** Called once when the stream closes, before the listener. */
    void onClosed() {
    }

    /** Writes {@code chunk} and takes ownership of it. */
    abstract void writeChunk(ByteBuf chunk);

    /** Writes the end of the response and calls {@link #closed} when it is written. */
    abstract void writeEnd();
}
