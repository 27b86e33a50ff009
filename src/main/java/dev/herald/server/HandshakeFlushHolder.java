package dev.herald.server;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
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
 * <p>Only the handshake's reads: on an established connection a read's frames (a request, a WINDOW_UPDATE) each
 * flush at once as before. Holding every read's flushes was measured before (see {@link TlsRecordSizer}) and made
 * the 103 Early Hints client slower. A close during a held read flushes first, so an alert is not lost.
 *
 * <p>Event-loop confined.
 */
final class HandshakeFlushHolder extends ChannelDuplexHandler {
    private final Future<?> handshake;
    private boolean reading;
    private boolean pending;

    /** {@code handshake}: the connection's {@link SslHandler#handshakeFuture()}. */
    HandshakeFlushHolder(Future<?> handshake) {
        this.handshake = handshake;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        reading = true;
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        try {
            ctx.fireChannelReadComplete(); // the HTTP/2 codec flushes the response here: held too
        } finally {
            reading = false;
            flushPending(ctx);
            if (handshake.isDone() && ctx.pipeline().context(this) != null) {
                ctx.pipeline().remove(this);
            }
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
    }
}
