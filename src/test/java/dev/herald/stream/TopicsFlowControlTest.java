package dev.herald.stream;

import dev.herald.store.Event;
import dev.herald.store.Retention;
import dev.herald.store.SqliteEventLog;
import dev.herald.testing.HeraldExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
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
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Long-running streams under HTTP/2 flow control, checked by Netty's own client-side flow controller (which
 * answers any DATA beyond a window it granted with a FLOW_CONTROL_ERROR GOAWAY): Herald writes events straight
 * into the connection while they fit the windows, and through Netty's flow controller when they do not; both
 * together must never overrun a window, lose, reorder or duplicate a byte.
 */
class TopicsFlowControlTest {
    static final Path DIR = TopicsHttpTest.tempDir();
    static final SqliteEventLog LOG = SqliteEventLog.open(DIR.resolve("events.db"),
            new Retention(100_000, Duration.ofHours(1)), false);
    static final TopicsHandler TOPICS = new TopicsHandler(LOG,
            StreamSettings.defaults().withMaxEventBytes(8192).withLag(100_000, 64L << 20), new SimpleMeterRegistry());

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.site("basic")
            .routes(b -> b.routePrefix("/topics/", TOPICS));

    @AfterAll
    static void close() throws Exception {
        TopicsHttpTest.closeAll(TOPICS, LOG, DIR);
    }

    @Test
    void smallAndOddWindowsGetEveryEventInOrderWithoutAFlowControlError() throws Exception {
        String t = "windows";
        // stream windows below one event (100 B), of a few events (700 B), and the default; the connection window
        // stays at the default 65,535 bytes, which 600 events of ~130 B overrun
        List<Subscriber> subs = new ArrayList<>();
        for (int window : new int[] {100, 700, 65_535}) {
            subs.add(new Subscriber(HERALD.httpPort(), "/topics/" + t, window, 3));
        }
        try {
            for (Subscriber s : subs) {
                s.awaitHeaders();
            }
            List<String> data = publish(t, 600, 60);
            for (Subscriber s : subs) {
                s.assertReceived(data);
            }
        } finally {
            subs.forEach(Subscriber::close);
        }
    }

    @Test
    void aWindowANewInitialWindowSizeMadeNegativeGetsNothingUntilAWindowUpdate() throws Exception {
        String t = "lowered";
        Subscriber s = new Subscriber(HERALD.httpPort(), "/topics/" + t, 1 << 20, 4);
        try {
            s.awaitHeaders();
            List<String> data = new ArrayList<>(publish(t, 300, 60));
            s.assertReceived(data);
            // Herald's writer has taken window in advance (32 KiB chunks); the client now sets an initial window
            // below what it already received, so every stream's window is negative (RFC 9113 §6.9.2): nothing may
            // be sent on them until WINDOW_UPDATEs make it positive again.
            s.settingsAcked.clear(); // the ACK of the connection's first SETTINGS
            s.changeInitialWindow(1_000);
            assertThat(s.settingsAcked.poll(10, TimeUnit.SECONDS)).as("SETTINGS ACK").isNotNull();
            long before = s.totalBodyBytes();
            List<String> more = publish(t, 50, 60);
            Thread.sleep(500); // nothing must arrive; nothing signals "nothing arrived"
            assertThat(s.totalBodyBytes()).as("DATA bytes while every window is negative").isEqualTo(before);
            s.openWindows(1 << 20);
            data.addAll(more);
            data.addAll(publish(t, 300, 1000));
            s.assertReceived(data);
        } finally {
            s.close();
        }
    }

    /** Publishes {@code n} events with {@code pad} bytes of padding; returns their data in publish order. */
    private static List<String> publish(String topic, int n, int pad) throws Exception {
        List<CompletableFuture<Event>> fs = new ArrayList<>();
        List<String> data = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String d = "{\"n\":" + i + ",\"pad\":\"" + "p".repeat(pad) + "\"}";
            data.add(d);
            fs.add(TOPICS.hub().publish(topic, d));
        }
        List<String> inOrder = new ArrayList<>();
        List<Event> events = new ArrayList<>();
        for (CompletableFuture<Event> f : fs) {
            events.add(f.get(20, TimeUnit.SECONDS));
        }
        events.sort(Comparator.comparing(Event::id)); // concurrent publishes may commit in another order
        for (Event e : events) {
            inOrder.add(e.data());
        }
        assertThat(inOrder).containsExactlyInAnyOrderElementsOf(data);
        return inOrder;
    }

    /**
     * One h2c connection with {@code streams} subscriber streams, its SETTINGS_INITIAL_WINDOW_SIZE {@code window}
     * and the default connection window. Netty's local flow controller returns what the listener consumes, and
     * ends the connection with FLOW_CONTROL_ERROR if the server sends past a window.
     */
    private static final class Subscriber extends Http2FrameAdapter implements AutoCloseable {
        private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        private final Http2ConnectionHandler handler;
        private final Channel channel;
        private final Map<Integer, ByteArrayOutputStream> bodies = new ConcurrentHashMap<>();
        /** Lines received per stream (every event is one); what the test waits on. */
        private final Map<Integer, AtomicInteger> newlines = new ConcurrentHashMap<>();
        private final CountDownLatch headers;
        private final List<String> problems = new java.util.concurrent.CopyOnWriteArrayList<>();
        private volatile Http2Settings settings;
        final BlockingQueue<Boolean> settingsAcked = new LinkedBlockingQueue<>();

        Subscriber(int port, String path, int window, int streams) throws Exception {
            this.headers = new CountDownLatch(streams);
            this.settings = Http2Settings.defaultSettings().pushEnabled(false).initialWindowSize(window);
            this.handler = new Http2ConnectionHandlerBuilder().server(false).frameListener(this)
                    .initialSettings(settings).gracefulShutdownTimeoutMillis(0).build(); // close at once
            channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(handler);
                        }
                    })
                    .connect("127.0.0.1", port).sync().channel();
            channel.eventLoop().submit(() -> {
                ChannelHandlerContext ctx = channel.pipeline().context(handler);
                for (int i = 0; i < streams; i++) {
                    int id = handler.connection().local().incrementAndGetNextStreamId();
                    bodies.put(id, new ByteArrayOutputStream());
                    newlines.put(id, new AtomicInteger());
                    Http2Headers h = new DefaultHttp2Headers().method("GET").scheme("http")
                            .authority("127.0.0.1:" + port).path(path).add("accept", "application/x-ndjson");
                    handler.encoder().writeHeaders(ctx, id, h, 0, true, ctx.newPromise());
                }
                ctx.flush();
            }).sync();
        }

        void awaitHeaders() throws InterruptedException {
            assertThat(headers.await(10, TimeUnit.SECONDS)).as("200 on every stream").isTrue();
        }

        long totalBodyBytes() {
            long n = 0;
            for (ByteArrayOutputStream b : bodies.values()) {
                synchronized (b) {
                    n += b.size();
                }
            }
            return n;
        }

        /** Grants {@code bytes} more on every stream, through Netty's local flow controller (WINDOW_UPDATE). */
        void openWindows(int bytes) throws Exception {
            channel.eventLoop().submit(() -> {
                ChannelHandlerContext ctx = channel.pipeline().context(handler);
                for (int id : bodies.keySet()) {
                    handler.connection().local().flowController()
                            .incrementWindowSize(handler.connection().stream(id), bytes);
                }
                ctx.flush();
                return null;
            }).sync();
        }

        @Override
        public void onSettingsAckRead(ChannelHandlerContext ctx) {
            settingsAcked.add(Boolean.TRUE);
        }

        void changeInitialWindow(int window) throws Exception {
            channel.eventLoop().submit(() -> {
                ChannelHandlerContext ctx = channel.pipeline().context(handler);
                handler.encoder().writeSettings(ctx, new Http2Settings().initialWindowSize(window), ctx.newPromise());
                ctx.flush();
            }).sync();
        }

        @Override
        public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers h, int padding,
                                  boolean endOfStream) {
            if ("200".contentEquals(h.status())) {
                headers.countDown();
            } else {
                problems.add("stream " + streamId + ": status " + h.status());
            }
        }

        @Override
        public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers h, int dependency,
                                  short weight, boolean exclusive, int padding, boolean endOfStream) {
            onHeadersRead(ctx, streamId, h, padding, endOfStream);
        }

        @Override
        public int onDataRead(ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding, boolean end) {
            int n = data.readableBytes();
            byte[] bytes = ByteBufUtil.getBytes(data);
            ByteArrayOutputStream b = bodies.get(streamId);
            synchronized (b) {
                b.writeBytes(bytes);
            }
            int lf = 0;
            for (byte x : bytes) {
                lf += x == '\n' ? 1 : 0;
            }
            newlines.get(streamId).addAndGet(lf);
            return n + padding; // consumed: Netty's flow controller returns it to the server
        }

        @Override
        public void onRstStreamRead(ChannelHandlerContext ctx, int streamId, long errorCode) {
            problems.add("RST_STREAM " + errorCode + " on " + streamId);
        }

        @Override
        public void onGoAwayRead(ChannelHandlerContext ctx, int last, long errorCode, ByteBuf debug) {
            problems.add("GOAWAY from the server " + errorCode + ": " + debug.toString(StandardCharsets.UTF_8));
        }

        /** Every stream's body is exactly the events' NDJSON lines with these data, in this order. */
        void assertReceived(List<String> data) {
            for (Map.Entry<Integer, ByteArrayOutputStream> e : bodies.entrySet()) {
                AtomicInteger lines = newlines.get(e.getKey());
                Lines.await(() -> lines.get() >= data.size() || !channel.isActive() || !problems.isEmpty(),
                        Duration.ofSeconds(30), data.size() + " events on stream " + e.getKey());
                assertThat(problems).as("resets and GOAWAYs").isEmpty();
                assertThat(channel.isActive()).as("connection open (no FLOW_CONTROL_ERROR)").isTrue();
                List<String> got;
                synchronized (e.getValue()) {
                    got = dataFields(e.getValue().toString(StandardCharsets.UTF_8));
                }
                assertThat(got.size()).as("events on stream %d", e.getKey()).isEqualTo(data.size());
                for (int i = 0; i < data.size(); i++) {
                    assertThat(got.get(i)).as("event %d on stream %d", i, e.getKey()).isEqualTo(data.get(i));
                }
            }
        }

        /** The data of the NDJSON event lines received, in order. */
        private static List<String> dataFields(String body) {
            List<String> list = new ArrayList<>();
            for (String line : body.split("\n")) {
                int at = line.indexOf("\"data\":");
                int end = line.lastIndexOf(",\"time\":");
                if (at >= 0 && end > at) {
                    list.add(line.substring(at + 7, end));
                }
            }
            return list;
        }

        @Override
        public void close() {
            channel.close().syncUninterruptibly();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
