package dev.herald.server;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Ticker;

import java.util.concurrent.TimeUnit;

/**
 * {@code send-timeout} for a whole connection, HTTP/1.1 or HTTP/2, like nginx's {@code send_timeout}: bytes wait in
 * the channel's outbound buffer (the socket takes no more) and the client has taken none of them for the timeout,
 * so the connection is closed, with one {@link LimitLog} line and {@code herald_send_timeouts_total{scope="connection"}}.
 * Without it a client that stops reading keeps its connection, and the file its response is read from, for good:
 * the idle timeout never applies while a response is in flight. HTTP/2 streams that wait for the client's
 * flow-control window, which leaves nothing in this buffer, are {@link Http2StreamHandler}'s.
 *
 * <h2>Progress</h2>
 * What the client takes: on epoll, the bytes it acknowledged ({@code tcpi_bytes_acked} of {@code TCP_INFO}). The
 * kernel's send buffer can hold megabytes and reports room again only once a good part of it is free, so a slow
 * reader may acknowledge for seconds while Netty writes nothing; that is progress. Besides, and alone elsewhere
 * (NIO, or a kernel before 4.10), the outbound buffer's first message being written in part or in full. Bytes added
 * behind it (a heartbeat, a PING acknowledgement) are not progress.
 *
 * <h2>Cost</h2>
 * Nothing per write, and per flush a look at whether the outbound buffer emptied. A flush that leaves bytes behind
 * starts a check four times per timeout (one {@code TCP_INFO} read each), which stops once it finds the buffer
 * empty; so a connection is closed between one and one and a quarter timeouts after its client took its last byte.
 *
 * <p>Event-loop confined.
 */
final class SendTimeoutHandler extends ChannelDuplexHandler {
    /** Checks per timeout while bytes wait: the precision of the cut. */
    private static final int CHECKS_PER_TIMEOUT = 4;

    private final ServerContext server;
    private final long timeoutNanos;
    private final LatencyOptimizedDistributor.TcpInfo tcp = new LatencyOptimizedDistributor.TcpInfo();
    /** The socket's {@code TCP_INFO}, on epoll; null elsewhere. */
    private LatencyOptimizedDistributor.Socket socket;
    private Ticker ticker;
    private Future<?> check;
    private long lastProgress;
    // What the client had taken at the last check.
    private Object head;
    private long headProgress;
    private long acked;

    SendTimeoutHandler(ServerContext server) {
        this.server = server;
        this.timeoutNanos = server.config.sendTimeout().toNanos();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        ticker = ctx.executor().ticker();
        if (ctx.channel() instanceof EpollSocketChannel epoll) {
            socket = new LatencyOptimizedDistributor.EpollSocket(epoll);
        }
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        ctx.flush();
        if (check == null) {
            ChannelOutboundBuffer out = waiting(ctx);
            if (out != null) {
                taken(out);
                lastProgress = ticker.nanoTime();
                schedule(ctx, timeoutNanos / CHECKS_PER_TIMEOUT);
            }
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        stop();
        ctx.fireChannelInactive();
    }

    /** The outbound buffer if bytes wait in it, else null. */
    private static ChannelOutboundBuffer waiting(ChannelHandlerContext ctx) {
        ChannelOutboundBuffer out = ctx.channel().unsafe().outboundBuffer();
        return out == null || out.isEmpty() || !ctx.channel().isActive() ? null : out;
    }

    /** Notes what the client has taken so far; true if it took more since the last time. */
    private boolean taken(ChannelOutboundBuffer out) {
        boolean more = false;
        Object h = out.current();
        long p = out.currentProgress();
        if (h != head || p != headProgress) {
            head = h;
            headProgress = p;
            more = true;
        }
        if (socket != null && socket.tcpInfo(tcp) && tcp.bytesAcked != acked) {
            acked = tcp.bytesAcked;
            more = true;
        }
        return more;
    }

    private void schedule(ChannelHandlerContext ctx, long delayNanos) {
        check = ctx.executor().schedule(() -> check(ctx), Math.max(delayNanos, 1), TimeUnit.NANOSECONDS);
    }

    private void check(ChannelHandlerContext ctx) {
        check = null;
        ChannelOutboundBuffer out = waiting(ctx);
        if (out == null) {
            head = null; // drained: the next flush that leaves bytes behind starts over
            return;
        }
        long now = ticker.nanoTime();
        if (taken(out)) {
            lastProgress = now;
        } else if (now - lastProgress >= timeoutNanos) {
            timedOut(ctx, out);
            return;
        }
        schedule(ctx, Math.min(timeoutNanos / CHECKS_PER_TIMEOUT, lastProgress + timeoutNanos - now));
    }

    private void timedOut(ChannelHandlerContext ctx, ChannelOutboundBuffer out) {
        ConnectionInfo conn = ConnectionInfo.of(ctx.channel());
        server.metrics.sendTimeoutConnections.increment();
        server.limitLog.exceeded("send-timeout", conn.remote, conn.protocol + " connection " + conn.id + ": "
                + out.totalPendingWriteBytes() + " bytes waiting, none taken by the client for "
                + server.config.sendTimeout().toMillis() + " ms: closed");
        head = null;
        ctx.close(); // from here, under TLS and the HTTP/2 codec: a close_notify or GOAWAY would only queue up
    }

    private void stop() {
        if (check != null) {
            check.cancel(false);
            check = null;
        }
        head = null;
    }
}
