package dev.herald.server;

import dev.herald.config.ConfigException;
import dev.herald.config.HeraldConfig;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.GlobalEventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.channels.UnresolvedAddressException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The Netty server: binds the TLS and cleartext ports on the epoll transport (NIO where epoll is unavailable),
 * tracks every connection, and shuts down gracefully: stop accepting, GOAWAY on HTTP/2, let in-flight requests
 * finish within {@code shutdown-timeout}, then close what is left.
 */
public final class HttpServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HttpServer.class);

    private final ServerContext context;
    private final EventLoopGroup group;
    private final ChannelGroup connections = new DefaultChannelGroup("herald-connections", GlobalEventExecutor.INSTANCE);
    private final List<Channel> listeners = new ArrayList<>();
    private final TlsSetup tls;
    private volatile boolean closed;

    private HttpServer(ServerContext context, TlsSetup tls, EventLoopGroup group) {
        this.context = context;
        this.tls = tls;
        this.group = group;
    }

    /** Starts listening; throws {@link ConfigException} if a port cannot be bound. */
    public static HttpServer start(HeraldConfig config, Handler handler, ServerMetrics metrics) throws Exception {
        return start(config, handler, metrics, LimitLog.create(config.limitLogInterval()));
    }

    /** Starts listening, logging exceeded limits to {@code limitLog} (shared with the application's handlers). */
    public static HttpServer start(HeraldConfig config, Handler handler, ServerMetrics metrics, LimitLog limitLog)
            throws Exception {
        ServerContext context = new ServerContext(config, handler, metrics, limitLog);
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        Class<? extends ServerChannel> channelType = epoll ? EpollServerSocketChannel.class
                : NioServerSocketChannel.class;
        LOG.debug("transport: {}", epoll ? "epoll" : "nio");
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(0, io);
        TlsSetup tls = config.tlsPort() >= 0 ? TlsSetup.load(config) : null;
        HttpServer server = new HttpServer(context, tls, group);
        try {
            if (tls != null) {
                tls.sslContext(); // fails the start on a bad certificate or key
                server.bind(channelType, config.tlsPort(), "TLS port", Pipelines.tls(context, tls::current));
                tls.watch(config.tlsReloadInterval());
            }
            if (config.httpPort() >= 0) {
                server.bind(channelType, config.httpPort(), "cleartext port", Pipelines.cleartext(context));
            }
        } catch (Exception | Error e) {
            server.close();
            throw e;
        }
        return server;
    }

    /**
     * Listens on {@code port}, {@code which} of the two ports.
     *
     * @throws ConfigException naming the address and the port when the address cannot be listened on (in use, not
     *         this machine's, a host that does not resolve)
     */
    private void bind(Class<? extends ServerChannel> type, int port, String which,
                      io.netty.channel.ChannelInitializer<SocketChannel> init) throws InterruptedException {
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(type)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new io.netty.channel.ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (context.shuttingDown) {
                            ch.close();
                            return;
                        }
                        connections.add(ch);
                        ch.pipeline().addLast(init);
                    }
                });
        String host = context.config.host();
        try {
            listeners.add(b.bind(host, port).sync().channel());
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) { // sync() rethrows the bind's failure, checked or not
            String address = host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
            throw new ConfigException("cannot listen on " + address + " (" + which + "): " + bindProblem(e), e);
        }
    }

    /** A bind failure in plain words: Netty's epoll says {@code bind(..) failed with error(-98): Address ...}. */
    private static String bindProblem(Exception e) {
        if (e instanceof UnresolvedAddressException) {
            return "the host is neither an IP address nor a name that resolves";
        }
        String message = String.valueOf(e.getMessage())
                .replaceFirst("^bind\\(\\.\\.\\) failed with error\\(-?\\d+\\): ", "");
        if (message.startsWith("Cannot assign requested address")) {
            return "the address is not one of this machine's";
        }
        if (message.startsWith("Permission denied")) {
            return "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)";
        }
        return message.isEmpty() ? e.toString() : Character.toLowerCase(message.charAt(0)) + message.substring(1);
    }

    /** The bound TLS port, if TLS is on. */
    public Optional<Integer> tlsPort() {
        return tls == null || listeners.isEmpty() ? Optional.empty() : Optional.of(port(0));
    }

    /** The bound cleartext port, if it is on. */
    public Optional<Integer> httpPort() {
        if (context.config.httpPort() < 0) {
            return Optional.empty();
        }
        return Optional.of(port(tls == null ? 0 : 1));
    }

    private int port(int index) {
        return ((InetSocketAddress) listeners.get(index).localAddress()).getPort();
    }

    public Optional<TlsSetup> tls() {
        return Optional.ofNullable(tls);
    }

    /** Number of open client connections. */
    public int connectionCount() {
        return connections.size();
    }

    /** How long shutdown waits for an event loop to do a step before it gives up on it. */
    private static final long STUCK_MILLIS = 5000;

    /** Graceful shutdown; blocks until every connection is closed or the timeout has passed. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        context.shuttingDown = true;
        long timeoutMs = context.config.shutdownTimeout().toMillis();
        for (Channel l : listeners) {
            if (!l.close().awaitUninterruptibly(STUCK_MILLIS)) {
                LOG.warn("listener {} did not close within {} ms; its event loop is stuck", l, STUCK_MILLIS);
            }
        }
        if (tls != null) {
            tls.stopWatching();
        }
        for (ResponseStream s : context.openStreams) {
            s.end(); // long-running responses end cleanly; clients resume elsewhere
        }
        for (Channel c : connections) {
            c.pipeline().fireUserEventTriggered(ShutdownEvent.INSTANCE);
        }
        // Connections get the configured time to finish; TLS close_notify and the final flush get a little more.
        if (!connections.newCloseFuture().awaitUninterruptibly(timeoutMs + 1000, TimeUnit.MILLISECONDS)) {
            LOG.warn("{} connection(s) still open after {} ms, closing them", connections.size(), timeoutMs);
            connections.close().awaitUninterruptibly(1000);
        }
        // Bounded, so that shutdown ends even if a bug keeps an event loop busy forever (the process then exits
        // with the loop's thread still running; the WARN is the clue).
        if (!group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(2000 + STUCK_MILLIS)) {
            LOG.warn("the event loops did not stop within {} ms of being asked: one is stuck", 2000 + STUCK_MILLIS);
        }
    }
}
