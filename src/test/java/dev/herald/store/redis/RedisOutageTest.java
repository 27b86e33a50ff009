package dev.herald.store.redis;

import static dev.herald.store.redis.RedisEventLogTest.take;
import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.store.Event;
import dev.herald.store.EventId;
import dev.herald.store.Replay;
import dev.herald.store.Retention;
import dev.herald.store.StoreTimeoutException;
import io.lettuce.core.Range;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisException;
import io.lettuce.core.StreamMessage;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Redis killed and restarted under a running log: fast failures, recovery, no gap, and AOF durability. And what an
 * append that fails is said to have done: "not stored" only when it never left (refused while the connection is
 * down, and never sent later); "may have been stored" when the connection broke after it was written (Redis ran it,
 * the reply was lost). A {@link ReplyDroppingProxy} between the log and Redis makes those happen on cue.
 */
class RedisOutageTest {
    private static final Retention RETENTION = new Retention(10_000, Duration.ofHours(1));

    @TempDir
    Path dir;
    RedisServer redis;
    ReplyDroppingProxy proxy;

    @AfterEach
    void stopRedis() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    /** Starts Redis and a {@link ReplyDroppingProxy} in front of it, and opens a log through the proxy. */
    private RedisEventLog openViaProxy() throws Exception {
        redis = RedisServer.start(dir, false);
        proxy = ReplyDroppingProxy.start(redis.port());
        return RedisEventLog.open(proxy.url(), RETENTION, Optional.empty());
    }

    /** The {@code d} fields of a topic's stream, read from Redis itself (not through the proxy or a log). */
    private List<String> stored(String topic) {
        RedisClient client = RedisClient.create(redis.url());
        try (var c = client.connect()) {
            return c.sync().xrange(RedisEventLog.TOPIC_PREFIX + topic, Range.create("-", "+")).stream()
                    .map(StreamMessage::getBody).map(b -> b.get("d")).toList();
        } finally {
            client.shutdown();
        }
    }

    /** Appends until one is acknowledged (Lettuce reconnects in the background), pausing between tries. */
    static Event appendOnceBack(RedisEventLog log, String topic, String data) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        Throwable last = null;
        while (System.nanoTime() < deadline) {
            try {
                return log.append(topic, data).get(5, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                assertThat(e.getCause()).isInstanceOf(RedisUnavailableException.class);
                last = e.getCause();
            }
            CompletableFuture.runAsync(() -> { }, CompletableFuture.delayedExecutor(100, TimeUnit.MILLISECONDS))
                    .get();
        }
        throw new AssertionError("redis did not come back within 15 s", last);
    }

    @Test
    void outageFailsFastThenTheTailResumesWithNoGap() throws Exception {
        redis = RedisServer.start(dir, true);
        try (RedisEventLog a = RedisEventLog.open(redis.url(), RETENTION, Optional.empty());
                RedisEventLog b = RedisEventLog.open(redis.url(), RETENTION, Optional.empty())) {
            BlockingQueue<Event> onA = new LinkedBlockingQueue<>();
            a.tail(onA::add);
            a.interest("outage").ready().get(5, TimeUnit.SECONDS);
            List<Event> acked = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                acked.add(a.append("outage", "{\"before\":" + i + "}").get(5, TimeUnit.SECONDS));
            }
            assertThat(take(onA, "outage", 10)).isEqualTo(acked);

            redis.killNoticedBy(a);
            long t0 = System.nanoTime();
            CompletableFuture<Event> refused = a.append("outage", "{\"down\":true}");
            assertThat(refused).failsWithin(Duration.ofSeconds(6)).withThrowableOfType(ExecutionException.class)
                    .withCauseInstanceOf(RedisUnavailableException.class)
                    .withMessageContaining("127.0.0.1:" + redis.port());
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).as("ms to fail").isLessThan(6_000);

            redis.start();
            // Node B publishes first after the restart; node A's reader may still be reconnecting.
            acked.add(appendOnceBack(b, "outage", "{\"back\":\"b\"}"));
            acked.add(appendOnceBack(a, "outage", "{\"back\":\"a\"}"));
            for (int i = 0; i < 20; i++) {
                acked.add((i % 2 == 0 ? a : b).append("outage", "{\"after\":" + i + "}").get(5, TimeUnit.SECONDS));
            }
            // Refused once A knew Redis was gone: not stored (the AOF kept the rest), not sent after the restart.
            List<Event> stored = b.readAfter("outage", EventId.ZERO, 1000).get(5, TimeUnit.SECONDS).events();
            assertThat(stored).containsExactlyInAnyOrderElementsOf(acked);
            assertThat(take(onA, "outage", stored.size() - 10)).isEqualTo(stored.subList(10, stored.size()));
        }
    }

    @Test
    void everyAcknowledgedEventSurvivesAKilledRedisWithAof() throws Exception {
        redis = RedisServer.start(dir, true);
        List<Event> acked = new ArrayList<>();
        try (RedisEventLog log = RedisEventLog.open(redis.url(), RETENTION, Optional.empty())) {
            List<CompletableFuture<Event>> futures = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                futures.add(log.append("durable-" + (i % 3), "{\"i\":" + i + "}"));
            }
            CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
            futures.forEach(f -> acked.add(f.join()));
            redis.kill(); // SIGKILL: only what the AOF holds survives
        }
        redis.start();
        try (RedisEventLog log = RedisEventLog.open(redis.url(), RETENTION, Optional.empty())) {
            List<Event> stored = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                Replay r = log.readAfter("durable-" + t, EventId.ZERO, 1000).get(5, TimeUnit.SECONDS);
                assertThat(r.status()).isEqualTo(Replay.Status.OK);
                stored.addAll(r.events());
            }
            assertThat(stored).containsExactlyInAnyOrderElementsOf(acked);
        }
    }

    @Test
    void passwordFromTheEnvironmentOrTheUrl() throws Exception {
        redis = RedisServer.start(dir, false);
        try (RedisEventLog open = RedisEventLog.open(redis.url(), RETENTION, Optional.empty())) {
            open.append("pw", "{}").get(5, TimeUnit.SECONDS);
        }
        // Require a password from now on (CONFIG SET through a log is not possible: use a raw connection).
        try (var client = io.lettuce.core.RedisClient.create(redis.url());
                var c = client.connect()) {
            c.sync().configSet("requirepass", "s3cret-pw");
        }
        try (RedisEventLog viaEnv = RedisEventLog.open(redis.url(), RETENTION, Optional.of("s3cret-pw"));
                RedisEventLog viaUrl = RedisEventLog.open("redis://:s3cret-pw@127.0.0.1:" + redis.port(), RETENTION,
                        Optional.empty())) {
            viaEnv.append("pw", "{\"env\":1}").get(5, TimeUnit.SECONDS);
            assertThat(viaUrl.latest("pw", 1).get(5, TimeUnit.SECONDS)).extracting(Event::data)
                    .containsExactly("{\"env\":1}");
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> RedisEventLog.open("redis://:wrong-pw@127.0.0.1:" + redis.port(), RETENTION,
                                Optional.empty()))
                .isInstanceOf(RedisUnavailableException.class).hasMessageNotContaining("wrong-pw");
    }

    @Test
    void anAppendWhoseReplyIsLostMayHaveBeenStoredAndIsStoredOnce() throws Exception {
        try (RedisEventLog log = openViaProxy()) {
            log.append("lost", "{\"n\":1}").get(5, TimeUnit.SECONDS);

            CompletableFuture<Void> dropped = proxy.dropReplyToNextEval();
            CompletableFuture<Event> lost = log.append("lost", "{\"n\":2}");
            assertThat(lost).failsWithin(Duration.ofSeconds(10)).withThrowableOfType(ExecutionException.class)
                    .havingCause().isInstanceOf(StoreTimeoutException.class)
                    .withMessageContaining("127.0.0.1:")
                    .withMessageContaining("closed the connection before answering")
                    .withMessageContaining("may have been applied")
                    .withCauseInstanceOf(RedisException.class);
            assertThat(dropped).as("the proxy dropped the reply").isCompleted();
            // The hedge was right: Redis ran it.
            assertThat(stored("lost")).containsExactly("{\"n\":1}", "{\"n\":2}");

            // A lost reply is the connection's fault, not Redis's: the store is healthy again once it reconnected.
            RedisServer.awaitConnected(log, true);
            assertThat(log.unavailable()).isNull();
            // Nothing is written again after the reconnect (a replayed EVAL would store it twice).
            appendOnceBack(log, "lost", "{\"n\":3}");
            assertThat(stored("lost")).containsExactly("{\"n\":1}", "{\"n\":2}", "{\"n\":3}");
            assertThat(log.readAfter("lost", EventId.ZERO, 10).get(5, TimeUnit.SECONDS).events())
                    .extracting(Event::data).containsExactly("{\"n\":1}", "{\"n\":2}", "{\"n\":3}");
        }
    }

    @Test
    void anAppendRefusedWhileRedisIsUnreachableIsNotStoredNowNorAfterTheReconnect() throws Exception {
        try (RedisEventLog log = openViaProxy()) {
            log.append("refused", "{\"n\":\"before\"}").get(5, TimeUnit.SECONDS);

            proxy.refuse(true);
            RedisServer.awaitConnected(log, false);
            CompletableFuture<Event> refused = log.append("refused", "{\"n\":\"while-down\"}");
            assertThat(refused).failsWithin(Duration.ofSeconds(2)).withThrowableOfType(ExecutionException.class)
                    .havingCause().isInstanceOf(RedisUnavailableException.class)
                    .withMessageContaining("is unreachable; retry later");
            assertThat(stored("refused")).containsExactly("{\"n\":\"before\"}");

            proxy.refuse(false);
            appendOnceBack(log, "refused", "{\"n\":\"after\"}");
            // Not queued and sent once the connection was back: "not stored" stays true.
            assertThat(stored("refused")).containsExactly("{\"n\":\"before\"}", "{\"n\":\"after\"}");
        }
    }

    @Test
    void onlyWhatLettuceRefusedToWriteCountsAsNeverSent() {
        assertThat(RedisEventLog.neverSent(new RedisException("Currently not connected. Commands are rejected.")))
                .isTrue();
        assertThat(RedisEventLog.neverSent(new RedisException("Connection is closed"))).isTrue();
        assertThat(RedisEventLog.neverSent(new RedisConnectionException("refused"))).isTrue();
        assertThat(RedisEventLog.neverSent(new RedisException("Connection disconnected"))).isFalse();
        assertThat(RedisEventLog.neverSent(new RedisException("Connection closed"))).isFalse();
        assertThat(RedisEventLog.neverSent(new IOException("Connection reset by peer"))).isFalse();
    }
}
