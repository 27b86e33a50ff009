package dev.herald.push;

import dev.herald.testing.HeraldExtension;
import io.netty.handler.codec.http2.Http2Settings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * No push of what a client may not store: a promised request must be cacheable (RFC 9113 §8.4). Here every file
 * is {@code no-store} except the fonts, which the immutable pattern gives a long-lived cache-control. Nor a 103
 * Early Hints line for it, nor for what a client must revalidate before each use ({@code no-cache}): a browser keeps
 * what early hints fetched in its HTTP cache only, and would fetch or revalidate it again.
 */
class PushNoStoreTest {
    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.site("push").configure(b -> b.cacheControl("no-store")
            .immutablePattern("/fonts/.*").immutableCacheControl("public, max-age=31536000, immutable"));
    @RegisterExtension
    static final HeraldExtension NO_CACHE = HeraldExtension.site("push").configure(b -> b.cacheControl("private, no-cache")
            .immutablePattern("/fonts/.*").immutableCacheControl("public, max-age=31536000, immutable"));
    @RegisterExtension
    static final HeraldExtension MAX_AGE_0 = HeraldExtension.site("push").configure(b -> b.cacheControl("max-age=0")
            .immutablePattern("/nothing-matches").immutableCacheControl("no-store"));

    @Test
    void onlyStorableResourcesArePushedTheRestAreHinted() throws Exception {
        try (H2FrameClient c = new H2FrameClient(HERALD.httpPort(), H2FrameClient.pushAllowed())) {
            List<H2FrameClient.Frame> frames = c.load("/", Map.of());

            assertThat(frames.stream().filter(f -> f.type().equals("PUSH_PROMISE")).map(f -> f.header(":path")))
                    .containsExactly("/fonts/test.woff2");
            H2FrameClient.Frame page = frames.stream().filter(f -> f.type().equals("HEADERS") && f.stream() == 3 && !f.informational())
                    .findFirst().orElseThrow();
            assertThat(page.header("cache-control")).isEqualTo("no-store");
            assertThat(page.all("link")).as("the others are hinted on the response")
                    .contains("</css/site.css>; rel=preload; as=style", "</js/app.js>; rel=modulepreload")
                    .noneMatch(l -> l.contains("/fonts/"));
        }
    }

    @Test
    void theEarlyHintsNameOnlyWhatABrowserMayUseWithoutAskingAgain() throws Exception {
        for (HeraldExtension server : List.of(HERALD, NO_CACHE)) {
            try (H2FrameClient c = new H2FrameClient(server.httpPort(),
                    Http2Settings.defaultSettings().pushEnabled(false))) {
                List<H2FrameClient.Frame> frames = c.load("/", Map.of());

                List<H2FrameClient.Frame> hints = frames.stream()
                        .filter(f -> f.type().equals("HEADERS") && f.informational()).toList();
                assertThat(hints).hasSize(1);
                assertThat(hints.get(0).all("link")).containsExactly(
                        "</fonts/test.woff2>; rel=preload; as=font; crossorigin");
                H2FrameClient.Frame page = frames.stream()
                        .filter(f -> f.type().equals("HEADERS") && f.stream() == 3 && !f.informational())
                        .findFirst().orElseThrow();
                assertThat(page.all("link")).as("the final response names them all")
                        .contains("</css/site.css>; rel=preload; as=style", "</js/app.js>; rel=modulepreload",
                                "</fonts/test.woff2>; rel=preload; as=font; crossorigin");
            }
        }
    }

    @Test
    void noHintsAtAllWhenNothingMayBeUsedWithoutAskingAgain() throws Exception {
        try (H2FrameClient c = new H2FrameClient(MAX_AGE_0.httpPort(),
                Http2Settings.defaultSettings().pushEnabled(false))) {
            List<H2FrameClient.Frame> frames = c.load("/", Map.of());

            assertThat(frames).noneMatch(f -> f.type().equals("HEADERS") && f.informational());
            assertThat(frames.stream().filter(f -> f.type().equals("HEADERS") && f.stream() == 3)
                    .findFirst().orElseThrow().all("link")).contains("</css/site.css>; rel=preload; as=style");
        }
    }
}
