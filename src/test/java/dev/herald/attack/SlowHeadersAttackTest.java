package dev.herald.attack;

import dev.herald.testing.HeraldExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.herald.attack.H2AttackClient.END_HEADERS;
import static dev.herald.attack.H2AttackClient.END_STREAM;
import static dev.herald.attack.H2AttackClient.HEADERS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Slowloris proper: a request head sent one byte every 300 ms, which an idle timeout reset by every read never
 * catches. With a 1 s idle timeout, Herald must cut the connection off within {@link SlowlorisAttackTest#CLOSED_WITHIN}.
 */
class SlowHeadersAttackTest {
    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.site("basic")
            .configure(b -> b.idleTimeout(SlowlorisAttackTest.TIMEOUT).handshakeTimeout(SlowlorisAttackTest.TIMEOUT));

    /** An h2c HEADERS frame, one byte at a time. */
    @Test
    void http2HeadersOneByteAtATimeAreCutOff() throws Exception {
        try (AttackScenario s = AttackScenario.start(HERALD, "slowloris: h2c HEADERS one byte at a time")) {
            H2AttackClient h2 = s.keep(H2AttackClient.connect(HERALD.httpPort()));
            byte[] block = h2.encode(h2.get("/hello.txt").add("x-slow", "a".repeat(100)));
            byte[] frame = new byte[9 + block.length];
            frame[1] = (byte) (block.length >>> 8);
            frame[2] = (byte) block.length;
            frame[3] = HEADERS;
            frame[4] = END_HEADERS | END_STREAM;
            frame[8] = 1;
            System.arraycopy(block, 0, frame, 9, block.length);
            AtomicInteger sent = dribble(frame, b -> {
                h2.raw(new byte[] {b});
                h2.flush();
            });
            boolean closed = h2.awaitClosed(SlowlorisAttackTest.CLOSED_WITHIN);
            s.answered(h2.outcome() + ", " + sent.get() + " bytes sent");
            assertThat(closed).as("h2c connection dribbling a HEADERS frame: %s (%s bytes sent)", h2.outcome(),
                    sent.get()).isTrue();
            s.finish();
        }
    }

    /** An HTTP/1.1 request head, one byte at a time. */
    @Test
    void http1RequestHeadOneByteAtATimeIsCutOff() throws Exception {
        try (AttackScenario s = AttackScenario.start(HERALD, "slowloris: HTTP/1.1 head one byte at a time")) {
            Socket h1 = s.keep(SlowlorisAttackTest.open(HERALD.httpPort()));
            byte[] head = ("GET /hello.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + "a".repeat(100) + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
            OutputStream out = h1.getOutputStream();
            AtomicInteger sent = dribble(head, b -> {
                out.write(b);
                out.flush();
            });
            boolean closed = SlowlorisAttackTest.awaitClosed(h1, System.nanoTime());
            s.answered("closed " + closed + ", " + sent.get() + " bytes sent");
            assertThat(closed).as("HTTP/1.1 connection dribbling a request head (%s bytes sent)", sent.get())
                    .isTrue();
            s.finish();
        }
    }

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();

    @org.junit.jupiter.api.AfterEach
    void stopTimer() {
        timer.shutdownNow();
    }

    /** Sends {@code bytes} one every 300 ms until done or the connection fails; returns the count sent. */
    private AtomicInteger dribble(byte[] bytes, ByteSink sink) {
        AtomicInteger sent = new AtomicInteger();
        timer.scheduleAtFixedRate(() -> {
            int i = sent.get();
            if (i < bytes.length) {
                try {
                    sink.write(bytes[i]);
                    sent.incrementAndGet();
                } catch (IOException e) {
                    throw new IllegalStateException("closed by Herald", e); // ends the schedule
                }
            }
        }, 0, 300, TimeUnit.MILLISECONDS);
        return sent;
    }

    @FunctionalInterface
    private interface ByteSink {
        void write(byte b) throws IOException;
    }
}
