package dev.herald.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;

import java.util.List;
import java.util.concurrent.Executor;

/**
 * What the HTTP/1.1 and HTTP/2 response streams share: the hop to the event loop, the listeners, exactly-once
 * close, and the access-log line when the stream ends.
 */
abstract class AbstractResponseStream implements ResponseStream {
    final Channel channel;
    private final AbstractExchange exchange;
    private final int status;
    private Runnable writable = () -> { };
    private Runnable closed = () -> { };
    private volatile boolean open = true;
    private boolean ended;
    long bytes;

    AbstractResponseStream(Channel channel, AbstractExchange exchange, int status) {
        this.channel = channel;
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
        if (!channel.eventLoop().inEventLoop()) {
            List<byte[]> copy = List.copyOf(parts);
            channel.eventLoop().execute(() -> write(copy));
            return true;
        }
        if (ended || !channel.isActive()) {
            return false;
        }
        int size = 0;
        for (byte[] p : parts) {
            size += p.length;
        }
        // Straight into a pooled direct buffer: the socket needs direct memory anyway (a wrapped heap array would
        // be copied there by the transport), and a batch of events costs no garbage.
        ByteBuf buf = channel.alloc().directBuffer(size);
        for (byte[] p : parts) {
            buf.writeBytes(p);
        }
        bytes += size;
        writeChunk(buf);
        return true;
    }

    @Override
    public final boolean isWritable() {
        return open && channel.isWritable();
    }

    @Override
    public final void onWritable(Runnable listener) {
        this.writable = listener;
    }

    @Override
    public final void onClose(Runnable listener) {
        this.closed = listener;
        if (!open) {
            channel.eventLoop().execute(listener);
        }
    }

    @Override
    public final void end() {
        if (!channel.eventLoop().inEventLoop()) {
            channel.eventLoop().execute(this::end);
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
        return channel.eventLoop();
    }

    /** Called by the protocol handler on the event loop. */
    final void writabilityChanged() {
        if (open && channel.isWritable()) {
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
        closed.run();
    }

    /** Writes {@code chunk} and takes ownership of it. */
    abstract void writeChunk(ByteBuf chunk);

    /** Writes the end of the response and calls {@link #closed} when it is written. */
    abstract void writeEnd();
}
