package dev.herald.push;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2ChannelDuplexHandler;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2PushPromiseFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A frame-level HTTP/2 client (h2c, prior knowledge) on Netty's {@code Http2FrameCodec}, without the multiplexer:
 * every frame the server sends is recorded, in wire order, into a queue the test thread reads. Assertions never
 * run on the event loop.
 */
final class H2FrameClient implements AutoCloseable {
    /** One received frame, copied out of Netty's buffers. */
    record Frame(String type, int stream, int promised, List<Map.Entry<String, String>> headers,
                 boolean endStream, byte[] data, long errorCode) {
        String header(String name) {
            return headers.stream().filter(e -> e.getKey().equals(name)).map(Map.Entry::getValue).findFirst()
                    .orElse(null);
        }

        List<String> all(String name) {
            return headers.stream().filter(e -> e.getKey().equals(name)).map(Map.Entry::getValue).toList();
        }

        boolean informational() {
            String s = header(":status");
            return s != null && s.startsWith("1");
        }

        @Override
        public String toString() {
            return type + "(stream=" + stream + (promised > 0 ? ", promised=" + promised : "")
                    + (endStream ? ", END_STREAM" : "") + (data != null ? ", " + data.length + " bytes" : "")
                    + (headers.isEmpty() ? "" : ", " + headers) + (errorCode >= 0 ? ", error=" + errorCode : "")
                    + ")";
        }
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel channel;
    private final Recorder recorder = new Recorder();
    private final BlockingQueue<Frame> frames = new LinkedBlockingQueue<>();
    private final int port;
    /** Promised stream ids to reset with CANCEL as soon as their PUSH_PROMISE arrives. */
    final Set<String> cancelPaths = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Promised paths to reset with REFUSED_STREAM as soon as their PUSH_PROMISE arrives. */
    final Set<String> refusePaths = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /**
     * Pushed paths to reset with CANCEL once this many DATA bytes of them have arrived; the reset is recorded as a
     * {@code RST_STREAM_SENT} frame, so every frame recorded after it was read after the reset was written.
     */
    final Map<String, Integer> cancelAfterBytes = new java.util.concurrent.ConcurrentHashMap<>();
    /**
     * Whether DATA is acknowledged at once with a WINDOW_UPDATE on its stream (a client that reads as fast as it
     * receives); off, the stream windows only shrink.
     */
    volatile boolean consumeData;
    /** Which streams {@link #consumeData} acknowledges: all of them unless set. */
    volatile java.util.function.IntPredicate consumeStreams = id -> true;

    H2FrameClient(int port, Http2Settings settings) throws InterruptedException {
        this.port = port;
        channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (settings.initialWindowSize() == null) {
                            settings.initialWindowSize(1 << 24);
                        }
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().initialSettings(settings).build());
                        ch.pipeline().addLast(recorder);
                    }
                })
                .connect("127.0.0.1", port).sync().channel();
        channel.writeAndFlush(new DefaultHttp2WindowUpdateFrame(1 << 24)).sync();
    }

    static Http2Settings pushAllowed() {
        return Http2Settings.defaultSettings().pushEnabled(true);
    }

    String authority() {
        return "127.0.0.1:" + port;
    }

    /** Sends GET {@code path} with these extra headers and returns the new stream's id. */
    int get(String path, Map<String, String> extra) throws Exception {
        Http2Headers h = new DefaultHttp2Headers().method("GET").scheme("http").authority(authority()).path(path);
        extra.forEach(h::add);
        CompletableFuture<Integer> id = new CompletableFuture<>();
        channel.eventLoop().execute(() -> {
            Http2FrameStream s = recorder.stream();
            channel.writeAndFlush(new DefaultHttp2HeadersFrame(h, true).stream(s))
                    .addListener(f -> id.complete(s.id()));
        });
        return id.get(5, TimeUnit.SECONDS);
    }

    /**
     * Loads a page: GET, then every frame until the page's stream and every stream promised on it have ended
     * (END_STREAM or RST_STREAM), or the connection got GOAWAY.
     */
    List<Frame> load(String path, Map<String, String> extra) throws Exception {
        int id = get(path, extra);
        List<Frame> out = new ArrayList<>();
        Set<Integer> open = new HashSet<>();
        open.add(id);
        while (!open.isEmpty()) {
            Frame f;
            try {
                f = next();
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "; streams still open " + open + " after " + out, e);
            }
            out.add(f);
            if (f.type.equals("PUSH_PROMISE") && f.stream == id) {
                open.add(f.promised);
            } else if (f.type.equals("GOAWAY")) {
                break;
            } else if ((f.endStream || f.type.startsWith("RST_STREAM")) && open.contains(f.stream)) {
                open.remove(f.stream);
            }
        }
        return out;
    }

    /** The next frame, waiting up to 10 s. */
    Frame next() throws InterruptedException {
        Frame f = frames.poll(10, TimeUnit.SECONDS);
        if (f == null) {
            throw new AssertionError("no frame within 10 s");
        }
        return f;
    }

    /** Sends GOAWAY(NO_ERROR) naming no server stream: the server must not push (open streams) any more. */
    void goAway() throws InterruptedException {
        channel.writeAndFlush(new io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR)).sync();
    }

    /** Sends a SETTINGS frame mid-connection, e.g. a lower MAX_CONCURRENT_STREAMS. */
    void settings(Http2Settings settings) throws InterruptedException {
        channel.writeAndFlush(new io.netty.handler.codec.http2.DefaultHttp2SettingsFrame(settings)).sync();
    }

    /** Writes raw bytes on the connection (below the codec), e.g. a frame a client must not send. */
    void writeRaw(byte[] bytes) throws InterruptedException {
        channel.pipeline().firstContext().writeAndFlush(io.netty.buffer.Unpooled.wrappedBuffer(bytes)).sync();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class Recorder extends Http2ChannelDuplexHandler {
        /** Per watched pushed stream: {bytes to reset after, bytes received or -1 once reset}. */
        private final Map<Integer, long[]> watched = new java.util.HashMap<>();
        private final Map<Integer, Http2FrameStream> pushStreams = new java.util.HashMap<>();

        Http2FrameStream stream() {
            return newStream();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http2PushPromiseFrame p) {
                    Frame f = new Frame("PUSH_PROMISE", p.stream().id(), p.promisedStreamId(),
                            copy(p.http2Headers()), false, null, -1);
                    frames.add(f);
                    Integer after = cancelAfterBytes.get(f.header(":path"));
                    if (after != null) {
                        watched.put(p.promisedStreamId(), new long[] {after, 0});
                        pushStreams.put(p.promisedStreamId(), p.pushStream());
                    }
                    boolean refuse = refusePaths.contains(f.header(":path"));
                    if (refuse || cancelPaths.contains(f.header(":path"))) {
                        Http2Error code = refuse ? Http2Error.REFUSED_STREAM : Http2Error.CANCEL;
                        ctx.writeAndFlush(new DefaultHttp2ResetFrame(code).stream(p.pushStream()));
                        // Recorded too, so a page load knows this stream is over.
                        frames.add(new Frame("RST_STREAM_SENT", p.promisedStreamId(), 0, List.of(), false, null,
                                code.code()));
                    }
                } else if (msg instanceof Http2HeadersFrame h) {
                    frames.add(new Frame("HEADERS", h.stream().id(), 0, copy(h.headers()), h.isEndStream(), null,
                            -1));
                } else if (msg instanceof Http2DataFrame d) {
                    int id = d.stream().id();
                    frames.add(new Frame("DATA", id, 0, List.of(), d.isEndStream(),
                            ByteBufUtil.getBytes(d.content()), -1));
                    long[] w = watched.get(id);
                    boolean reset = w != null && w[1] < 0;
                    if (w != null && !reset) {
                        w[1] += d.content().readableBytes();
                        if (w[1] >= w[0] && !d.isEndStream()) {
                            w[1] = -1;
                            reset = true;
                            ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL).stream(pushStreams.get(id)));
                            frames.add(new Frame("RST_STREAM_SENT", id, 0, List.of(), false, null,
                                    Http2Error.CANCEL.code()));
                        }
                    }
                    if (consumeData && consumeStreams.test(id) && !reset && !d.isEndStream()
                            && d.initialFlowControlledBytes() > 0) {
                        ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(d.initialFlowControlledBytes())
                                .stream(d.stream()));
                    }
                } else if (msg instanceof Http2ResetFrame r) {
                    frames.add(new Frame("RST_STREAM", r.stream().id(), 0, List.of(), false, null, r.errorCode()));
                } else if (msg instanceof Http2GoAwayFrame g) {
                    frames.add(new Frame("GOAWAY", 0, g.lastStreamId(), List.of(), false, null, g.errorCode()));
                } else if (msg instanceof Http2SettingsFrame) {
                    frames.add(new Frame("SETTINGS", 0, 0, List.of(), false, null, -1));
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            frames.add(new Frame("CLOSED", 0, 0, List.of(), false, null, -1));
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // Connection errors are seen as GOAWAY/CLOSED frames by the test thread.
        }
    }

    private static List<Map.Entry<String, String>> copy(Http2Headers h) {
        List<Map.Entry<String, String>> out = new ArrayList<>();
        h.forEach(e -> out.add(Map.entry(e.getKey().toString(), e.getValue().toString())));
        return out;
    }
}
