package dev.herald.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.DefaultFileRegion;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpChunkedInput;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http2.CleartextHttp2ServerUpgradeHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.ReadTimeoutException;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;

/**
 * Serves HTTP/1.1 (over TLS when ALPN picked http/1.1, or cleartext when the client neither spoke the h2c
 * preface nor asked to upgrade). Requests arrive aggregated by {@code HttpObjectAggregator}; pipelined requests
 * are answered strictly in order, one at a time, with a bounded queue.
 */
final class Http1Handler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(Http1Handler.class);
    /** Pipelined requests queued behind the one being answered before reading stops until they are answered. */
    private static final int MAX_PIPELINED = 16;
    /** Queued at most: what one read buffer can still hold once reading stopped; more closes the connection. */
    private static final int MAX_QUEUED = 1024;

    private final ServerContext server;
    private final ArrayDeque<FullHttpRequest> queued = new ArrayDeque<>();
    /** Body bytes of the queued requests: at most {@code max-request-body} wait, whatever their number. */
    private long queuedBytes;
    private Exchange1 current;
    private Stream1 stream;
    private boolean closeWhenIdle;

    Http1Handler(ServerContext server) {
        this.server = server;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest)) {
            ctx.fireChannelRead(msg);
            return;
        }
        FullHttpRequest req = (FullHttpRequest) msg;
        if (current == null) {
            start(ctx, req);
        } else if (queuedBytes + req.content().readableBytes() > server.config.maxRequestBody()) {
            // Behind a long-running response, 16 pipelined bodies of max-request-body each would wait forever.
            server.limitLog.exceeded("max-request-body", ConnectionInfo.of(ctx.channel()).remote,
                    "HTTP/1.1 pipelined request bodies waiting over " + server.config.maxRequestBody()
                            + " bytes: connection closed");
            req.release();
            ctx.close();
        } else if (queued.size() < MAX_QUEUED) {
            queued.add(req);
            queuedBytes += req.content().readableBytes();
            if (queued.size() >= MAX_PIPELINED && ctx.channel().config().isAutoRead()) {
                // Backpressure, as nginx does: the client waits in TCP for the answers to catch up.
                ctx.channel().config().setAutoRead(false);
            }
        } else {
            // Only requests already in the last read buffer can get here: reading stopped at MAX_PIPELINED.
            server.limitLog.exceeded("http1 pipelined requests", ConnectionInfo.of(ctx.channel()).remote,
                    MAX_QUEUED + " pipelined requests waiting in one read: connection closed");
            req.release();
            ctx.close();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof HttpServerUpgradeHandler.UpgradeEvent
                || evt instanceof CleartextHttp2ServerUpgradeHandler.PriorKnowledgeUpgradeEvent) {
            // The connection became HTTP/2: the HTTP/1.1 tail of the pipeline steps aside.
            ConnectionInfo.of(ctx.channel()).protocol = Protocol.H2C;
            removeHttp1Tail(ctx);
        } else if (evt == ShutdownEvent.INSTANCE) {
            closeWhenIdle = true;
            if (current == null) {
                ctx.close();
            }
            return;
        } else if (evt instanceof IdleStateEvent && current == null) {
            ctx.close();
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    private static void removeHttp1Tail(ChannelHandlerContext ctx) {
        var p = ctx.pipeline();
        for (String name : new String[] {Pipelines.AGGREGATOR, Pipelines.CHUNKED}) {
            if (p.get(name) != null) {
                p.remove(name);
            }
        }
        p.remove(ctx.handler());
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        queued.forEach(ReferenceCountUtil::release);
        queued.clear();
        queuedBytes = 0;
        if (stream != null) {
            stream.closed(false);
        }
        if (current != null) {
            // closed with a request in flight or just answered with "connection: close": next() will not run
            current = null;
            server.metrics.openStreams.decrementAndGet();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (stream != null) {
            stream.writabilityChanged();
        }
        ctx.fireChannelWritabilityChanged();
    }

    private void start(ChannelHandlerContext ctx, FullHttpRequest req) {
        ConnectionInfo conn = ConnectionInfo.of(ctx.channel());
        server.metrics.openStreams.incrementAndGet();
        try {
            Headers headers = new Headers();
            for (Map.Entry<String, String> e : req.headers()) {
                headers.add(e.getKey(), e.getValue());
            }
            byte[] body = ByteBufUtil.getBytes(req.content());
            boolean http10 = req.protocolVersion().equals(HttpVersion.HTTP_1_0);
            List<String> hosts = req.headers().getAll(HttpHeaderNames.HOST);
            String host = hosts.isEmpty() ? null : hosts.get(0);
            String target = req.uri();
            String[] absolute = absoluteForm(target);
            if (absolute != null) {
                // RFC 9112 §3.2.2: the target's authority replaces Host, the rest is served as origin-form
                host = absolute[0];
                target = absolute[1];
            }
            Request request = new Request(req.method().name(), target, conn.scheme(), host, conn.protocol, headers,
                    body, conn.id, ++conn.requestCount, conn.remote);
            current = new Exchange1(ctx, request, HttpUtil.isKeepAlive(req) && !closeWhenIdle);
            current.http10 = http10;
            String badTarget = absolute == null ? badTarget(target) : null;
            String badHost = badHost(hosts, http10);
            if (badHost == null && absolute != null) {
                badHost = badHost(List.of(absolute[0]), true);
            }
            String transferCoding = Headers.firstCodingOtherThan(
                    req.headers().getAll(HttpHeaderNames.TRANSFER_ENCODING), "chunked");
            if (conn.refusal != null) {
                current.keepAlive = false;
                current.respond(Response.error(503, "too many connections", conn.refusal)
                        .header("retry-after", ConnectionLimits.RETRY_AFTER_SECONDS));
            } else if (!req.decoderResult().isSuccess()) {
                current.respond(decodeError(req.decoderResult().cause(), !req.headers().isEmpty()));
            } else if (req.uri().length() > server.config.maxUriLength()) {
                current.respond(Response.error(414, "uri too long", "the request target has " + req.uri().length()
                        + " characters, more than max-uri-length " + server.config.maxUriLength()));
            } else if (badTarget != null || badHost != null) {
                LOG.debug("{}: refused with 400: {}", request, badTarget != null ? badTarget : badHost);
                current.keepAlive = false;
                current.respond(Response.error(400, "bad request", badTarget != null ? badTarget : badHost));
            } else if (transferCoding != null) {
                // RFC 9112 §6.1: a transfer coding the server does not understand is 501; Netty unframed the
                // chunked body and took the rest (gzip, ...) as plain bytes
                LOG.info("{}: refused with 501: transfer coding {}", request, transferCoding);
                current.keepAlive = false;
                current.respond(Response.error(501, "not implemented", "transfer coding " + transferCoding
                        + " is not supported (only chunked)"));
            } else if (unsupportedExpectation(req)) {
                // after its body, which the aggregator read as a body (Pipelines.aggregator): the connection goes on
                current.respond(Response.error(417, "expectation failed", "Expect: "
                        + String.join(", ", req.headers().getAll(HttpHeaderNames.EXPECT))
                        + " is not supported (only 100-continue)"));
            } else {
                current.dispatch();
            }
        } finally {
            req.release();
        }
    }

    private Response decodeError(Throwable cause, boolean headersRead) {
        current.keepAlive = false;
        if (cause instanceof TooLongHttpLineException && headersRead) {
            // after the head: a chunk-size line (with a long extension), not the request line
            return Response.error(400, "bad request", "a chunk-size line of the body is too long");
        }
        if (cause instanceof TooLongHttpLineException) {
            return Response.error(414, "uri too long", "the request line is over max-uri-length "
                    + server.config.maxUriLength());
        }
        if (cause instanceof TooLongHttpHeaderException) {
            return server.headersTooLarge(current.request().remote(), "HTTP/1.1 header");
        }
        if (cause instanceof TooLongFrameException) {
            server.limitLog.exceeded("max-request-body", current.request().remote(),
                    "HTTP/1.1 body over " + server.config.maxRequestBody() + " bytes: 413");
            return Response.error(413, "payload too large", "the request body exceeds max-request-body, "
                    + server.config.maxRequestBody() + " bytes");
        }
        if (cause instanceof ReadTimeoutException) {
            long ms = server.config.idleTimeout().toMillis();
            Request r = current.request();
            server.limitLog.exceeded("idle-timeout", r.remote(), "HTTP/1.1 request body incomplete, nothing written for "
                    + ms + " ms, connection " + r.connectionId() + " " + r.method() + " " + r.path() + ": 408");
            return Response.error(408, "request timeout", "the request body was still incomplete after " + ms + " ms");
        }
        LOG.debug("{}: malformed HTTP/1.1 request, refused with 400: {}", current.request().remote(),
                cause.toString());
        return Response.error(400, "bad request", "malformed HTTP/1.1 request: " + cause.getMessage());
    }

    /** An {@code Expect} other than {@code 100-continue} on an HTTP/1.1 request (HTTP/1.0 has none, RFC 9110 §10.1.1). */
    static boolean unsupportedExpectation(HttpMessage m) {
        if (m.protocolVersion().compareTo(HttpVersion.HTTP_1_1) < 0) {
            return false;
        }
        for (String field : m.headers().getAll(HttpHeaderNames.EXPECT)) {
            for (String value : field.split(",")) {
                if (!HttpHeaderValues.CONTINUE.contentEqualsIgnoreCase(value.trim())) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * The authority and the origin-form rest ({@code /path?query}) of an absolute-form target ({@code
     * http://host/path}, RFC 9112 §3.2.2), which a server must accept; null for every other form, and for an
     * absolute-form target with no host or with user info (then {@link #badTarget} refuses it). The rest is left to
     * the same checks as an origin-form target, byte for byte.
     */
    static String[] absoluteForm(String target) {
        int start = target.regionMatches(true, 0, "http://", 0, 7) ? 7
                : target.regionMatches(true, 0, "https://", 0, 8) ? 8 : -1;
        if (start < 0) {
            return null;
        }
        int end = start;
        while (end < target.length() && "/?#".indexOf(target.charAt(end)) < 0) {
            end++;
        }
        String authority = target.substring(start, end);
        if (authority.isEmpty() || authority.indexOf('@') >= 0) {
            return null;
        }
        String rest = target.substring(end);
        return new String[] {authority, rest.isEmpty() || rest.charAt(0) != '/' ? "/" + rest : rest};
    }

    /** Why an origin-form target (or "*") is refused, or null; absolute-form ones are {@link #absoluteForm}'s. */
    static String badTarget(String target) {
        if (target.startsWith("/") || target.equals("*")) {
            return null;
        }
        return target.regionMatches(true, 0, "http", 0, 4)
                ? "the absolute-form request target is not a valid http(s) URI with a host and no user info"
                : "the request target must start with / (origin-form) or be an absolute http(s) URI";
    }

    /**
     * Why the Host header fields are refused (RFC 9112 §3.2: none in HTTP/1.1, more than one, or an invalid value),
     * or null. An empty value is allowed.
     */
    static String badHost(List<String> hosts, boolean http10) {
        if (hosts.isEmpty()) {
            return http10 ? null : "an HTTP/1.1 request needs a Host header";
        }
        if (hosts.size() > 1) {
            return "more than one Host header";
        }
        return validAuthority(hosts.get(0)) ? null : "the Host header is not a valid host[:port]";
    }

    /**
     * {@code uri-host [":" port]} (RFC 9110 §7.2, RFC 3986 §3.2.2): an IP literal in brackets or a name of URI
     * characters with no colon, then an optional port of at most five digits (nginx and h2o also refuse a port
     * that is not digits). The text inside the brackets is not parsed further.
     */
    private static boolean validAuthority(String authority) {
        int portColon;
        if (authority.startsWith("[")) {
            int close = authority.indexOf(']');
            if (close < 0 || !uriChars(authority, 1, close, ":.")) {
                return false;
            }
            portColon = close + 1;
            if (portColon < authority.length() && authority.charAt(portColon) != ':') {
                return false;
            }
        } else {
            portColon = authority.indexOf(':');
            if (portColon < 0) {
                portColon = authority.length();
            }
            if (!uriChars(authority, 0, portColon, "-._~%!$&'()*+,;=")) {
                return false;
            }
        }
        int digits = authority.length() - portColon - 1;
        if (digits < 0) {
            return true;
        }
        if (digits > 5) {
            return false;
        }
        for (int i = portColon + 1; i < authority.length(); i++) {
            char c = authority.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return digits == 0 || Integer.parseInt(authority, portColon + 1, authority.length(), 10) <= 65535;
    }

    private static boolean uriChars(String s, int from, int to, String others) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || others.indexOf(c) >= 0)) {
                return false;
            }
        }
        return true;
    }

    private void next(ChannelHandlerContext ctx) {
        current = null;
        stream = null;
        server.metrics.openStreams.decrementAndGet();
        FullHttpRequest req = queued.poll();
        if (queued.size() < MAX_PIPELINED / 2 && !ctx.channel().config().isAutoRead() && !closeWhenIdle) {
            ctx.channel().config().setAutoRead(true); // room again: read the client's next requests
        }
        if (req != null) {
            queuedBytes -= req.content().readableBytes();
            start(ctx, req);
        } else if (closeWhenIdle) {
            ctx.close();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("{}: HTTP/1.1 connection failed: {}", ctx.channel(), cause.toString());
        ctx.close();
    }

    /** A long-running response as chunks; the connection serves the next request after it ends. */
    private final class Stream1 extends AbstractResponseStream {
        private final ChannelHandlerContext ctx;
        private final boolean keepAlive;

        Stream1(ChannelHandlerContext ctx, AbstractExchange exchange, int status, boolean keepAlive) {
            super(ctx.channel(), exchange, status);
            this.ctx = ctx;
            this.keepAlive = keepAlive;
        }

        @Override
        void writeChunk(ByteBuf chunk) {
            ctx.writeAndFlush(new DefaultHttpContent(chunk));
        }

        @Override
        void writeEnd() {
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener((ChannelFutureListener) f -> {
                closed(f.isSuccess());
                if (!f.isSuccess() || !keepAlive) {
                    ctx.close();
                } else {
                    next(ctx);
                }
            });
        }
    }

    /** The HTTP/1.1 side of an exchange. */
    private final class Exchange1 extends AbstractExchange {
        private final ChannelHandlerContext ctx;
        boolean keepAlive;
        /** HTTP/1.0 clients get no 1xx responses (RFC 9110 §15.2). */
        boolean http10;

        Exchange1(ChannelHandlerContext ctx, Request request, boolean keepAlive) {
            super(Http1Handler.this.server, ctx.channel(), request);
            this.ctx = ctx;
            this.keepAlive = keepAlive;
        }

        @Override
        void write(Response response) {
            boolean body = sendsBody(response);
            HttpResponseStatus status = HttpResponseStatus.valueOf(response.status());
            HttpResponse head = body && response.bytes() != null
                    ? new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                            Unpooled.wrappedBuffer(response.bytes()))
                    : body ? new DefaultHttpResponse(HttpVersion.HTTP_1_1, status)
                    : new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.EMPTY_BUFFER);
            response.headers().forEach((n, v) -> head.headers().add(n, v));
            if (response.sendsContentLength()) {
                head.headers().set(HttpHeaderNames.CONTENT_LENGTH, response.contentLength());
            }
            if (closeWhenIdle && queued.isEmpty()) {
                keepAlive = false;
            }
            if (!keepAlive) {
                head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            } else if (http10) {
                // An HTTP/1.0 client keeps the connection only when told so (RFC 9112 Appendix C.2.2), as ab -k does
                head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            }
            ChannelFuture last = ctx.write(head);
            if (body && response.file() != null) {
                last = writeFile(response);
            }
            ctx.flush();
            int code = response.status();
            long len = body ? response.contentLength() : 0;
            boolean close = !keepAlive;
            last.addListener((ChannelFutureListener) f -> {
                completed(code, f.isSuccess() ? len : -1, f.isSuccess() ? null : "reset");
                if (!f.isSuccess()) {
                    if (body && response.file() != null) {
                        FileChunks.logIfShrunk(request, response.file(), response.fileOffset(),
                                response.fileLength());
                    }
                    ctx.close();
                } else if (close) {
                    // unread request bytes (a refused body) must not turn the close into a reset the answer is lost to
                    Pipelines.lingeringClose(ctx.channel());
                } else {
                    next(ctx);
                }
            });
        }

        @Override
        boolean earlyHints(List<String> linkValues) {
            if (http10) {
                return false;
            }
            DefaultFullHttpResponse hints = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.valueOf(103), Unpooled.EMPTY_BUFFER);
            linkValues.forEach(v -> hints.headers().add("link", v));
            ctx.writeAndFlush(hints);
            return true;
        }

        @Override
        AbstractResponseStream openStream(int status, Headers headers) {
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status));
            headers.forEach((n, v) -> head.headers().add(n, v));
            if (http10) {
                // RFC 9112 §6.1: no chunked coding for an HTTP/1.0 client; the body ends where the connection does
                keepAlive = false;
            } else {
                HttpUtil.setTransferEncodingChunked(head, true);
            }
            if (closeWhenIdle) {
                keepAlive = false;
            }
            if (!keepAlive) {
                head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            }
            ctx.writeAndFlush(head);
            stream = new Stream1(ctx, this, status, keepAlive);
            return stream;
        }

        private ChannelFuture writeFile(Response response) {
            try {
                if (!ConnectionInfo.of(ctx.channel()).secure) {
                    // Cleartext: zero-copy sendfile, written as the socket drains; Netty fails the write if the
                    // file turns out shorter than the region.
                    ctx.write(new DefaultFileRegion(FileChannel.open(response.file(), StandardOpenOption.READ),
                            response.fileOffset(), response.fileLength()));
                    return ctx.write(LastHttpContent.EMPTY_LAST_CONTENT);
                }
                return ctx.write(new HttpChunkedInput(
                        FileChunks.open(response.file(), response.fileOffset(), response.fileLength()),
                        LastHttpContent.EMPTY_LAST_CONTENT));
            } catch (IOException e) {
                // The status line is already written: the only honest signal left is closing the connection.
                LOG.warn("{}: cannot read {}: {}", request, response.file(), e.toString());
                keepAlive = false;
                return ctx.write(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
            }
        }
    }
}
