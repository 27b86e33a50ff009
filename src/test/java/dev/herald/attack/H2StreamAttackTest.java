package dev.herald.attack;

import dev.herald.testing.HeraldExtension;
import dev.herald.testing.LogCapture;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;

import static dev.herald.attack.H2AttackClient.DATA;
import static dev.herald.attack.H2AttackClient.END_HEADERS;
import static dev.herald.attack.H2AttackClient.END_STREAM;
import static dev.herald.attack.H2AttackClient.HEADERS;
import static dev.herald.attack.H2AttackClient.PUSH_PROMISE;
import static dev.herald.attack.H2AttackClient.SETTINGS_ENABLE_PUSH;
import static dev.herald.attack.H2AttackClient.SETTINGS_INITIAL_WINDOW_SIZE;
import static dev.herald.attack.H2AttackClient.SETTINGS_MAX_CONCURRENT_STREAMS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Attacks through streams, flow control and header compression: each runs a few seconds against a real Herald
 * serving a small file and a 4 MiB one, with a well-behaved client alongside.
 */
class H2StreamAttackTest {
    static final int BIG = 4 << 20;

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.folder(dir -> {
        Files.writeString(dir.resolve("root/hello.txt"), "Hello, Herald\n");
        Files.writeString(dir.resolve("root/index.html"),
                "<!doctype html><link rel=stylesheet href=/style.css><p>hi</p>\n");
        Files.writeString(dir.resolve("root/style.css"), "p { color: red }\n");
        byte[] big = new byte[BIG];
        Arrays.fill(big, (byte) 'x');
        Files.write(dir.resolve("root/big.bin"), big);
    });

    static final Duration ANSWER = Duration.ofSeconds(3);
    static final Duration FLOOD = AttackScenario.attackDuration(Duration.ofSeconds(2));

    /** Netty lets any :method through; a method is a token (RFC 9110 §9.1): 400, and the connection goes on. */
    @Test
    void aMethodThatIsNoTokenIsABadRequest() throws Exception {
        try (H2AttackClient a = H2AttackClient.connect(HERALD.httpPort())) {
            a.headers(1, a.get("/hello.txt").method("G T"), true);
            a.headers(3, a.get("/hello.txt"), true);
            a.flush();
            H2AttackClient.StreamRecord bad = a.awaitStream(1, r -> r.endStream || r.rstCode != null, ANSWER);
            assertThat(bad.status).isEqualTo("400");
            assertThat(bad.body()).contains(":method is not a token");
            assertThat(a.awaitStream(3, r -> r.endStream, ANSWER).status).isEqualTo("200");
        }
    }

    /** Only servers push: a PUSH_PROMISE from a client is a connection error (RFC 9113 §8.4). */
    @Test
    void pushPromiseFromClientIsProtocolError() throws Exception {
        try (AttackScenario s = AttackScenario.start(HERALD, "client PUSH_PROMISE")) {
            H2AttackClient a = s.keep(H2AttackClient.connect(HERALD.httpPort()));
            a.headers(1, a.get("/hello.txt"), false);
            byte[] block = a.encode(a.get("/hello.txt"));
            byte[] p = new byte[4 + block.length];
            H2AttackClient.putInt(p, 0, 2);
            System.arraycopy(block, 0, p, 4, block.length);
            a.frame(PUSH_PROMISE, END_HEADERS, 1, p);
            a.flush();
            assertThat(a.awaitGoAwayOrClose(ANSWER)).as(a.outcome()).isTrue();
            assertThat(a.sentAwayWith(Http2Error.PROTOCOL_ERROR)).as(a.outcome()).isTrue();
            s.answered(a.outcome());
            s.finish();
        }
    }

    /**
     * CVE-2025-8671 "MadeYouReset": legal-looking frames that make the server reset streams itself (a
     * WINDOW_UPDATE that overflows the stream's send window), so the client never sends RST_STREAM and the
     * received-RST limit does not apply. The limit on RST_STREAM frames Herald sends must.
     */
    @Test
    void madeYouResetByWindowOverflowGetsEnhanceYourCalm() throws Exception {
        try (AttackScenario s = AttackScenario.start(HERALD, "MadeYouReset (WINDOW_UPDATE overflow)")) {
            H2AttackClient a = s.keep(H2AttackClient.connect(HERALD.httpPort()));
            Http2Headers post = a.get("/big.bin").method("POST");
            s.flood(FLOOD, i -> {
                int id = 2 * i + 1;
                a.headers(id, post, false);
                a.windowUpdate(id, 0x7fffffff);
                if (i % 16 == 15) {
                    a.flush();
                }
            });
            assertThat(a.awaitGoAwayOrClose(ANSWER)).as(a.outcome()).isTrue();
            assertThat(a.rstCount(Http2Error.FLOW_CONTROL_ERROR)).as(a.outcome()).isPositive();
            assertThat(a.sentAwayWith(Http2Error.ENHANCE_YOUR_CALM)).as(a.outcome()).isTrue();
            s.answered(a.outcome());
            s.finish();
        }
    }

    /** MadeYouReset, second form: DATA on streams the client already half-closed (STREAM_CLOSED resets). */
    @Test
    void madeYouResetByDataOnHalfClosedStreamsGetsEnhanceYourCalm() throws Exception {
        try (AttackScenario s = AttackScenario.start(HERALD, "MadeYouReset (DATA after END_STREAM)")) {
            H2AttackClient a = s.keep(H2AttackClient.connect(HERALD.httpPort()));
            Http2Headers get = a.get("/big.bin");
            byte[] one = {1};
            s.flood(FLOOD, i -> {
                int id = 2 * i + 1;
                a.headers(id, get, true);
                a.frame(DATA, 0, id, one);
                if (i % 16 == 15) {
                    a.flush();
                }
            });
            assertThat(a.awaitGoAwayOrClose(ANSWER)).as(a.outcome()).isTrue();
            assertThat(a.sentAwayWith(Http2Error.ENHANCE_YOUR_CALM)).as(a.outcome()).isTrue();
            s.answered(a.outcome());
            s.finish();
        }
    }

    /**
     * CVE-2019-9517: a window of 0 and many requests for a large file. Herald must not read the responses into
     * memory ahead of the window: 200 streams of 4 MiB would be 800 MiB.
     */
    @Test
    void zeroWindowDoesNotBufferLargeResponses() throws Exception {
        try (AttackScenario s = AttackScenario.start(HERALD, "window 0 + large responses")) {
            H2AttackClient a = s.keep(H2AttackClient.connect(HERALD.httpPort(), SETTINGS_INITIAL_WINDOW_SIZE, 0));
            Http2Headers get = a.get("/big.bin");
            int streams = 200;
            for (int i = 0; i < streams; i++) {
                a.headers(2 * i + 1, get, true);
            }
            a.flush();
            assertThat(a.awaitStatuses(streams, Duration.ofSeconds(10))).as(a.outcome()).isTrue();
            s.checkpointMemory(); // while all 200 responses wait on the window
            assertThat(a.dataBytes()).as("DATA bytes sent into a zero window").isZero();
            assertThat(a.statuses()).as(a.outcome()).containsValue("200");
            s.answered(streams + " responses started, 0 DATA bytes, held at window 0");
            s.finish();
        }
    }

    /**
     * CVE-2019-9511: tiny windows, reopened one byte at a time, on many large responses: Herald answers with tiny
     * DATA frames, costing it work per byte, but memory stays bounded and others are served.
     */
    @Test
    void dataDribbleStaysBounded() throws Exception {
        try (AttackScenario s = AttackScenario.start(HERALD, "data dribble")) {
            H2AttackClient a = s.keep(H2AttackClient.connect(HERALD.httpPort(), SETTINGS_INITIAL_WINDOW_SIZE, 1));
            Http2Headers get = a.get("/big.bin");
            int streams = 100;
            for (int i = 0; i < streams; i++) {
                a.headers(2 * i + 1, get, true);
            }
            a.flush();
            AttackScenario.Flood dribble = s.flood(FLOOD, i -> {
                a.windowUpdate(2 * (i % streams) + 1, 1);
                a.windowUpdate(0, 1);
                if (i % 64 == 63) {
                    a.flush();
                }
            });
            assertThat(a.awaitStatuses(streams, Duration.ofSeconds(10))).as(a.outcome()).isTrue();
            assertThat(dribble.await(FLOOD.plusSeconds(3))).as("the dribble ran its course: %s", a.outcome()).isNull();
            s.answered(a.outcome() + ", " + a.dataBytes() + " DATA bytes dribbled");
            s.finish();
            assertThat(a.dataBytes()).as("DATA dribbled to the window").isPositive();
        }
    }

    /**
     * CVE-2019-9513: PRIORITY frames that keep rearranging a dependency tree over many streams. Herald reads them
     * (and, measured, stops reading this connection after about 290 000 of them: TCP backpressure on the
     * attacker) while the good client is served and memory stays flat.
     */
    @Test
    void priorityChurnStaysBounded() throws Exception {
        try (AttackScenario s = AttackScenario.start(HERALD, "priority churn")) {
            H2AttackClient a = s.keep(H2AttackClient.connect(HERALD.httpPort()));
            AttackScenario.Flood churn = s.flood(FLOOD, i -> {
                ThreadLocalRandom r = ThreadLocalRandom.current();
                int stream = 2 * r.nextInt(1, 50_000) + 1;
                int dep = 2 * r.nextInt(0, 50_000) + 1;
                a.priority(stream, dep == stream ? 0 : dep, r.nextBoolean(), r.nextInt(1, 257));
                if (i % 256 == 255) {
                    a.flush();
                }
            });
            assertThat(churn.awaitEndOrStall(Duration.ofSeconds(1), FLOOD.plusSeconds(4))).as(a.outcome()).isTrue();
            s.checkpointMemory();
            boolean done = churn.isDone();
            s.answered(a.outcome() + ", " + churn.steps() + " PRIORITY frames, " + (done ? "all read" : "stalled"));
            s.finish();
        }
    }

    /**
     * HPACK bomb: one 4 000-byte header put in the dynamic table, then referenced by a one-byte index 12 000
     * times: 48 MB of headers from a 16 KB block. Herald must refuse it (431, a reset or GOAWAY) without
     * decoding it all into memory.
     */
    @Test
    void hpackBombIsRefused() throws Exception {
        LogCapture logged = LogCapture.of(dev.herald.server.LimitLog.class);
        try (AttackScenario s = AttackScenario.start(HERALD, "HPACK bomb")) {
            H2AttackClient a = s.keep(H2AttackClient.connect(HERALD.httpPort()));
            Http2Headers h = a.get("/hello.txt").add("x-bomb", "b".repeat(4000));
            byte[] head = a.encode(h); // x-bomb, encoded last, is dynamic-table index 62
            byte[] block = Arrays.copyOf(head, head.length + 12_000);
            Arrays.fill(block, head.length, block.length, (byte) 0xbe); // indexed field, index 62
            a.frame(HEADERS, END_HEADERS | END_STREAM, 1, block);
            a.flush();
            assertThat(a.awaitStatuses(1, ANSWER) || a.awaitGoAwayOrClose(Duration.ZERO)
                    || a.awaitFirstRst(Duration.ZERO)).as(a.outcome()).isTrue();
            assertThat(a.statuses().get(1)).as(a.outcome()).isNotEqualTo("200");
            // Netty's codec answers 431 before a stream exists; Herald still logs the limit and the peer.
            assertThat(a.statuses().get(1)).as(a.outcome()).isEqualTo("431");
            assertThat(logged.messages()).anySatisfy(m -> assertThat(m)
                    .contains("limit http2.max-header-list-size exceeded by 127.0.0.1:").contains("431"));
            s.answered(a.outcome() + " " + a.statuses());
            s.finish();
        } finally {
            logged.close();
        }
    }

    /** A client that enables push but allows no concurrent streams: Herald may not open pushed streams. */
    @Test
    void enablePushWithZeroConcurrentStreamsGetsNoPushedStreams() throws Exception {
        try (AttackScenario s = AttackScenario.start(HERALD, "ENABLE_PUSH=1, MAX_CONCURRENT_STREAMS=0")) {
            H2AttackClient a = s.keep(H2AttackClient.connect(HERALD.httpPort(), SETTINGS_ENABLE_PUSH, 1,
                    SETTINGS_MAX_CONCURRENT_STREAMS, 0));
            for (int i = 0; i < 20; i++) {
                a.headers(2 * i + 1, a.get("/index.html"), true);
            }
            a.flush();
            assertThat(a.awaitStatuses(20, ANSWER)).as(a.outcome()).isTrue();
            assertThat(a.statuses()).as(a.outcome()).containsValue("200").doesNotContainValue("500");
            assertThat(a.headersOnEvenStreams()).as("pushed streams opened beyond MAX_CONCURRENT_STREAMS=0").isZero();
            assertThat(a.goAwayCode()).as(a.outcome()).isNull();
            s.answered(a.outcome() + ", " + a.pushPromises() + " PUSH_PROMISE, 0 pushed streams opened");
            s.finish();
        }
    }
}
