package dev.herald.push;

import dev.herald.config.HeraldConfig;
import dev.herald.files.StaticFiles;
import dev.herald.server.Headers;
import dev.herald.server.Protocol;
import dev.herald.server.Request;
import dev.herald.testing.HeraldExtension;
import io.netty.handler.codec.http2.Http2Settings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Building a page's manifest reads its files into the file cache, so that the first load counts their gzip sizes,
 * but only up to {@link PushingFiles#READ_AHEAD_BUDGETS} budgets of file bytes: the page waits for it.
 */
class PushReadAheadTest {
    static final long MAX_BYTES = 1_000;
    static StaticFiles files;

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.folder(dir -> {
        java.nio.file.Path root = dir.resolve("root");
        Files.writeString(root.resolve("index.html"), "<!doctype html><title>t</title><link rel=stylesheet href=a.css>"
                + "<script src=big.js></script><script src=c.js></script>\n");
        Files.writeString(root.resolve("a.css"), "a { color: red }\n".repeat(180)); // 3,060 B
        Files.writeString(root.resolve("big.js"), "let big = 1;\n".repeat(480)); // 6,240 B: over what is left
        Files.writeString(root.resolve("c.js"), "let c = 1;\n".repeat(180)); // 1,980 B: fits after a.css
    }).routes(b -> {
        java.nio.file.Path root = PushReadAheadTest.HERALD.scratch().resolve("root");
        files = StaticFiles.create(root, HeraldConfig.builder().build(), ForkJoinPool.commonPool());
        b.routePrefix("/", PushingFiles.wrap(files, root, ForkJoinPool.commonPool(), 10, MAX_BYTES));
    });

    @Test
    void theFirstLoadReadsTheManifestsFilesUpToEightBudgetsFirstFit() throws Exception {
        assertThat(files.cachedLength("/a.css", get())).as("nothing read before the page").isEqualTo(-1);
        try (H2FrameClient c = new H2FrameClient(HERALD.httpPort(), Http2Settings.defaultSettings()
                .pushEnabled(false))) {
            assertThat(c.load("/", Map.of())).extracting(f -> f.header(":status")).contains("103", "200");
        }

        assertThat(PushingFiles.READ_AHEAD_BUDGETS * MAX_BYTES).isEqualTo(8_000);
        assertThat(files.cachedLength("/a.css", get("accept-encoding", "gzip"))).as("read, with its gzip variant")
                .isBetween(1L, 500L);
        assertThat(files.cachedLength("/a.css", get("accept-encoding", "identity", "accept-encoding", "gzip")))
                .as("every Accept-Encoding field counts, as for the push the promise copies them to")
                .isEqualTo(files.cachedLength("/a.css", get("accept-encoding", "gzip")));
        assertThat(files.cachedLength("/big.js", get())).as("over what was left").isEqualTo(-1);
        assertThat(files.cachedLength("/c.js", get())).isEqualTo(1_980);
    }

    /** A page request with these header name/value pairs, whose Accept-Encoding the lengths follow. */
    private static Request get(String... headerPairs) {
        Headers headers = new Headers();
        for (int i = 0; i < headerPairs.length; i += 2) {
            headers.add(headerPairs[i], headerPairs[i + 1]);
        }
        return new Request("GET", "/", "http", "localhost", Protocol.H2, headers, new byte[0], 1, 1, null);
    }
}
