package dev.herald.push;

import dev.herald.config.HeraldConfig;
import dev.herald.testing.HeraldExtension;
import io.netty.handler.codec.http2.Http2Settings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ForkJoinPool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

/** Server push on the wire, frame by frame, with a client that records every frame in order. */
class PushFramesTest {
    static final Path SITE = HeraldExtension.sitePath("push");

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.site("push")
            .routes(b -> b.routePrefix("/", PushingFiles.create(SITE, HeraldConfig.builder().build(),
                    ForkJoinPool.commonPool())));

    /** The index page's manifest, in push order: CSS and fonts first, then scripts, then the rest. */
    static final List<String> INDEX_ASSETS = List.of("/css/site.css", "/css/base.css", "/fonts/test.woff2",
            "/js/app.js", "/data.json");

    private static H2FrameClient client(Http2Settings settings) throws Exception {
        return new H2FrameClient(HERALD.httpPort(), settings);
    }

    private static List<H2FrameClient.Frame> promises(List<H2FrameClient.Frame> frames) {
        return frames.stream().filter(f -> f.type().equals("PUSH_PROMISE")).toList();
    }

    private static List<String> promisedPaths(List<H2FrameClient.Frame> frames) {
        return promises(frames).stream().map(f -> f.header(":path")).toList();
    }

    @Test
    void pushPromisesComeBeforeThePageHeadersWithEvenIncreasingIds() throws Exception {
        try (H2FrameClient c = client(H2FrameClient.pushAllowed())) {
            List<H2FrameClient.Frame> frames = c.load("/", Map.of());

            int page = frames.stream().filter(f -> f.type().equals("HEADERS") && f.stream() % 2 == 1)
                    .findFirst().orElseThrow().stream();
            int firstPageHeaders = -1;
            int lastPromise = -1;
            for (int i = 0; i < frames.size(); i++) {
                H2FrameClient.Frame f = frames.get(i);
                if (f.type().equals("HEADERS") && f.stream() == page && firstPageHeaders < 0) {
                    firstPageHeaders = i;
                }
                if (f.type().equals("PUSH_PROMISE")) {
                    assertThat(f.stream()).as("promise on the page's stream").isEqualTo(page);
                    lastPromise = i;
                }
            }
            assertThat(lastPromise).as("frames: %s", frames).isGreaterThanOrEqualTo(0).isLessThan(firstPageHeaders);
            assertThat(promisedPaths(frames)).containsExactlyElementsOf(INDEX_ASSETS);
            List<Integer> ids = promises(frames).stream().map(H2FrameClient.Frame::promised).toList();
            assertThat(ids).allMatch(id -> id % 2 == 0, "even").isSorted().doesNotHaveDuplicates();
            assertThat(frames.stream().filter(f -> f.type().equals("HEADERS") && f.stream() == page)
                    .map(f -> f.header(":status"))).containsExactly("200");
        }
    }

    @Test
    void promisedHeadersAreExactlyTheSpecifiedOnes() throws Exception {
        try (H2FrameClient c = client(H2FrameClient.pushAllowed())) {
            List<H2FrameClient.Frame> frames = c.load("/", Map.of("user-agent", "frame-test/1",
                    "accept-language", "fr", "cookie", "session=secret", "authorization", "Bearer x",
                    "x-other", "y"));

            H2FrameClient.Frame css = promises(frames).get(0);
            assertThat(css.headers()).containsExactlyInAnyOrder(
                    entry(":method", "GET"), entry(":scheme", "http"), entry(":authority", c.authority()),
                    entry(":path", "/css/site.css"), entry("accept-language", "fr"),
                    entry("user-agent", "frame-test/1"));
        }
    }

    @Test
    void pushedResponsesCarryTheFilesBytes() throws Exception {
        try (H2FrameClient c = client(H2FrameClient.pushAllowed())) {
            List<H2FrameClient.Frame> frames = c.load("/", Map.of());

            for (H2FrameClient.Frame p : promises(frames)) {
                H2FrameClient.Frame head = frames.stream()
                        .filter(f -> f.type().equals("HEADERS") && f.stream() == p.promised()).findFirst()
                        .orElseThrow(() -> new AssertionError("no response on " + p + ": " + frames));
                assertThat(head.header(":status")).isEqualTo("200");
                assertThat(head.header("etag")).isNotNull();
                assertThat(head.header("cache-control")).isNotNull();
                java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
                frames.stream().filter(f -> f.type().equals("DATA") && f.stream() == p.promised())
                        .forEach(f -> body.writeBytes(f.data()));
                byte[] file = Files.readAllBytes(SITE.resolve(p.header(":path").substring(1)));
                assertThat(body.toByteArray()).as(p.header(":path")).isEqualTo(file);
                assertThat(head.header("content-length")).isEqualTo(Integer.toString(file.length));
            }
        }
    }

    @Test
    void pushDisabledGivesNoPromiseButEarlyHints() throws Exception {
        try (H2FrameClient c = client(Http2Settings.defaultSettings().pushEnabled(false))) {
            List<H2FrameClient.Frame> frames = c.load("/", Map.of());

            assertThat(promises(frames)).isEmpty();
            List<H2FrameClient.Frame> heads = frames.stream().filter(f -> f.type().equals("HEADERS")).toList();
            assertThat(heads).hasSize(2);
            List<String> expected = List.of(
                    "</css/site.css>; rel=preload; as=style",
                    "</css/base.css>; rel=preload; as=style",
                    "</fonts/test.woff2>; rel=preload; as=font; crossorigin",
                    "</js/app.js>; rel=modulepreload",
                    "</data.json>; rel=preload; as=fetch; crossorigin");
            assertThat(heads.get(0).header(":status")).isEqualTo("103");
            assertThat(heads.get(0).endStream()).isFalse();
            assertThat(heads.get(0).all("link")).containsExactlyElementsOf(expected);
            assertThat(heads.get(1).header(":status")).isEqualTo("200");
            assertThat(heads.get(1).all("link")).containsExactlyElementsOf(expected);
        }
    }

    @Test
    void clientMaxConcurrentStreamsOneNeverHasTwoPushedStreamsOpen() throws Exception {
        try (H2FrameClient c = client(H2FrameClient.pushAllowed().maxConcurrentStreams(1))) {
            List<H2FrameClient.Frame> frames = c.load("/", Map.of());

            Set<Integer> open = new HashSet<>();
            int max = 0;
            Set<Integer> completed = new HashSet<>();
            for (H2FrameClient.Frame f : frames) {
                if (f.stream() % 2 == 0 && f.stream() > 0) {
                    if (f.type().equals("HEADERS")) {
                        open.add(f.stream());
                    }
                    if (f.endStream() || f.type().equals("RST_STREAM")) {
                        open.remove(f.stream());
                        completed.add(f.stream());
                    }
                    max = Math.max(max, open.size());
                }
            }
            assertThat(max).as("frames: %s", frames).isEqualTo(1);
            assertThat(completed).hasSize(INDEX_ASSETS.size());
            assertThat(frames).noneMatch(f -> f.type().equals("GOAWAY"));
        }
    }

    @Test
    void noResourceIsPushedTwiceOnAConnection() throws Exception {
        try (H2FrameClient c = client(H2FrameClient.pushAllowed())) {
            assertThat(promisedPaths(c.load("/", Map.of()))).containsExactlyElementsOf(INDEX_ASSETS);

            assertThat(promisedPaths(c.load("/other.html", Map.of()))).containsExactly("/js/other.js");
            List<H2FrameClient.Frame> again = c.load("/", Map.of());
            assertThat(promisedPaths(again)).isEmpty();
            assertThat(again).noneMatch(H2FrameClient.Frame::informational);
        }
    }

    @Test
    void whatTheClientRequestedItselfIsNotPushed() throws Exception {
        try (H2FrameClient c = client(H2FrameClient.pushAllowed())) {
            c.load("/css/site.css", Map.of());
            c.load("/js/app.js", Map.of());

            assertThat(promisedPaths(c.load("/", Map.of())))
                    .containsExactly("/css/base.css", "/fonts/test.woff2", "/data.json");
        }
    }

    @Test
    void aConditionalPageRequestGetsNoPushes() throws Exception {
        String etag;
        try (H2FrameClient c = client(H2FrameClient.pushAllowed())) {
            etag = c.load("/", Map.of()).stream()
                    .filter(f -> f.type().equals("HEADERS") && f.stream() % 2 == 1).findFirst().orElseThrow()
                    .header("etag");
        }
        try (H2FrameClient c = client(H2FrameClient.pushAllowed())) {
            List<H2FrameClient.Frame> frames = c.load("/", Map.of("if-none-match", etag));

            assertThat(promises(frames)).isEmpty();
            List<H2FrameClient.Frame> heads = frames.stream().filter(f -> f.type().equals("HEADERS")).toList();
            assertThat(heads).extracting(f -> f.header(":status")).containsExactly("304");
        }
    }

    @Test
    void aResetPushedStreamStopsOnlyThatStream() throws Exception {
        try (H2FrameClient c = client(H2FrameClient.pushAllowed())) {
            c.cancelPaths.add("/fonts/test.woff2");
            List<H2FrameClient.Frame> frames = c.load("/", Map.of());

            int font = promises(frames).stream().filter(f -> f.header(":path").equals("/fonts/test.woff2"))
                    .findFirst().orElseThrow().promised();
            assertThat(frames).noneMatch(f -> f.type().equals("DATA") && f.stream() == font);
            assertThat(frames).noneMatch(f -> f.type().equals("GOAWAY"));
            // The connection still works, and the reset resource is not pushed again on it.
            assertThat(promisedPaths(c.load("/other.html", Map.of()))).containsExactly("/js/other.js");
        }
    }

    @Test
    void aClientRequestingAPromisedPathItselfGetsACorrectResponseAndNoError() throws Exception {
        try (H2FrameClient c = client(H2FrameClient.pushAllowed())) {
            // The asset's request leaves before the page's promises can have arrived.
            int page = c.get("/", Map.of());
            int css = c.get("/css/site.css", Map.of());
            Set<Integer> open = new HashSet<>(Set.of(page, css));
            List<H2FrameClient.Frame> frames = new ArrayList<>();
            while (!open.isEmpty()) {
                H2FrameClient.Frame f = c.next();
                frames.add(f);
                assertThat(f.type()).as("frames: %s", frames).isNotIn("GOAWAY", "CLOSED", "RST_STREAM");
                if (f.type().equals("PUSH_PROMISE")) {
                    open.add(f.promised());
                } else if (f.endStream()) {
                    open.remove(f.stream());
                }
            }
            byte[] file = Files.readAllBytes(SITE.resolve("css/site.css"));
            java.util.function.IntFunction<byte[]> body = id -> {
                java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
                frames.stream().filter(f -> f.type().equals("DATA") && f.stream() == id)
                        .forEach(f -> out.writeBytes(f.data()));
                return out.toByteArray();
            };
            assertThat(body.apply(css)).isEqualTo(file);
            // If the page's decision came first, the push also carries the whole file.
            promises(frames).stream().filter(p -> p.header(":path").equals("/css/site.css"))
                    .forEach(p -> assertThat(body.apply(p.promised())).isEqualTo(file));
        }
    }

    @Test
    void afterTheClientsGoAwayNothingIsPromisedAndThePageIsHinted() throws Exception {
        try (H2FrameClient c = client(H2FrameClient.pushAllowed())) {
            c.goAway();
            List<H2FrameClient.Frame> frames = c.load("/", Map.of());

            assertThat(promises(frames)).isEmpty();
            List<H2FrameClient.Frame> heads = frames.stream().filter(f -> f.type().equals("HEADERS")).toList();
            assertThat(heads).extracting(f -> f.header(":status")).containsExactly("103", "200");
            assertThat(heads.get(1).all("link")).hasSize(INDEX_ASSETS.size());
        }
    }

    @Test
    void aClientSendingPushPromiseGetsAConnectionProtocolError() throws Exception {
        try (H2FrameClient c = client(H2FrameClient.pushAllowed())) {
            int stream = c.get("/hello-slow-not-found", Map.of());
            // PUSH_PROMISE (type 5), END_HEADERS, on the client's own stream, promising stream 2: GET / http.
            byte[] block = {(byte) 0x82, (byte) 0x86, (byte) 0x84};
            byte[] frame = new byte[9 + 4 + block.length];
            int len = 4 + block.length;
            frame[0] = 0;
            frame[1] = 0;
            frame[2] = (byte) len;
            frame[3] = 5;
            frame[4] = 4;
            frame[5] = (byte) (stream >>> 24);
            frame[6] = (byte) (stream >>> 16);
            frame[7] = (byte) (stream >>> 8);
            frame[8] = (byte) stream;
            frame[12] = 2;
            System.arraycopy(block, 0, frame, 13, block.length);
            c.writeRaw(frame);

            List<H2FrameClient.Frame> seen = new ArrayList<>();
            H2FrameClient.Frame f;
            do {
                f = c.next();
                seen.add(f);
            } while (!f.type().equals("GOAWAY") && !f.type().equals("CLOSED"));
            assertThat(f.type()).as("frames: %s", seen).isEqualTo("GOAWAY");
            assertThat(f.errorCode()).isEqualTo(io.netty.handler.codec.http2.Http2Error.PROTOCOL_ERROR.code());
        }
    }
}
