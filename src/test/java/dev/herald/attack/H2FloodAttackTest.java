package dev.herald.attack;

import dev.herald.testing.HeraldExtension;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

import static dev.herald.attack.H2AttackClient.CONTINUATION;
import static dev.herald.attack.H2AttackClient.DATA;
import static dev.herald.attack.H2AttackClient.END_HEADERS;
import static dev.herald.attack.H2AttackClient.END_STREAM;
import static dev.herald.attack.H2AttackClient.HEADERS;
import static dev.herald.attack.H2AttackClient.SETTINGS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Floods of cheap frames that cost the server work or memory (RFC 9113 §10.5): each runs a few seconds against a
 * real Herald with a well-behaved client alongside, and the attacker must be sent away within {@link #ANSWER}.
 */
class H2FloodAttackTest {
    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.site("basic");

    /** How long the attacker may go on before Herald sends it away. */
    static final Duration ANSWER = Duration.ofSeconds(3);
    static final Duration FLOOD = AttackScenario.attackDuration(Duration.ofSeconds(3));

    /**
     * The answers queued for an attacker that does not read are bounded by maxQueuedControlFrames (10 000; about
     * 8 400 were queued when Herald stopped reading, measured). Each costs a few hundred bytes, but at the build's
     * PARANOID leak level each queued buffer also carries the detector's stack traces (~11 KiB, measured from a
     * class histogram: 75 000 TraceRecords for 8 400 buffers, 95 MiB): the bound allows for that.
     */
    static long queuedAnswersHeapBound() {
        return ResourceLeakDetector.getLevel() == ResourceLeakDetector.Level.PARANOID ? 192L << 20 : 32L << 20;
    }

    /** CVE-2023-44487: open a stream and cancel it at once, as fast as possible. */
    @Test
    void rapidResetGetsEnhanceYourCalm() throws Exception {
        try (AttackScenario s = AttackScenario.start(HERALD, "rapid reset")) {
            H2AttackClient a = s.keep(H2AttackClient.connect(HERALD.httpPort()));
            Http2Headers get = a.get("/hello.txt");
            s.flood(FLOOD, i -> {
                int id = 2 * i + 1;
                a.headers(id, get, true);
                a.rst(id, Http2Error.CANCEL);
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

    /** CVE-2024-27316: HEADERS without END_HEADERS, then CONTINUATION frames without end. */
    @Test
    void continuationFloodIsCutOff() throws Exception {
        try (AttackScenario s = AttackScenario.start(HERALD, "CONTINUATION flood")) {
            H2AttackClient a = s.keep(H2AttackClient.connect(HERALD.httpPort()));
            byte[] fragment = new byte[16_000];
            a.frame(HEADERS, END_STREAM, 1, a.encode(a.get("/hello.txt")));
            s.flood(FLOOD, i -> {
                a.frame(CONTINUATION, 0, 1, fragment);
                a.flush();
            });
            assertThat(a.awaitGoAwayOrClose(ANSWER)).as(a.outcome()).isTrue();
            assertThat(a.sentAwayWith(Http2Error.PROTOCOL_ERROR)).as(a.outcome()).isTrue();
            s.answered(a.outcome());
            s.finish();
        }
    }

    /** CVE-2024-27316's sibling: CONTINUATION frames that are empty, so no size limit is ever reached. */
    @Test
    void emptyContinuationFloodIsCutOff() throws Exception {
        try (AttackScenario s = AttackScenario.start(HERALD, "empty CONTINUATION flood")) {
            H2AttackClient a = s.keep(H2AttackClient.connect(HERALD.httpPort()));
            a.frame(HEADERS, END_STREAM, 1, a.encode(a.get("/hello.txt")));
            s.flood(FLOOD, i -> {
                a.frame(CONTINUATION, 0, 1, new byte[0]);
                if (i % 64 == 63) {
                    a.flush();
                }
            });
            assertThat(a.awaitGoAwayOrClose(ANSWER)).as(a.outcome()).isTrue();
            assertThat(a.sentAwayWith(Http2Error.ENHANCE_YOUR_CALM)).as(a.outcome()).isTrue();
            s.answered(a.outcome());
            s.finish();
        }
    }

    /** CVE-2019-9512: PINGs while never reading the ACKs; the queued ACKs are bounded. */
    @Test
    void pingFloodIsClosed() throws Exception {
        unreadControlFlood("ping flood", (a, i) -> a.ping(i));
    }

    /** CVE-2019-9515: SETTINGS (each wants an ACK) while never reading. */
    @Test
    void settingsFloodIsClosed() throws Exception {
        unreadControlFlood("settings flood", (a, i) -> a.frame(SETTINGS, 0, 0, new byte[0]));
    }

    /**
     * Herald may close the connection (GOAWAY ENHANCE_YOUR_CALM once too many answers are queued) or stop reading
     * from it (TCP backpressure: the attacker's writes block). Either way, nothing grows without bound.
     */
    private void unreadControlFlood(String name, ControlFrame frame) throws Exception {
        try (AttackScenario s = AttackScenario.start(HERALD, name)) {
            s.heapBound(queuedAnswersHeapBound());
            H2AttackClient a = s.keep(H2AttackClient.connect(HERALD.httpPort(), false));
            AttackScenario.Flood f = s.flood(Duration.ofSeconds(20), i -> {
                frame.write(a, i);
                if (i % 256 == 255) {
                    a.flush();
                }
            });
            assertThat(f.awaitEndOrStall(Duration.ofSeconds(1), Duration.ofSeconds(10)))
                    .as("the %s was neither cut off nor pushed back (%s frames)", name, f.steps()).isTrue();
            s.checkpointMemory();
            String answer = f.isDone() ? "closed after " + f.steps() + " frames"
                    : "stopped reading after " + f.steps() + " frames (backpressure)";
            a.close();
            s.answered(answer);
            s.finish();
        }
    }

    /**
     * CVE-2019-9514: requests that each make the server send RST_STREAM (here an upper-case header name, a stream
     * error), sent faster than the limit on RST_STREAM frames Herald sends.
     */
    @Test
    void resetFloodGetsEnhanceYourCalm() throws Exception {
        try (AttackScenario s = AttackScenario.start(HERALD, "reset flood")) {
            H2AttackClient a = s.keep(H2AttackClient.connect(HERALD.httpPort()));
            Http2Headers bad = a.get("/hello.txt").add("X-Upper-Case", "illegal in HTTP/2");
            s.flood(FLOOD, i -> {
                a.headers(2 * i + 1, bad, true);
                if (i % 16 == 15) {
                    a.flush();
                }
            });
            assertThat(a.awaitGoAwayOrClose(ANSWER)).as(a.outcome()).isTrue();
            assertThat(a.rstCount(Http2Error.PROTOCOL_ERROR)).as(a.outcome()).isPositive();
            assertThat(a.sentAwayWith(Http2Error.ENHANCE_YOUR_CALM)).as(a.outcome()).isTrue();
            s.answered(a.outcome());
            s.finish();
        }
    }

    /** CVE-2019-9518: DATA frames with no payload and no END_STREAM cost work and carry nothing. */
    @Test
    void emptyDataFloodGetsEnhanceYourCalm() throws Exception {
        try (AttackScenario s = AttackScenario.start(HERALD, "empty frames flood")) {
            H2AttackClient a = s.keep(H2AttackClient.connect(HERALD.httpPort()));
            Http2Headers post = a.get("/hello.txt").method("POST");
            s.flood(FLOOD, i -> {
                int id = 2 * i + 1;
                a.headers(id, post, false);
                for (int k = 0; k < 8; k++) {
                    a.frame(DATA, 0, id, new byte[0]);
                }
                a.flush();
            });
            assertThat(a.awaitGoAwayOrClose(ANSWER)).as(a.outcome()).isTrue();
            assertThat(a.sentAwayWith(Http2Error.ENHANCE_YOUR_CALM)).as(a.outcome()).isTrue();
            s.answered(a.outcome());
            s.finish();
        }
    }

    /**
     * CVE-2019-9516: header fields with an empty name and an empty value (HPACK literal, new name, both lengths 0),
     * 500 per block (16 KB of header list with HPACK's 32-byte overhead each, within the limit), on stream after stream: each is refused and nothing accumulates.
     */
    @Test
    void zeroLengthHeadersAreRefused() throws Exception {
        try (AttackScenario s = AttackScenario.start(HERALD, "zero-length headers")) {
            H2AttackClient a = s.keep(H2AttackClient.connect(HERALD.httpPort()));
            Http2Headers get = a.get("/hello.txt");
            s.flood(FLOOD, i -> {
                byte[] base = a.encode(get); // one block per stream: HPACK state stays in step
                byte[] block = new byte[base.length + 3 * 500]; // then 500 times 00 00 00
                System.arraycopy(base, 0, block, 0, base.length);
                a.frame(HEADERS, END_HEADERS | END_STREAM, 2 * i + 1, block);
                a.flush();
            });
            assertThat(a.awaitFirstRst(ANSWER) || a.awaitGoAwayOrClose(Duration.ZERO)).as(a.outcome()).isTrue();
            assertThat(a.statuses()).as("no request with empty header names was served: %s", a.outcome())
                    .doesNotContainValue("200");
            s.answered(a.outcome());
            s.finish();
        }
    }

    @FunctionalInterface
    private interface ControlFrame {
        void write(H2AttackClient a, int i) throws Exception;
    }
}
