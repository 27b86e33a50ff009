package dev.herald.server;

import dev.herald.config.HeraldConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.EmptyHttp2Headers;
import io.netty.handler.codec.http2.Http2DataChunkedInput;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.stream.ChunkedWriteHandler;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Handles one HTTP/2 stream, in its own child channel of {@code Http2MultiplexHandler}: collects the request
 * (headers, a body bounded by {@code max-request-body}, and with the connection's other incomplete bodies by its
 * {@link BodyBudget}), hands it to the application, and writes the response
 * as HEADERS and DATA frames. The child channel's writability follows the stream's flow-control window, so file
 * bodies go through {@link ChunkedWriteHandler} and never sit in memory beyond one chunk.
 *
 * <p>A request that stops arriving (no END_STREAM yet, and no HEADERS or DATA frame for {@code idle-timeout}) is
 * answered 408 and reset, and its body released, like nginx's {@code client_body_timeout}: the connection's own
 * idle timeout cannot see it, since the stream is open. Once the request is complete the timeout no longer applies,
 * so long-running responses are never cut by it.
 *
 * <p>A response whose data waits for the client's flow-control window (the stream's or the connection's) with none of
 * it sent for {@code send-timeout} is reset with CANCEL ({@link #checkSend}), which closes its file: a client that
 * opens streams and never reads them must not hold them, nor their files, for good. A stream that waits for anything
 * else (the socket, the streams ahead of it) is not cut here; a connection whose client takes nothing at all is
 * closed by {@link SendTimeoutHandler}.
 */
final class Http2StreamHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(Http2StreamHandler.class);

    final ServerContext server;
    private Http2Headers headers;
    /** The request body so far: a copy, since a frame's content is a slice that would pin the connection's reads. */
    private ByteBuf body;
    /** What this connection's incomplete request bodies may hold; null on a pushed stream, which has no body. */
    private final BodyBudget bodies;
    private boolean requestComplete;
    private Exchange2 exchange;
    private Stream2 stream;
    /** For a pushed stream: its connection's pusher, the promised request, and where the push stands. */
    private final Http2Pusher pusher;
    Request pushedRequest;
    Http2Pusher.State state;
    /** For a pushed stream: the page it was promised for, its send order, and how it went. */
    PagePushes page;
    HeraldConfig.PushPriority priority;
    /** DATA bytes of this stream the connection has written to the socket. */
    long sentBytes;
    /** The error code of the client's RST_STREAM, or -1. */
    long resetCode = -1;
    /** Whether the whole response was written. */
    boolean completedOk;
    /** Whether this push (priority BEFORE) still holds its page's body. */
    boolean holdsPageBody;
    private ChannelHandlerContext ctx;
    /** When the last frame of the incomplete request arrived ({@code idle-timeout} counts from it). */
    private long lastRequestFrame;
    private io.netty.util.concurrent.Future<?> requestTimer;
    private boolean requestTimedOut;
    /** {@code send-timeout}: since when the current wait of this stream's response is watched, and the next check. */
    private long sendWaitStart;
    private io.netty.util.concurrent.Future<?> sendCheck;
    /** Whether {@code send-timeout} reset this stream: its response's failure then needs no reset of its own. */
    private boolean sendTimedOut;

    /** The handler of a stream the client opened, on a connection whose request bodies share {@code bodies}. */
    Http2StreamHandler(ServerContext server, BodyBudget bodies) {
        this(server, bodies, null);
    }

    /** The handler of a stream the server promised ({@code pusher} non-null). */
    Http2StreamHandler(ServerContext server, Http2Pusher pusher) {
        this(server, null, pusher);
    }

    private Http2StreamHandler(ServerContext server, BodyBudget bodies, Http2Pusher pusher) {
        this.server = server;
        this.bodies = bodies;
        this.pusher = pusher;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /**
     * A BEFORE push blocked by the client's flow-control window that makes no progress for {@link #STALL_NANOS}
     * releases its page's body: a client that does not read the push must not hold the page. Progress is DATA
     * reaching the socket; a responsive client's WINDOW_UPDATEs keep it going.
     */
    private void watchForStall(ChannelHandlerContext ctx, long sentBefore) {
        stallCheckPending = true;
        ctx.executor().schedule(() -> {
            stallCheckPending = false;
            if (!holdsPageBody || state != Http2Pusher.State.OPEN || ctx.channel().isWritable()) {
                return;
            }
            if (sentBytes == sentBefore) {
                LOG.debug("stream {}: push stalled on the client's window, the page goes on", streamId(ctx));
                releasePageBody();
            } else {
                watchForStall(ctx, sentBytes);
            }
        }, STALL_NANOS, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /** How long a BEFORE push blocked on flow control may go without progress before the page goes on. */
    static final long STALL_NANOS = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(250);
    private boolean stallCheckPending;

    /** Lets this push's page send its body, if this push was holding it. */
    void releasePageBody() {
        if (holdsPageBody) {
            holdsPageBody = false;
            page.bodyReleased();
        }
    }

    /** Serves the promised request through the application, on the event loop (called by the pusher). */
    void startPush() {
        requestComplete = true;
        ctx.pipeline().addFirst(PUSH_GUARD, new PushGuard());
        exchange = new Exchange2(ctx, pushedRequest, true);
        exchange.dispatch();
    }

    private static final String PUSH_GUARD = "herald-push-guard";

    /**
     * First in a pushed stream's pipeline: counts the DATA bytes that reach the socket (a write's promise
     * completes then), and drops frames once the client has reset the stream. Without it a frame still queued
     * above (in the chunked-file writer, waiting for writability) could be flushed after the reset, and Netty would
     * take a HEADERS frame on the closed promised stream for a new stream behind the last one: a connection error.
     */
    private final class PushGuard extends ChannelOutboundHandlerAdapter {
        @Override
        public void write(ChannelHandlerContext c, Object msg, ChannelPromise promise) {
            Http2FrameStream s = ((Http2StreamChannel) c.channel()).stream();
            if (resetCode >= 0 || s.state() == Http2Stream.State.CLOSED) {
                ReferenceCountUtil.release(msg);
                promise.setFailure(new java.nio.channels.ClosedChannelException());
                return;
            }
            if (msg instanceof Http2HeadersFrame && s.state() == Http2Stream.State.RESERVED_LOCAL
                    && !pusher.mayOpen()) {
                // The client lowered MAX_CONCURRENT_STREAMS after this push started: opening the stream now would
                // break the limit (a connection error in Netty). Cancel it instead.
                LOG.debug("stream {}: the client's MAX_CONCURRENT_STREAMS leaves no room, push cancelled",
                        s.id());
                resetCode = Http2Error.REFUSED_STREAM.code(); // counted as refused; later writes are dropped
                ReferenceCountUtil.release(msg);
                promise.setFailure(new java.nio.channels.ClosedChannelException());
                c.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL)).addListener(ChannelFutureListener.CLOSE);
                return;
            }
            if (msg instanceof Http2DataFrame d) {
                int n = d.content().readableBytes();
                promise = promise.unvoid();
                promise.addListener(f -> {
                    if (f.isSuccess()) {
                        sentBytes += n;
                    }
                });
            }
            c.write(msg, promise);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2ResetFrame r) {
            // Http2MultiplexHandler hands a client's RST_STREAM to the stream as an event, not a read.
            resetCode = r.errorCode();
            LOG.debug("stream {} reset by client: {}{}", streamId(ctx), r.errorCode(),
                    pusher != null ? " (push cancelled)" : "");
        }
        ctx.fireUserEventTriggered(evt);
        if (evt instanceof Http2ResetFrame && pusher != null) {
            // Stop the push at once and free its slot (RFC 9113 §8.4); the stream is closed already.
            ctx.channel().close();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        server.metrics.openStreams.incrementAndGet();
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        server.metrics.openStreams.decrementAndGet();
        stopRequestTimer();
        if (sendCheck != null) {
            sendCheck.cancel(false);
            sendCheck = null;
        }
        release();
        if (stream != null) {
            stream.closed(false);
        }
        if (exchange != null && exchange.pushes != null) {
            exchange.pushes.pageDone();
        }
        if (pusher != null) {
            pusher.closed(this);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (!ctx.channel().isWritable() && holdsPageBody && !stallCheckPending) {
            watchForStall(ctx, sentBytes);
        }
        if (!ctx.channel().isWritable()) {
            watchSend(ctx);
        }
        if (stream != null) {
            stream.writabilityChanged();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof Http2HeadersFrame) {
                onHeaders(ctx, (Http2HeadersFrame) msg);
            } else if (msg instanceof Http2DataFrame) {
                onData(ctx, (Http2DataFrame) msg);
            }
            if (!requestComplete && !requestTimedOut) {
                requestFrameArrived(ctx);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    /** A frame of the still incomplete request: the request timeout starts, or starts over. */
    private void requestFrameArrived(ChannelHandlerContext ctx) {
        lastRequestFrame = ctx.executor().ticker().nanoTime();
        if (requestTimer == null) {
            watchRequest(ctx, server.config.idleTimeout().toNanos());
        }
    }

    /** One timer per incomplete request, moved on to the next deadline rather than rescheduled per frame. */
    private void watchRequest(ChannelHandlerContext ctx, long delayNanos) {
        requestTimer = ctx.executor().schedule(() -> {
            requestTimer = null;
            if (requestComplete || !ctx.channel().isActive()) {
                return;
            }
            long timeout = server.config.idleTimeout().toNanos();
            long idle = ctx.executor().ticker().nanoTime() - lastRequestFrame;
            if (idle < timeout && !requestTimedOut) {
                watchRequest(ctx, timeout - idle);
            } else {
                requestTimedOut(ctx);
            }
        }, delayNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    private void stopRequestTimer() {
        if (requestTimer != null) {
            requestTimer.cancel(false);
            requestTimer = null;
        }
    }

    /**
     * No frame of this request for {@code idle-timeout}: 408 if no response has started (the exchange then resets
     * the stream with NO_ERROR once the 408 is written, as after any early answer), else, or if the 408 itself is
     * still not delivered one timeout later (a client that does not read), RST_STREAM(CANCEL).
     */
    private void requestTimedOut(ChannelHandlerContext ctx) {
        boolean first = !requestTimedOut;
        requestTimedOut = true;
        release();
        long ms = server.config.idleTimeout().toMillis();
        String what = "HTTP/2 request incomplete, no frame for " + ms + " ms";
        if (exchange == null) {
            answerEarly(ctx, "idle-timeout", what, Response.error(408, "request timeout",
                    "no part of the request arrived for " + ms + " ms"));
            watchRequest(ctx, server.config.idleTimeout().toNanos());
            return;
        }
        if (first) {
            logLimit(ctx, "idle-timeout", what, "reset");
        }
        ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL)).addListener(ChannelFutureListener.CLOSE);
    }

    /**
     * Answers {@code response} before the request is complete, once {@code limit} is logged: the body so far is
     * dropped, and so is any that follows (the exchange resets the stream with NO_ERROR once the answer is written).
     */
    private void answerEarly(ChannelHandlerContext ctx, String limit, String what, Response response) {
        release();
        exchange = new Exchange2(ctx, toRequest(ctx, headers, EMPTY), false);
        headers = EmptyHttp2Headers.INSTANCE;
        logLimit(ctx, limit, what, Integer.toString(response.status()));
        exchange.respond(response);
    }

    private void logLimit(ChannelHandlerContext ctx, String limit, String what, String outcome) {
        Request r = exchange.request();
        server.limitLog.exceeded(limit, r.remote(), what + ", connection " + r.connectionId() + " stream "
                + streamId(ctx) + " " + r.method() + " " + r.path() + ": " + outcome);
    }

    /** Starts watching this stream's response for {@code send-timeout}, unless it is watched already. */
    private void watchSend(ChannelHandlerContext ctx) {
        if (sendCheck == null && ctx.channel().isActive()) {
            sendWaitStart = ctx.executor().ticker().nanoTime();
            scheduleSendCheck(ctx, server.config.sendTimeout().toNanos());
        }
    }

    private void scheduleSendCheck(ChannelHandlerContext ctx, long delayNanos) {
        sendCheck = ctx.executor().schedule(() -> checkSend(ctx), delayNanos,
                java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /**
     * {@code send-timeout} for this stream, from when its response did not go out at once or its channel turned
     * unwritable. The clock runs from the later of that moment and the last of its DATA sent
     * ({@link Http2WriteProgress}, which sees part of a frame too); at the timeout the stream is reset if frames of
     * it wait in the flow controller and the client's window, the stream's or the connection's, is what holds them.
     * A stream held by anything else (the socket, the streams ahead of it) is watched one more timeout: a busy
     * connection is not a stalled client, and one whose client takes nothing is {@link SendTimeoutHandler}'s. The
     * watch ends when nothing of the stream waits (no frame in the flow controller, its channel writable).
     */
    private void checkSend(ChannelHandlerContext ctx) {
        sendCheck = null;
        Http2WriteProgress progress = Http2WriteProgress.of(ctx.channel().parent());
        int id = streamId(ctx);
        if (!ctx.channel().isActive() || progress == null) {
            return;
        }
        boolean queued = progress.queued(id);
        if (!queued && ctx.channel().isWritable()) {
            return;
        }
        long timeout = server.config.sendTimeout().toNanos();
        long now = ctx.executor().ticker().nanoTime();
        long since = Math.max(sendWaitStart, progress.lastWrite(id));
        long waited = now - since;
        if (waited < timeout) {
            scheduleSendCheck(ctx, timeout - waited);
        } else if (queued && progress.windowShut(id, since)) {
            sendTimedOut(ctx);
        } else {
            sendWaitStart = now;
            scheduleSendCheck(ctx, timeout);
        }
    }

    /** Resets the stream with CANCEL, which also ends the file its response was read from. */
    private void sendTimedOut(ChannelHandlerContext ctx) {
        sendTimedOut = true;
        server.metrics.sendTimeoutStreams.increment();
        ConnectionInfo conn = ConnectionInfo.of(ctx.channel());
        Request r = exchange == null ? null : exchange.request();
        server.limitLog.exceeded("send-timeout", conn.remote, "HTTP/2 connection " + conn.id + " stream "
                + streamId(ctx) + (r == null ? "" : " " + r.method() + " " + r.path()) + ": data waiting for the "
                + "client's flow-control window, none sent for " + server.config.sendTimeout().toMillis()
                + " ms: RST_STREAM CANCEL");
        if (stream != null) {
            stream.beforeChildWrite(); // its DATA gathered for the connection goes before its reset
        }
        // From the head of the stream's pipeline: a chunked-file writer in it would queue the reset behind the file.
        ctx.pipeline().firstContext().writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL))
                .addListener(ChannelFutureListener.CLOSE);
    }

    private void onHeaders(ChannelHandlerContext ctx, Http2HeadersFrame frame) {
        if (headers == null) {
            headers = frame.headers();
            CharSequence len = headers.get("content-length");
            if (len != null && parseLength(len) > server.config.maxRequestBody()) {
                tooLarge(ctx);
                return;
            }
        }
        // A second HEADERS frame is the trailer section: its fields are ignored, its END_STREAM counts.
        if (frame.isEndStream()) {
            endOfRequest(ctx);
        }
    }

    private void onData(ChannelHandlerContext ctx, Http2DataFrame frame) {
        if (exchange != null || headers == null) {
            return; // body after an early answer (413, 503): dropped, the window is still returned by the multiplexer
        }
        ByteBuf content = frame.content();
        int n = content.readableBytes();
        if (n > 0) {
            if ((body == null ? 0 : body.readableBytes()) + n > server.config.maxRequestBody()) {
                tooLarge(ctx);
                return;
            }
            String limit = bodies.take(n);
            if (limit != null) {
                overBudget(ctx, limit);
                return;
            }
            if (body == null) {
                body = ctx.alloc().buffer(n);
            }
            body.writeBytes(content);
        }
        if (frame.isEndStream()) {
            endOfRequest(ctx);
        }
    }

    private void endOfRequest(ChannelHandlerContext ctx) {
        requestComplete = true;
        stopRequestTimer();
        if (exchange != null) {
            return;
        }
        byte[] bytes = body == null ? EMPTY : io.netty.buffer.ByteBufUtil.getBytes(body);
        release();
        Request request = toRequest(ctx, headers, bytes);
        headers = EmptyHttp2Headers.INSTANCE; // copied: a long-running stream need not keep the client's fields
        exchange = new Exchange2(ctx, request, false);
        if (!Headers.isToken(request.method())) {
            // Netty lets any :method through; RFC 9110 §9.1 makes it a token (HTTP/1.1's decoder checks that)
            LOG.debug("stream {}: refused with 400: :method is not a token", streamId(ctx));
            exchange.respond(Response.error(400, "bad request", ":method is not a token (RFC 9110 §9.1)"));
            return;
        }
        if ("GET".equals(request.method()) || request.isHead()) {
            Http2Pusher.of(ctx.channel()).requested(request.target()); // push paths keep their query
        }
        exchange.dispatch();
    }

    private void tooLarge(ChannelHandlerContext ctx) {
        int max = server.config.maxRequestBody();
        answerEarly(ctx, "max-request-body", "HTTP/2 body over " + max + " bytes", Response.error(413,
                "payload too large", "the request body exceeds max-request-body, " + max + " bytes"));
    }

    /**
     * 503 for a request whose next DATA would take the incomplete request bodies of its connection, or of the
     * server, over {@code limit}: the request was not processed, so the client may send it again once others ended.
     */
    private void overBudget(ChannelHandlerContext ctx, String limit) {
        long max = bodies.limit(limit);
        String detail = BodyBudget.PER_CONNECTION.equals(limit)
                ? "the requests on this connection hold up to " + limit + " (" + max + " bytes) of bodies still "
                        + "arriving; send this one again once some of them have ended"
                : "the server holds up to " + limit + " of request bodies still arriving; try again shortly";
        answerEarly(ctx, limit, "HTTP/2 request bodies still arriving over " + max + " bytes",
                Response.error(503, "too many request bodies", detail)
                        .header("retry-after", ConnectionLimits.RETRY_AFTER_SECONDS));
    }

    private Request toRequest(ChannelHandlerContext ctx, Http2Headers h, byte[] bytes) {
        ConnectionInfo conn = ConnectionInfo.of(ctx.channel());
        Headers copy = new Headers(h.size());
        for (Map.Entry<CharSequence, CharSequence> e : h) {
            CharSequence name = e.getKey();
            if (name.length() > 0 && name.charAt(0) != ':') {
                copy.add(name.toString(), e.getValue().toString());
            }
        }
        String method = str(h.method());
        String path = str(h.path());
        String scheme = h.scheme() != null ? h.scheme().toString() : conn.scheme();
        String authority = h.authority() != null ? h.authority().toString() : copy.get("host");
        return new Request(method, path, scheme, authority, conn.protocol, copy, bytes, conn.id, streamId(ctx),
                conn.remote);
    }

    private static String str(CharSequence s) {
        return s == null ? "" : s.toString();
    }

    private static int streamId(ChannelHandlerContext ctx) {
        return ((Http2StreamChannel) ctx.channel()).stream().id();
    }

    private static long parseLength(CharSequence s) {
        try {
            return Long.parseLong(s.toString().trim());
        } catch (NumberFormatException e) {
            return -1; // Netty's decoder already rejects a malformed content-length
        }
    }

    private void release() {
        if (body != null) {
            bodies.giveBack(body.readableBytes());
            body.release();
            body = null;
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof Http2Exception.StreamException) {
            // Netty leaves inbound stream errors to the application: reset with the protocol's own code
            // (RFC 9113 §5.4.2) rather than the CANCEL a plain close would send.
            Http2Error error = ((Http2Exception.StreamException) cause).error();
            if (requestComplete && error == Http2Error.PROTOCOL_ERROR) {
                // Frames after the client's END_STREAM: the stream is half-closed (remote), and RFC 9113 §5.1
                // names that STREAM_CLOSED; Netty reports it as a generic PROTOCOL_ERROR.
                error = Http2Error.STREAM_CLOSED;
            }
            LOG.debug("stream {}: {} ({})", streamId(ctx), error, cause.getMessage());
            if (cause instanceof Http2Exception.HeaderListSizeException) {
                server.limitLog.exceeded("http2.max-header-list-size", ConnectionInfo.of(ctx.channel()).remote,
                        "HTTP/2 header list over " + server.config.maxHeaderListSize() + " bytes, stream "
                                + streamId(ctx) + " reset");
            }
            if (stream != null) {
                stream.beforeChildWrite(); // its DATA gathered for the connection goes before its reset
            }
            ctx.writeAndFlush(new DefaultHttp2ResetFrame(error)).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        LOG.debug("stream {} failed", streamId(ctx), cause);
        ctx.close();
    }

    private static final byte[] EMPTY = new byte[0];

    /** The HTTP/2 side of an exchange. */
    private final class Exchange2 extends AbstractExchange {
        private final ChannelHandlerContext ctx;

        Exchange2(ChannelHandlerContext ctx, Request request, boolean pushed) {
            super(Http2StreamHandler.this.server, ctx.channel(), request, pushed);
            this.ctx = ctx;
        }

        @Override
        List<Preload> push(List<Preload> resources, PagePushes page) {
            return Http2Pusher.of(ctx.channel()).push(server, (Http2StreamChannel) ctx.channel(), request,
                    resources, page);
        }

        @Override
        boolean earlyHintsAllowed() {
            return server.config.pushEarlyHints() != HeraldConfig.EarlyHints.OFF;
        }

        @Override
        boolean earlyHints(List<String> linkValues) {
            Http2Headers h = new DefaultHttp2Headers(false);
            h.status("103");
            linkValues.forEach(v -> h.add("link", v));
            ctx.writeAndFlush(new DefaultHttp2HeadersFrame(h, false));
            return true;
        }

        @Override
        void write(Response response) {
            if (pushed && ((Http2StreamChannel) ctx.channel()).stream().state() == Http2Stream.State.CLOSED) {
                // The client reset the promised stream before its response was ready, and the child channel has
                // not seen it yet. Netty takes HEADERS on a closed stream that the server opened for a connection
                // error (PROTOCOL_ERROR "stream is behind the next expected stream") and would close the whole
                // connection, so nothing is written.
                completed(response.status(), -1, "reset");
                return;
            }
            Http2Headers h = new DefaultHttp2Headers(false);
            h.status(Integer.toString(response.status()));
            response.headers().forEach(h::add);
            if (response.sendsContentLength()) {
                h.setLong("content-length", response.contentLength());
            }
            boolean body = sendsBody(response);
            int status = response.status();
            if (body && response.file() != null && ctx.pipeline().get(ChunkedWriteHandler.class) == null) {
                if (ctx.pipeline().get(PUSH_GUARD) != null) {
                    ctx.pipeline().addAfter(PUSH_GUARD, null, new ChunkedWriteHandler()); // the guard sees frames
                } else {
                    ctx.pipeline().addFirst(new ChunkedWriteHandler());
                }
            }
            ChannelFuture head = ctx.write(new DefaultHttp2HeadersFrame(h, !body));
            if (pushes != null && !pushes.pushed.isEmpty()) {
                // The pushes start now, behind the page's HEADERS, rather than after this task: the page, its
                // pushes' HEADERS and the first of their DATA then leave in one write (the priority tree still
                // gives the page's DATA precedence). A later drain finds them started.
                Http2Pusher.of(ctx.channel()).drain();
            }
            if (!body) {
                ctx.flush();
                finish(head, status, 0, null);
                return;
            }
            long len = response.contentLength();
            Runnable sendBody = () -> {
                ChannelFuture last = response.bytes() != null
                        ? ctx.write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(response.bytes()), true))
                        : writeFile(response);
                ctx.flush();
                finish(last, status, len, response);
                if (!last.isDone()) {
                    watchSend(ctx); // waits for the client's window, the socket or other streams: see checkSend
                }
            };
            if (pushes != null && !pushes.pushed.isEmpty()) {
                // The HEADERS go now; the body waits for the pushes sent before it, if any. Measured in bench/push
                // (RTT 100, think 200 ms, A/B of two pairs): a pushed page loaded 4-5 ms later when its body went
                // with its HEADERS, ahead of the pushes, which carry what the page needs next.
                ctx.flush();
                pushes.whenBodyMayGo(sendBody);
            } else {
                // HEADERS and the body's first chunk reach the flow controller before its next pass: flushed
                // alone, the HEADERS would end latency optimization and let other streams' queued bytes (a
                // browser's hinted assets) into the socket ahead of this body.
                sendBody.run();
            }
        }

        private void finish(ChannelFuture last, int status, long len, Response response) {
            last.addListener((ChannelFutureListener) f -> {
                if (!f.isSuccess() && response != null && response.file() != null) {
                    // The body failed part-way (the file shrank, or the client reset the stream): end the stream.
                    FileChunks.logIfShrunk(request, response.file(), response.fileOffset(), response.fileLength());
                    if (ctx.channel().isActive() && !sendTimedOut) {
                        ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.INTERNAL_ERROR));
                    }
                }
                if (f.isSuccess() && pusher != null) {
                    completedOk = true;
                }
                String extra = pusher == null ? null : "push";
                if (!f.isSuccess()) {
                    extra = extra == null ? "reset" : "push reset";
                }
                completed(status, f.isSuccess() ? len : -1, extra);
                if (f.isSuccess() && !requestComplete) {
                    // RFC 9113 §8.1: answered before the request ended; ask the client to stop sending.
                    ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.NO_ERROR));
                }
            });
        }

        @Override
        AbstractResponseStream openStream(int status, Headers headers) {
            Http2Headers h = new DefaultHttp2Headers(false);
            h.status(Integer.toString(status));
            headers.forEach(h::add);
            ctx.writeAndFlush(new DefaultHttp2HeadersFrame(h, false));
            if (pushes != null) {
                pushes.pageDone(); // a long-running response never completes: AFTER pushes go once it started
            }
            stream = new Stream2(ctx, this, status);
            return stream;
        }

        private ChannelFuture writeFile(Response response) {
            try {
                return ctx.write(new Http2DataChunkedInput(
                        FileChunks.open(response.file(), response.fileOffset(), response.fileLength()),
                        ((Http2StreamChannel) ctx.channel()).stream()));
            } catch (IOException e) {
                LOG.warn("{}: cannot open {}: {}", request, response.file(), e.toString());
                return ctx.write(new DefaultHttp2ResetFrame(Http2Error.INTERNAL_ERROR));
            }
        }
    }

    /**
     * A long-running response as DATA frames on this stream: through the connection's {@link Http2DataWriter} when a
     * chunk fits the send windows, else through the child channel (and Netty's flow controller).
     */
    private static final class Stream2 extends Http2DataWriter.Stream {
        private final ChannelHandlerContext ctx;

        Stream2(ChannelHandlerContext ctx, AbstractExchange exchange, int status) {
            super(ctx.channel(), exchange, status, ((Http2StreamChannel) ctx.channel()).stream().id());
            this.ctx = ctx;
        }

        @Override
        void writeParts(List<byte[]> parts, int size) {
            if (!writer.write(this, parts, size)) {
                super.writeParts(parts, size);
            }
        }

        @Override
        void writeChunk(ByteBuf chunk) {
            beforeChildWrite(); // this stream's earlier frames go first; Netty's window count made exact
            childWriteQueued();
            ctx.write(new DefaultHttp2DataFrame(chunk, false)).addListener(f -> childWriteDone());
            writer.requestFlush();
        }

        @Override
        void writeEnd() {
            beforeChildWrite();
            ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true))
                    .addListener(f -> closed(f.isSuccess()));
        }
    }
}
