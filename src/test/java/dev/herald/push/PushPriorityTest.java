package dev.herald.push;

import dev.herald.config.HeraldConfig.PushPriority;
import dev.herald.config.PushRule;
import dev.herald.testing.HeraldExtension;
import io.netty.handler.codec.http2.Http2Settings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code push.priority} measured on the wire: the order of DATA frames between a 1 MiB page and its pushes. The
 * client's stream window is 64 KiB (replenished as DATA arrives), so every large response needs several turns.
 */
class PushPriorityTest {
    static final int PAGE = 1 << 20;
    static final int BIG_ASSET = 300 << 10;
    static final List<String> BIG = List.of("/big/s.css", "/big/f.woff2", "/big/a.js", "/big/i.png");
    static final List<String> SMALL = List.of("/small/s.css", "/small/f.woff2", "/small/a.js", "/small/i.png");

    @RegisterExtension
    static final HeraldExtension BEFORE = server(PushPriority.BEFORE, 4L << 20);
    @RegisterExtension
    static final HeraldExtension INTERLEAVED = server(PushPriority.INTERLEAVED, 4L << 20);
    @RegisterExtension
    static final HeraldExtension AFTER = server(PushPriority.AFTER, 4L << 20);
    /**
     * Apache's per-type order, the budget auto makes of a 10-segment window (43,800 bytes; loopback's window is
     * far larger, so it is set here).
     */
    @RegisterExtension
    static final HeraldExtension AUTO = server(PushPriority.AUTO, -1);
    /** Defaults throughout (priority interleaved), with the budget auto makes of a 10-segment window. */
    @RegisterExtension
    static final HeraldExtension DEFAULTS = server(null, -1);

    static HeraldExtension server(PushPriority priority, long maxBytes) {
        return HeraldExtension.folder(dir -> {
            Path root = dir.resolve("root");
            writePage(root.resolve("page.html"), PAGE);
            Files.createDirectories(root.resolve("big"));
            Files.createDirectories(root.resolve("small"));
            for (int i = 0; i < BIG.size(); i++) {
                byte[] asset = new byte[BIG_ASSET];
                Arrays.fill(asset, (byte) ('a' + i));
                Files.write(root.resolve(BIG.get(i).substring(1)), asset);
                byte[] small = new byte[i == 3 ? 6000 : 12000];
                Arrays.fill(small, (byte) ('a' + i));
                Files.write(root.resolve(SMALL.get(i).substring(1)), small);
            }
        }).configure(b -> {
            b.pushRules(List.of(PushRule.of("/page.html", maxBytes > 0 ? BIG : SMALL)));
            if (priority != null) {
                b.pushPriority(priority);
            }
            b.pushMaxBytes(maxBytes > 0 ? maxBytes : PushingFiles.DEFAULT_MAX_BYTES);
        });
    }

    /** An HTML page of {@code size} bytes: a title, then filler. */
    static void writePage(Path file, int size) throws java.io.IOException {
        byte[] page = new byte[size];
        Arrays.fill(page, (byte) 'p');
        byte[] head = "<!doctype html><title>p</title>\n".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(head, 0, page, 0, head.length);
        Files.write(file, page);
    }

    /** Where each stream's frames fall in the recorded order. */
    record Timeline(List<H2FrameClient.Frame> frames, int page, Map<String, Integer> pushStreams) {
        static Timeline load(HeraldExtension herald) throws Exception {
            try (H2FrameClient c = new H2FrameClient(herald.httpPort(),
                    H2FrameClient.pushAllowed().initialWindowSize(64 << 10))) {
                c.consumeData = true;
                List<H2FrameClient.Frame> frames = c.load("/page.html", Map.of());
                int page = frames.stream().filter(f -> f.type().equals("HEADERS") && f.stream() % 2 == 1)
                        .findFirst().orElseThrow().stream();
                Map<String, Integer> pushes = new java.util.LinkedHashMap<>();
                frames.stream().filter(f -> f.type().equals("PUSH_PROMISE"))
                        .forEach(f -> pushes.put(f.header(":path"), f.promised()));
                assertThat(frames).noneMatch(f -> f.type().equals("GOAWAY") || f.type().startsWith("RST"));
                return new Timeline(frames, page, pushes);
            }
        }

        int first(int stream, String type) {
            for (int i = 0; i < frames.size(); i++) {
                if (frames.get(i).stream() == stream && frames.get(i).type().equals(type)) {
                    return i;
                }
            }
            throw new AssertionError("no " + type + " on stream " + stream + ": " + frames);
        }

        int end(int stream) {
            for (int i = 0; i < frames.size(); i++) {
                if (frames.get(i).stream() == stream && frames.get(i).endStream()) {
                    return i;
                }
            }
            throw new AssertionError("stream " + stream + " never ended: " + frames);
        }

        int pageFirstData() {
            return first(page, "DATA");
        }

        long pushedBytesBefore(int index) {
            return frames.subList(0, index).stream()
                    .filter(f -> f.type().equals("DATA") && pushStreams.containsValue(f.stream()))
                    .mapToLong(f -> f.data().length).sum();
        }
    }

    @Test
    void beforeCompletesEveryPushBeforeThePagesBody() throws Exception {
        Timeline t = Timeline.load(BEFORE);

        assertThat(t.pushStreams()).containsOnlyKeys(BIG);
        assertThat(t.first(t.page(), "HEADERS")).as("the page's HEADERS are not held").isLessThan(
                t.pushStreams().values().stream().mapToInt(s -> t.end(s)).min().orElseThrow());
        for (int s : t.pushStreams().values()) {
            assertThat(t.end(s)).as("push %d ends before the page's first DATA", s).isLessThan(t.pageFirstData());
        }
    }

    @Test
    void afterStartsEveryPushOnceThePageIsComplete() throws Exception {
        Timeline t = Timeline.load(AFTER);

        assertThat(t.pushStreams()).containsOnlyKeys(BIG);
        for (int s : t.pushStreams().values()) {
            assertThat(t.first(s, "HEADERS")).as("push %d starts after the page's END_STREAM", s)
                    .isGreaterThan(t.end(t.page()));
        }
    }

    @Test
    void interleavedSharesTheConnectionWithThePage() throws Exception {
        Timeline t = Timeline.load(INTERLEAVED);

        assertThat(t.pushStreams()).containsOnlyKeys(BIG);
        long pushedWhilePageRuns = t.frames().subList(t.pageFirstData(), t.end(t.page())).stream()
                .filter(f -> f.type().equals("DATA") && t.pushStreams().containsValue(f.stream())).count();
        assertThat(pushedWhilePageRuns).as("pushed DATA frames between the page's first and last DATA")
                .isPositive();
        assertThat(t.pushedBytesBefore(t.pageFirstData())).as("not all pushed first")
                .isLessThan(4L * BIG_ASSET);
    }

    @Test
    void autoSendsCssAndFontsBeforeTheBodyImagesAfterAndThePageWaitsAtMostTheBudget() throws Exception {
        Timeline t = Timeline.load(AUTO);

        assertThat(t.pushStreams()).containsOnlyKeys(SMALL);
        assertThat(t.end(t.pushStreams().get("/small/s.css"))).isLessThan(t.pageFirstData());
        assertThat(t.end(t.pushStreams().get("/small/f.woff2"))).isLessThan(t.pageFirstData());
        assertThat(t.first(t.pushStreams().get("/small/i.png"), "HEADERS")).isGreaterThan(t.end(t.page()));
        assertThat(t.pushedBytesBefore(t.pageFirstData())).as("pushed bytes ahead of the page's body")
                .isLessThanOrEqualTo(PushingFiles.DEFAULT_MAX_BYTES);
    }

    @Test
    void byDefaultPushesInterleaveAndNeverPrecedeThePageByMoreThanTheBudget() throws Exception {
        assertThat(dev.herald.config.HeraldConfig.builder().build().pushPriority())
                .isEqualTo(PushPriority.INTERLEAVED);
        Timeline t = Timeline.load(DEFAULTS);

        assertThat(t.pushStreams()).containsOnlyKeys(SMALL);
        assertThat(t.pushedBytesBefore(t.pageFirstData())).as("pushed bytes ahead of the page's body")
                .isLessThanOrEqualTo(PushingFiles.DEFAULT_MAX_BYTES);
        // The image is not held back for the page either: it starts before the page is complete.
        assertThat(t.first(t.pushStreams().get("/small/i.png"), "HEADERS")).isLessThan(t.end(t.page()));
    }

    /**
     * A client that never opens its window for pushes (1 KiB each, never replenished) still gets the page: a
     * {@code before} push that stalls on flow control releases the page's body.
     */
    @Test
    void aBeforePushStalledByTheClientsWindowDoesNotHoldThePage() throws Exception {
        pageGoesOnThoughThePushesStall(H2FrameClient.pushAllowed().initialWindowSize(1024));
    }

    /**
     * One pushed stream at a time: the pushes waiting for the slot must not hold the page either, or the page waits
     * for a push the client never reads.
     */
    @Test
    void queuedBeforePushesDoNotHoldThePage() throws Exception {
        pageGoesOnThoughThePushesStall(H2FrameClient.pushAllowed().initialWindowSize(1024).maxConcurrentStreams(1));
    }

    private static void pageGoesOnThoughThePushesStall(Http2Settings settings) throws Exception {
        try (H2FrameClient c = new H2FrameClient(BEFORE.httpPort(), settings)) {
            c.consumeData = true;
            c.consumeStreams = id -> id % 2 == 1; // the page's window only
            int page = c.get("/page.html", Map.of());
            long pageBytes = 0;
            H2FrameClient.Frame f;
            do {
                f = c.next();
                if (f.stream() == page && f.type().equals("DATA")) {
                    pageBytes += f.data().length;
                }
                assertThat(f.type()).isNotIn("GOAWAY", "CLOSED");
            } while (!(f.stream() == page && f.endStream()));
            assertThat(pageBytes).isEqualTo(PAGE);
        }
    }
}
