package dev.herald.attack;

import dev.herald.attack.H2AttackClient.StreamRecord;
import dev.herald.server.LimitLog;
import dev.herald.testing.HeraldExtension;
import dev.herald.testing.HttpResult;
import dev.herald.testing.LogCapture;
import dev.herald.testing.NettyH2cClient;
import dev.herald.testing.RawHttp1;
import io.netty.handler.codec.http2.Http2Error;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Request bodies that stop arriving. Over HTTP/2, a stream whose request has not ended and that has received no frame
 * for {@code idle-timeout} is answered 408 and reset, its buffered body released, while the connection goes on
 * serving; over HTTP/1.1 the 408 ends the connection.
 * What the timeout must leave alone: a long-running response (its request complete) and a body that is slow but
 * keeps coming.
 */
class StalledBodyAttackTest {
    static final Duration TIMEOUT = Duration.ofMillis(500);
    /** The 408 and the reset arrive within this after the last frame (the timeout plus slack for a busy machine). */
    static final Duration ANSWER = TIMEOUT.plusSeconds(3);

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.folder(dir ->
                    java.nio.file.Files.writeString(dir.resolve("root/hello.txt"), "Hello, Herald\n"))
            // Heartbeats far apart: a subscription writes nothing while the test waits, so the connection goes idle.
            // Every limit line logged (no rate limit), so each test sees its own.
            .configure(b -> b.idleTimeout(TIMEOUT).heartbeat(Duration.ofSeconds(60))
                    .limitLogInterval(Duration.ofNanos(1)));

    @Test
    void stalledBodyGets408ThenResetAndTheConnectionStaysUsable() throws Exception {
        try (H2AttackClient c = H2AttackClient.connect(HERALD.httpPort());
             LogCapture log = LogCapture.of(LimitLog.class)) {
            c.headers(1, c.post("/topics/stalled"), false);
            c.data(1, "{\"a\": 1".getBytes(StandardCharsets.US_ASCII), false); // 8 bytes, then nothing
            long t0 = System.nanoTime();
            c.flush();

            StreamRecord r = c.awaitStream(1, s -> s.rstCode != null, ANSWER);
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            assertThat(r.rstCode).as("stalled stream after %s ms: %s; %s", took.toMillis(), r, c.outcome())
                    .isEqualTo(Http2Error.NO_ERROR.code());
            assertThat(took).as("reset after the idle timeout, not before").isGreaterThanOrEqualTo(TIMEOUT);
            assertThat(r.status).isEqualTo("408");
            assertThat(r.endedBeforeRst).as("a complete 408 before the reset: %s", r).isTrue();
            assertThat(r.body()).startsWith("{\"error\":\"request timeout\",\"detail\":\"");

            c.headers(3, c.get("/hello.txt"), true);
            c.flush();
            StreamRecord next = c.awaitStream(3, StreamRecord::ended, ANSWER);
            assertThat(next.status).as("a new request on the same connection: %s; %s", next, c.outcome())
                    .isEqualTo("200");
            assertThat(next.body()).isEqualTo("Hello, Herald\n");
            assertThat(log.messages()).as("Herald's log").anySatisfy(m -> assertThat(m)
                    .contains("idle-timeout", "stream 1", "POST /topics/stalled", "408"));
        }
    }

    /** The same over HTTP/1.1, where the body's connection can carry nothing else: 408, then the connection ends. */
    @Test
    void stalledHttp1BodyGets408ThenTheConnectionCloses() throws Exception {
        try (Socket s = new Socket("127.0.0.1", HERALD.httpPort());
             LogCapture log = LogCapture.of(LimitLog.class)) {
            s.setSoTimeout((int) ANSWER.toMillis());
            OutputStream out = s.getOutputStream();
            out.write(("POST /topics/stalled HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 100\r\n\r\n{\"a\": 1").getBytes(StandardCharsets.US_ASCII)); // 8 of 100 bytes
            out.flush();
            long t0 = System.nanoTime();

            String raw = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1); // to the close
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            assertThat(RawHttp1.status(raw)).as(raw).isEqualTo(408);
            assertThat(took).as("answered after the idle timeout, not before").isGreaterThanOrEqualTo(TIMEOUT);
            assertThat(raw).containsIgnoringCase("connection: close\r\n")
                    .endsWith("{\"error\":\"request timeout\",\"detail\":\"the request body was still incomplete "
                            + "after " + TIMEOUT.toMillis() + " ms\"}");
            assertThat(log.messages()).as("Herald's log").anySatisfy(m -> assertThat(m)
                    .contains("idle-timeout", "HTTP/1.1 request body incomplete", "POST /topics/stalled", "408"));
        }
    }

    @Test
    void idleSubscriptionIsNotTimedOut() throws Exception {
        try (H2AttackClient c = H2AttackClient.connect(HERALD.httpPort())) {
            c.headers(1, c.get("/topics/quiet"), true);
            c.flush();
            StreamRecord started = c.awaitStream(1, s -> s.status != null, ANSWER);
            assertThat(started.status).as("subscription: %s", started).isEqualTo("200");

            // Nothing from either side for three idle timeouts: the stream must still be open.
            StreamRecord idle = c.awaitStream(1, StreamRecord::ended, TIMEOUT.multipliedBy(3));
            assertThat(idle.ended()).as("idle subscription: %s; %s", idle, c.outcome()).isFalse();
            assertThat(c.isClosed()).as(c.outcome()).isFalse();

            int before = idle.data.size();
            NettyH2cClient publisher = new NettyH2cClient(HERALD.httpPort());
            try {
                HttpResult p = publisher.send("POST", "/topics/quiet", Map.of("content-type", "application/json"),
                        "{\"after\":\"idle\"}".getBytes(StandardCharsets.UTF_8));
                assertThat(p.status()).as(p.bodyText()).isEqualTo(201);
            } finally {
                publisher.close();
            }
            StreamRecord live = c.awaitStream(1, s -> s.body().contains("\"after\""), ANSWER);
            assertThat(live.body().substring(before)).as("the event after the idle time").contains("\"after\"");
        }
    }

    @Test
    void slowButProgressingBodyCompletes() throws Exception {
        try (H2AttackClient c = H2AttackClient.connect(HERALD.httpPort())) {
            byte[] body = "{\"slow\":\"body in nine pieces\"}".getBytes(StandardCharsets.US_ASCII);
            int pieces = 9;
            long t0 = System.nanoTime();
            c.headers(1, c.post("/topics/slow"), false);
            c.flush();
            for (int i = 0; i < pieces; i++) {
                Thread.sleep(TIMEOUT.toMillis() / 3); // the pace is the test: a frame every third of the timeout
                int from = body.length * i / pieces;
                int to = body.length * (i + 1) / pieces;
                c.data(1, java.util.Arrays.copyOfRange(body, from, to), i == pieces - 1);
                c.flush();
            }
            StreamRecord r = c.awaitStream(1, StreamRecord::ended, ANSWER);
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            assertThat(took).as("the body took longer than the timeout").isGreaterThan(TIMEOUT.multipliedBy(2));
            assertThat(r.status).as("slow body: %s; %s", r, c.outcome()).isEqualTo("201");
            assertThat(r.body()).startsWith("{\"id\":");
            assertThat(r.rstCode).as("no reset: %s", r).isNull();
        }
    }
}
