package dev.herald.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteEventLogTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Retention KEEP_ALL = new Retention(1_000_000, Duration.ofDays(3650));

    @TempDir
    Path dir;

    private final TestClock clock = new TestClock(1_700_000_000_000L);
    private final List<SqliteEventLog> opened = new ArrayList<>();

    @AfterEach
    void closeAll() {
        opened.forEach(SqliteEventLog::close);
    }

    private SqliteEventLog open(Retention retention) {
        return open(retention, 10_000);
    }

    private SqliteEventLog open(Retention retention, int queueCapacity) {
        SqliteEventLog log = SqliteEventLog.open(dir.resolve("data/nested/events.db"), retention, true, clock,
                queueCapacity, 2);
        opened.add(log);
        return log;
    }

    private static <T> T get(CompletableFuture<T> future) throws Exception {
        return future.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    @Test
    void appendsGetRedisStyleIdsAndReadBackInOrder() throws Exception {
        SqliteEventLog log = open(KEEP_ALL);
        Event a = get(log.append("t", "{\"n\":1}"));
        Event b = get(log.append("t", "{\"n\":2}"));
        clock.set(1_700_000_000_005L);
        Event c = get(log.append("t", "{\"n\":3}"));
        Event other = get(log.append("u", "{\"n\":4}"));

        assertThat(List.of(a.id(), b.id(), c.id(), other.id())).extracting(EventId::toString)
                .containsExactly("1700000000000-0", "1700000000000-1", "1700000000005-0", "1700000000005-0");
        assertThat(a.time()).isEqualTo(1_700_000_000_000L);
        assertThat(a.topic()).isEqualTo("t");
        assertThat(c.data()).isEqualTo("{\"n\":3}");

        assertThat(get(log.latest("t", 10))).containsExactly(a, b, c);
        assertThat(get(log.latest("t", 2))).containsExactly(b, c);
        assertThat(get(log.latest("t", 0))).isEmpty();
        assertThat(get(log.latest("nobody", 5))).isEmpty();
        assertThat(get(log.readAfter("t", EventId.ZERO, 100))).isEqualTo(new Replay(Replay.Status.OK, List.of(a, b, c)));
        assertThat(get(log.readAfter("t", a.id(), 100))).isEqualTo(new Replay(Replay.Status.OK, List.of(b, c)));
        assertThat(get(log.readAfter("t", a.id(), 1))).isEqualTo(new Replay(Replay.Status.OK, List.of(b)));
        assertThat(get(log.readAfter("t", c.id(), 100))).isEqualTo(new Replay(Replay.Status.OK, List.of()));
        assertThat(get(log.readAfter("u", EventId.ZERO, 100)).events()).containsExactly(other);
    }

    @Test
    void latestBeforePagesBackwardsThroughOneTopic() throws Exception {
        SqliteEventLog log = open(KEEP_ALL);
        Event a = get(log.append("t", "{\"n\":1}"));
        Event b = get(log.append("t", "{\"n\":2}"));
        get(log.append("u", "{\"n\":3}"));
        clock.set(1_700_000_000_005L);
        Event c = get(log.append("t", "{\"n\":4}"));
        Event d = get(log.append("t", "{\"n\":5}"));

        assertThat(get(log.latestBefore("t", d.id(), 2))).containsExactly(b, c);
        assertThat(get(log.latestBefore("t", c.id(), 10))).containsExactly(a, b);
        assertThat(get(log.latestBefore("t", b.id(), 10))).containsExactly(a);
        assertThat(get(log.latestBefore("t", a.id(), 10))).isEmpty();
        assertThat(get(log.latestBefore("t", EventId.parse("1700000000005-0"), 1))).containsExactly(b);
        assertThat(get(log.latestBefore("nobody", d.id(), 5))).isEmpty();
        assertThatThrownBy(() -> log.latestBefore("t", d.id(), 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void idsKeepIncreasingWhenTheClockGoesBack() throws Exception {
        SqliteEventLog log = open(KEEP_ALL);
        clock.set(2_000);
        EventId first = get(log.append("t", "1")).id();
        clock.set(1_000);
        Event second = get(log.append("t", "2"));
        EventId third = get(log.append("t", "3")).id();
        clock.set(3_000);
        EventId fourth = get(log.append("t", "4")).id();

        assertThat(List.of(first, second.id(), third, fourth)).extracting(EventId::toString)
                .containsExactly("2000-0", "2000-1", "2000-2", "3000-0");
        assertThat(second.time()).as("time is the wall clock, the id keeps the order").isEqualTo(1_000);
        // a topic of its own starts from its own clock reading
        assertThat(get(log.append("other", "\"x\"")).id()).hasToString("3000-0");
    }

    @Test
    void historyAndIdsSurviveARestart() throws Exception {
        SqliteEventLog log = open(KEEP_ALL);
        List<Event> before = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            before.add(get(log.append("t", "{\"i\":" + i + "}")));
        }
        log.close();
        assertThat(dir.resolve("data/nested/events.db")).isRegularFile();

        clock.set(clock.getAsLong() - 60_000); // the clock went back while we were down
        SqliteEventLog reopened = open(KEEP_ALL);
        assertThat(get(reopened.latest("t", 100))).isEqualTo(before);
        Event after = get(reopened.append("t", "{\"i\":5}"));
        assertThat(after.id()).isGreaterThan(before.get(4).id()).hasToString("1700000000000-5");
        assertThat(get(reopened.readAfter("t", before.get(4).id(), 10)).events()).containsExactly(after);
    }

    @Test
    void closeCommitsWhatIsQueuedAndThenRejects() throws Exception {
        SqliteEventLog log = open(KEEP_ALL);
        List<CompletableFuture<Event>> futures = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            futures.add(log.append("t", Integer.toString(i)));
        }
        log.close();
        for (CompletableFuture<Event> f : futures) {
            assertThat(f).isCompleted(); // close drained the queue before returning
            assertThat(f.get().data()).isNotEmpty();
        }
        assertThat(log.append("t", "\"late\"")).failsWithin(WAIT).withThrowableOfType(Exception.class)
                .withCauseInstanceOf(StoreClosedException.class).withMessageContaining("is closed");
        assertThat(log.latest("t", 1)).failsWithin(WAIT).withThrowableOfType(Exception.class)
                .withCauseInstanceOf(StoreClosedException.class);
        log.close(); // idempotent

        SqliteEventLog reopened = open(KEEP_ALL);
        assertThat(get(reopened.readAfter("t", EventId.ZERO, 1000)).events()).hasSize(500);
    }

    @Test
    void retentionByCountKeepsTheNewestAndReportsReset() throws Exception {
        SqliteEventLog log = open(new Retention(3, Duration.ofDays(1)));
        List<Event> all = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            all.add(get(log.append("t", Integer.toString(i))));
            clock.advance(1);
        }
        get(log.trimNow());

        List<Event> kept = all.subList(3, 6);
        assertThat(get(log.latest("t", 10))).isEqualTo(kept);
        // an id whose successors were trimmed: RESET, then what is retained from the oldest
        assertThat(get(log.readAfter("t", all.get(0).id(), 10))).isEqualTo(new Replay(Replay.Status.RESET, kept));
        assertThat(get(log.readAfter("t", all.get(1).id(), 2)))
                .isEqualTo(new Replay(Replay.Status.RESET, all.subList(3, 5)));
        assertThat(get(log.readAfter("t", EventId.ZERO, 10))).isEqualTo(new Replay(Replay.Status.RESET, kept));
        // the last trimmed id lost nothing after it: OK
        assertThat(get(log.readAfter("t", all.get(2).id(), 10))).isEqualTo(new Replay(Replay.Status.OK, kept));
        assertThat(get(log.readAfter("t", all.get(3).id(), 10)))
                .isEqualTo(new Replay(Replay.Status.OK, all.subList(4, 6)));
    }

    @Test
    void retentionByAgeTrimsOnTheWriterAndOnOpen() throws Exception {
        Retention tenSeconds = new Retention(1_000, Duration.ofSeconds(10));
        SqliteEventLog log = open(tenSeconds);
        Event old = get(log.append("t", "\"old\""));
        clock.advance(5_000);
        Event middle = get(log.append("t", "\"middle\""));
        Event gone = get(log.append("gone", "\"x\""));
        clock.advance(6_000); // old is 11 s old, middle 6 s
        get(log.trimNow());
        assertThat(get(log.latest("t", 10))).containsExactly(middle);
        assertThat(get(log.readAfter("t", EventId.ZERO, 10))).isEqualTo(new Replay(Replay.Status.RESET, List.of(middle)));
        assertThat(get(log.readAfter("t", EventId.of(old.id().ms() - 1, 0), 10)))
                .isEqualTo(new Replay(Replay.Status.RESET, List.of(middle)));
        // old itself was the last trimmed id: nothing after it was lost
        assertThat(get(log.readAfter("t", old.id(), 10))).isEqualTo(new Replay(Replay.Status.OK, List.of(middle)));
        log.close();

        clock.advance(5_000); // middle is 11 s old: trimmed when the log opens
        SqliteEventLog reopened = open(tenSeconds);
        assertThat(get(reopened.latest("t", 10))).isEmpty();
        assertThat(get(reopened.latest("gone", 10))).isEmpty();
        // everything expired: the ids are older than the retention, so RESET with nothing, not UNKNOWN
        assertThat(get(reopened.readAfter("t", middle.id(), 10))).isEqualTo(new Replay(Replay.Status.RESET, List.of()));
        assertThat(get(reopened.readAfter("gone", gone.id(), 10))).isEqualTo(new Replay(Replay.Status.RESET, List.of()));
        Event fresh = get(reopened.append("t", "\"fresh\""));
        assertThat(fresh.id()).isGreaterThan(middle.id());
        // the topic began anew: from the start is everything there is; an expired id still gets RESET
        assertThat(get(reopened.readAfter("t", EventId.ZERO, 10)))
                .isEqualTo(new Replay(Replay.Status.OK, List.of(fresh)));
        assertThat(get(reopened.readAfter("t", middle.id(), 10)))
                .isEqualTo(new Replay(Replay.Status.RESET, List.of(fresh)));
        assertThat(get(reopened.readAfter("t", EventId.of(fresh.id().ms() - 1, 0), 10)))
                .as("within the max age, never issued").isEqualTo(new Replay(Replay.Status.UNKNOWN, List.of()));
    }

    @Test
    void unknownIdsAreReported() throws Exception {
        SqliteEventLog log = open(KEEP_ALL);
        Event a = get(log.append("t", "\"a\""));
        Event b = get(log.append("t", "\"b\""));
        clock.advance(10);
        Event c = get(log.append("t", "\"c\""));

        Replay unknown = new Replay(Replay.Status.UNKNOWN, List.of());
        // newer than the newest
        assertThat(get(log.readAfter("t", c.id().next(), 10))).isEqualTo(unknown);
        assertThat(get(log.readAfter("t", EventId.of(c.id().ms() + 1, 0), 10))).isEqualTo(unknown);
        assertThat(get(log.readAfter("t", EventId.parse("18446744073709551615-18446744073709551615"), 10)))
                .isEqualTo(unknown);
        // inside the range, never issued
        assertThat(get(log.readAfter("t", EventId.of(a.id().ms() + 1, 0), 10))).isEqualTo(unknown);
        assertThat(get(log.readAfter("t", EventId.of(a.id().ms(), -1L), 10))).isEqualTo(unknown);
        // older than the first event, nothing trimmed: never issued either
        assertThat(get(log.readAfter("t", EventId.of(a.id().ms() - 1, 0), 10))).isEqualTo(unknown);
        // a topic never written
        assertThat(get(log.readAfter("never", EventId.parse("1700000000000-0"), 10))).isEqualTo(unknown);
        assertThat(get(log.readAfter("never", EventId.ZERO, 10))).isEqualTo(new Replay(Replay.Status.OK, List.of()));
        // and the real ids still work
        assertThat(get(log.readAfter("t", b.id(), 10))).isEqualTo(new Replay(Replay.Status.OK, List.of(c)));
    }

    @Test
    void manyAppendersGetStrictlyIncreasingIdsAndTheTailSeesCommitOrder() throws Exception {
        SqliteEventLog log = open(KEEP_ALL);
        int threads = 8;
        int perThread = 250;
        int total = threads * perThread;
        List<Event> tailed = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch tailDone = new CountDownLatch(total);
        AutoCloseable tail = log.tail(e -> {
            tailed.add(e);
            tailDone.countDown();
        });
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<CompletableFuture<Event>> futures = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch start = new CountDownLatch(1);
        try {
            for (int t = 0; t < threads; t++) {
                String topic = "topic-" + (t % 3);
                int thread = t;
                pool.execute(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                    for (int i = 0; i < perThread; i++) {
                        if (i % 50 == 0) {
                            clock.advance(thread % 2 == 0 ? 1 : -3); // a jittery clock, sometimes going back
                        }
                        futures.add(log.append(topic, "{\"t\":" + thread + ",\"i\":" + i + "}"));
                    }
                });
            }
            start.countDown();
            assertThat(tailDone.await(WAIT.toSeconds(), TimeUnit.SECONDS)).as("tail saw every event").isTrue();
        } finally {
            pool.shutdown();
        }
        assertThat(futures).hasSize(total);
        List<Event> acked = new ArrayList<>();
        for (CompletableFuture<Event> f : futures) {
            acked.add(get(f));
        }
        assertThat(tailed).hasSize(total).containsExactlyInAnyOrderElementsOf(acked);

        Map<String, List<Event>> perTopic = new HashMap<>();
        for (Event e : tailed) {
            perTopic.computeIfAbsent(e.topic(), k -> new ArrayList<>()).add(e);
        }
        assertThat(perTopic).hasSize(3);
        for (Map.Entry<String, List<Event>> entry : perTopic.entrySet()) {
            List<EventId> ids = entry.getValue().stream().map(Event::id).toList();
            assertThat(ids).as("tail order of %s", entry.getKey()).isSorted().doesNotHaveDuplicates();
            Replay replay = get(log.readAfter(entry.getKey(), EventId.ZERO, total));
            assertThat(replay.status()).isEqualTo(Replay.Status.OK);
            assertThat(replay.events()).as("stored order of %s", entry.getKey()).isEqualTo(entry.getValue());
        }
        // appends from one thread keep their order: its i increases with the id
        Map<String, List<Event>> byThread = new HashMap<>();
        for (Event e : acked) {
            byThread.computeIfAbsent(e.data().substring(0, e.data().indexOf(',')), k -> new ArrayList<>()).add(e);
        }
        assertThat(byThread).hasSize(threads);
        for (List<Event> events : byThread.values()) {
            assertThat(events).hasSize(perThread).extracting(Event::id).isSorted();
            assertThat(events).extracting(e -> Integer.parseInt(e.data().replaceAll(".*\"i\":(\\d+)}", "$1")))
                    .isSorted();
        }
        assertThat(log.commits()).as("group commit: fewer transactions than appends").isLessThan(total);
        tail.close();
    }

    @Test
    void aClosedTailHandleStopsNotificationsAndAFailingListenerHurtsNoOne() throws Exception {
        SqliteEventLog log = open(KEEP_ALL);
        List<Event> seen = Collections.synchronizedList(new ArrayList<>());
        AutoCloseable failing = log.tail(e -> {
            throw new IllegalStateException("listener bug");
        });
        AutoCloseable handle = log.tail(seen::add);
        CompletableFuture<Event> second = new CompletableFuture<>();
        AutoCloseable last = log.tail(e -> {
            if (e.data().equals("2")) {
                second.complete(e);
            }
        });
        Event one = get(log.append("t", "1"));
        handle.close();
        handle.close();
        Event two = get(log.append("t", "2"));
        assertThat(get(second)).isEqualTo(two); // notifications are in commit order, so "1" was handled before
        assertThat(seen).containsExactly(one);
        failing.close();
        last.close();
    }

    @Test
    void aFullQueueFailsFastWithStoreOverloaded() throws Exception {
        SqliteEventLog log = open(KEEP_ALL, 2);
        clock.blockNextRead(); // the writer stalls inside its next batch, as on a slow disk
        CompletableFuture<Event> first = log.append("t", "1");
        assertThat(clock.blocked.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        CompletableFuture<Event> second = log.append("t", "2");
        CompletableFuture<Event> third = log.append("t", "3");
        CompletableFuture<Event> rejected = log.append("t", "4");

        assertThat(rejected).failsWithin(WAIT).withThrowableOfType(Exception.class)
                .withCauseInstanceOf(StoreOverloadedException.class)
                .withMessageContaining("store overloaded");
        clock.release.countDown();
        assertThat(List.of(get(first), get(second), get(third))).extracting(Event::data).containsExactly("1", "2", "3");
        assertThat(get(log.latest("t", 10))).extracting(Event::data).containsExactly("1", "2", "3");
    }

    @Test
    void aFullDatabaseFailsEachBatchAndTheWriterRecoversOnceThereIsRoomAgain() throws Exception {
        SqliteEventLog log = open(KEEP_ALL);
        List<Event> tailed = Collections.synchronizedList(new ArrayList<>());
        log.tail(tailed::add);
        Event before = get(log.append("t", "{\"before\":1}"));
        assertThat(log.unavailable()).isNull();
        get(log.maxPageCount(1)); // SQLite keeps the current size: the file may not grow by a page any more
        String big = "{\"p\":\"" + "x".repeat(60_000) + "\"}";
        List<CompletableFuture<Event>> failed = new ArrayList<>();
        for (int round = 0; round < 5; round++) {
            // One append per batch, then several in one batch: each fails, none waits, the next one still runs.
            failed.add(log.append("t", big));
            assertThat(failed.get(failed.size() - 1)).failsWithin(WAIT).withThrowableOfType(Exception.class)
                    .withCauseInstanceOf(StoreException.class).withMessageContaining("SQLITE_FULL");
            List<CompletableFuture<Event>> batch = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                batch.add(log.append("u" + i, big));
            }
            for (CompletableFuture<Event> f : batch) {
                assertThat(f).failsWithin(WAIT).withThrowableOfType(Exception.class)
                        .withCauseInstanceOf(StoreException.class).withMessageContaining("SQLITE_FULL");
            }
            failed.addAll(batch);
        }
        assertThat(get(log.readAfter("t", EventId.ZERO, 100)).events()).containsExactly(before);
        assertThat(log.unavailable()).contains("SQLITE_FULL"); // what /healthz answers 503 with
        assertThat(log.unavailable()).isEqualTo("sqlite writes fail (SQLITE_FULL)");
        clock.advance(RecentFailure.REPORTED_MS - 1);
        assertThat(log.unavailable()).contains("SQLITE_FULL");
        clock.advance(1); // nothing written since: the old failure no longer keeps the node out
        assertThat(log.unavailable()).isNull();

        get(log.maxPageCount(1_000_000)); // room again
        Event after = get(log.append("t", big));
        Event other = get(log.append("u0", "{\"after\":1}"));
        assertThat(after.id()).isGreaterThan(before.id());
        assertThat(get(log.readAfter("t", EventId.ZERO, 100)).events()).containsExactly(before, after);
        assertThat(get(log.readAfter("u0", EventId.ZERO, 100)).events()).containsExactly(other);
        assertThat(tailed).containsExactly(before, after, other); // the failed appends were never announced
        assertThat(log.unavailable()).isNull();
        log.close();
        assertThat(log.unavailable()).isEqualTo("sqlite store closed");
        SqliteEventLog reopened = open(KEEP_ALL);
        assertThat(get(reopened.readAfter("t", EventId.ZERO, 100)).events()).containsExactly(before, after);
    }

    @Test
    void damagedRowsAreSkippedOnceLoggedAndReadPagesStayFull() throws Exception {
        SqliteEventLog log = open(KEEP_ALL);
        List<Event> good = new ArrayList<>();
        List<Event> damaged = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Event e = get(log.append("t", "{\"i\":" + i + "}"));
            (i == 2 || i == 3 || i == 6 ? damaged : good).add(e);
        }
        // What a damaged page or an edit leaves: text that is no JSON value (SQLite checks no data page).
        String[] junk = {"{\"i\":", "{\"i\":3}\n{", "{\"i\":\"a\u0001b\"}"};
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(
                "jdbc:sqlite:" + dir.resolve("data/nested/events.db"))) {
            for (int i = 0; i < damaged.size(); i++) {
                try (java.sql.PreparedStatement st = c.prepareStatement(
                        "UPDATE events SET data = ? WHERE topic = 't' AND ms = ? AND seq = ?")) {
                    st.setString(1, junk[i]);
                    st.setLong(2, damaged.get(i).id().ms());
                    st.setLong(3, damaged.get(i).id().seq());
                    assertThat(st.executeUpdate()).isEqualTo(1);
                }
            }
        }
        try (dev.herald.testing.LogCapture lines = dev.herald.testing.LogCapture.of(SqliteEventLog.class)) {
            // good = events 0 1 4 5 7. A page with damaged rows reads on: a short page still means the end.
            assertThat(get(log.readAfter("t", EventId.ZERO, 2)).events()).containsExactly(good.get(0), good.get(1));
            assertThat(get(log.readAfter("t", good.get(1).id(), 2)).events()).containsExactly(good.get(2),
                    good.get(3));
            assertThat(get(log.readAfter("t", good.get(1).id(), 3)).events()).containsExactly(good.get(2),
                    good.get(3), good.get(4));
            assertThat(get(log.readAfter("t", damaged.get(0).id(), 100)).status()).isEqualTo(Replay.Status.OK);
            assertThat(get(log.readAfter("t", EventId.ZERO, 100)).events()).containsExactlyElementsOf(good);
            assertThat(get(log.latest("t", 2))).containsExactly(good.get(3), good.get(4));
            assertThat(get(log.latest("t", 3))).containsExactly(good.get(2), good.get(3), good.get(4));
            assertThat(get(log.latestBefore("t", good.get(2).id(), 2))).containsExactly(good.get(0), good.get(1));
            assertThat(get(log.latest("t", 100))).containsExactlyElementsOf(good);
            List<String> warned = lines.messages(ch.qos.logback.classic.Level.WARN);
            for (Event d : damaged) {
                assertThat(warned).as("one line for %s though it was read many times", d.id())
                        .filteredOn(m -> m.contains("event " + d.id() + " of topic t is damaged")).hasSize(1);
            }
            assertThat(warned).hasSize(damaged.size()).allMatch(m -> m.contains("events.db") && m.contains("skipped"));
            assertThat(warned.get(0)).contains("not JSON");
        }
    }

    @Test
    void aReadStopsOnceItsEventsHoldMaxChars() throws Exception {
        SqliteEventLog log = open(KEEP_ALL);
        List<Event> all = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            all.add(get(log.append("t", "\"" + "x".repeat(98) + "\""))); // 100 characters each
        }
        assertThat(get(log.readAfter("t", EventId.ZERO, 100, 250)).events()).containsExactlyElementsOf(
                all.subList(0, 3));
        assertThat(get(log.readAfter("t", all.get(2).id(), 100, 250)).events()).containsExactlyElementsOf(
                all.subList(3, 6));
        assertThat(get(log.readAfter("t", all.get(8).id(), 100, 250)).events()).containsExactly(all.get(9));
        assertThat(get(log.readAfter("t", EventId.ZERO, 2, 10_000)).events()).hasSize(2);
        assertThat(get(log.readAfter("t", EventId.ZERO, 100, 1)).events()).as("at least one event")
                .containsExactly(all.get(0));
        assertThatThrownBy(() -> log.readAfter("t", EventId.ZERO, 1, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rejectsInvalidArgumentsAtOnce() {
        SqliteEventLog log = open(KEEP_ALL);
        assertThatThrownBy(() -> log.append("", "\"x\"")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("topic");
        assertThatThrownBy(() -> log.append("t", null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> log.readAfter("t", EventId.ZERO, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("limit: 0 (expected: >= 1)");
        assertThatThrownBy(() -> log.latest("t", -1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void opensInWalModeAndFailsClearlyOnAFileThatIsNoDatabase() throws Exception {
        open(KEEP_ALL).close();
        assertThat(dir.resolve("data/nested/events.db")).isRegularFile();
        Path junk = dir.resolve("junk.db");
        Files.writeString(junk, "this is not a database, not even close ".repeat(100));
        assertThatThrownBy(() -> SqliteEventLog.open(junk, KEEP_ALL, false))
                .isInstanceOf(StoreException.class).hasMessageContaining("junk.db");
    }

    @Test
    void throughputSanityManyAppendsAllCommittedOnce() throws Exception {
        // Not a benchmark (no timing is asserted): a burst far larger than one batch, with synchronous=NORMAL.
        SqliteEventLog log = SqliteEventLog.open(dir.resolve("burst.db"), KEEP_ALL, false,
                System::currentTimeMillis, 50_000, 2);
        opened.add(log);
        int total = 20_000;
        List<CompletableFuture<Event>> futures = new ArrayList<>(total);
        for (int i = 0; i < total; i++) {
            futures.add(log.append("burst", "{\"i\":" + i + "}"));
        }
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        EventId previous = EventId.ZERO;
        for (int i = 0; i < total; i++) {
            Event e = futures.get(i).get();
            assertThat(e.id()).isGreaterThan(previous);
            assertThat(e.data()).isEqualTo("{\"i\":" + i + "}");
            previous = e.id();
        }
        Replay all = get(log.readAfter("burst", EventId.ZERO, total + 1));
        assertThat(all.events()).hasSize(total);
        assertThat(all.events().get(total - 1)).isEqualTo(futures.get(total - 1).get());
        assertThat(log.commits()).isBetween(total / (long) SqliteEventLog.MAX_BATCH, (long) total - 1);
    }

    /** A settable clock; can stall the thread that reads it next (the writer) until released. */
    static final class TestClock implements LongSupplier {
        private final AtomicLong now;
        private final AtomicBoolean blockNext = new AtomicBoolean();
        final CountDownLatch blocked = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        TestClock(long start) {
            now = new AtomicLong(start);
        }

        void set(long ms) {
            now.set(ms);
        }

        void advance(long ms) {
            now.addAndGet(ms);
        }

        void blockNextRead() {
            blockNext.set(true);
        }

        @Override
        public long getAsLong() {
            if (blockNext.get() && Thread.currentThread().getName().equals("herald-store-writer")
                    && blockNext.compareAndSet(true, false)) {
                blocked.countDown();
                try {
                    release.await(1, TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return now.get();
        }
    }
}
