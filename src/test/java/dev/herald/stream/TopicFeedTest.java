package dev.herald.stream;

import dev.herald.store.Event;
import dev.herald.store.EventId;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The shared ring of a topic: what it holds, what it drops, and readers racing the writer. */
class TopicFeedTest {
    private static final Counter DELIVERED = new SimpleMeterRegistry().counter("delivered");
    /** Runs nothing: these tests drive the feed's readers by hand. */
    private static final java.util.concurrent.Executor NO_LOOP = r -> { };

    private static Event event(long n, int dataBytes) {
        return new Event(EventId.of(1000, n), "t", "\"" + "x".repeat(Math.max(0, dataBytes - 2)) + "\"", 1000);
    }

    @Test
    void withoutReadersNothingIsKept() {
        TopicFeed feed = new TopicFeed("t", 1000, 1 << 20, DELIVERED);
        for (int i = 1; i <= 100; i++) {
            feed.append(event(i, 10));
        }
        assertThat(feed.head()).isEqualTo(100);
        assertThat(feed.get(100)).as("the newest is always held").isNotNull();
        assertThat(feed.get(99)).as("no reader needs it").isNull();
    }

    @Test
    void aReaderKeepsWhatItHasNotReadUpToTheEventBound() {
        TopicFeed feed = new TopicFeed("t", 50, 1 << 20, DELIVERED);
        TopicFeed.LoopFeed loop = new TopicFeed.LoopFeed(feed, NO_LOOP);
        feed.loops.add(loop);
        long cursor = feed.register(loop);
        assertThat(cursor).isEqualTo(1);
        for (int i = 1; i <= 40; i++) {
            feed.append(event(i, 10));
        }
        for (long s = 1; s <= 40; s++) {
            assertThat(feed.get(s)).as("event %d", s).isNotNull().extracting(q -> q.seq).isEqualTo(s);
        }
        for (int i = 41; i <= 120; i++) {
            feed.append(event(i, 10));
        }
        // a reader 120 events behind is over the bound of 50: only the newest 50 are held
        assertThat(feed.get(70)).isNull();
        assertThat(feed.get(71)).isNotNull();
        assertThat(feed.get(120)).isNotNull();
        long sum = 0;
        for (long s = 71; s <= 120; s++) {
            sum += feed.get(s).size();
        }
        assertThat(feed.bytesFrom(71)).isEqualTo(sum);
        assertThat(feed.bytesFrom(1)).as("no longer held").isEqualTo(-1);
    }

    @Test
    void theByteBoundDropsTheOldestButNeverTheNewest() {
        TopicFeed feed = new TopicFeed("t", 1000, 10_000, DELIVERED);
        TopicFeed.LoopFeed loop = new TopicFeed.LoopFeed(feed, NO_LOOP);
        feed.loops.add(loop);
        feed.register(loop);
        for (int i = 1; i <= 10; i++) {
            feed.append(event(i, 3000)); // about 3.1 KB each: three fit in 10,000 bytes
        }
        long held = 0;
        for (long s = 1; s <= 10; s++) {
            held += feed.get(s) == null ? 0 : 1;
        }
        assertThat(held).isEqualTo(3);
        assertThat(feed.bytesFrom(8)).isLessThanOrEqualTo(10_000);
        feed.append(event(11, 20_000)); // larger than the bound on its own: held alone
        assertThat(feed.get(11)).isNotNull();
        assertThat(feed.get(10)).isNull();
    }

    @Test
    void eventsEveryReaderPassedAreDropped() {
        TopicFeed feed = new TopicFeed("t", 1000, 1 << 20, DELIVERED);
        TopicFeed.LoopFeed loop = new TopicFeed.LoopFeed(feed, NO_LOOP);
        feed.loops.add(loop);
        feed.register(loop);
        for (int i = 1; i <= 300; i++) {
            feed.append(event(i, 10));
        }
        assertThat(feed.get(1)).isNotNull();
        loop.minCursor = 300; // the readers have written 1..299
        feed.append(event(301, 10));
        assertThat(feed.get(299)).isNull();
        assertThat(feed.get(300)).isNotNull();
        assertThat(feed.get(301)).isNotNull();
    }

    @Test
    void readersRacingTheWriterSeeEveryEventInOrderOrAMissingOneNeverAWrongOne() throws Exception {
        int events = 200_000;
        TopicFeed feed = new TopicFeed("t", 64, 1 << 20, DELIVERED);
        TopicFeed.LoopFeed loop = new TopicFeed.LoopFeed(feed, NO_LOOP);
        feed.loops.add(loop);
        feed.register(loop); // holds from event 1: the ring grows to its full size and then reuses its slots
        ExecutorService pool = Executors.newFixedThreadPool(3);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<long[]>> readers = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                readers.add(pool.submit(() -> {
                    start.await();
                    long next = 1;
                    long read = 0;
                    long missed = 0;
                    while (next <= events) {
                        if (next > feed.head()) {
                            Thread.onSpinWait();
                            continue;
                        }
                        TopicHub.Queued q = feed.get(next);
                        if (q == null) {
                            missed++;
                            next = feed.head(); // fell behind: jump, as a resuming subscriber would
                            continue;
                        }
                        if (q.seq != next || q.event.id().seq() != next) {
                            throw new AssertionError("asked for " + next + ", got " + q.seq + " / " + q.event.id());
                        }
                        read++;
                        next++;
                    }
                    return new long[] {read, missed};
                }));
            }
            Future<?> writer = pool.submit(() -> {
                start.await();
                for (int i = 1; i <= events; i++) {
                    feed.append(event(i, 10));
                }
                return null;
            });
            start.countDown();
            writer.get(60, TimeUnit.SECONDS);
            for (Future<long[]> f : readers) {
                long[] r = f.get(60, TimeUnit.SECONDS);
                assertThat(r[0]).as("events read in order").isPositive();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
