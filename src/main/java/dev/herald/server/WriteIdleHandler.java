package dev.herald.server;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Ticker;

import java.util.concurrent.TimeUnit;

/**
 * Fires {@link IdleStateEvent#WRITER_IDLE_STATE_EVENT} (then one per further period) when Herald has flushed no
 * written bytes to the connection for {@code timeout}; the protocol handlers close the connection if it has no
 * request or stream in flight.
 *
 * <p>Netty's {@code IdleStateHandler} does the same by adding a listener to every write's promise, which on a
 * connection carrying a hundred long-running streams is two promises and two listeners per DATA frame. Here a write
 * sets a flag and the flush that follows takes the time, so the cost is a field store per write and a clock read
 * per flush. A flush with nothing written since the last one (the HTTP/2 codec flushes after every read, even a
 * one-byte trickle) does not count, so a client that sends a request head one byte at a time still goes idle.
 *
 * <p>Event-loop confined.
 */
final class WriteIdleHandler extends ChannelDuplexHandler {
    private final long timeoutNanos;
    private boolean written;
    private long lastFlush;
    private boolean reported;
    private Future<?> check;
    private Ticker ticker;

    WriteIdleHandler(long timeout, TimeUnit unit) {
        this.timeoutNanos = unit.toNanos(timeout);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        ticker = ctx.executor().ticker();
        lastFlush = ticker.nanoTime();
        if (ctx.channel().isActive() && ctx.channel().isRegistered()) {
            start(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        start(ctx);
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        stop();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        stop();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        written = true;
        ctx.write(msg, promise);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        if (written) {
            written = false;
            lastFlush = ticker.nanoTime();
            reported = false;
        }
        ctx.flush();
    }

    private void start(ChannelHandlerContext ctx) {
        if (check != null || timeoutNanos <= 0) {
            return;
        }
        lastFlush = ticker.nanoTime();
        schedule(ctx, timeoutNanos);
    }

    private void schedule(ChannelHandlerContext ctx, long delayNanos) {
        check = ctx.executor().schedule(() -> check(ctx), delayNanos, TimeUnit.NANOSECONDS);
    }

    private void check(ChannelHandlerContext ctx) {
        if (!ctx.channel().isOpen()) {
            return;
        }
        if (written) { // written but not flushed yet: activity
            written = false;
            lastFlush = ticker.nanoTime();
            reported = false;
        }
        long idle = ticker.nanoTime() - lastFlush;
        if (idle >= timeoutNanos) {
            IdleStateEvent evt = reported ? IdleStateEvent.WRITER_IDLE_STATE_EVENT
                    : IdleStateEvent.FIRST_WRITER_IDLE_STATE_EVENT;
            reported = true;
            lastFlush = ticker.nanoTime(); // the next event one period later, as IdleStateHandler does
            schedule(ctx, timeoutNanos);
            ctx.fireUserEventTriggered(evt);
        } else {
            schedule(ctx, timeoutNanos - idle);
        }
    }

    private void stop() {
        if (check != null) {
            check.cancel(false);
            check = null;
        }
    }
}
