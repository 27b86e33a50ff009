package dev.herald.push;

import dev.herald.config.HeraldConfig;
import dev.herald.files.StaticFiles;
import dev.herald.testing.HeraldExtension;
import io.netty.handler.codec.http2.Http2Settings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;

import static org.assertj.core.api.Assertions.assertThat;

/** A client cancelling a multi-megabyte push: the server stops within one flow-control window. */
class PushResetTest {
    /** The generated asset: 4 MiB of script. */
    static final int BIG = 4 << 20;
    /** The client's stream window (SETTINGS_INITIAL_WINDOW_SIZE), replenished as DATA arrives. */
    static final int WINDOW = 64 << 10;

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.folder(dir -> {
        Path root = dir.resolve("root");
        Files.writeString(root.resolve("big.html"),
                "<!doctype html><title>big</title><script src=\"/big.js\"></script><p>big</p>\n");
        Files.writeString(root.resolve("small.html"), "<!doctype html><title>small</title><p>small</p>\n");
        byte[] line = "// a large generated script, to be cancelled while it is pushed\n"
                .getBytes(StandardCharsets.US_ASCII);
        byte[] big = new byte[BIG];
        for (int i = 0; i < big.length; i++) {
            big[i] = line[i % line.length];
        }
        Files.write(root.resolve("big.js"), big);
    }).routes(b -> {
        Path root = PushResetTest.HERALD.scratch().resolve("root");
        HeraldConfig config = HeraldConfig.builder().build();
        // The default budget (43,800 bytes) would only hint a 4 MiB script: raise it for this test.
        b.routePrefix("/", PushingFiles.wrap(StaticFiles.create(root, config, ForkJoinPool.commonPool()), root,
                ForkJoinPool.commonPool(), 10, 64L << 20));
    });

    @Test
    void afterRstStreamCancelTheServerSendsAtMostOneWindowOnThatStream() throws Exception {
        try (H2FrameClient c = new H2FrameClient(HERALD.httpPort(),
                H2FrameClient.pushAllowed().initialWindowSize(WINDOW))) {
            c.consumeData = true;
            c.cancelAfterBytes.put("/big.js", 512 << 10);

            List<H2FrameClient.Frame> frames = new ArrayList<>(c.load("/big.html", Map.of()));
            // Everything the server wrote for the reset stream before it read the reset arrives before the
            // response to a request sent after the reset.
            frames.addAll(c.load("/small.html", Map.of()));

            int pushed = frames.stream().filter(f -> f.type().equals("PUSH_PROMISE")
                    && f.header(":path").equals("/big.js")).findFirst().orElseThrow().promised();
            int reset = -1;
            long before = 0;
            long after = 0;
            for (int i = 0; i < frames.size(); i++) {
                H2FrameClient.Frame f = frames.get(i);
                if (f.type().equals("RST_STREAM_SENT") && f.stream() == pushed) {
                    reset = i;
                } else if (f.type().equals("DATA") && f.stream() == pushed) {
                    if (reset < 0) {
                        before += f.data().length;
                    } else {
                        after += f.data().length;
                    }
                }
            }
            assertThat(reset).as("the client reset the push").isGreaterThanOrEqualTo(0);
            assertThat(before).isGreaterThanOrEqualTo(512 << 10).isLessThan(BIG);
            assertThat(after).as("DATA after the reset, at most one window").isLessThanOrEqualTo(WINDOW);
            assertThat(frames).noneMatch(f -> f.stream() == pushed && f.endStream());
            assertThat(frames).noneMatch(f -> f.type().equals("GOAWAY") || f.type().equals("CLOSED"));
            assertThat(frames.stream().filter(f -> f.type().equals("HEADERS") && f.stream() % 2 == 1)
                    .map(f -> f.header(":status"))).containsExactly("200", "200");
        }
    }

    @Test
    void aResetBeforeAnyDataStopsThePushAndTheConnectionGoesOn() throws Exception {
        try (H2FrameClient c = new H2FrameClient(HERALD.httpPort(), Http2Settings.defaultSettings()
                .pushEnabled(true).initialWindowSize(WINDOW))) {
            c.consumeData = true;
            c.cancelPaths.add("/big.js");

            List<H2FrameClient.Frame> frames = new ArrayList<>(c.load("/big.html", Map.of()));
            frames.addAll(c.load("/small.html", Map.of()));

            int pushed = frames.stream().filter(f -> f.type().equals("PUSH_PROMISE")).findFirst().orElseThrow()
                    .promised();
            long data = frames.stream().filter(f -> f.type().equals("DATA") && f.stream() == pushed)
                    .mapToLong(f -> f.data().length).sum();
            assertThat(data).isLessThanOrEqualTo(WINDOW);
            assertThat(frames).noneMatch(f -> f.type().equals("GOAWAY") || f.type().equals("CLOSED"));
        }
    }
}
