package dev.herald.server;

import dev.herald.config.HeraldConfig;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.DefaultMaxMessagesRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollSocketChannelConfig;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http2.CleartextHttp2ServerUpgradeHandler;
import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameLogger;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ServerUpgradeCodec;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.WeightedFairQueueByteDistributor;
import io.netty.handler.logging.LogLevel;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.stream.ChunkedWriteHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.ReadTimeoutException;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The channel pipelines, in one place.
 *
 * <p>No {@code FlushConsolidationHandler}: in Netty 4.2.18 it made the HTTP/2 codec overrun a client's 64 KiB
 * connection window on cleartext connections (nghttp answered FLOW_CONTROL_ERROR a megabyte into a download) and
 * wrote a freed buffer behind ChunkedWriteHandler. The HTTP/2 codec already flushes once per read batch.
 *
 * <pre>
 * Each starts with ConnectionLimits, which counts the connection (or marks it refused) and steps aside.
 * TLS:       idle, send timeout, handshake flush holder (until the handshake is done), ssl, record sizer,
 *            ALPN -> h2:       frame codec, multiplexer(stream handler), observer
 *                 -> http/1.1: http codec, aggregator, chunked writer, Http1Handler
 * cleartext: idle, send timeout, h2c detection (prior knowledge | Upgrade: h2c | plain HTTP/1.1),
 *            aggregator, chunked writer, Http1Handler
 * </pre>
 */
final class Pipelines {
    private static final Logger LOG = LoggerFactory.getLogger(Pipelines.class);
    /** HTTP/2 frames at TRACE; stateless, so one for every connection (each made its own logger). */
    private static final Http2FrameLogger FRAMES = new Http2FrameLogger(LogLevel.TRACE, Http2FrameLogger.class);
    static final String AGGREGATOR = "http1-aggregator";
    static final String CHUNKED = "http1-chunked";
    /** How long a connection refused with 413 waits for the client to read the answer and close (nginx: 5 s). */
    static final long LINGER_MILLIS = 2000;

    private Pipelines() {
    }

    /** Accepted connections on the TLS port. */
    static ChannelInitializer<SocketChannel> tls(ServerContext server, Supplier<SslContext> ssl) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ConnectionInfo.attach(ch, true);
                track(server, ch);
                // The context of the moment: a reloaded certificate applies to new connections only.
                SslHandler sslHandler = ssl.get().newHandler(ch.alloc());
                sslHandler.setHandshakeTimeoutMillis(server.config.handshakeTimeout().toMillis());
                ch.pipeline()
                        .addLast(server.limits)
                        .addLast(idle(server.config))
                        .addLast(new SendTimeoutHandler(server))
                        .addLast(new HandshakeFlushHolder(sslHandler.handshakeFuture(),
                                server.config.sendBuffer() > 0 ? 0 : HandshakeFlushHolder.FIRST_FLIGHT_BYTES))
                        .addLast(sslHandler)
                        .addLast(new TlsRecordSizer(sslHandler))
                        .addLast(new Alpn(server));
            }
        };
    }

    /** Accepted connections on the cleartext port. */
    static ChannelInitializer<SocketChannel> cleartext(ServerContext server) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ConnectionInfo.attach(ch, false);
                track(server, ch);
                HeraldConfig c = server.config;
                HttpServerCodec http1 = httpCodec(c);
                ConnectionInfo info = ConnectionInfo.of(ch);
                // A refused connection is not upgraded: Http1Handler answers its request with 503.
                HttpServerUpgradeHandler.UpgradeCodecFactory upgrades = protocol ->
                        info.refusal == null
                                && AsciiString.contentEquals(Http2CodecUtil.HTTP_UPGRADE_PROTOCOL_NAME, protocol)
                                ? new Http2ServerUpgradeCodec(frameCodec(server, ch), multiplexer(server, ch),
                                        new Http2ConnectionObserver(server))
                                : null;
                HttpServerUpgradeHandler upgrade = new HttpServerUpgradeHandler(http1, upgrades,
                        c.maxRequestBody()) {
                    @Override
                    protected boolean shouldHandleUpgradeRequest(HttpRequest req) {
                        // This aggregator is Netty's own, with its decoder reset after a refused expectation (see
                        // aggregator()): a request it could refuse is served over HTTP/1.1, not upgraded, which
                        // RFC 9110 §7.8 allows. Left are requests with no Expect and a body known to fit. A
                        // request whose head failed to decode (header fields over the limit) carries the fields
                        // read before the failure, Upgrade among them; it goes to Http1Handler for its 4xx.
                        long length = HttpUtil.getContentLength(req, -1L);
                        return req.decoderResult().isSuccess() && super.shouldHandleUpgradeRequest(req)
                                && !req.headers().contains(HttpHeaderNames.EXPECT)
                                && !HttpUtil.isTransferEncodingChunked(req) && length <= c.maxRequestBody();
                    }
                };
                ch.pipeline()
                        .addLast(server.limits)
                        .addLast(idle(c))
                        .addLast(new SendTimeoutHandler(server))
                        .addLast(new CleartextHttp2ServerUpgradeHandler(http1, upgrade, new PriorKnowledge(server)))
                        .addLast(AGGREGATOR, aggregator(server))
                        .addLast(CHUNKED, new ChunkedWriteHandler())
                        .addLast(new Http1Handler(server));
            }
        };
    }

    private static void track(ServerContext server, SocketChannel ch) {
        server.metrics.openConnections.incrementAndGet();
        ch.closeFuture().addListener(f -> server.metrics.openConnections.decrementAndGet());
    }

    /**
     * Idle means Herald has written nothing for {@code idle-timeout}: a connection with no open stream and no
     * response in progress. Measured on writes, not reads, so a client that trickles a request head one byte at a
     * time (slowloris) cannot keep the connection alive; long-running streams write heartbeats, and the handlers
     * never close a connection that still has a stream or request in flight. A response its client stopped taking
     * is {@code send-timeout}'s ({@link SendTimeoutHandler}, {@link Http2StreamHandler}).
     */
    private static WriteIdleHandler idle(HeraldConfig c) {
        return new WriteIdleHandler(c.idleTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Netty's aggregator, with Herald's JSON body and log line on the 413 it answers to a body over
     * {@code max-request-body}.
     *
     * <p>Netty answers a refused expectation (an {@code Expect} other than {@code 100-continue}, or
     * {@code 100-continue} with a declared body over the limit) itself and then has its decoder start over at the
     * next byte. A client may send the body anyway (RFC 9110 §10.1.1), and it would then be parsed as a new request:
     * request smuggling. So here an unsupported expectation is aggregated like any request, body included, and
     * {@link Http1Handler} answers it 417. A body over the limit (declared or found) is handed on as a request whose
     * decoding failed, so that {@link Http1Handler} answers it 413 in its turn, after the responses to the requests
     * before it, and closes ({@link #lingeringClose}); this aggregator drops every later byte.
     *
     * <p>A request whose body stops coming is handed on the same way when the connection goes idle
     * ({@code idle-timeout} with nothing written), failed with a {@link ReadTimeoutException}: {@link Http1Handler}
     * answers it 408 and closes, like nginx's {@code client_body_timeout}, and the part of the body read so far is
     * released.
     */
    private static HttpObjectAggregator aggregator(ServerContext server) {
        int max = server.config.maxRequestBody();
        return new HttpObjectAggregator(max) {
            private boolean closing;
            /** The head of the request whose body is being read, or null. */
            private HttpRequest reading;

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
                if (closing) {
                    ReferenceCountUtil.release(msg);
                    return;
                }
                if (msg instanceof LastHttpContent) {
                    reading = null;
                } else if (msg instanceof HttpRequest head) {
                    reading = head;
                }
                super.channelRead(ctx, msg);
            }

            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
                if (evt instanceof IdleStateEvent && reading != null) {
                    closing = true;
                    releaseCurrentMessage();
                    HttpRequest head = reading;
                    reading = null;
                    ctx.fireChannelRead(failed(head, ReadTimeoutException.INSTANCE));
                    return;
                }
                super.userEventTriggered(ctx, evt);
            }

            @Override
            protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
                if (Http1Handler.unsupportedExpectation(start)
                        || HttpUtil.is100ContinueExpected(start) && HttpUtil.getContentLength(start, -1L) > max) {
                    return null; // no decoder reset: Http1Handler answers 417, handleOversizedMessage 413
                }
                return super.newContinueResponse(start, maxContentLength, pipeline);
            }

            @Override
            protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized)
                    throws Exception {
                if (!(oversized instanceof HttpRequest request)) {
                    super.handleOversizedMessage(ctx, oversized);
                    return;
                }
                // Whether the client sends the body or waits for a 100 it will not get, the decoder cannot know
                // where the next request starts: nothing after this request is read.
                closing = true;
                reading = null;
                ctx.fireChannelRead(failed(request, new TooLongFrameException("request body over " + max + " bytes")));
            }
        };
    }

    /** A request with no body whose decoding failed with {@code cause}, for {@link Http1Handler} to answer. */
    private static FullHttpRequest failed(HttpRequest head, Exception cause) {
        FullHttpRequest failed = new DefaultFullHttpRequest(head.protocolVersion(), head.method(), head.uri(),
                Unpooled.EMPTY_BUFFER, head.headers(), EmptyHttpHeaders.INSTANCE);
        failed.setDecoderResult(DecoderResult.failure(cause));
        return failed;
    }

    /**
     * Closes a connection whose answer was just written, so that the client reads it: closing at once with unread
     * request bytes makes the kernel send a reset, which can discard the answer before the client reads it (nginx's
     * lingering close). The output ends now (TLS close_notify, or FIN); the connection closes when the client
     * closes its side or after {@value #LINGER_MILLIS} ms, whatever it sends meanwhile being dropped by the caller.
     */
    static void lingeringClose(Channel ch) {
        SslHandler ssl = ch.pipeline().get(SslHandler.class);
        ChannelFuture done;
        if (ssl != null) {
            done = ssl.closeOutbound();
        } else if (ch instanceof DuplexChannel duplex) {
            done = duplex.shutdownOutput();
        } else {
            ch.close();
            return;
        }
        done.addListener(f -> ch.eventLoop().schedule(() -> ch.close(), LINGER_MILLIS, TimeUnit.MILLISECONDS));
    }

    private static HttpServerCodec httpCodec(HeraldConfig c) {
        // The request line may hold the method, the target and the version: allow for them around the URI.
        return new HttpServerCodec(c.maxUriLength() + 64, c.maxHeaderListSize(), 16 * 1024);
    }

    static Http2FrameCodec frameCodec(ServerContext server, Channel ch) {
        HeraldConfig c = server.config;
        Http2Settings settings = Http2Settings.defaultSettings()
                .maxConcurrentStreams(c.maxConcurrentStreams())
                .initialWindowSize(c.initialWindowSize())
                .maxFrameSize(c.maxFrameSize())
                .maxHeaderListSize(c.maxHeaderListSize());
        // No ENABLE_PUSH: it is meaningless from a server, and Netty refuses to send it (RFC 9113 §6.5.2).
        Http2FrameCodecBuilder b = new CodecBuilder(server, connection(c, ch))
                .initialSettings(settings)
                .validateHeaders(true)
                .validateRequiredPseudoHeaders(true)
                .gracefulShutdownTimeoutMillis(c.shutdownTimeout().toMillis())
                .decoderEnforceMaxRstFramesPerWindow(c.maxRstFramesPerWindow(), c.rstWindowSeconds())
                .encoderEnforceMaxRstFramesPerWindow(c.maxRstFramesPerWindow(), c.rstWindowSeconds())
                .encoderEnforceMaxQueuedControlFrames(c.maxQueuedControlFrames())
                .decoderEnforceMaxConsecutiveEmptyDataFrames(c.maxConsecutiveEmptyDataFrames());
        if (FRAMES.isEnabled()) {
            b.frameLogger(FRAMES);
        }
        return b.build();
    }

    /**
     * The connection's state, with Netty's flow controller and priority-tree distributor, wrapped in the
     * {@link LatencyOptimizedDistributor} ({@code http2.latency-optimization.*}) and in {@link Http2WriteProgress}
     * ({@code send-timeout}). Netty's builder makes the same connection itself unless given one.
     */
    private static Http2Connection connection(HeraldConfig c, Channel ch) {
        DefaultHttp2Connection connection = new DefaultHttp2Connection(true);
        LatencyOptimizedDistributor distributor = new LatencyOptimizedDistributor(
                new WeightedFairQueueByteDistributor(connection), connection,
                TimeUnit.NANOSECONDS.toMicros(c.latencyOptimizationMinRtt().toNanos()),
                c.latencyOptimizationMaxCwnd());
        distributor.channel(ch);
        connection.remote().flowController(new DefaultHttp2RemoteFlowController(connection,
                Http2WriteProgress.attach(ch, connection, distributor)));
        return connection;
    }

    /** {@link Http2FrameCodecBuilder#forServer()} with a connection of Herald's making, building a {@link FrameCodec}. */
    private static final class CodecBuilder extends Http2FrameCodecBuilder {
        private final ServerContext server;

        CodecBuilder(ServerContext server, Http2Connection connection) {
            this.server = server;
            connection(connection);
        }

        @Override
        protected Http2FrameCodec build(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder,
                                        Http2Settings initialSettings) {
            FrameCodec codec = new FrameCodec(server, encoder, decoder, initialSettings, decoupleCloseAndGoAway(),
                    flushPreface());
            codec.gracefulShutdownTimeoutMillis(gracefulShutdownTimeoutMillis());
            return codec;
        }
    }

    /**
     * Netty's frame codec, with Herald's answer to a header block over {@code http2.max-header-list-size}. Netty
     * answers it before any stream handler exists, with a bare 431 HEADERS, then resets the stream. Herald sends
     * the 431 like its other errors (JSON body, {@code date}) and logs the limit. The body is handed to the flow
     * controller and written out at once, ahead of the reset that closes the stream (a stream opens with the
     * client's initial window, and the body is about a hundred bytes; should the client have opened none, the
     * reset drops it and the client still has the 431).
     */
    static final class FrameCodec extends Http2FrameCodec {
        private final ServerContext server;

        FrameCodec(ServerContext server, Http2ConnectionEncoder encoder, Http2ConnectionDecoder decoder,
                   Http2Settings initialSettings, boolean decoupleCloseAndGoAway, boolean flushPreface) {
            super(encoder, decoder, initialSettings, decoupleCloseAndGoAway, flushPreface);
            this.server = server;
        }

        /**
         * Netty closes the connection for an error it ran into while Herald wrote or flushed (INTERNAL_ERROR, "Error
         * flushing") without a word: only the client learns of it. Such an error is Herald's own fault, so it is
         * logged with its cause; a failed write to a connection the client reset or Herald closed (an I/O error
         * somewhere in the chain) is the client's doing or expected, and is only debug.
         */
        @Override
        protected void onConnectionError(ChannelHandlerContext ctx, boolean outbound, Throwable cause,
                                         Http2Exception http2Ex) {
            if (outbound) {
                if (causedByIo(cause)) {
                    LOG.debug("HTTP/2 connection from {} failed while writing: {}",
                            ConnectionInfo.of(ctx.channel()).remote, cause.toString());
                } else {
                    LOG.warn("HTTP/2 connection from {} closed by an error while writing ({})",
                            ConnectionInfo.of(ctx.channel()).remote, http2Ex == null ? "-" : http2Ex.error(), cause);
                }
            }
            super.onConnectionError(ctx, outbound, cause, http2Ex);
        }

        static boolean causedByIo(Throwable cause) {
            for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
                if (t instanceof java.io.IOException) {
                    return true;
                }
            }
            return false;
        }

        @Override
        protected void handleServerHeaderDecodeSizeError(ChannelHandlerContext ctx, Http2Stream stream) {
            Response response = server.headersTooLarge(ConnectionInfo.of(ctx.channel()).remote,
                    "HTTP/2 header list of stream " + stream.id());
            byte[] body = response.bytes();
            Http2Headers headers = new DefaultHttp2Headers()
                    .status(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE.codeAsText())
                    .addInt("content-length", body.length)
                    .add("date", DateHeader.SYSTEM.now());
            response.headers().forEach(headers::add);
            encoder().writeHeaders(ctx, stream.id(), headers, 0, false, ctx.newPromise());
            encoder().writeData(ctx, stream.id(), Unpooled.wrappedBuffer(body), 0, true, ctx.newPromise());
            try {
                encoder().flowController().writePendingBytes();
            } catch (Http2Exception e) {
                LOG.debug("431 body not written on stream {}", stream.id(), e);
            }
        }
    }

    /**
     * The read loop of every stream channel. A stream channel reads frames its connection already decoded, so it
     * only needs Netty's count of messages per read (16, Netty's default for these channels); the default adaptive
     * allocator also keeps its own instance and a byte-size calculator, 72 bytes per stream (class histogram) that a
     * long-running stream holds for hours. One allocator serves every stream; each stream gets its own small handle on its first read.
     */
    private static final RecvByteBufAllocator STREAM_READS = new DefaultMaxMessagesRecvByteBufAllocator(16) {
        @Override
        public Handle newHandle() {
            return new MaxMessageHandle() {
                @Override
                public int guess() {
                    return 1024; // never used to allocate: the frames are already read
                }
            };
        }
    };

    /** The stream multiplexer of {@code connection}, whose streams share one {@link BodyBudget}. */
    static Http2MultiplexHandler multiplexer(ServerContext server, Channel connection) {
        BodyBudget bodies = BodyBudget.of(server, connection);
        return new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel ch) {
                ch.config().setRecvByteBufAllocator(STREAM_READS);
                ch.pipeline().addLast(new Http2StreamHandler(server, bodies));
            }
        });
    }

    static void addHttp2(ChannelPipeline p, String after, ServerContext server) {
        limitSendQueue(p.channel(), server.config.sendBuffer());
        String codec = "h2-codec";
        String mux = "h2-mux";
        p.addAfter(after, codec, frameCodec(server, p.channel()));
        String refusal = ConnectionInfo.of(p.channel()).refusal;
        if (refusal != null) {
            p.addAfter(codec, "h2-refuse", new ConnectionLimits.RefuseHttp2(refusal));
            return;
        }
        p.addAfter(codec, mux, multiplexer(server, p.channel()));
        p.addAfter(mux, "h2-observer", new Http2ConnectionObserver(server));
    }

    /**
     * {@code http2.send-buffer}: keeps what waits below Netty's HTTP/2 flow controller short, so that stream
     * priorities (a page before its pushes; a browser's document before its assets) still decide the order when a
     * response becomes ready behind others. The kernel holds about {@code bytes} unsent ({@code TCP_NOTSENT_LOWAT}:
     * the socket reports writable only below it; epoll only), and the channel turns unwritable above {@code bytes}
     * and writable again only once its outbound buffer is empty (low water mark 1), so the rest waits in the flow
     * controller, per stream, where a more urgent stream overtakes it. Without it the kernel's send buffer grows
     * with the congestion window (megabytes) and a page requested during a download waits behind all of it.
     * Two things stay out of reach: Netty's flow controller writes at least 32 KiB per pass, and the kernel fills
     * its last segment-to-be (up to half the peer's window) before it checks the limit. HTTP/2 only: HTTP/1.1 has
     * one response at a time, nothing to reorder.
     */
    private static void limitSendQueue(Channel ch, int bytes) {
        if (bytes <= 0) {
            return;
        }
        ch.config().setWriteBufferWaterMark(new WriteBufferWaterMark(1, bytes));
        if (ch.config() instanceof EpollSocketChannelConfig epoll) {
            epoll.setTcpNotSentLowAt(bytes);
        }
    }

    /** Chooses h2 or http/1.1 after the TLS handshake. */
    private static final class Alpn extends ApplicationProtocolNegotiationHandler {
        private final ServerContext server;

        Alpn(ServerContext server) {
            super(ApplicationProtocolNames.HTTP_1_1);
            this.server = server;
        }

        @Override
        protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
            ChannelPipeline p = ctx.pipeline();
            ConnectionInfo info = ConnectionInfo.of(ctx.channel());
            if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                info.protocol = Protocol.H2;
                addHttp2(p, ctx.name(), server);
            } else if (ApplicationProtocolNames.HTTP_1_1.equals(protocol)) {
                info.protocol = Protocol.HTTPS_1_1;
                p.addAfter(ctx.name(), "http1-codec", httpCodec(server.config));
                p.addAfter("http1-codec", AGGREGATOR, aggregator(server));
                p.addAfter(AGGREGATOR, CHUNKED, new ChunkedWriteHandler());
                p.addAfter(CHUNKED, "http1", new Http1Handler(server));
            } else {
                throw new IllegalStateException("unknown ALPN protocol: " + protocol);
            }
        }

        @Override
        protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
            LOG.debug("{}: TLS handshake failed: {}", ctx.channel(), cause.toString());
            ctx.close();
        }
    }

    /** Installed by the h2c detector when the client opens with the HTTP/2 preface. */
    private static final class PriorKnowledge extends ChannelInboundHandlerAdapter {
        private final ServerContext server;

        PriorKnowledge(ServerContext server) {
            this.server = server;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            ConnectionInfo.of(ctx.channel()).protocol = Protocol.H2C;
            addHttp2(ctx.pipeline(), ctx.name(), server);
            ctx.pipeline().remove(this);
        }
    }
}
