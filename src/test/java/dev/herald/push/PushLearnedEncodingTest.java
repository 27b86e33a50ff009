package dev.herald.push;

import dev.herald.config.HeraldConfig;
import dev.herald.testing.HeraldExtension;
import io.netty.handler.codec.http2.Http2Settings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A learned dependency keeps one cache digest key whichever encoding taught it: the browser that holds it is not
 * pushed it again because a client with another {@code Accept-Encoding} fetched it since.
 */
class PushLearnedEncodingTest {
    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.folder(dir -> {
        java.nio.file.Path root = dir.resolve("root");
        Files.writeString(root.resolve("page.html"), "<!doctype html><title>t</title><p>late.js comes from a script\n");
        // Compressible and over 256 bytes: files.compress gives it a gzip variant with an ETag of its own.
        Files.writeString(root.resolve("late.js"), "console.log('late');\n".repeat(100));
    }).routes(b -> b.routePrefix("/", PushingFiles.create(PushLearnedEncodingTest.HERALD.scratch().resolve("root"),
            HeraldConfig.builder().build(), ForkJoinPool.commonPool())));

    /** Loads the page, then fetches late.js from it on the same connection, as its script would. */
    private static void teach(Map<String, String> encoding) throws Exception {
        try (H2FrameClient c = new H2FrameClient(HERALD.httpPort(), Http2Settings.defaultSettings()
                .pushEnabled(false))) {
            c.load("/page.html", encoding);
            Map<String, String> headers = new java.util.HashMap<>(encoding);
            headers.put("referer", "http://" + c.authority() + "/page.html");
            List<H2FrameClient.Frame> js = c.load("/late.js", headers);
            assertThat(js.get(0).header(":status")).isEqualTo("200");
            assertThat(js.get(0).header("content-encoding")).isEqualTo(encoding.get("accept-encoding"));
        }
    }

    private static List<H2FrameClient.Frame> pushedLoad(Map<String, String> headers) throws Exception {
        try (H2FrameClient c = new H2FrameClient(HERALD.httpPort(), H2FrameClient.pushAllowed())) {
            return c.load("/page.html", headers);
        }
    }

    private static List<String> promised(List<H2FrameClient.Frame> frames) {
        return frames.stream().filter(f -> f.type().equals("PUSH_PROMISE")).map(f -> f.header(":path")).toList();
    }

    @Test
    void aBrowserHoldingALearnedResourceIsNotPushedItAgainAfterAnotherEncodingFetchedIt() throws Exception {
        Map<String, String> gzip = Map.of("accept-encoding", "gzip");
        teach(gzip);
        List<H2FrameClient.Frame> first = pushedLoad(gzip);
        assertThat(promised(first)).containsExactly("/late.js");
        String cookie = first.stream().filter(f -> f.header("set-cookie") != null).findFirst()
                .map(f -> f.header("set-cookie")).orElseThrow(() -> new AssertionError("no cookie: " + first));
        String digest = cookie.substring(0, cookie.indexOf(';'));

        teach(Map.of()); // a client without Accept-Encoding gets the identity bytes and their ETag

        assertThat(promised(pushedLoad(Map.of("accept-encoding", "gzip", "cookie", digest))))
                .as("late.js is in the browser's digest").isEmpty();
        assertThat(promised(pushedLoad(gzip))).as("a browser without the cookie").containsExactly("/late.js");
    }
}
