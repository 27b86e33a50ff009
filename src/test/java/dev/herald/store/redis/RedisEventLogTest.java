package dev.herald.store.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.herald.store.Event;
import dev.herald.store.EventId;
import dev.herald.store.Replay;
import dev.herald.store.Retention;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RedisEventLogTest {
    private static final Retention LONG = new Retention(10_000, Duration.ofHours(1));

    @TempDir
    static Path dir;
    static RedisServer redis;

    @BeforeAll
    static void startRedis() throws Exception {
        redis = RedisServer.start(dir, false);
    }

    @AfterAll
    static void stopRedis() throws Exception {
        if (redis != null) {
            redis.close();
        }
    }

    private static RedisEventLog open(Retention retention) {
        return RedisEventLog.open(redis.url(), retention, Optional.empty());
    }

    /** Takes the next {@code n} events of {@code topic} from a tail queue, skipping other topics. */
    static List<Event> take(BlockingQueue<Event> q, String topic, int n) throws InterruptedException {
        List<Event> out = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (out.size() < n) {
            Event e = q.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            assertThat(e).as("event %s of %s on %s (got %s)", out.size() + 1, n, topic, out).isNotNull();
            if (e.topic().equals(topic)) {
                out.add(e);
            }
        }
        return out;
    }

    /** Takes the log's interest in {@code topics} and waits until it follows them; the handles are never given back. */
    static void follow(RedisEventLog log, String... topics) throws Exception {
        for (String t : topics) {
            log.interest(t).ready().get(5, TimeUnit.SECONDS);
        }
    }

    static List<String> ids(List<Event> events) {
        return events.stream().map(e -> e.id().toString()).toList();
    }

    @Test
    void appendReadLatestAndTailAgree() throws Exception {
        try (RedisEventLog log = open(LONG)) {
            BlockingQueue<Event> tailed = new LinkedBlockingQueue<>();
            AutoCloseable handle = log.tail(tailed::add);
            follow(log, "basic");
            List<Event> appended = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                appended.add(log.append("basic", "{\"n\":" + i + "}").get(5, TimeUnit.SECONDS));
                log.append("basic-other", "{\"m\":" + i + "}").get(5, TimeUnit.SECONDS);
            }
            for (int i = 1; i < appended.size(); i++) {
                assertThat(appended.get(i).id()).isGreaterThan(appended.get(i - 1).id());
            }
            assertThat(take(tailed, "basic", 50)).isEqualTo(appended);
            assertThat(tailed).as("basic-other is not followed").isEmpty();

            Replay all = log.readAfter("basic", EventId.ZERO, 1000).get(5, TimeUnit.SECONDS);
            assertThat(all.status()).isEqualTo(Replay.Status.OK);
            assertThat(all.events()).isEqualTo(appended);
            Replay rest = log.readAfter("basic", appended.get(19).id(), 1000).get(5, TimeUnit.SECONDS);
            assertThat(rest.status()).isEqualTo(Replay.Status.OK);
            assertThat(rest.events()).isEqualTo(appended.subList(20, 50));
            Replay page = log.readAfter("basic", appended.get(19).id(), 5).get(5, TimeUnit.SECONDS);
            assertThat(page.events()).isEqualTo(appended.subList(20, 25));
            Replay none = log.readAfter("basic", appended.get(49).id(), 10).get(5, TimeUnit.SECONDS);
            assertThat(none).isEqualTo(new Replay(Replay.Status.OK, List.of()));
            assertThat(log.latest("basic", 3).get(5, TimeUnit.SECONDS)).isEqualTo(appended.subList(47, 50));
            assertThat(log.latest("never-written", 3).get(5, TimeUnit.SECONDS)).isEmpty();
            assertThat(log.latestBefore("basic", appended.get(47).id(), 3).get(5, TimeUnit.SECONDS))
                    .isEqualTo(appended.subList(44, 47));
            assertThat(log.latestBefore("basic", appended.get(1).id(), 3).get(5, TimeUnit.SECONDS))
                    .isEqualTo(appended.subList(0, 1));
            assertThat(log.latestBefore("basic", appended.get(0).id(), 3).get(5, TimeUnit.SECONDS)).isEmpty();

            handle.close();
            BlockingQueue<Event> later = new LinkedBlockingQueue<>();
            log.tail(later::add);
            Event after = log.append("basic", "{\"after\":true}").get(5, TimeUnit.SECONDS);
            assertThat(take(later, "basic", 1)).containsExactly(after);
            // Both listeners are called in the same turn: the closed handle would have had it by now.
            assertThat(tailed).doesNotContain(after);
        }
    }

    @Test
    void twoNodesTailAFollowedTopicInTheSameOrder() throws Exception {
        try (RedisEventLog a = open(LONG); RedisEventLog b = open(LONG)) {
            BlockingQueue<Event> onA = new LinkedBlockingQueue<>();
            BlockingQueue<Event> onB = new LinkedBlockingQueue<>();
            a.tail(onA::add);
            b.tail(onB::add);
            // A topic that does not exist yet: followed from its start, created by the first append.
            follow(a, "shared");
            follow(b, "shared");
            List<CompletableFuture<Event>> acks = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                acks.add((i % 2 == 0 ? a : b).append("shared", "{\"i\":" + i + "}"));
            }
            CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
            List<Event> stored = b.readAfter("shared", EventId.ZERO, 1000).get(5, TimeUnit.SECONDS).events();
            assertThat(stored).hasSize(300);
            assertThat(stored).containsExactlyInAnyOrderElementsOf(acks.stream().map(CompletableFuture::join).toList());
            assertThat(take(onA, "shared", 300)).isEqualTo(stored);
            assertThat(take(onB, "shared", 300)).isEqualTo(stored);

            // A node opened later tails from then on, not the history.
            try (RedisEventLog c = open(LONG)) {
                BlockingQueue<Event> onC = new LinkedBlockingQueue<>();
                c.tail(onC::add);
                follow(c, "shared");
                Event next = a.append("shared", "{\"late\":1}").get(5, TimeUnit.SECONDS);
                assertThat(take(onC, "shared", 1)).containsExactly(next);
                // Resume on another node with an id issued by the first.
                assertThat(c.readAfter("shared", stored.get(298).id(), 10).get(5, TimeUnit.SECONDS).events())
                        .containsExactly(stored.get(299), next);
            }
        }
    }

    @Test
    void trimmedHistoryResetsAndForeignIdsAreUnknown() throws Exception {
        try (RedisEventLog log = open(new Retention(5, Duration.ofHours(1)))) {
            List<Event> appended = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                appended.add(log.append("small", "{\"i\":" + i + "}").get(5, TimeUnit.SECONDS));
            }
            List<Event> kept = appended.subList(15, 20);
            assertThat(log.readAfter("small", EventId.ZERO, 100).get(5, TimeUnit.SECONDS))
                    .isEqualTo(new Replay(Replay.Status.RESET, kept));
            assertThat(log.readAfter("small", appended.get(3).id(), 100).get(5, TimeUnit.SECONDS))
                    .isEqualTo(new Replay(Replay.Status.RESET, kept));
            assertThat(log.readAfter("small", appended.get(15).id(), 100).get(5, TimeUnit.SECONDS))
                    .isEqualTo(new Replay(Replay.Status.OK, appended.subList(16, 20)));
            assertThat(log.readAfter("small", appended.get(19).id(), 100).get(5, TimeUnit.SECONDS))
                    .isEqualTo(new Replay(Replay.Status.OK, List.of()));
            EventId last = appended.get(19).id();
            assertThat(log.readAfter("small", EventId.of(last.ms() + 1, 0), 100).get(5, TimeUnit.SECONDS))
                    .isEqualTo(new Replay(Replay.Status.UNKNOWN, List.of()));
            EventId neverIssued = EventId.of(appended.get(16).id().ms(), appended.get(16).id().seq() + 1000);
            if (neverIssued.compareTo(last) < 0) { // inside the retained range but not an id of this topic
                assertThat(log.readAfter("small", neverIssued, 100).get(5, TimeUnit.SECONDS).status())
                        .isEqualTo(Replay.Status.UNKNOWN);
            }
            assertThat(log.readAfter("small-never", EventId.ZERO, 10).get(5, TimeUnit.SECONDS))
                    .isEqualTo(new Replay(Replay.Status.OK, List.of()));
            assertThat(log.readAfter("small-never", last, 10).get(5, TimeUnit.SECONDS).status())
                    .isEqualTo(Replay.Status.UNKNOWN);
            assertThat(log.readAfter("small-never", EventId.of(1000, 0), 10).get(5, TimeUnit.SECONDS).status())
                    .as("older than the max age").isEqualTo(Replay.Status.RESET);
        }
    }

    @Test
    void entriesOtherClientsWroteThatAreNoJsonAreSkippedAndPagesStayFull() throws Exception {
        io.lettuce.core.RedisClient client = io.lettuce.core.RedisClient.create(redis.url());
        try (RedisEventLog log = open(LONG);
                io.lettuce.core.api.StatefulRedisConnection<String, String> other = client.connect();
                dev.herald.testing.LogCapture lines = dev.herald.testing.LogCapture.of(RedisEventLog.class)) {
            BlockingQueue<Event> tailed = new LinkedBlockingQueue<>();
            log.tail(tailed::add);
            follow(log, "foreign");
            String key = RedisEventLog.TOPIC_PREFIX + "foreign";
            List<Event> good = new ArrayList<>();
            List<String> bad = new ArrayList<>();
            good.add(log.append("foreign", "{\"i\":0}").get(5, TimeUnit.SECONDS));
            good.add(log.append("foreign", "{\"i\":1}").get(5, TimeUnit.SECONDS));
            bad.add(other.sync().xadd(key, "d", "{\"i\":"));
            bad.add(other.sync().xadd(key, "e", "{}")); // no field d
            good.add(log.append("foreign", "{\"i\":2}").get(5, TimeUnit.SECONDS));
            good.add(log.append("foreign", "{\"i\":3}").get(5, TimeUnit.SECONDS));
            bad.add(other.sync().xadd(key, "d", "{\"i\":4} trailing"));
            good.add(log.append("foreign", "[5]").get(5, TimeUnit.SECONDS));

            assertThat(take(tailed, "foreign", 5)).containsExactlyElementsOf(good); // the tail skips them too
            assertThat(log.readAfter("foreign", EventId.ZERO, 2).get(5, TimeUnit.SECONDS).events())
                    .containsExactly(good.get(0), good.get(1));
            assertThat(log.readAfter("foreign", EventId.ZERO, 3).get(5, TimeUnit.SECONDS).events())
                    .containsExactly(good.get(0), good.get(1), good.get(2));
            assertThat(log.readAfter("foreign", good.get(1).id(), 2).get(5, TimeUnit.SECONDS))
                    .isEqualTo(new Replay(Replay.Status.OK, good.subList(2, 4)));
            assertThat(log.readAfter("foreign", good.get(3).id(), 1).get(5, TimeUnit.SECONDS).events())
                    .containsExactly(good.get(4));
            assertThat(log.readAfter("foreign", EventId.parse(bad.get(0)), 100).get(5, TimeUnit.SECONDS))
                    .isEqualTo(new Replay(Replay.Status.OK, good.subList(2, 5)));
            assertThat(log.latest("foreign", 2).get(5, TimeUnit.SECONDS)).containsExactly(good.get(3), good.get(4));
            assertThat(log.latest("foreign", 100).get(5, TimeUnit.SECONDS)).containsExactlyElementsOf(good);
            assertThat(log.latestBefore("foreign", good.get(2).id(), 2).get(5, TimeUnit.SECONDS))
                    .containsExactly(good.get(0), good.get(1));
            assertThat(log.latestBefore("foreign", good.get(0).id(), 2).get(5, TimeUnit.SECONDS)).isEmpty();
            List<String> warned = lines.messages(ch.qos.logback.classic.Level.WARN);
            assertThat(warned).filteredOn(m -> m.contains("event " + bad.get(0) + " of topic foreign is damaged"))
                    .hasSize(1);
            assertThat(warned).filteredOn(m -> m.contains("event " + bad.get(2) + " of topic foreign is damaged")
                    && m.contains("content after the JSON value")).hasSize(1);
            assertThat(warned).filteredOn(m -> m.contains("event " + bad.get(1) + " of topic foreign is damaged (it has"
                    + " no field d)")).hasSize(1);
            assertThat(warned).hasSize(3);
        } finally {
            client.shutdown();
        }
    }

    @Test
    void aReadStopsOnceItsEventsHoldMaxChars() throws Exception {
        try (RedisEventLog log = open(LONG)) {
            List<Event> all = new ArrayList<>();
            for (int i = 0; i < 150; i++) {
                all.add(log.append("sized", "\"" + "x".repeat(98) + "\"").get(5, TimeUnit.SECONDS)); // 100 chars
            }
            assertThat(log.readAfter("sized", EventId.ZERO, 500, 250).get(5, TimeUnit.SECONDS))
                    .isEqualTo(new Replay(Replay.Status.OK, all.subList(0, 3)));
            assertThat(log.readAfter("sized", all.get(2).id(), 500, 250).get(5, TimeUnit.SECONDS).events())
                    .containsExactlyElementsOf(all.subList(3, 6));
            // Read in chunks of 64 entries when characters are bounded: a page spans chunks.
            assertThat(log.readAfter("sized", EventId.ZERO, 500, 10_000).get(5, TimeUnit.SECONDS).events())
                    .containsExactlyElementsOf(all.subList(0, 100));
            assertThat(log.readAfter("sized", all.get(9).id(), 500, 1_000_000).get(5, TimeUnit.SECONDS).events())
                    .containsExactlyElementsOf(all.subList(10, 150));
            assertThat(log.readAfter("sized", all.get(9).id(), 70, 1_000_000).get(5, TimeUnit.SECONDS).events())
                    .containsExactlyElementsOf(all.subList(10, 80));
        }
    }

    @Test
    void invalidArgumentsThrowAndClosedLogFails() throws Exception {
        RedisEventLog log = open(LONG);
        assertThatThrownBy(() -> log.append("", "{}")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> log.readAfter("t", EventId.ZERO, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> log.latest("t", 0)).isInstanceOf(IllegalArgumentException.class);
        log.close();
        log.close();
        assertThat(log.append("t", "{}")).failsWithin(Duration.ofSeconds(5)).withThrowableOfType(Exception.class)
                .withCauseInstanceOf(dev.herald.store.StoreClosedException.class);
    }

    @Test
    void badUrlAndUnreachableRedisFailWithoutEchoingThePassword() throws Exception {
        assertThatThrownBy(() -> RedisEventLog.open("http://x", LONG, Optional.empty()))
                .isInstanceOf(IllegalArgumentException.class);
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        assertThatThrownBy(() -> RedisEventLog.open("redis://:s3cret@127.0.0.1:" + port, LONG, Optional.empty()))
                .isInstanceOf(RedisUnavailableException.class)
                .hasMessageContaining("127.0.0.1:" + port)
                .hasMessageNotContaining("s3cret");
    }

    @Test
    void eventsOlderThanTheMaxAgeAreTrimmedOnAppendAndPeriodically() throws Exception {
        try (RedisEventLog log = open(new Retention(1000, Duration.ofMillis(300)))) {
            BlockingQueue<Event> tailed = new LinkedBlockingQueue<>();
            log.tail(tailed::add);
            follow(log, "aged-busy"); // aged-quiet is followed by nobody: the periodic trim still reaches it
            List<Event> quiet = new ArrayList<>();
            List<Event> busy = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                quiet.add(log.append("aged-quiet", "{\"i\":" + i + "}").get(5, TimeUnit.SECONDS));
                busy.add(log.append("aged-busy", "{\"i\":" + i + "}").get(5, TimeUnit.SECONDS));
            }
            assertThat(take(tailed, "aged-busy", 3)).isEqualTo(busy);
            CompletableFuture.runAsync(() -> { }, CompletableFuture.delayedExecutor(400, TimeUnit.MILLISECONDS)).get();

            Event fresh = log.append("aged-busy", "{\"fresh\":true}").get(5, TimeUnit.SECONDS);
            assertThat(log.readAfter("aged-busy", EventId.ZERO, 100).get(5, TimeUnit.SECONDS))
                    .isEqualTo(new Replay(Replay.Status.RESET, List.of(fresh)));
            assertThat(log.readAfter("aged-busy", busy.get(2).id(), 100).get(5, TimeUnit.SECONDS))
                    .as("the last trimmed id is older than what was kept").extracting(Replay::status)
                    .isEqualTo(Replay.Status.RESET);

            assertThat(log.latest("aged-quiet", 10).get(5, TimeUnit.SECONDS)).isEqualTo(quiet);
            log.trimNow().get(5, TimeUnit.SECONDS);
            assertThat(log.latest("aged-quiet", 10).get(5, TimeUnit.SECONDS)).isEmpty();
            assertThat(log.readAfter("aged-quiet", quiet.get(2).id(), 10).get(5, TimeUnit.SECONDS))
                    .isEqualTo(new Replay(Replay.Status.OK, List.of()));
            assertThat(log.readAfter("aged-quiet", quiet.get(0).id(), 10).get(5, TimeUnit.SECONDS))
                    .isEqualTo(new Replay(Replay.Status.RESET, List.of()));
        }
    }
}
