package dev.herald.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import dev.herald.testing.HeraldExtension;
import dev.herald.testing.HttpResult;
import dev.herald.testing.LogCapture;
import dev.herald.testing.TestClient;
import io.netty.channel.epoll.Epoll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The latency optimization on a real epoll socket over TLS, forced on for loopback (min-rtt 1 µs, no window limit)
 * while a slow response waits on the same connection: every pass reads {@code TCP_INFO}, holds bytes back, corks
 * and wakes itself. Whatever it does, every response
 * must arrive whole, with no hang. The decisions themselves are in {@link LatencyOptimizedDistributorTest}; the
 * effect on page loads under latency is measured in {@code bench/push}.
 */
class LatencyOptimizationOverWireTest {
    private static final int BIG = 3 * 1024 * 1024 + 17;
    private static final byte[] BIG_BODY = new byte[BIG];
    private static final byte[] SMALL_BODY = new byte[20_000];

    static {
        Random r = new Random(42);
        r.nextBytes(BIG_BODY);
        r.nextBytes(SMALL_BODY);
    }

    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "slow-route");
        t.setDaemon(true);
        return t;
    });

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.folder(dir -> {
        Files.write(dir.resolve("root/big.bin"), BIG_BODY);
        for (int i = 0; i < 8; i++) {
            Files.write(dir.resolve("root/small" + i + ".bin"), SMALL_BODY);
        }
    }).configure(b -> b.latencyOptimizationMinRtt(Duration.ofNanos(1_000))
            .latencyOptimizationMaxCwnd(Integer.MAX_VALUE))
            // A response that takes its time: while it waits, the other streams' bytes are held back.
            .routes(r -> r.route("/slow", exchange -> TIMER.schedule(
                    () -> exchange.respond(Response.json(200, "{\"slow\":true}")), 300, TimeUnit.MILLISECONDS)));

    @Test
    void everyResponseArrivesWholeWhileItHoldsBytesBack() throws Exception {
        assertThat(Epoll.isAvailable()).as("the epoll transport (Linux)").isTrue();
        Logger logger = (Logger) LoggerFactory.getLogger(LatencyOptimizedDistributor.class);
        Level before = logger.getLevel();
        logger.setLevel(Level.DEBUG);
        try (LogCapture log = LogCapture.of(LatencyOptimizedDistributor.class)) {
            TestClient h2 = HERALD.client("h2");
            List<CompletableFuture<HttpResult>> smalls = new ArrayList<>();
            CompletableFuture<HttpResult> slow = CompletableFuture.supplyAsync(() -> get(h2, "/slow"));
            CompletableFuture<HttpResult> big = CompletableFuture.supplyAsync(() -> get(h2, "/big.bin"));
            for (int i = 0; i < 8; i++) {
                String path = "/small" + i + ".bin";
                smalls.add(CompletableFuture.supplyAsync(() -> get(h2, path)));
            }

            HttpResult b = big.get(60, TimeUnit.SECONDS);
            assertThat(b.status()).isEqualTo(200);
            assertThat(b.protocol()).isEqualTo("HTTP/2");
            assertThat(b.body()).hasSize(BIG).isEqualTo(BIG_BODY);
            for (CompletableFuture<HttpResult> f : smalls) {
                HttpResult s = f.get(60, TimeUnit.SECONDS);
                assertThat(s.status()).isEqualTo(200);
                assertThat(s.body()).isEqualTo(SMALL_BODY);
            }
            HttpResult sl = slow.get(60, TimeUnit.SECONDS);
            assertThat(sl.status()).isEqualTo(200);
            assertThat(sl.bodyText()).isEqualTo("{\"slow\":true}");
            assertThat(log.messages()).as("the connection entered the latency optimization")
                    .anyMatch(m -> m.contains("latency optimization on"));
        } finally {
            logger.setLevel(before);
        }
    }

    private static HttpResult get(TestClient client, String path) {
        try {
            return client.get(path);
        } catch (Exception e) {
            throw new IllegalStateException(path, e);
        }
    }
}
