package dev.herald.push;

import dev.herald.config.HeraldConfig;
import dev.herald.config.PushRule;
import dev.herald.testing.HeraldExtension;
import io.netty.handler.codec.http2.Http2Settings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;

import static org.assertj.core.api.Assertions.assertThat;

/** The cache digest cookie on the wire: what a returning browser holds is neither pushed nor hinted. */
class PushDigestTest {
    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.folder(dir -> copy(HeraldExtension.sitePath("push"),
                    dir.resolve("root")))
            .routes(b -> b.routePrefix("/", PushingFiles.create(PushDigestTest.HERALD.scratch().resolve("root"),
                    HeraldConfig.builder().build(), ForkJoinPool.commonPool())));

    /** A page announcing nothing itself: a rule pushes one asset and adds a Link line for another. */
    @RegisterExtension
    static final HeraldExtension RULES = HeraldExtension.folder(dir -> {
        copy(HeraldExtension.sitePath("push"), dir.resolve("root"));
        Files.writeString(dir.resolve("root/r.html"), "<!doctype html><title>r</title>\n");
    }).configure(b -> b.pushRules(List.of(new PushRule("/r.html", List.of("/img/logo.svg"), true, -1, true,
            List.of("</js/app.js>; rel=preload; as=script")))));

    /** What other.html needs, in push order. */
    static final List<String> OTHER_ASSETS = List.of("/css/site.css", "/css/base.css", "/fonts/test.woff2",
            "/js/other.js");

    static void copy(Path src, Path to) throws Exception {
        try (var files = Files.walk(src)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path t = to.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }

    private static H2FrameClient client(Http2Settings settings) throws Exception {
        return new H2FrameClient(HERALD.httpPort(), settings);
    }

    private static List<String> promisedPaths(List<H2FrameClient.Frame> frames) {
        return frames.stream().filter(f -> f.type().equals("PUSH_PROMISE")).map(f -> f.header(":path")).toList();
    }

    private static H2FrameClient.Frame pageHeaders(List<H2FrameClient.Frame> frames) {
        return frames.stream().filter(f -> f.type().equals("HEADERS") && f.stream() % 2 == 1 && !f.informational())
                .findFirst().orElseThrow(() -> new AssertionError("no page HEADERS: " + frames));
    }

    /** The digest cookie the page response set, as a Cookie header value. */
    private static String digestCookie(List<H2FrameClient.Frame> frames) {
        String set = pageHeaders(frames).header("set-cookie");
        assertThat(set).as("set-cookie of %s", frames).startsWith("herald-digest=");
        return set.substring(0, set.indexOf(';'));
    }

    @Test
    void aDigestCookieOnANewConnectionSkipsUnchangedFilesAndPushesTheChangedOne() throws Exception {
        String cookie;
        try (H2FrameClient c = client(H2FrameClient.pushAllowed())) {
            List<H2FrameClient.Frame> first = c.load("/other.html", Map.of());
            assertThat(promisedPaths(first)).containsExactlyElementsOf(OTHER_ASSETS);
            cookie = digestCookie(first);
        }
        try (H2FrameClient c = client(H2FrameClient.pushAllowed())) {
            List<H2FrameClient.Frame> again = c.load("/other.html", Map.of("cookie", "a=b; " + cookie));

            assertThat(promisedPaths(again)).as("held per the digest").isEmpty();
            assertThat(again).noneMatch(H2FrameClient.Frame::informational);
            assertThat(pageHeaders(again).header("set-cookie")).as("nothing new to record").isNull();
        }
        Path js = HERALD.scratch().resolve("root/js/other.js");
        Files.writeString(js, "console.log('other, changed');\n");
        Files.setLastModifiedTime(js, FileTime.fromMillis(System.currentTimeMillis() + 10_000));
        try (H2FrameClient c = client(H2FrameClient.pushAllowed())) {
            List<H2FrameClient.Frame> changed = c.load("/other.html", Map.of("cookie", cookie));

            assertThat(promisedPaths(changed)).as("a new ETag is pushed again").containsExactly("/js/other.js");
            String updated = digestCookie(changed);
            assertThat(updated).isNotEqualTo(cookie);
            try (H2FrameClient d = client(H2FrameClient.pushAllowed())) {
                assertThat(promisedPaths(d.load("/other.html", Map.of("cookie", updated)))).isEmpty();
            }
        }
    }

    @Test
    void theDigestGrowsAcrossPagesAndSkipsOnlyWhatItHolds() throws Exception {
        String cookie;
        try (H2FrameClient c = client(H2FrameClient.pushAllowed())) {
            cookie = digestCookie(c.load("/index.html", Map.of()));
        }
        try (H2FrameClient c = client(H2FrameClient.pushAllowed())) {
            List<H2FrameClient.Frame> other = c.load("/other.html", Map.of("cookie", cookie));
            assertThat(promisedPaths(other)).containsExactly("/js/other.js");
            cookie = digestCookie(other);
        }
        try (H2FrameClient c = client(H2FrameClient.pushAllowed())) {
            assertThat(promisedPaths(c.load("/index.html", Map.of("cookie", cookie)))).isEmpty();
            assertThat(promisedPaths(c.load("/other.html", Map.of("cookie", cookie)))).isEmpty();
        }
    }

    @Test
    void earlyHintsLeaveOutWhatTheDigestHolds() throws Exception {
        String cookie;
        try (H2FrameClient c = client(H2FrameClient.pushAllowed())) {
            cookie = digestCookie(c.load("/other.html", Map.of()));
        }
        try (H2FrameClient c = client(Http2Settings.defaultSettings().pushEnabled(false))) {
            List<H2FrameClient.Frame> frames = c.load("/index.html", Map.of("cookie", cookie));

            List<H2FrameClient.Frame> heads = frames.stream().filter(f -> f.type().equals("HEADERS")).toList();
            assertThat(heads.get(0).header(":status")).isEqualTo("103");
            assertThat(heads.get(0).all("link")).as("index minus what other.html brought")
                    .containsExactly("</js/app.js>; rel=modulepreload", "</data.json>; rel=preload; as=fetch; crossorigin");
            String all = digestCookie(frames);
            List<H2FrameClient.Frame> again = c.load("/index.html", Map.of("cookie", all));
            assertThat(again).as("every resource held: no 103").noneMatch(H2FrameClient.Frame::informational);
            assertThat(pageHeaders(again).all("link")).isEmpty();
        }
    }

    @Test
    void whatARulePushesIsRecordedAndSkippedLikeDiscoveredAssets() throws Exception {
        String cookie;
        try (H2FrameClient c = new H2FrameClient(RULES.httpPort(), H2FrameClient.pushAllowed())) {
            List<H2FrameClient.Frame> first = c.load("/r.html", Map.of());
            assertThat(promisedPaths(first)).containsExactly("/js/app.js", "/img/logo.svg");
            cookie = digestCookie(first);
        }
        try (H2FrameClient c = new H2FrameClient(RULES.httpPort(), H2FrameClient.pushAllowed())) {
            List<H2FrameClient.Frame> again = c.load("/r.html", Map.of("cookie", cookie));
            assertThat(promisedPaths(again)).as("held per the digest").isEmpty();
        }
        try (H2FrameClient c = new H2FrameClient(RULES.httpPort(), Http2Settings.defaultSettings().pushEnabled(false))) {
            List<H2FrameClient.Frame> hinted = c.load("/r.html", Map.of("cookie", cookie));
            assertThat(hinted).as("nothing left to hint").noneMatch(H2FrameClient.Frame::informational);
        }
    }

    @Test
    void aMalformedCookieIsIgnored() throws Exception {
        for (String bad : List.of("herald-digest=%%%", "herald-digest=", "herald-digest=AQgH____________",
                "herald-digest=" + "A".repeat(5000))) {
            try (H2FrameClient c = client(H2FrameClient.pushAllowed())) {
                List<H2FrameClient.Frame> frames = c.load("/other.html", Map.of("cookie", bad));

                assertThat(pageHeaders(frames).header(":status")).as(bad).isEqualTo("200");
                assertThat(promisedPaths(frames)).as(bad).containsExactlyElementsOf(OTHER_ASSETS);
                assertThat(digestCookie(frames)).isNotEqualTo(bad);
            }
        }
    }
}
