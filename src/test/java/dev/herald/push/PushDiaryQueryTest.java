package dev.herald.push;

import dev.herald.testing.HeraldExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The per-connection diary knows URLs with their query, as a client's cache does ({@code ?v=1} cache busters). */
class PushDiaryQueryTest {
    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.folder(dir -> {
        Path root = dir.resolve("root");
        PushDigestTest.copy(HeraldExtension.sitePath("push"), root);
        Files.writeString(root.resolve("q.html"), "<!doctype html><title>q</title>"
                + "<link rel=stylesheet href=\"/css/base.css?v=1\">\n");
    });

    private static List<String> promised(List<H2FrameClient.Frame> frames) {
        return frames.stream().filter(f -> f.type().equals("PUSH_PROMISE")).map(f -> f.header(":path")).toList();
    }

    @Test
    void aUrlTheClientRequestedWithItsQueryIsNotPushedToIt() throws Exception {
        try (H2FrameClient c = new H2FrameClient(HERALD.httpPort(), H2FrameClient.pushAllowed())) {
            c.load("/css/base.css?v=1", Map.of());
            assertThat(promised(c.load("/q.html", Map.of()))).isEmpty();
        }
    }

    @Test
    void theSamePathWithAnotherQueryIsAnotherUrlAndIsPushed() throws Exception {
        try (H2FrameClient c = new H2FrameClient(HERALD.httpPort(), H2FrameClient.pushAllowed())) {
            c.load("/css/base.css", Map.of());
            c.load("/css/base.css?v=2", Map.of());
            assertThat(promised(c.load("/q.html", Map.of()))).containsExactly("/css/base.css?v=1");
            assertThat(promised(c.load("/q.html", Map.of()))).as("pushed once per connection").isEmpty();
        }
    }
}
