package dev.herald.store.redis;

import static dev.herald.store.redis.RedisEventLogTest.ids;
import static dev.herald.store.redis.RedisEventLogTest.take;
import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.store.Event;
import dev.herald.store.EventId;
import dev.herald.store.EventLog;
import dev.herald.store.Retention;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each node's reader follows only the topics it holds an interest in, against a real redis-server. */
class RedisInterestTest {
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

    private static RedisEventLog open() {
        return RedisEventLog.open(redis.url(), LONG, Optional.empty());
    }

    @Test
    void aNodeReadsNoEntryOfATopicWithoutInterest() throws Exception {
        try (RedisEventLog a = open(); RedisEventLog b = open()) {
            BlockingQueue<Event> onA = new LinkedBlockingQueue<>();
            a.tail(onA::add);
            a.interest("wanted").ready().get(5, TimeUnit.SECONDS);
            for (int i = 0; i < 200; i++) {
                b.append("unwanted", "{\"i\":" + i + "}").get(5, TimeUnit.SECONDS);
            }
            Event wanted = b.append("wanted", "{\"w\":1}").get(5, TimeUnit.SECONDS);

            assertThat(take(onA, "wanted", 1)).containsExactly(wanted);
            assertThat(onA).isEmpty();
            assertThat(a.entriesRead()).as("entries node A received from Redis").isEqualTo(1);
            assertThat(a.following().get(5, TimeUnit.SECONDS)).containsExactly("wanted");
            // Node B only appends: its reader never sent an XREAD.
            assertThat(b.entriesRead()).isZero();
            assertThat(b.following().get(5, TimeUnit.SECONDS)).isEmpty();
        }
    }

    @Test
    void theTopicIsFollowedUntilItsLastHolderGivesItBack() throws Exception {
        try (RedisEventLog log = open()) {
            BlockingQueue<Event> tailed = new LinkedBlockingQueue<>();
            log.tail(tailed::add);
            EventLog.Interest first = log.interest("held");
            EventLog.Interest second = log.interest("held");
            first.ready().get(5, TimeUnit.SECONDS);
            second.ready().get(5, TimeUnit.SECONDS);

            first.close();
            first.close(); // idempotent: must not give back the second holder's share
            Event kept = log.append("held", "{\"kept\":true}").get(5, TimeUnit.SECONDS);
            assertThat(take(tailed, "held", 1)).containsExactly(kept);

            second.close();
            assertThat(log.nextRead().get(5, TimeUnit.SECONDS)).as("the reader woke and dropped the topic").isEmpty();
            long readBefore = log.entriesRead();
            for (int i = 0; i < 20; i++) {
                log.append("held", "{\"unfollowed\":" + i + "}").get(5, TimeUnit.SECONDS);
            }
            log.interest("marker").ready().get(5, TimeUnit.SECONDS);
            Event marker = log.append("marker", "{\"m\":1}").get(5, TimeUnit.SECONDS);
            assertThat(take(tailed, "marker", 1)).containsExactly(marker);
            assertThat(tailed).isEmpty();
            assertThat(log.entriesRead() - readBefore).as("entries read after the last holder left").isEqualTo(1);

            // Taken again: followed from the end as it is now, not from where the reader stopped.
            try (EventLog.Interest again = log.interest("held")) {
                again.ready().get(5, TimeUnit.SECONDS);
                Event next = log.append("held", "{\"again\":true}").get(5, TimeUnit.SECONDS);
                assertThat(take(tailed, "held", 1)).containsExactly(next);
            }
        }
    }

    @Test
    void aReaderThatReadsHistoryAfterReadyMissesNothingWhileAnotherNodeAppends() throws Exception {
        try (RedisEventLog a = open(); RedisEventLog b = open()) {
            BlockingQueue<Event> live = new LinkedBlockingQueue<>();
            a.tail(live::add);
            for (int round = 0; round < 10; round++) {
                String topic = "race-" + round;
                java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
                List<Event> acked = java.util.Collections.synchronizedList(new ArrayList<>());
                // Node B appends without pause, 20 in flight at a time, so entries land around every step of A's.
                CompletableFuture<Void> appender = CompletableFuture.runAsync(() -> {
                    for (int n = 0; !stop.get(); ) {
                        List<CompletableFuture<Event>> batch = new ArrayList<>();
                        for (int i = 0; i < 20; i++, n++) {
                            batch.add(b.append(topic, "{\"n\":" + n + "}"));
                        }
                        batch.forEach(f -> acked.add(f.join()));
                    }
                });
                while (acked.size() < 40) {
                    Thread.onSpinWait();
                }
                try (EventLog.Interest interest = a.interest(topic)) {
                    interest.ready().get(5, TimeUnit.SECONDS);
                    List<Event> replay = a.readAfter(topic, EventId.ZERO, 100_000).get(5, TimeUnit.SECONDS).events();
                    int target = acked.size() + 100;
                    while (acked.size() < target) {
                        Thread.onSpinWait();
                    }
                    stop.set(true);
                    appender.get(10, TimeUnit.SECONDS);
                    List<Event> stored = a.readAfter(topic, EventId.ZERO, 100_000).get(5, TimeUnit.SECONDS).events();
                    assertThat(stored).hasSameSizeAs(acked);
                    EventId last = replay.get(replay.size() - 1).id();
                    List<Event> seen = new ArrayList<>(replay);
                    EventId end = stored.get(stored.size() - 1).id();
                    for (Event e = null; e == null || e.id().compareTo(end) < 0; ) {
                        e = take(live, topic, 1).get(0);
                        if (e.id().compareTo(last) > 0) { // the ones not above it were in the replay too
                            seen.add(e);
                        }
                    }
                    assertThat(ids(seen)).as("round %s: replay then live", round).isEqualTo(ids(stored));
                }
            }
        }
    }

    @Test
    void anInterestTakenWhileRedisIsDownFailsAndTheNextReadyRetries() throws Exception {
        try (RedisServer own = RedisServer.start(dir, false); RedisEventLog log =
                RedisEventLog.open(own.url(), LONG, Optional.empty())) {
            BlockingQueue<Event> tailed = new LinkedBlockingQueue<>();
            log.tail(tailed::add);
            own.kill();
            EventLog.Interest interest = log.interest("later");
            assertThat(interest.ready()).failsWithin(Duration.ofSeconds(10));

            own.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            boolean ready = false;
            while (!ready && System.nanoTime() < deadline) {
                ready = interest.ready().handle((v, e) -> e == null).get(10, TimeUnit.SECONDS);
                if (!ready) { // Lettuce is still reconnecting
                    CompletableFuture.runAsync(() -> { }, CompletableFuture.delayedExecutor(100, TimeUnit.MILLISECONDS))
                            .get();
                }
            }
            assertThat(ready).as("the interest is ready once Redis is back").isTrue();
            Event e = log.append("later", "{\"back\":true}").get(5, TimeUnit.SECONDS);
            assertThat(take(tailed, "later", 1)).containsExactly(e);
        }
    }
}
