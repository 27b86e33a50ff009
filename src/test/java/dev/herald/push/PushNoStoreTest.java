package dev.herald.push;

import dev.herald.testing.HeraldExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * No push of what a client may not store: a promised request must be cacheable (RFC 9113 §8.4). Here every file
 * is {@code no-store} except the fonts, which the immutable pattern gives a long-lived cache-control.
 */
class PushNoStoreTest {
    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.site("push").configure(b -> b.cacheControl("no-store")
            .immutablePattern("/fonts/.*").immutableCacheControl("public, max-age=31536000, immutable"));

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
}
