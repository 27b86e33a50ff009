package dev.herald.push;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import dev.herald.testing.HeraldExtension;
import io.netty.handler.codec.http2.Http2Settings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What push tells its operator: the access-log fields of a page, the Prometheus counters scraped from the
 * metrics endpoint, and the opt-in {@code x-herald-push} header.
 */
class PushObservabilityTest {
    private static final Logger ACCESS = (Logger) LoggerFactory.getLogger("herald.access");
    private static final Level ACCESS_LEVEL = ACCESS.getLevel();
    /** Access-log lines as they are written (on the server's event loops). */
    private static final java.util.concurrent.BlockingDeque<String> LINES =
            new java.util.concurrent.LinkedBlockingDeque<>();
    private static final AppenderBase<ILoggingEvent> APPENDER = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent e) {
            LINES.add(e.getFormattedMessage());
        }
    };

    static {
        // Before the server starts: the access log decides once whether it is on.
        APPENDER.start();
        ACCESS.addAppender(APPENDER);
        ACCESS.setAdditive(false);
        ACCESS.setLevel(Level.INFO);
    }

    static final int BIG = 1 << 20;

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.folder(dir -> {
        Path root = dir.resolve("root");
        PushDigestTest.copy(HeraldExtension.sitePath("push"), root);
        Files.writeString(root.resolve("big.html"), "<!doctype html><script src=/big.js></script>\n");
        Files.writeString(root.resolve("obs.html"), "<!doctype html><link rel=stylesheet href=/css/base.css>"
                + "<script src=/big.js></script><script src=/js/app.js></script><script src=/big2.js></script>\n");
        byte[] big = new byte[BIG];
        java.util.Arrays.fill(big, (byte) ';');
        Files.write(root.resolve("big.js"), big);
        Files.write(root.resolve("big2.js"), big);
    }).configure(b -> b.pushDebugHeader(true).pushMaxBytes(4L << 20));

    @AfterAll
    static void restoreTheAccessLog() {
        ACCESS.detachAppender(APPENDER);
        ACCESS.setAdditive(true);
        ACCESS.setLevel(ACCESS_LEVEL);
    }

    @BeforeEach
    void forgetEarlierLines() {
        LINES.clear();
    }

    private static H2FrameClient client(Http2Settings settings) throws Exception {
        return new H2FrameClient(HERALD.httpPort(), settings);
    }

    /**
     * A client that resets /big.js (CANCEL) and /big2.js (REFUSED_STREAM) as their promises arrive. Its stream
     * window (64 KiB, never replenished) keeps the server from finishing either 1 MiB push first.
     */
    private static H2FrameClient resettingClient() throws Exception {
        H2FrameClient c = client(H2FrameClient.pushAllowed().initialWindowSize(64 << 10));
        c.cancelPaths.add("/big.js");
        c.refusePaths.add("/big2.js");
        return c;
    }

    /** The access-log line of {@code GET path}, waiting for it (a page's line waits for its pushes). */
    private static String accessLine(String path) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        List<String> others = new ArrayList<>(); // other requests' lines, put back for their own lookups
        try {
            for (;;) {
                // The line is written on the server's event loop: wait for the appender to hand it over.
                String m = LINES.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                if (m == null) {
                    throw new AssertionError("no access-log line for " + path + " in " + others);
                }
                if (m.contains(" GET " + path + " ")) {
                    return m;
                }
                others.add(m);
            }
        } finally {
            for (int i = others.size() - 1; i >= 0; i--) {
                LINES.addFirst(others.get(i));
            }
        }
    }

    private static H2FrameClient.Frame finalHeaders(List<H2FrameClient.Frame> frames) {
        return frames.stream().filter(f -> f.type().equals("HEADERS") && f.stream() % 2 == 1 && !f.informational())
                .findFirst().orElseThrow(() -> new AssertionError("no final HEADERS: " + frames));
    }

    /** The value of one counter in the Prometheus text scraped over HTTP. */
    private static double metric(String name) throws Exception {
        HttpResponse<String> r = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + HERALD.httpPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body().lines().filter(l -> l.startsWith(name + " ")).findFirst()
                .map(l -> Double.parseDouble(l.substring(name.length() + 1).trim()))
                .orElseThrow(() -> new AssertionError("no " + name + " in " + r.body()));
    }

    @Test
    void thePagesAccessLogLineCountsPushedCancelledSkippedAndHinted() throws Exception {
        try (H2FrameClient c = resettingClient()) {
            c.load("/obs.html", Map.of());
            assertThat(accessLine("/obs.html")).endsWith(
                    "pushed=4 cancelled=2 skipped-diary=0 skipped-digest=0 hinted=0");

            c.load("/", Map.of());
            assertThat(accessLine("/")).endsWith(
                    "pushed=3 cancelled=0 skipped-diary=2 skipped-digest=0 hinted=0");
        }
        try (H2FrameClient c = client(Http2Settings.defaultSettings().pushEnabled(false))) {
            c.load("/other.html", Map.of());
            assertThat(accessLine("/other.html")).endsWith(
                    "pushed=0 cancelled=0 skipped-diary=0 skipped-digest=0 hinted=4 push-reason=client-refuses-push");
        }
    }

    @Test
    void aPushedResponsesOwnLineIsMarked() throws Exception {
        try (H2FrameClient c = client(H2FrameClient.pushAllowed())) {
            c.load("/other.html", Map.of());
            assertThat(accessLine("/js/other.js")).contains(" GET /js/other.js 200 27 ").endsWith(" push");
            accessLine("/other.html"); // its pushes are all over: nothing left to count in another test
        }
    }

    @Test
    void theMetricsCountPromisedCompletedCancelledRefusedAndEarlyHints() throws Exception {
        double promised = metric("herald_push_promised_total");
        double completed = metric("herald_push_completed_total");
        double cancelled = metric("herald_push_cancelled_total");
        double refused = metric("herald_push_refused_total");
        double hints = metric("herald_early_hints_sent_total");
        try (H2FrameClient c = resettingClient()) {
            c.load("/obs.html", Map.of());
            accessLine("/obs.html"); // written once every push closed, so the counters are final
        }
        assertThat(metric("herald_push_promised_total") - promised).isEqualTo(4);
        assertThat(metric("herald_push_completed_total") - completed).isEqualTo(2);
        assertThat(metric("herald_push_cancelled_total") - cancelled).isEqualTo(1);
        assertThat(metric("herald_push_refused_total") - refused).isEqualTo(1);
        assertThat(metric("herald_early_hints_sent_total") - hints).isZero();

        try (H2FrameClient c = client(Http2Settings.defaultSettings().pushEnabled(false))) {
            c.load("/obs.html", Map.of());
            accessLine("/obs.html");
        }
        assertThat(metric("herald_early_hints_sent_total") - hints).isEqualTo(1);
        assertThat(metric("herald_push_refused_total") - refused).as("disabled: one per resource").isEqualTo(5);
        assertThat(metric("herald_push_promised_total") - promised).isEqualTo(4);
    }

    @Test
    void bytesSentOnAStreamTheClientThenCancelledCountAsWasted() throws Exception {
        double pushed = metric("herald_push_bytes_total");
        double wasted = metric("herald_push_wasted_bytes_total");
        try (H2FrameClient c = client(H2FrameClient.pushAllowed().initialWindowSize(64 << 10))) {
            c.consumeData = true;
            c.cancelAfterBytes.put("/big.js", 128 << 10);
            List<H2FrameClient.Frame> frames = c.load("/big.html", Map.of());
            accessLine("/big.html");
            long received = frames.stream().filter(f -> f.type().equals("DATA") && f.stream() % 2 == 0)
                    .mapToLong(f -> f.data().length).sum();

            double wastedNow = metric("herald_push_wasted_bytes_total") - wasted;
            assertThat(wastedNow).isGreaterThanOrEqualTo(received).isLessThan(BIG);
            // At most one stream window beyond what the client had read when it reset.
            assertThat(wastedNow - received).isLessThanOrEqualTo(64 << 10);
            assertThat(metric("herald_push_bytes_total") - pushed).isEqualTo(wastedNow);
        }
    }

    @Test
    void theDebugHeaderSummarisesTheDecision() throws Exception {
        String cookie;
        try (H2FrameClient c = client(H2FrameClient.pushAllowed())) {
            H2FrameClient.Frame page = finalHeaders(c.load("/", Map.of()));
            assertThat(page.header("x-herald-push")).isEqualTo(
                    "pushed=/css/site.css,/css/base.css,/fonts/test.woff2,/js/app.js,/data.json");
            String set = page.header("set-cookie");
            cookie = set.substring(0, set.indexOf(';'));
            accessLine("/");

            assertThat(finalHeaders(c.load("/other.html", Map.of())).header("x-herald-push")).isEqualTo(
                    "pushed=/js/other.js; skipped-diary=/css/site.css,/css/base.css,/fonts/test.woff2");
            accessLine("/other.html");
        }
        try (H2FrameClient c = client(H2FrameClient.pushAllowed())) {
            assertThat(finalHeaders(c.load("/other.html", Map.of("cookie", cookie))).header("x-herald-push"))
                    .isEqualTo("pushed=/js/other.js; skipped-digest=/css/site.css,/css/base.css,/fonts/test.woff2");
            accessLine("/other.html");
        }
        try (H2FrameClient c = client(Http2Settings.defaultSettings().pushEnabled(false))) {
            assertThat(finalHeaders(c.load("/other.html", Map.of())).header("x-herald-push")).isEqualTo(
                    "hinted=/css/site.css,/css/base.css,/fonts/test.woff2,/js/other.js; "
                            + "reason=client-refuses-push");
        }
    }
}
