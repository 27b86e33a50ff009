package dev.herald.server;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;

/**
 * Right below the {@link SslHandler}: while a new TLS connection reads, the flushes asked for during a read are held
 * until the read is complete, and then done once; after the read that completes the handshake it leaves the
 * pipeline.
 *
 * <p>Why: the client's Finished usually arrives in one packet with its HTTP/2 preface, SETTINGS and first request.
 * In that one read the TLS engine flushes its session tickets, Netty's HTTP/2 codec flushes its SETTINGS and then its
 * connection WINDOW_UPDATE, and the response (promises, the page, pushes) is flushed when the read is complete:
 * four writes, so four packets where nginx sends one, three of them small. Linux counts the congestion window in
 * packets, and BBR paces packets, so each small packet takes a slot of slow start's first round trip. Measured in
 * bench/push at RTT 100 (tcpdump in hd-srv): Herald sent 73 packets for the page load against nginx's 70 for about
 * the same bytes, and its last byte left about 5 ms after nginx's.
 *
 * <p>The read that completes the handshake is held a little longer: until the event-loop tasks queued during it have
 * run. A page that answers later (think time) has its promises written in the read and its pushes started in such a
 * task ({@code Http2Pusher}); released at the end of the read, the promises left alone in a small packet and the
 * pushes' first bytes a moment later, so slow start's first round trip carried 13,046 bytes in its 10 packets
 * instead of 14,480. Measured in bench/push at RTT 100 / think 200 with {@code SERVER_CC=reno}: the 98 KB then
 * needed a fourth round trip for its last 158 bytes (623 ms); held, it fits in three (527 ms).
 *
 * <p>While a read is held, the channel's write-buffer high-water mark is raised to {@code firstFlightBytes}, and it
 * is put back after the held flush. Netty's HTTP/2 flow controller writes at most what the channel takes before it
 * turns unwritable in one pass (64 KiB by default), and the rest only once the socket write has drained the
 * buffer: the first response of a connection (the page and its pushes) left in two writes. Measured in bench/push
 * (RTT 20, INITCWND=100, tcpdump in hd-srv): 64,966 then 34,934 bytes, the second 0.3 ms after the first; with the
 * mark raised, one write of 99,869 bytes. What a pass writes is still bounded by the client's flow-control windows
 * and by {@link LatencyOptimizedDistributor} (what the congestion window can send), and a configured
 * {@code http2.send-buffer} keeps its own mark (0 here).
 *
 * <p>Only the handshake's reads: on an established connection a read's frames (a request, a WINDOW_UPDATE) each
 * flush at once as before. Holding every read's flushes was measured before (see {@link TlsRecordSizer}) and made
 * the 103 Early Hints client slower. A close during a held read flushes first, so an alert is not lost.
 *
 * <p>Event-loop confined.
 */
final class HandshakeFlushHolder extends ChannelDuplexHandler {
    /** The high-water mark while a read is held: a page and pushes within the largest automatic budget (1 MiB). */
    static final int FIRST_FLIGHT_BYTES = 2 << 20;

    private final Future<?> handshake;
    private final int firstFlightBytes;
    private boolean reading;
    private boolean pending;
    /** The channel's marks while they are raised; null otherwise. */
    private WriteBufferWaterMark saved;

    /**
     * @param handshake        the connection's {@link SslHandler#handshakeFuture()}
     * @param firstFlightBytes the write-buffer high-water mark while a read is held; 0 keeps the channel's
     */
    HandshakeFlushHolder(Future<?> handshake, int firstFlightBytes) {
        this.handshake = handshake;
        this.firstFlightBytes = firstFlightBytes;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!reading) {
            raise(ctx);
        }
        reading = true;
        ctx.fireChannelRead(msg);
    }

    private void raise(ChannelHandlerContext ctx) {
        WriteBufferWaterMark marks = ctx.channel().config().getWriteBufferWaterMark();
        if (saved == null && marks.high() < firstFlightBytes) {
            saved = marks;
            ctx.channel().config().setWriteBufferWaterMark(new WriteBufferWaterMark(marks.low(), firstFlightBytes));
        }
    }

    private void restore(ChannelHandlerContext ctx) {
        if (saved != null) {
            ctx.channel().config().setWriteBufferWaterMark(saved);
            saved = null;
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        try {
            ctx.fireChannelReadComplete(); // the HTTP/2 codec flushes the response here: held too
        } finally {
            if (handshake.isDone()) {
                // The read that completed the handshake: its request may have queued work for right after it (the
                // pushes of a page that answers later start in a task, Http2Pusher). Held until the tasks queued
                // so far have run, so their first bytes leave in the same write as the promises.
                ctx.executor().execute(() -> release(ctx));
            } else {
                reading = false;
                flushPending(ctx);
            }
        }
    }

    private void release(ChannelHandlerContext ctx) {
        reading = false;
        flushPending(ctx);
        if (!ctx.isRemoved()) {
            ctx.pipeline().remove(this);
        }
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        if (reading) {
            pending = true;
        } else {
            ctx.flush();
        }
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        flushPending(ctx);
        ctx.close(promise);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        flushPending(ctx);
    }

    private void flushPending(ChannelHandlerContext ctx) {
        if (pending) {
            pending = false;
            ctx.flush();
        }
        restore(ctx);
    }
}
