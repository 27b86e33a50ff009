package dev.herald.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.epoll.EpollTcpInfo;
import io.netty.util.AttributeKey;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.atomic.AtomicLong;

/** Per-connection facts the access log and handlers need, kept as a channel attribute. */
final class ConnectionInfo {
    static final AttributeKey<ConnectionInfo> KEY = AttributeKey.valueOf("herald.connection");
    private static final AtomicLong IDS = new AtomicLong();

    final long id = IDS.incrementAndGet();
    final boolean secure;
    final InetSocketAddress remote;
    volatile Protocol protocol;
    /** Why {@link ConnectionLimits} refused this connection; null when it was admitted. */
    volatile String refusal;
    /** HTTP/1.1 request sequence number, used in place of a stream id. */
    int requestCount;

    private ConnectionInfo(boolean secure, InetSocketAddress remote) {
        this.secure = secure;
        this.remote = remote;
        this.protocol = secure ? Protocol.HTTPS_1_1 : Protocol.HTTP_1_1;
    }

    static ConnectionInfo attach(Channel ch, boolean secure) {
        SocketAddress a = ch.remoteAddress();
        ConnectionInfo info = new ConnectionInfo(secure, a instanceof InetSocketAddress ? (InetSocketAddress) a : null);
        ch.attr(KEY).set(info);
        return info;
    }

    static ConnectionInfo of(Channel ch) {
        Channel c = ch;
        while (c != null) {
            // hasAttr first: attr() creates the attribute, and a stream channel would keep an empty one for life.
            ConnectionInfo info = c.hasAttr(KEY) ? c.attr(KEY).get() : null;
            if (info != null) {
                return info;
            }
            c = c.parent();
        }
        throw new IllegalStateException("no connection info on " + ch);
    }

    /**
     * The congestion window of {@code ch}'s connection in bytes ({@code TCP_INFO}: {@code snd_cwnd × snd_mss}), or
     * -1 when the transport cannot tell (not an epoll socket) or the connection is closed. One system call.
     */
    static long congestionWindowBytes(Channel ch) {
        Channel c = ch;
        while (c.parent() != null && !(c instanceof EpollSocketChannel)) {
            c = c.parent();
        }
        if (!(c instanceof EpollSocketChannel socket) || !socket.isActive()) {
            return -1;
        }
        try {
            EpollTcpInfo info = socket.tcpInfo();
            return info.sndCwnd() * info.sndMss();
        } catch (ChannelException e) { // closed meanwhile
            return -1;
        }
    }

    String scheme() {
        return secure ? "https" : "http";
    }
}
