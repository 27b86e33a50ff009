package dev.herald.push;

import dev.herald.config.HeraldConfig;
import dev.herald.server.Handler;
import dev.herald.server.Response;
import dev.herald.testing.HeraldExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The think-time budget on the wire: a page whose response is not ready keeps getting promises, one budget per
 * round, for as long as its HEADERS have not gone out; a page answered at once gets one budget. The page is the
 * benchmark's (bench/push): style.css and font.woff2 fit the 43,800 bytes auto makes of a 10-segment window,
 * app.js (48,000) does not.
 */
class PushThinkTimeTest {
    static final List<String> MANIFEST = List.of("/style.css", "/font.woff2", "/app.js");
    /** Completed by the test to let the thinking page answer. */
    static final AtomicReference<CompletableFuture<Void>> THINKING = new AtomicReference<>();

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.folder(dir -> {
        Path root = dir.resolve("root");
        String html = "<!doctype html><title>t</title><link rel=stylesheet href=/style.css>"
                + "<script type=module src=/app.js></script>\n";
        Files.writeString(root.resolve("fast.html"), html);
        Files.writeString(root.resolve("think.html"), html);
        byte[] css = new byte[12_000];
        java.util.Arrays.fill(css, (byte) ' ');
        byte[] rule = "@font-face{font-family:f;src:url(/font.woff2)}".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(rule, 0, css, 0, rule.length);
        Files.write(root.resolve("style.css"), css);
        Files.write(root.resolve("font.woff2"), new byte[28_000]);
        byte[] js = new byte[48_000];
        java.util.Arrays.fill(js, (byte) ' ');
        Files.write(root.resolve("app.js"), js);
    }).routes(b -> {
        // The budget auto makes of a 10-segment window: loopback's window would hold the whole manifest.
        Handler files = PushingFiles.create(PushThinkTimeTest.HERALD.scratch().resolve("root"),
                HeraldConfig.builder().pushMaxBytes(PushingFiles.DEFAULT_MAX_BYTES).build(), ForkJoinPool.commonPool());
        b.route("/think.html", exchange -> files.handle(new ForwardingExchange(exchange) {
            @Override
            public void respond(Response response) {
                THINKING.get().thenRun(() -> super.respond(response)); // the application is still thinking
            }
        })).routePrefix("/", files);
    });

    /** Reads frames (after those already read) until the page and every stream promised on it have ended. */
    private static List<H2FrameClient.Frame> finish(H2FrameClient c, int page, List<H2FrameClient.Frame> frames)
            throws InterruptedException {
        Set<Integer> open = new HashSet<>();
        open.add(page);
        for (H2FrameClient.Frame f : frames) {
            track(f, page, open);
        }
        while (!open.isEmpty()) {
            H2FrameClient.Frame f = c.next();
            frames.add(f);
            assertThat(f.type()).as("frames so far: %s", frames).isNotIn("GOAWAY", "CLOSED");
            track(f, page, open);
        }
        return frames;
    }

    private static void track(H2FrameClient.Frame f, int page, Set<Integer> open) {
        if (f.type().equals("PUSH_PROMISE") && f.stream() == page) {
            open.add(f.promised());
        } else if (f.endStream() || f.type().startsWith("RST_STREAM")) {
            open.remove(f.stream());
        }
    }

    /**
     * A first load without push puts the page and its manifest in Herald's caches, so the page is answered at once
     * (on the event loop, before any push starts) rather than after a disk read on another thread, which is a short
     * think time of its own.
     */
    private static void warmFastPage() throws Exception {
        try (H2FrameClient warm = new H2FrameClient(HERALD.httpPort(),
                io.netty.handler.codec.http2.Http2Settings.defaultSettings().pushEnabled(false))) {
            warm.load("/fast.html", Map.of());
        }
    }

    private static List<String> promised(List<H2FrameClient.Frame> frames) {
        return frames.stream().filter(f -> f.type().equals("PUSH_PROMISE")).map(f -> f.header(":path")).toList();
    }

    @Test
    void aPageStillThinkingGetsItsWholeManifestPromisedBeforeItsHeaders() throws Exception {
        THINKING.set(new CompletableFuture<>());
        try (H2FrameClient c = new H2FrameClient(HERALD.httpPort(), H2FrameClient.pushAllowed())) {
            c.consumeData = true;
            int page = c.get("/think.html", Map.of());
            List<H2FrameClient.Frame> frames = new ArrayList<>();
            // The page has not answered: the first budget is promised and written, then the rest of the manifest.
            // Without the later round no third promise ever comes and next() fails after 10 s.
            while (promised(frames).size() < MANIFEST.size()) {
                H2FrameClient.Frame f = c.next();
                frames.add(f);
                assertThat(f.stream() == page && f.type().equals("HEADERS") && !f.informational())
                        .as("the page's final HEADERS while it thinks: %s", frames).isFalse();
            }
            THINKING.get().complete(null);
            finish(c, page, frames);

            assertThat(promised(frames)).containsExactlyElementsOf(MANIFEST);
            int lastPromise = frames.indexOf(frames.stream().filter(f -> f.type().equals("PUSH_PROMISE"))
                    .reduce((a, b) -> b).orElseThrow());
            H2FrameClient.Frame pageHeaders = frames.stream().filter(f -> f.stream() == page
                    && f.type().equals("HEADERS") && !f.informational()).findFirst().orElseThrow();
            assertThat(pageHeaders.header(":status")).isEqualTo("200");
            assertThat(lastPromise).as("frames: %s", frames).isLessThan(frames.indexOf(pageHeaders));
            // app.js was promised only once the first round (style.css, font.woff2) had been written.
            H2FrameClient.Frame appPromise = frames.stream().filter(f -> f.type().equals("PUSH_PROMISE")
                    && f.header(":path").equals("/app.js")).findFirst().orElseThrow();
            for (H2FrameClient.Frame f : frames.stream().filter(f -> f.type().equals("PUSH_PROMISE")
                    && !f.header(":path").equals("/app.js")).toList()) {
                int end = -1;
                for (int i = 0; i < frames.size(); i++) {
                    if (frames.get(i).stream() == f.promised() && frames.get(i).endStream()) {
                        end = i;
                    }
                }
                assertThat(end).as("%s ends before app.js is promised", f.header(":path"))
                        .isBetween(0, frames.indexOf(appPromise));
            }
            assertThat(frames).as("app.js pushed").filteredOn(f -> f.stream() == appPromise.promised()
                    && f.endStream()).hasSize(1);
        }
    }

    @Test
    void aPageAnsweredAtOnceGetsOnlyTheFirstBudget() throws Exception {
        warmFastPage();
        try (H2FrameClient c = new H2FrameClient(HERALD.httpPort(), H2FrameClient.pushAllowed())) {
            c.consumeData = true;
            int page = c.get("/fast.html", Map.of());
            List<H2FrameClient.Frame> frames = finish(c, page, new ArrayList<>());

            assertThat(promised(frames)).containsExactly("/style.css", "/font.woff2");
            assertThat(frames).filteredOn(f -> f.stream() == page && f.type().equals("HEADERS")
                    && "103".equals(f.header(":status"))).singleElement()
                    .satisfies(f -> assertThat(f.all("link")).anyMatch(l -> l.startsWith("</app.js>")));
        }
    }

    @Test
    void aClientAcceptingGzipHasTheGzippedBytesCountedAndPushedToIt() throws Exception {
        // As aPageAnsweredAtOnceGetsOnlyTheFirstBudget, but the client accepts gzip (as nghttp does): files.compress
        // makes style.css and app.js a few hundred bytes each, so the whole manifest fits the first budget, and
        // the pushes carry the gzip bytes the promise's accept-encoding asks for.
        warmFastPage();
        try (H2FrameClient c = new H2FrameClient(HERALD.httpPort(), H2FrameClient.pushAllowed())) {
            c.consumeData = true;
            int page = c.get("/fast.html", Map.of("accept-encoding", "gzip"));
            List<H2FrameClient.Frame> frames = finish(c, page, new ArrayList<>());

            assertThat(promised(frames)).containsExactlyElementsOf(MANIFEST);
            for (H2FrameClient.Frame p : frames.stream().filter(f -> f.type().equals("PUSH_PROMISE")).toList()) {
                String path = p.header(":path");
                assertThat(p.header("accept-encoding")).as(path).isEqualTo("gzip");
                H2FrameClient.Frame head = frames.stream().filter(f -> f.stream() == p.promised()
                        && f.type().equals("HEADERS")).findFirst().orElseThrow();
                java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
                frames.stream().filter(f -> f.stream() == p.promised() && f.type().equals("DATA"))
                        .forEach(f -> body.writeBytes(f.data()));
                byte[] file = Files.readAllBytes(HERALD.scratch().resolve("root").resolve(path.substring(1)));
                assertThat(head.header("content-length")).as(path).isEqualTo(Integer.toString(body.size()));
                if (path.equals("/font.woff2")) {
                    assertThat(head.header("content-encoding")).as(path).isNull();
                    assertThat(body.toByteArray()).as(path).isEqualTo(file);
                } else {
                    assertThat(head.header("content-encoding")).as(path).isEqualTo("gzip");
                    assertThat(body.size()).as(path).isLessThan(file.length / 8);
                    try (java.util.zip.GZIPInputStream in = new java.util.zip.GZIPInputStream(
                            new java.io.ByteArrayInputStream(body.toByteArray()))) {
                        assertThat(in.readAllBytes()).as(path).isEqualTo(file);
                    }
                }
            }
        }
    }
}
