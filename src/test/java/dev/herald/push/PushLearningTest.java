package dev.herald.push;

import dev.herald.config.HeraldConfig;
import dev.herald.testing.HeraldExtension;
import io.netty.handler.codec.http2.Http2Settings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;

import static org.assertj.core.api.Assertions.assertThat;

/** Learning from Referer through a real server: what a page's visitors fetch next is pushed to the next one. */
class PushLearningTest {
    static final Path SITE = HeraldExtension.sitePath("push");
    static final PushingFiles FILES = PushingFiles.create(SITE, HeraldConfig.builder().build(),
            ForkJoinPool.commonPool()).cacheDigest(false);

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.site("push").routes(b -> b.routePrefix("/", FILES));

    private static List<String> promisedPaths(List<H2FrameClient.Frame> frames) {
        return frames.stream().filter(f -> f.type().equals("PUSH_PROMISE")).map(f -> f.header(":path")).toList();
    }

    private static String referer(H2FrameClient c, String page) {
        return "http://" + c.authority() + page;
    }

    @Test
    void aResourceFetchedWithTheRefererAfterThePageIsPushedWithItNextTime() throws Exception {
        try (H2FrameClient c = new H2FrameClient(HERALD.httpPort(), Http2Settings.defaultSettings()
                .pushEnabled(false))) {
            c.load("/other.html", Map.of());
            c.load("/img/logo.svg", Map.of("referer", referer(c, "/other.html")));
            // Not learned: conditional, another page as Referer, a page itself, a missing file.
            c.load("/js/app.js", Map.of("referer", referer(c, "/other.html"), "if-none-match", "\"x\""));
            c.load("/data.json", Map.of("referer", referer(c, "/index.html")));
            c.load("/index.html", Map.of("referer", referer(c, "/other.html")));
            c.load("/missing.css", Map.of("referer", referer(c, "/other.html")));
        }
        try (H2FrameClient c = new H2FrameClient(HERALD.httpPort(), H2FrameClient.pushAllowed())) {
            assertThat(promisedPaths(c.load("/other.html", Map.of()))).as("discovery first, then learned")
                    .containsExactly("/css/site.css", "/css/base.css", "/fonts/test.woff2", "/js/other.js",
                            "/img/logo.svg");
        }
    }

    @Test
    void aRefererFromAnotherConnectionTeachesNothing() throws Exception {
        try (H2FrameClient a = new H2FrameClient(HERALD.httpPort(), H2FrameClient.pushAllowed());
             H2FrameClient b = new H2FrameClient(HERALD.httpPort(), H2FrameClient.pushAllowed())) {
            a.load("/index.html", Map.of());
            b.load("/js/other.js", Map.of("referer", referer(b, "/index.html")));
        }
        try (H2FrameClient c = new H2FrameClient(HERALD.httpPort(), H2FrameClient.pushAllowed())) {
            assertThat(promisedPaths(c.load("/index.html", Map.of()))).doesNotContain("/js/other.js");
        }
    }

    @Test
    void onlyExistingNonPageFilesAreAnnouncedFromWhatWasLearned() {
        assertThat(FILES.assetExists("/img/logo.svg")).isTrue();
        assertThat(FILES.assetExists("/css/site.css?v=1")).isTrue();
        assertThat(FILES.assetExists("/missing.css")).isFalse();
        assertThat(FILES.assetExists("/other.html")).as("a page").isFalse();
        assertThat(FILES.assetExists("/../push/index.html")).isFalse();
        assertThat(FILES.assetExists("/.hidden")).isFalse();
    }

    @Test
    void learnedDependenciesSurviveADumpAndLoad(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        try (H2FrameClient c = new H2FrameClient(HERALD.httpPort(), H2FrameClient.pushAllowed())) {
            c.load("/index.html", Map.of());
            c.load("/img/logo.svg", Map.of("referer", referer(c, "/index.html")));
        }
        Path file = dir.resolve("learned.tsv");
        FILES.dumpLearned(file);

        PushingFiles fresh = PushingFiles.create(SITE, HeraldConfig.builder().build(), ForkJoinPool.commonPool());
        assertThat(fresh.loadLearned(file)).isGreaterThanOrEqualTo(1);
        assertThat(fresh.learned("/index.html")).contains("/img/logo.svg");
    }
}
