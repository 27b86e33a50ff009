package dev.herald.push;

import dev.herald.config.PushRule;
import dev.herald.testing.HeraldExtension;
import io.netty.handler.codec.http2.Http2Settings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Pushes hang under their page's stream in the priority tree (RFC 7540 §5.3 through Netty's flow controller): with
 * the default {@code interleaved} order the pushes start at once, yet the page's ready bytes go before theirs. The page (200 KB,
 * served from memory, so its whole body is queued at once) and four 300 KB pushes share a connection whose windows
 * never stall; as equals of the page (Netty's default, weight 16 under the root) the pushes would take about four
 * fifths of the bytes until the page is done.
 */
class PushPagePrecedenceTest {
    static final int PAGE = 200 << 10;
    static final int ASSET = 300 << 10;
    static final List<String> ASSETS = List.of("/a.css", "/b.woff2", "/c.js", "/d.png");

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.folder(dir -> {
        Path root = dir.resolve("root");
        PushPriorityTest.writePage(root.resolve("page.html"), PAGE);
        for (String a : ASSETS) {
            byte[] asset = new byte[ASSET];
            Arrays.fill(asset, (byte) a.charAt(1));
            Files.write(root.resolve(a.substring(1)), asset);
        }
    }).configure(b -> b.pushRules(List.of(PushRule.of("/page.html", ASSETS))).pushMaxBytes(4L << 20));

    @Test
    void thePagesReadyBytesGoBeforeItsPushes() throws Exception {
        // A first load without push puts the page in the file cache: the next one answers it on the event loop.
        try (H2FrameClient warm = new H2FrameClient(HERALD.httpPort(),
                Http2Settings.defaultSettings().pushEnabled(false))) {
            warm.load("/page.html", Map.of());
        }
        try (H2FrameClient c = new H2FrameClient(HERALD.httpPort(), H2FrameClient.pushAllowed())) {
            c.consumeData = true;
            List<H2FrameClient.Frame> frames = c.load("/page.html", Map.of());

            int page = frames.stream().filter(f -> f.type().equals("HEADERS") && f.stream() % 2 == 1)
                    .findFirst().orElseThrow().stream();
            assertThat(frames.stream().filter(f -> f.type().equals("PUSH_PROMISE")).map(f -> f.header(":path")))
                    .containsExactlyElementsOf(ASSETS);
            int pageEnd = -1;
            for (int i = 0; i < frames.size(); i++) {
                if (frames.get(i).stream() == page && frames.get(i).endStream()) {
                    pageEnd = i;
                }
            }
            long pushedBeforePageEnd = frames.subList(0, pageEnd).stream()
                    .filter(f -> f.type().equals("DATA") && f.stream() % 2 == 0).mapToLong(f -> f.data().length)
                    .sum();
            assertThat(pushedBeforePageEnd).as("pushed DATA bytes before the page's END_STREAM; frames: %s",
                    frames.subList(0, pageEnd + 1)).isLessThan(PAGE / 4);
        }
    }
}
