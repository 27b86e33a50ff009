package dev.herald.bench.push;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
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
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A push-capable HTTP/2 client that loads a page the way a browser discovers it: it fetches the page, parses the
 * HTML (jsoup) for stylesheets, scripts and preloads, fetches those, parses each stylesheet for {@code @import} and
 * {@code url()} and fetches what it names. A resource the server promised (PUSH_PROMISE) is taken from the push
 * instead of being requested; with {@code --hints true} a {@code 103 Early Hints} Link preload starts its fetch at
 * once, as browsers do. With {@code --gzip true} it sends {@code accept-encoding: gzip} (as nghttp does) and gunzips
 * what comes gzipped before parsing it. One fresh TLS connection per load.
 *
 * <p>Load time: from just before the TCP connect until the body of the last resource the page needs (found by
 * discovery) is complete. Pushed or hinted resources the page does not need are received but do not count.
 *
 * <pre>
 * java -cp push-client.jar dev.herald.bench.push.PageLoad --host H --port P [--push true] [--hints false]
 *      [--gzip false] [--label NAME] [--path /index.html] [--runs 10] [--rounds 1] [--warmup 3] [--out FILE.jsonl]
 *      [--timeout-ms 30000] [--client-warmup 0 --parallel 16]
 * java -cp push-client.jar dev.herald.bench.push.PageLoad --plan FILE [same options]
 * java -cp push-client.jar dev.herald.bench.push.PageLoad --plan FILE --server-warmup N [--parallel 16]
 * </pre>
 * A plan has one target a line: {@code LABEL HOST PORT PUSH HINTS [GZIP]} (underscores in LABEL become spaces). Every
 * target gets {@code --warmup} unmeasured loads first; then {@code --rounds} rounds of {@code --runs} loads per
 * target, so a busy moment of the machine hits every target. Each measured load is one JSON line in {@code --out}
 * (appended) and a short line on stderr.
 *
 * <p>{@code --client-warmup N} first makes N unmeasured loads per target, {@code --parallel} at a time, in this JVM:
 * the measured loads then run the client's compiled code, not its interpreter. Measured (tcpdump in hd-cli, RTT 100,
 * 4 warm-up loads only): the last packet of a load arrived 8-10 ms before the client counted the load complete,
 * for every server alike.
 *
 * <p>With {@code --server-warmup N} it only warms the servers: N loads per target, {@code --parallel} at a time,
 * nothing measured, one summary line per target. Run next to the servers (no added latency), it brings a JIT-compiled
 * server to the steady state a long-running one is in; every server gets it alike.
 */
public final class PageLoad {
    private static final Pattern CSS_IMPORT = Pattern.compile("@import\\s+(?:url\\(\\s*)?['\"]?([^'\")\\s;]+)");
    private static final Pattern CSS_URL = Pattern.compile("url\\(\\s*['\"]?([^'\")]+?)['\"]?\\s*\\)");
    private static final Pattern JS_IMPORT = Pattern.compile("(?m)^\\s*import\\s+(?:[^'\";]*?\\s+from\\s+)?['\"]([^'\"]+)['\"]");
    private static final Pattern LINK = Pattern.compile("<([^>]+)>([^,]*)");

    private PageLoad() {
    }

    /** One server and client configuration to load the page with. */
    record Target(String label, String host, int port, String path, boolean push, boolean hints, boolean gzip) {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = Args.parse(args);
        String path = a.getOrDefault("path", "/index.html");
        int runs = Integer.parseInt(a.getOrDefault("runs", "10"));
        int rounds = Integer.parseInt(a.getOrDefault("rounds", "1"));
        int warmup = Integer.parseInt(a.getOrDefault("warmup", "3"));
        long timeoutMs = Long.parseLong(a.getOrDefault("timeout-ms", "30000"));
        Path out = a.containsKey("out") ? Path.of(a.get("out")) : null;
        List<Target> targets = new ArrayList<>();
        if (a.containsKey("plan")) { // lines: LABEL HOST PORT PUSH HINTS [GZIP]
            for (String line : Files.readAllLines(Path.of(a.get("plan")))) {
                String[] f = line.trim().split("\\s+");
                if ((f.length == 5 || f.length == 6) && !f[0].startsWith("#")) {
                    targets.add(new Target(f[0].replace('_', ' '), f[1], Integer.parseInt(f[2]), path,
                            Boolean.parseBoolean(f[3]), Boolean.parseBoolean(f[4]),
                            f.length == 6 && Boolean.parseBoolean(f[5])));
                }
            }
        } else {
            String host = Args.required(a, "host");
            int port = Integer.parseInt(Args.required(a, "port"));
            targets.add(new Target(a.getOrDefault("label", host + ":" + port), host, port, path,
                    Boolean.parseBoolean(a.getOrDefault("push", "true")),
                    Boolean.parseBoolean(a.getOrDefault("hints", "false")),
                    Boolean.parseBoolean(a.getOrDefault("gzip", "false"))));
        }

        SslContext ssl = SslContextBuilder.forClient()
                .trustManager(InsecureTrustManagerFactory.INSTANCE) // self-signed bench certificates
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ApplicationProtocolNames.HTTP_2))
                .build();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        int failures = 0;
        if (a.containsKey("server-warmup")) {
            try {
                int n = Integer.parseInt(a.get("server-warmup"));
                int parallel = Integer.parseInt(a.getOrDefault("parallel", "16"));
                for (Target t : targets) {
                    failures += warmUp(group, ssl, t, n, parallel, timeoutMs, "server");
                }
            } finally {
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            }
            System.exit(failures == 0 ? 0 : 1);
        }
        try {
            // This JVM's own code first: parallel loads of every target, so the measured loads are not slowed by a
            // client still running interpreted (its decryption, HTTP/2 and jsoup work between a load's last packet
            // and its end)
            int clientWarmup = Integer.parseInt(a.getOrDefault("client-warmup", "0"));
            int parallel = Integer.parseInt(a.getOrDefault("parallel", "16"));
            for (Target t : targets) {
                if (clientWarmup > 0) {
                    warmUp(group, ssl, t, clientWarmup, parallel, timeoutMs, "client");
                }
            }
            // warm-up first (client JIT, server caches), for every target; then rounds that interleave the targets
            for (Target t : targets) {
                for (int i = 0; i < warmup; i++) {
                    failures += loadOnce(group, ssl, t, -1, timeoutMs, null) ? 0 : 1;
                }
            }
            failures = 0; // a failed warm-up load shows on stderr; only measured loads decide the exit status
            int run = 0;
            for (int r = 0; r < rounds; r++) {
                for (Target t : targets) {
                    for (int i = 0; i < runs; i++) {
                        failures += loadOnce(group, ssl, t, run + i, timeoutMs, out) ? 0 : 1;
                    }
                }
                run += runs;
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
        System.exit(failures == 0 ? 0 : 1);
    }

    /** N unmeasured loads of one target, {@code parallel} at a time; returns how many failed. */
    private static int warmUp(EventLoopGroup group, SslContext ssl, Target t, int n, int parallel, long timeoutMs,
                              String what) throws InterruptedException {
        Semaphore slots = new Semaphore(parallel);
        AtomicInteger failed = new AtomicInteger();
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            slots.acquire();
            Load load = new Load(ssl, t);
            load.start(group).orTimeout(timeoutMs, TimeUnit.MILLISECONDS).whenComplete((r, e) -> {
                if (e != null) {
                    failed.incrementAndGet();
                    load.abort();
                }
                slots.release();
            });
        }
        slots.acquire(parallel);
        System.err.printf("[pageload] %s: %d %s warm-up loads (%d at a time) in %.1f s, %d failed%n", t.label(), n,
                what, parallel, (System.nanoTime() - start) / 1e9, failed.get());
        return failed.get();
    }

    private static boolean loadOnce(EventLoopGroup group, SslContext ssl, Target t, int run, long timeoutMs, Path out)
            throws IOException, InterruptedException {
        Load load = new Load(ssl, t);
        String line;
        boolean ok = true;
        try {
            Result r = load.start(group).get(timeoutMs, TimeUnit.MILLISECONDS);
            line = r.json(t.label(), run, t.push(), t.hints());
            System.err.printf("[pageload] %s %s %.1f ms (setup %.1f, html %.1f) %s%n", t.label(),
                    run < 0 ? "warm-up" : "run " + run, r.totalMs, r.tlsMs, r.htmlMs, r.summary());
        } catch (Exception e) {
            ok = false;
            load.abort();
            line = "{\"label\":" + Json.str(t.label()) + ",\"run\":" + run + ",\"error\":" + Json.str(e.toString()) + "}";
            System.err.printf("[pageload] %s run %d failed: %s%n", t.label(), run, e);
        }
        if (out != null) {
            Files.writeString(out, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        }
        Thread.sleep(100); // let the server close the previous connection
        return ok;
    }

    /** What one resource of the page went through on the connection. */
    static final class Res {
        final String path;
        boolean needed;
        String how; // pushed, hinted or requested: whichever started it first
        int streamId = -1;
        int status;
        long contentLength = -1;
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        String encoding;
        boolean done;
        boolean processed;
        double doneMs;

        Res(String path) {
            this.path = path;
        }
    }

    /** The outcome of one page load. */
    record Result(double connectMs, double tlsMs, double htmlMs, double totalMs, List<Res> resources,
                  int duplicatePushes) {
        String summary() {
            StringBuilder b = new StringBuilder();
            for (Res r : resources) {
                b.append(r.path).append('=').append(r.how).append(r.needed ? "" : "(unused)").append(' ');
            }
            return b.toString().trim();
        }

        String json(String label, int run, boolean push, boolean hints) {
            StringBuilder b = new StringBuilder("{\"label\":").append(Json.str(label)).append(",\"run\":").append(run)
                    .append(",\"push\":").append(push).append(",\"hints\":").append(hints)
                    .append(",\"connectMs\":").append(Json.num(connectMs)).append(",\"tlsMs\":").append(Json.num(tlsMs))
                    .append(",\"htmlMs\":").append(Json.num(htmlMs)).append(",\"totalMs\":").append(Json.num(totalMs))
                    .append(",\"duplicatePushes\":").append(duplicatePushes).append(",\"resources\":[");
            for (int i = 0; i < resources.size(); i++) {
                Res r = resources.get(i);
                b.append(i == 0 ? "" : ",").append("{\"path\":").append(Json.str(r.path)).append(",\"how\":")
                        .append(Json.str(r.how)).append(",\"needed\":").append(r.needed).append(",\"status\":")
                        .append(r.status).append(",\"bytes\":").append(r.body.size()).append(",\"doneMs\":")
                        .append(Json.num(r.doneMs)).append('}');
            }
            return b.append("]}").toString();
        }
    }

    /** One connection and one page load on it; all state is touched on the connection's event loop only. */
    static final class Load extends Http2FrameAdapter {
        private final SslContext ssl;
        private final String host;
        private final int port;
        private final String pagePath;
        private final boolean push;
        private final boolean hints;
        private final boolean gzip;
        private final URI base;
        private final CompletableFuture<Result> done = new CompletableFuture<>();
        private final Map<String, Res> resources = new LinkedHashMap<>();
        private final Map<Integer, Res> byStream = new LinkedHashMap<>();
        private long t0;
        private double connectMs;
        private double tlsMs;
        private double htmlMs;
        private int duplicatePushes;
        private Http2ConnectionHandler http2;
        private ChannelHandlerContext ctx;

        Load(SslContext ssl, Target t) {
            this.ssl = ssl;
            this.host = t.host();
            this.port = t.port();
            this.pagePath = t.path();
            this.push = t.push();
            this.hints = t.hints();
            this.gzip = t.gzip();
            this.base = URI.create("https://" + host + ":" + port + pagePath);
        }

        CompletableFuture<Result> start(EventLoopGroup group) {
            Http2Settings settings = new Http2Settings().pushEnabled(push).initialWindowSize(6 * 1024 * 1024);
            if (push) {
                settings.maxConcurrentStreams(100);
            }
            Load self = this;
            Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            SslHandler tls = ssl.newHandler(ch.alloc(), host, port);
                            http2 = new Http2ConnectionHandlerBuilder().server(false).frameListener(self)
                                    .initialSettings(settings).build();
                            ch.pipeline().addLast(tls, http2, new ChannelInboundHandlerAdapter() {
                                @Override
                                public void handlerAdded(ChannelHandlerContext c) {
                                    ctx = c.pipeline().context(http2); // frames are written from the codec's context
                                }

                                @Override
                                public void channelActive(ChannelHandlerContext c) throws Exception {
                                    connectMs = ms();
                                    // like Chromium: a 15 MiB connection window, so flow control never waits
                                    http2.connection().local().flowController().incrementWindowSize(
                                            http2.connection().connectionStream(), 15 * 1024 * 1024 - 65_535);
                                    c.flush();
                                    super.channelActive(c);
                                }

                                @Override
                                public void userEventTriggered(ChannelHandlerContext c, Object evt) throws Exception {
                                    if (evt instanceof SslHandshakeCompletionEvent e) {
                                        if (!e.isSuccess()) {
                                            fail(e.cause());
                                        } else if (!"h2".equals(tls.applicationProtocol())) {
                                            fail(new IOException("ALPN chose " + tls.applicationProtocol() + ", not h2"));
                                        } else {
                                            tlsMs = ms();
                                            needAll(List.of(pagePath));
                                        }
                                    }
                                    super.userEventTriggered(c, evt);
                                }

                                @Override
                                public void channelInactive(ChannelHandlerContext c) throws Exception {
                                    fail(new IOException("connection closed before the page was complete"));
                                    super.channelInactive(c);
                                }

                                @Override
                                public void exceptionCaught(ChannelHandlerContext c, Throwable cause) {
                                    fail(cause);
                                }
                            });
                        }
                    });
            t0 = System.nanoTime();
            b.connect(host, port).addListener(f -> {
                if (!f.isSuccess()) {
                    fail(f.cause());
                }
            });
            return done;
        }

        void abort() {
            if (ctx != null) {
                ctx.channel().close();
            }
        }

        private double ms() {
            return (System.nanoTime() - t0) / 1e6;
        }

        private void fail(Throwable cause) {
            if (done.completeExceptionally(cause) && ctx != null) {
                ctx.channel().close();
            }
        }

        /** A hint or push announced {@code path}: starts its fetch unless one runs; the page may not need it. */
        private void announced(String path, String how) {
            Res r = resources.computeIfAbsent(path, Res::new);
            if (r.how == null) {
                r.how = how;
                request(r);
            }
        }

        /**
         * The page needs these paths (found by discovery): all are marked first, then fetched or, when already
         * complete (pushed, hinted), processed; so the finish check never runs before every sibling is known.
         */
        private void needAll(List<String> paths) {
            List<Res> list = new ArrayList<>();
            for (String p : paths) {
                Res r = resources.computeIfAbsent(p, Res::new);
                r.needed = true;
                list.add(r);
            }
            for (Res r : list) {
                if (r.how == null) {
                    r.how = "requested";
                    request(r);
                } else if (r.done) {
                    process(r);
                }
            }
        }

        private void request(Res r) {
            int id = http2.connection().local().incrementAndGetNextStreamId();
            r.streamId = id;
            byStream.put(id, r);
            Http2Headers h = new DefaultHttp2Headers().method("GET").scheme("https").authority(host + ":" + port)
                    .path(r.path);
            h.add("user-agent", "herald-pushbench/1");
            h.add("accept", "*/*");
            if (gzip) {
                h.add("accept-encoding", "gzip");
            }
            http2.encoder().writeHeaders(ctx, id, h, 0, true, ctx.newPromise());
            ctx.flush();
        }

        @Override
        public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int streamDependency,
                                  short weight, boolean exclusive, int padding, boolean endOfStream) {
            onHeadersRead(c, streamId, headers, padding, endOfStream);
        }

        @Override
        public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int padding,
                                  boolean endOfStream) {
            Res r = byStream.get(streamId);
            CharSequence status = headers.status();
            if (status != null && status.length() == 3 && status.charAt(0) == '1') {
                if (hints && "103".contentEquals(status)) {
                    for (CharSequence link : headers.getAll("link")) {
                        hinted(link.toString());
                    }
                }
                return;
            }
            if (r == null) {
                return; // a response we do not track (a duplicate push): received, ignored
            }
            if (status != null) {
                r.status = Integer.parseInt(status.toString());
                CharSequence len = headers.get("content-length");
                r.contentLength = len == null ? -1 : Long.parseLong(len.toString());
                CharSequence coding = headers.get("content-encoding");
                r.encoding = coding == null ? null : coding.toString();
            }
            if (endOfStream) {
                complete(r);
            }
        }

        private void hinted(String value) {
            Matcher m = LINK.matcher(value);
            while (m.find()) {
                String params = m.group(2).toLowerCase(java.util.Locale.ROOT);
                if (params.matches(".*rel\\s*=\\s*\"?[^;]*\\b(preload|modulepreload)\\b.*")) {
                    String p = sameOrigin(m.group(1).trim());
                    if (p != null) {
                        announced(p, "hinted");
                    }
                }
            }
        }

        @Override
        public int onDataRead(ChannelHandlerContext c, int streamId, ByteBuf data, int padding, boolean endOfStream) {
            int n = data.readableBytes() + padding;
            Res r = byStream.get(streamId);
            if (r != null) {
                byte[] chunk = new byte[data.readableBytes()];
                data.readBytes(chunk);
                r.body.writeBytes(chunk);
                if (endOfStream) {
                    complete(r);
                }
            }
            return n; // consumed: the flow controller returns the window
        }

        @Override
        public void onPushPromiseRead(ChannelHandlerContext c, int streamId, int promisedStreamId, Http2Headers headers,
                                      int padding) {
            String p = headers.path().toString();
            Res r = resources.computeIfAbsent(p, Res::new);
            if (r.how == null) {
                r.how = "pushed";
                r.streamId = promisedStreamId;
                byStream.put(promisedStreamId, r);
            } else {
                duplicatePushes++; // already requested or promised: the pushed copy is received and dropped
            }
        }

        @Override
        public void onRstStreamRead(ChannelHandlerContext c, int streamId, long errorCode) {
            Res r = byStream.get(streamId);
            if (r != null && !r.done) {
                fail(new IOException("stream " + streamId + " (" + r.path + ") reset with code " + errorCode));
            }
        }

        @Override
        public void onGoAwayRead(ChannelHandlerContext c, int lastStreamId, long errorCode, ByteBuf debugData) {
            if (!done.isDone()) {
                fail(new IOException("GOAWAY " + errorCode + ": " + debugData.toString(StandardCharsets.UTF_8)));
            }
        }

        private void complete(Res r) {
            if (r.done) {
                return;
            }
            r.done = true;
            r.doneMs = ms();
            if (r.status != 200) {
                fail(new IOException(r.path + ": status " + r.status));
                return;
            }
            if (r.contentLength >= 0 && r.contentLength != r.body.size()) {
                fail(new IOException(r.path + ": " + r.body.size() + " bytes, content-length " + r.contentLength));
                return;
            }
            if (r.needed) {
                process(r);
            }
        }

        /** Discovery on a complete resource the page needs, then the finish check. */
        private void process(Res r) {
            if (r.processed || done.isDone()) {
                return;
            }
            r.processed = true;
            String text;
            try {
                text = text(r);
            } catch (IOException e) {
                fail(e);
                return;
            }
            URI self = base.resolve(r.path);
            List<String> found = new ArrayList<>();
            if (r.path.equals(pagePath)) {
                htmlMs = r.doneMs;
                Document doc = Jsoup.parse(text, self.toString());
                for (Element e : doc.select("link[href], script[src]")) {
                    String rel = e.attr("rel").toLowerCase(java.util.Locale.ROOT);
                    boolean wanted = e.tagName().equals("script") || rel.contains("stylesheet")
                            || rel.contains("preload") || rel.contains("modulepreload");
                    String p = wanted ? sameOrigin(e.absUrl(e.tagName().equals("script") ? "src" : "href")) : null;
                    if (p != null) {
                        found.add(p);
                    }
                }
            } else if (r.path.endsWith(".css")) {
                for (Pattern pat : List.of(CSS_IMPORT, CSS_URL)) {
                    Matcher m = pat.matcher(text);
                    while (m.find()) {
                        String p = sameOrigin(self.resolve(m.group(1).trim()).toString());
                        if (p != null) {
                            found.add(p);
                        }
                    }
                }
            } else if (r.path.endsWith(".js") || r.path.endsWith(".mjs")) {
                Matcher m = JS_IMPORT.matcher(text);
                while (m.find()) {
                    String p = sameOrigin(self.resolve(m.group(1).trim()).toString());
                    if (p != null) {
                        found.add(p);
                    }
                }
            }
            needAll(found);
            if (done.isDone()) {
                return;
            }
            for (Res x : resources.values()) {
                if (x.needed && (!x.done || !x.processed)) {
                    return;
                }
            }
            double total = resources.values().stream().filter(x -> x.needed).mapToDouble(x -> x.doneMs).max().orElse(0);
            done.complete(new Result(connectMs, tlsMs, htmlMs, total, new ArrayList<>(resources.values()),
                    duplicatePushes));
            ctx.channel().close();
        }

        /** The body as text: gunzipped when it came gzipped (only asked for with {@code --gzip}). */
        private String text(Res r) throws IOException {
            if (r.encoding == null) {
                return r.body.toString(StandardCharsets.UTF_8);
            }
            if (!gzip || !"gzip".equalsIgnoreCase(r.encoding)) {
                throw new IOException(r.path + ": content-encoding " + r.encoding + " not asked for");
            }
            try (java.util.zip.GZIPInputStream in = new java.util.zip.GZIPInputStream(
                    new java.io.ByteArrayInputStream(r.body.toByteArray()))) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        }

        /** The path of a URL on this origin, or null for another origin. */
        private String sameOrigin(String url) {
            URI u = base.resolve(url);
            if (!"https".equals(u.getScheme()) || !host.equals(u.getHost()) || u.getPort() != port) {
                return null;
            }
            return u.getRawPath() + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery());
        }
    }

    /** {@code --name value} pairs. */
    static final class Args {
        static Map<String, String> parse(String[] args) {
            Map<String, String> m = new LinkedHashMap<>();
            for (int i = 0; i < args.length; i++) {
                if (!args[i].startsWith("--") || i + 1 >= args.length) {
                    throw new IllegalArgumentException("expected --name value pairs, got: " + args[i]);
                }
                m.put(args[i].substring(2), args[++i]);
            }
            return m;
        }

        static String required(Map<String, String> m, String name) {
            String v = m.get(name);
            if (v == null) {
                throw new IllegalArgumentException("--" + name + " is required");
            }
            return v;
        }
    }

    /** Just enough JSON for flat result lines. */
    static final class Json {
        static String str(String s) {
            if (s == null) {
                return "null";
            }
            StringBuilder b = new StringBuilder("\"");
            for (char ch : s.toCharArray()) {
                if (ch == '"' || ch == '\\') {
                    b.append('\\').append(ch);
                } else if (ch < 0x20) {
                    b.append(String.format("\\u%04x", (int) ch));
                } else {
                    b.append(ch);
                }
            }
            return b.append('"').toString();
        }

        static String num(double v) {
            return String.format(java.util.Locale.ROOT, "%.3f", v);
        }
    }
}
