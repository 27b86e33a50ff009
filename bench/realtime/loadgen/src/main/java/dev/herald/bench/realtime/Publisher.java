package dev.herald.bench.realtime;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.util.collection.IntObjectHashMap;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/**
 * The publishing connection: POST {"seq":N,"t":T} where T = Shared.now() taken on the event loop right before
 * the request is written. All methods but ready() run on its event loop.
 */
final class Publisher extends Http2FrameAdapter {
    private final Shared shared;
    private final String authority;
    private final String path;
    private final IntObjectHashMap<long[]> inFlight = new IntObjectHashMap<>(); // stream -> {sendNs, seq}
    final CompletableFuture<Void> ready = new CompletableFuture<>();
    Http2ConnectionHandler handler;
    ChannelHandlerContext ctx;
    volatile int inFlightCount;
    volatile long acked;

    Publisher(Shared shared, String authority, String path) {
        this.shared = shared;
        this.authority = authority;
        this.path = path;
    }

    @Override
    public void onSettingsRead(ChannelHandlerContext c, Http2Settings settings) {
        ctx = c.pipeline().context(handler);
        ready.complete(null);
    }

    /** Writes count events seq, seq+stride, seq+2*stride, ... and flushes once. */
    void publish(long seq, int count, int stride) {
        for (int i = 0; i < count; i++) {
            long s = seq + (long) i * stride;
            long t = Shared.now();
            byte[] body = ("{\"seq\":" + s + ",\"t\":" + t + "}").getBytes(StandardCharsets.US_ASCII);
            int id = handler.connection().local().incrementAndGetNextStreamId();
            Http2Headers h = new DefaultHttp2Headers().method("POST").scheme("http").authority(authority).path(path)
                    .add("content-type", "application/json").addInt("content-length", body.length);
            inFlight.put(id, new long[] {t, s});
            inFlightCount = inFlight.size();
            handler.encoder().writeHeaders(ctx, id, h, 0, false, ctx.newPromise().addListener(this::onWrite));
            ByteBuf b = Unpooled.wrappedBuffer(body);
            handler.encoder().writeData(ctx, id, b, 0, true, ctx.newPromise().addListener(this::onWrite));
        }
        try {
            handler.flush(ctx); // not ctx.flush(): DATA waits in the flow controller until the handler flushes
        } catch (Exception e) {
            shared.sample("publish flush failed: " + e);
        }
    }

    private void onWrite(io.netty.util.concurrent.Future<? super Void> f) {
        if (!f.isSuccess()) {
            shared.sample("publish write failed: " + f.cause());
        }
    }

    @Override
    public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int padding,
            boolean endOfStream) {
        CharSequence st = headers.status();
        long[] sent = inFlight.remove(streamId);
        inFlightCount = inFlight.size();
        if (st == null || sent == null) {
            return;
        }
        int status = Integer.parseInt(st.toString());
        Phase p = sent[1] == 0 ? null : shared.phaseFor(sent[1]);
        acked++;
        if (p != null) {
            p.ackLatency.recordMicros((Shared.now() - sent[0]) / 1000);
            if (status / 100 == 2) {
                p.publishAcked.increment();
            } else {
                p.publishErrors.increment();
            }
        }
        if (status / 100 != 2) {
            shared.sample("publish status " + status);
        }
    }

    @Override
    public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int streamDependency,
            short weight, boolean exclusive, int padding, boolean endOfStream) {
        onHeadersRead(c, streamId, headers, padding, endOfStream);
    }

    @Override
    public int onDataRead(ChannelHandlerContext c, int streamId, ByteBuf data, int padding, boolean endOfStream) {
        return data.readableBytes() + padding;
    }

    @Override
    public void onRstStreamRead(ChannelHandlerContext c, int streamId, long errorCode) {
        long[] sent = inFlight.remove(streamId);
        inFlightCount = inFlight.size();
        if (sent != null && sent[1] != 0) {
            Phase p = shared.phaseFor(sent[1]);
            if (p != null) {
                p.publishErrors.increment();
            }
        }
        shared.sample("publish RST_STREAM " + errorCode);
    }
}
