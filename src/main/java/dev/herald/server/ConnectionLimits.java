package dev.herald.server;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.util.ReferenceCountUtil;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts open connections, in total and per client IP address, and refuses those beyond
 * {@code limits.max-connections} or {@code limits.max-connections-per-ip}. First in every connection's pipeline;
 * it removes itself once it has counted the connection.
 *
 * <h2>How a refused connection is answered</h2>
 * <ul>
 *   <li>TLS: closed at once, before the handshake. A handshake is the most expensive thing a client can make
 *       Herald do (a key exchange and a signature), exactly what a flood beyond the limit must not get, and no
 *       answer could be read without one.</li>
 *   <li>Cleartext HTTP/2 (prior knowledge): the server preface, then GOAWAY(ENHANCE_YOUR_CALM) with last stream
 *       id 0 (nothing was processed, the client may retry every request), then close.</li>
 *   <li>Cleartext HTTP/1.1 (and Upgrade: h2c, which is not upgraded): 503 with Retry-After, Connection: close and
 *       a JSON body.</li>
 *   <li>A refused cleartext connection that says nothing is closed after {@code tls.handshake-timeout}.</li>
 * </ul>
 * Refused connections do not count towards the limits, so a flood of them cannot lock out the clients that
 * already hold a connection.
 */
@ChannelHandler.Sharable
final class ConnectionLimits extends ChannelInboundHandlerAdapter {
    static final String RETRY_AFTER_SECONDS = "5";
    private static final String TOTAL = "limits.max-connections";
    private static final String PER_IP = "limits.max-connections-per-ip";

    private final ServerContext server;
    private final AtomicInteger total = new AtomicInteger();
    private final ConcurrentHashMap<InetAddress, Integer> perIp = new ConcurrentHashMap<>();

    ConnectionLimits(ServerContext server) {
        this.server = server;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        Channel ch = ctx.channel();
        ConnectionInfo info = ConnectionInfo.of(ch);
        ctx.pipeline().remove(this);
        InetAddress ip = info.remote == null ? null : info.remote.getAddress();
        String limit = acquire(ch, ip);
        if (limit == null) {
            ctx.fireChannelActive();
            return;
        }
        boolean perAddress = limit.equals(PER_IP);
        info.refusal = perAddress
                ? "more than " + server.config.maxConnectionsPerIp() + " connections from " + ip.getHostAddress()
                : "more than " + server.config.maxConnections() + " connections";
        server.limitLog.exceeded(limit, info.remote,
                info.refusal + (info.secure ? "; closed before the TLS handshake" : "; answered and closed"));
        if (info.secure) {
            ctx.close();
            return;
        }
        ScheduledFuture<?> deadline = ctx.executor().schedule(() -> {
            ch.close();
        }, server.config.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
        ch.closeFuture().addListener(f -> deadline.cancel(false)); // a flood of refusals leaves no timers behind
        ctx.fireChannelActive();
    }

    /** Counts the connection and returns null, or returns the limit it exceeds (and does not count it). */
    private String acquire(Channel ch, InetAddress ip) {
        if (total.incrementAndGet() > server.config.maxConnections()) {
            total.decrementAndGet();
            return TOTAL;
        }
        if (ip != null) {
            int max = server.config.maxConnectionsPerIp();
            boolean[] over = new boolean[1];
            perIp.compute(ip, (k, n) -> {
                over[0] = n != null && n >= max;
                return over[0] ? n : n == null ? 1 : n + 1;
            });
            if (over[0]) {
                total.decrementAndGet();
                return PER_IP;
            }
        }
        ch.closeFuture().addListener(f -> release(ip));
        return null;
    }

    private void release(InetAddress ip) {
        total.decrementAndGet();
        if (ip != null) {
            perIp.computeIfPresent(ip, (k, n) -> n <= 1 ? null : n - 1);
        }
    }

    /**
     * Takes the place of the stream multiplexer on a refused HTTP/2 connection: after the frame codec's preface,
     * GOAWAY(ENHANCE_YOUR_CALM) naming no stream, then close; whatever the client sends meanwhile is dropped.
     */
    static final class RefuseHttp2 extends ChannelInboundHandlerAdapter {
        private final String reason;

        RefuseHttp2(String reason) {
            this.reason = reason;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.ENHANCE_YOUR_CALM,
                            Unpooled.copiedBuffer(reason, StandardCharsets.US_ASCII)))
                    .addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }
    }
}
