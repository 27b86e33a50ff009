package dev.herald.attack;

import dev.herald.attack.H2AttackClient.StreamRecord;
import dev.herald.server.LimitLog;
import dev.herald.server.Response;
import dev.herald.testing.HeraldExtension;
import dev.herald.testing.LogCapture;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Request bodies that do not end, on many HTTP/2 streams at once. Found by a review: 200 POST streams on one
 * connection, each sent 1,040,000 bytes without END_STREAM, took Herald from 175 to 593 MB of RSS, since every
 * stream could hold {@code max-request-body} and Netty returns the connection window as frames are read. What the
 * streams of a connection hold is bounded by {@code http2.max-buffered-body-per-connection}, what all connections
 * hold by {@code http2.max-buffered-body}: a stream whose DATA would go beyond is answered 503 (then reset with
 * NO_ERROR), one warning names the limit, and the streams that fit complete.
 *
 * <p>Scaled down so that each stream sends one frame: {@code max-request-body} 16 KiB, so 64 KiB per connection
 * (auto, four bodies), and 96 KiB in all. Each stream sends {@value #PART} bytes: four fit on a connection, six
 * on the server.
 */
class BufferedBodiesAttackTest {
    static final int BODY = 16 << 10;
    static final int PER_CONNECTION = 4 * BODY;
    static final int TOTAL = 6 * BODY;
    /** One DATA frame, under the 16 KiB frame size. */
    static final int PART = 16_000;
    static final Duration ANSWER = Duration.ofSeconds(3);

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.folder(dir ->
                    Files.writeString(dir.resolve("root/hello.txt"), "Hello, Herald\n"))
            .configure(b -> b.maxRequestBody(BODY).maxBufferedBody(TOTAL))
            .routes(b -> b.route("/length", ex ->
                    ex.respond(Response.json(200, "{\"length\":" + ex.request().body().length + "}"))));

    @Test
    void streamsBeyondTheConnectionLimitGet503AndTheOnesThatFitComplete() throws Exception {
        int streams = 64;
        int fit = PER_CONNECTION / PART;
        try (AttackScenario s = AttackScenario.start(HERALD, "unfinished bodies on 64 streams");
             LogCapture log = LogCapture.of(LimitLog.class)) {
            H2AttackClient a = s.keep(H2AttackClient.connect(HERALD.httpPort()));
            Http2Headers post = a.post("/length");
            for (int i = 0; i < streams; i++) {
                a.headers(id(i), post, false);
                a.data(id(i), new byte[PART], false);
            }
            a.flush();

            for (int i = fit; i < streams; i++) {
                StreamRecord r = a.awaitStream(id(i), x -> x.rstCode != null, ANSWER);
                assertThat(r.status).as("stream %s, beyond the limit: %s; %s", id(i), r, a.outcome())
                        .isEqualTo("503");
                assertThat(r.body()).startsWith("{\"error\":\"too many request bodies\",\"detail\":\"")
                        .contains("http2.max-buffered-body-per-connection (" + PER_CONNECTION + " bytes)");
                assertThat(r.rstCode).as("reset after the answer: %s", r).isEqualTo(Http2Error.NO_ERROR.code());
                assertThat(r.endedBeforeRst).as("a complete 503 before the reset: %s", r).isTrue();
            }
            for (int i = 0; i < fit; i++) {
                StreamRecord r = a.awaitStream(id(i), x -> true, Duration.ZERO);
                assertThat(r.status).as("stream %s, within the limit, still waits for its body", id(i)).isNull();
            }
            assertThat(buffered()).as("bytes held by the parked streams").isEqualTo(fit * PART)
                    .isLessThanOrEqualTo(PER_CONNECTION);
            s.checkpointMemory();

            for (int i = 0; i < fit; i++) {
                a.data(id(i), new byte[1], true);
            }
            a.flush();
            for (int i = 0; i < fit; i++) {
                StreamRecord r = a.awaitStream(id(i), StreamRecord::ended, ANSWER);
                assertThat(r.status).as("stream %s, once its body ended: %s; %s", id(i), r, a.outcome())
                        .isEqualTo("200");
                assertThat(r.body()).isEqualTo("{\"length\":" + (PART + 1) + "}");
            }
            assertThat(buffered()).as("nothing held once the bodies were dispatched").isZero();
            assertThat(a.isClosed()).as(a.outcome()).isFalse();
            assertThat(log.messages()).as("one warning for %s refused streams", streams - fit)
                    .filteredOn(m -> m.contains("http2.max-buffered-body-per-connection")).singleElement()
                    .satisfies(m -> assertThat(m).contains("POST /length", ": 503"));
            s.answered((streams - fit) + " x 503, " + fit + " x 200");
            s.finish();
        }
    }

    @Test
    void theServerWideLimitHoldsAcrossConnections() throws Exception {
        int onA = PER_CONNECTION / PART;
        int onB = TOTAL / PART - onA;
        try (LogCapture log = LogCapture.of(LimitLog.class);
             H2AttackClient a = H2AttackClient.connect(HERALD.httpPort());
             H2AttackClient b = H2AttackClient.connect(HERALD.httpPort())) {
            park(a, 0, onA);
            awaitBuffered(onA * PART);
            park(b, 0, onB + 1); // the last one is over the server's limit, not its connection's
            StreamRecord over = b.awaitStream(id(onB), StreamRecord::ended, ANSWER);
            assertThat(over.status).as("over the server-wide limit: %s; %s", over, b.outcome()).isEqualTo("503");
            assertThat(over.body()).contains("too many request bodies", "http2.max-buffered-body")
                    .doesNotContain("per-connection");
            assertThat(buffered()).isEqualTo((onA + onB) * PART).isLessThanOrEqualTo(TOTAL);

            finish(a, 0, onA);
            park(b, onB + 1, 1); // room again once A's bodies were dispatched
            finish(b, 0, onB);
            finish(b, onB + 1, 1);
            assertThat(buffered()).isZero();
            assertThat(log.messages()).filteredOn(m -> m.contains("limit http2.max-buffered-body ")).singleElement()
                    .satisfies(m -> assertThat(m).contains("over " + TOTAL + " bytes", ": 503"));
        }
    }

    private static int id(int i) {
        return 2 * i + 1;
    }

    /** Opens streams {@code from..from+n-1} (by index), each with one part of a body that does not end. */
    private static void park(H2AttackClient c, int from, int n) throws Exception {
        for (int i = from; i < from + n; i++) {
            c.headers(id(i), c.post("/length"), false);
            c.data(id(i), new byte[PART], false);
        }
        c.flush();
    }

    /** Ends the bodies of streams {@code from..from+n-1} and expects each to be answered in full. */
    private static void finish(H2AttackClient c, int from, int n) throws Exception {
        for (int i = from; i < from + n; i++) {
            c.data(id(i), new byte[1], true);
        }
        c.flush();
        for (int i = from; i < from + n; i++) {
            StreamRecord r = c.awaitStream(id(i), StreamRecord::ended, ANSWER);
            assertThat(r.status).as("stream %s: %s; %s", id(i), r, c.outcome()).isEqualTo("200");
            assertThat(r.body()).isEqualTo("{\"length\":" + (PART + 1) + "}");
        }
    }

    /** Waits until Herald holds {@code bytes} of request bodies: its frames were read on another connection. */
    private static void awaitBuffered(long bytes) throws Exception {
        long deadline = System.nanoTime() + ANSWER.toNanos();
        while (buffered() != bytes && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(buffered()).isEqualTo(bytes);
    }

    /** The {@code herald_request_body_buffered_bytes} gauge. */
    private static long buffered() throws Exception {
        return (long) HERALD.metric("herald_request_body_buffered_bytes");
    }
}
