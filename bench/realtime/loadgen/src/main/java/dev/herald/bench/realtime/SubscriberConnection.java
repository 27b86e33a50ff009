package dev.herald.bench.realtime;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.util.collection.IntObjectHashMap;
import java.nio.charset.StandardCharsets;

/**
 * One subscriber connection: opens its streams once the server's SETTINGS arrived, splits DATA into lines and
 * accounts every event. A frame listener on Http2ConnectionHandler rather than Http2MultiplexHandler: no child
 * channel per stream, so the load generator's one core spends its time on the events, not on pipelines.
 */
final class SubscriberConnection extends Http2FrameAdapter {
    private final Shared shared;
    private final int streams;
    private final String authority;
    private final String path;
    private final IntObjectHashMap<StreamState> byId = new IntObjectHashMap<>();
    Http2ConnectionHandler handler;
    private boolean opened;

    SubscriberConnection(Shared shared, int streams, String authority, String path) {
        this.shared = shared;
        this.streams = streams;
        this.authority = authority;
        this.path = path;
    }

    @Override
    public void onSettingsRead(ChannelHandlerContext ctx, Http2Settings settings) {
        if (opened) {
            return;
        }
        opened = true;
        ChannelHandlerContext hctx = ctx.pipeline().context(handler);
        for (int i = 0; i < streams; i++) {
            int id = handler.connection().local().incrementAndGetNextStreamId();
            Http2Headers h = new DefaultHttp2Headers().method("GET").scheme("http").authority(authority).path(path)
                    .add("accept", "application/x-ndjson");
            byId.put(id, new StreamState());
            handler.encoder().writeHeaders(hctx, id, h, 0, true, hctx.newPromise());
        }
        try {
            handler.flush(hctx);
        } catch (Exception e) {
            shared.sample("subscribe flush failed: " + e);
        }
    }

    @Override
    public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding,
            boolean endOfStream) {
        CharSequence st = headers.status();
        if (st != null) {
            int status = Integer.parseInt(st.toString());
            shared.statuses.computeIfAbsent(status, k -> new java.util.concurrent.atomic.AtomicInteger())
                    .incrementAndGet();
            if (status == 200) {
                shared.subscribed.incrementAndGet();
            }
        }
        if (endOfStream) {
            end(streamId);
        }
    }

    @Override
    public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int streamDependency,
            short weight, boolean exclusive, int padding, boolean endOfStream) {
        onHeadersRead(ctx, streamId, headers, padding, endOfStream);
    }

    @Override
    public void onRstStreamRead(ChannelHandlerContext ctx, int streamId, long errorCode) {
        shared.resets.incrementAndGet();
        end(streamId);
    }

    private void end(int streamId) {
        StreamState s = byId.get(streamId);
        if (s != null && !s.ended) {
            s.ended = true;
            shared.ended.incrementAndGet();
        }
    }

    @Override
    public int onDataRead(ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding, boolean endOfStream) {
        int processed = data.readableBytes() + padding;
        StreamState s = byId.get(streamId);
        if (s != null) {
            long now = Shared.now();
            int r = data.readerIndex();
            int w = data.writerIndex();
            while (r < w) {
                int lf = data.indexOf(r, w, (byte) '\n');
                int end = lf < 0 ? w : lf;
                int n = end - r;
                if (s.partialLen + n > s.partial.length) {
                    s.partial = java.util.Arrays.copyOf(s.partial, Math.max(s.partial.length * 2, s.partialLen + n));
                }
                data.getBytes(r, s.partial, s.partialLen, n);
                s.partialLen += n;
                if (lf < 0) {
                    break;
                }
                onLine(s, s.partial, s.partialLen, now);
                s.partialLen = 0;
                r = lf + 1;
            }
            flush(now);
        }
        if (endOfStream) {
            end(streamId);
        }
        return processed;
    }

    // Counted per DATA frame, not per line: the shared counters are atomic, and every line of one frame has the
    // same receipt time. Event-loop confined.
    private Phase phase;
    private long lines;
    private long received;

    /** Adds what this frame's lines counted to the shared counters. */
    private void flush(long now) {
        if (lines > 0) {
            shared.lines.add(lines);
            lines = 0;
        }
        if (received > 0) {
            Phase p = phase;
            p.received.add(received);
            received = 0;
            long last;
            while (now > (last = p.lastReceiptNs.get())) {
                if (p.lastReceiptNs.compareAndSet(last, now)) {
                    break;
                }
            }
        }
    }

    private void onLine(StreamState s, byte[] b, int len, long now) {
        lines++;
        if (len > 0 && b[len - 1] == '\r') {
            len--;
        }
        if (len == 0) {
            shared.heartbeats.increment();
            return;
        }
        Lines.Parsed f = Lines.parse(b, len, parsed);
        long seq = f.seq;
        if (seq < 0) {
            if (Lines.isSlow(b, len)) {
                shared.slowNotices.increment();
            } else {
                shared.otherLines.increment();
            }
            shared.sample(new String(b, 0, len, StandardCharsets.UTF_8));
            return;
        }
        if (seq == 0) {
            if (!s.synced) {
                s.synced = true;
                shared.synced.incrementAndGet();
            }
            return;
        }
        Phase p = shared.phaseFor(seq);
        if (p == null) {
            shared.unknownSeq.increment();
            return;
        }
        if (p != phase) {
            flush(now);
            phase = p;
        }
        int kind = s.accept(seq);
        if (kind == 2) {
            p.duplicated.increment();
            return;
        }
        if (kind == 1) {
            p.publishOrderInversions.increment();
        }
        if (f.hasId) {
            if (s.idGoesBack(f.id[0], f.id[1])) {
                p.reordered.increment();
            }
        } else {
            p.withoutId.increment();
        }
        received++;
        if (f.t >= 0) {
            p.latency.recordMicros((now - f.t) / 1000);
        }
    }

    private final Lines.Parsed parsed = new Lines.Parsed();
}
