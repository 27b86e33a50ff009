package dev.herald.server;

import io.netty.channel.Channel;

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
        if (!open) {
            return false;
        }
        if (!channel.eventLoop().inEventLoop()) {
            channel.eventLoop().execute(() -> write(data));
            return true;
        }
        if (ended || !channel.isActive()) {
            return false;
        }
        bytes += data.length;
        writeChunk(data);
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

    abstract void writeChunk(byte[] data);

    /** Writes the end of the response and calls {@link #closed} when it is written. */
    abstract void writeEnd();
}
