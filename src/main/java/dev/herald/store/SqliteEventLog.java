package dev.herald.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteException;

/**
 * The default {@link EventLog}: one SQLite file in WAL mode.
 *
 * <h2>Threads</h2>
 * <ul>
 *   <li><b>Writer</b> ({@code herald-store-writer}): the only thread that writes. It drains a bounded queue of
 *       appends and runs each batch as one transaction (group commit): many concurrent appends cost one fsync.
 *       When the queue is full, {@link #append} fails at once with {@link StoreOverloadedException}. The writer also
 *       trims retention, at most once a second and once on open.</li>
 *   <li><b>Notifier</b> ({@code herald-store-notifier}): after a batch committed, calls the {@link #tail} listeners
 *       for each of its events in commit order, then completes the batch's futures: when an append's future
 *       completes, every listener registered before the commit has seen the event. User code never runs on the
 *       writer.</li>
 *   <li><b>Readers</b> ({@code herald-store-reader-N}): a small pool, each with its own connection; WAL lets them
 *       read a consistent snapshot while the writer commits. The pool's queue is bounded too.</li>
 * </ul>
 *
 * <h2>Ids</h2>
 * An event's id is {@code <ms>-<seq>} as Redis Streams makes it: {@code ms = max(now, ms of the topic's last id)},
 * {@code seq} = the last seq + 1 within the same millisecond, else 0. The last id of each topic is stored, so ids
 * keep increasing across restarts and after the clock went back, even when all events of the topic were trimmed.
 * A topic whose events have all expired is forgotten (bounded state); only a clock that went back by more than
 * {@link Retention#maxAge()} could then reissue lower ids.
 *
 * <h2>Durability ({@code synchronous})</h2>
 * A future from {@link #append} completes only after {@code COMMIT} returned. What that promises on a crash:
 * <ul>
 *   <li><b>Process crash</b> (kill -9, JVM abort), either setting: every acknowledged event survives; the WAL is in
 *       the OS page cache and is replayed on the next open.</li>
 *   <li><b>Power loss or OS crash with {@code fullSync = true}</b> ({@code PRAGMA synchronous=FULL}): the WAL is
 *       fsynced at every commit, so every acknowledged event survives. Costs one fsync per batch, which group commit
 *       shares between all appends of the batch.</li>
 *   <li><b>Power loss or OS crash with {@code fullSync = false}</b> ({@code PRAGMA synchronous=NORMAL}): the WAL is
 *       fsynced only at checkpoints, so the last transactions before the loss may be rolled back: acknowledged
 *       events can be lost (clients that resume with their ids then get {@link Replay.Status#UNKNOWN}). The database
 *       stays consistent (never corrupt), and ids never go back below the surviving last id.</li>
 * </ul>
 *
 * <h2>Files</h2>
 * {@code file}, plus {@code file-wal} and {@code file-shm} while open. Parent folders are created. Schema:
 * {@code events(topic, ms, seq, time, data)} keyed by {@code (topic, ms, seq)} without rowid, and
 * {@code topics(topic, last_ms, last_seq, trimmed_ms, trimmed_seq)}: the last issued and the last trimmed id.
 */
public final class SqliteEventLog implements EventLog {
    private static final Logger log = LoggerFactory.getLogger(SqliteEventLog.class);

    /** Appends waiting for the writer: about a second of a busy disk's group commits; beyond, 503 is the better answer. */
    static final int DEFAULT_QUEUE_CAPACITY = 10_000;
    /** Reader connections: reads are short index range scans; two keep one slow read from stalling the rest. */
    static final int DEFAULT_READERS = 2;
    /** Most appends in one transaction, so that one batch never holds the write lock for long. */
    static final int MAX_BATCH = 1_000;
    private static final int SCHEMA_VERSION = 1;
    private static final int BUSY_TIMEOUT_MS = 5_000;
    private static final long TRIM_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Path file;
    private final StoredData storedData = new StoredData();
    private final Retention retention;
    private final LongSupplier clock;
    private final BlockingQueue<Job> queue;
    private final int queueCapacity;
    private final Object submitLock = new Object();
    private volatile boolean closed;

    private final String url;
    private final boolean fullSync;
    /**
     * The writer's connection and statements: only the writer thread touches them (after the constructor). After a
     * failed transaction they are replaced ({@link #resetWriter}); null while a new connection could not be opened.
     */
    private Connection writer;
    private PreparedStatement insertEvent;
    private PreparedStatement upsertTopic;
    /** Failed write transactions since the last one that committed: the first is logged, the rest counted. */
    private long failedWrites;
    /** The last failed write transaction while none committed since, for {@link #unavailable}; any thread. */
    private final RecentFailure recentFailure = new RecentFailure();
    /** Per-topic state; only the writer thread touches it (after the constructor). */
    private final Map<String, TopicState> topics = new HashMap<>();
    private final Thread writerThread;
    private long lastTrimNanos;
    /** {@code PRAGMA max_page_count} for the writer, when a test set one; 0 otherwise. */
    private long pageLimit;

    private final ExecutorService notifier;
    private final CopyOnWriteArrayList<Listener> listeners = new CopyOnWriteArrayList<>();

    private final ThreadPoolExecutor readers;
    private final BlockingQueue<Connection> readerConnections;
    private final List<Connection> allReaderConnections = new ArrayList<>();

    private final AtomicLong commits = new AtomicLong();

    private SqliteEventLog(Path file, Retention retention, boolean fullSync, LongSupplier clock, int queueCapacity,
            int readerCount) throws SQLException, IOException {
        this.file = file;
        this.retention = retention;
        this.clock = clock;
        this.queueCapacity = queueCapacity;
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        this.url = "jdbc:sqlite:" + file.toAbsolutePath();
        this.fullSync = fullSync;
        openWriter();
        try {
            try (Statement st = writer.createStatement()) {
                int version;
                try (ResultSet rs = st.executeQuery("PRAGMA user_version")) {
                    version = rs.next() ? rs.getInt(1) : 0;
                }
                if (version > SCHEMA_VERSION) {
                    throw new StoreException("event log " + file + ": schema version " + version
                            + " is newer than this Herald's (" + SCHEMA_VERSION + "); use a newer Herald or another file");
                }
                st.execute("CREATE TABLE IF NOT EXISTS events(topic TEXT NOT NULL, ms INTEGER NOT NULL,"
                        + " seq INTEGER NOT NULL, time INTEGER NOT NULL, data TEXT NOT NULL,"
                        + " PRIMARY KEY(topic, ms, seq)) WITHOUT ROWID");
                st.execute("CREATE TABLE IF NOT EXISTS topics(topic TEXT NOT NULL PRIMARY KEY,"
                        + " last_ms INTEGER NOT NULL, last_seq INTEGER NOT NULL,"
                        + " trimmed_ms INTEGER NOT NULL DEFAULT 0, trimmed_seq INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID");
                st.execute("PRAGMA user_version=" + SCHEMA_VERSION);
            }
            prepareWriter();
            loadTopics();
            trim();

            readerConnections = new ArrayBlockingQueue<>(readerCount);
            for (int i = 0; i < readerCount; i++) {
                Connection c = DriverManager.getConnection(url);
                allReaderConnections.add(c);
                try (Statement st = c.createStatement()) {
                    st.execute("PRAGMA busy_timeout=" + BUSY_TIMEOUT_MS);
                    st.execute("PRAGMA query_only=1");
                }
                c.setAutoCommit(false); // each read runs in one transaction: one consistent snapshot
                readerConnections.add(c);
            }
        } catch (SQLException | RuntimeException e) {
            closeQuietly(allReaderConnections);
            closeWriter();
            throw e;
        }
        AtomicInteger readerIds = new AtomicInteger();
        readers = new ThreadPoolExecutor(readerCount, readerCount, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(queueCapacity),
                r -> daemon(r, "herald-store-reader-" + readerIds.incrementAndGet()));
        notifier = Executors.newSingleThreadExecutor(r -> daemon(r, "herald-store-notifier"));
        writerThread = daemon(this::runWriter, "herald-store-writer");
        writerThread.start();
        log.info("event log {} open (WAL, synchronous={}, {} topics)", file, fullSync ? "FULL" : "NORMAL", topics.size());
    }

    /**
     * Opens (creating it and its parent folders if needed) the event log in {@code file}, and trims what the
     * retention no longer keeps.
     *
     * @param fullSync {@code true} for {@code synchronous=FULL} (acknowledged events survive power loss),
     *                 {@code false} for {@code NORMAL} (faster; the last commits may be lost on power loss); see the
     *                 class documentation
     * @throws StoreException when the file cannot be opened or is not a usable event log
     */
    public static SqliteEventLog open(Path file, Retention retention, boolean fullSync) {
        return open(file, retention, fullSync, System::currentTimeMillis, DEFAULT_QUEUE_CAPACITY, DEFAULT_READERS);
    }

    /** For tests: a controllable clock and queue size. */
    static SqliteEventLog open(Path file, Retention retention, boolean fullSync, LongSupplier clock,
            int queueCapacity, int readers) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(retention, "retention");
        Objects.requireNonNull(clock, "clock");
        if (queueCapacity < 1) {
            throw new IllegalArgumentException("queueCapacity: " + queueCapacity + " (expected: >= 1)");
        }
        if (readers < 1) {
            throw new IllegalArgumentException("readers: " + readers + " (expected: >= 1)");
        }
        try {
            return new SqliteEventLog(file, retention, fullSync, clock, queueCapacity, readers);
        } catch (SQLException | IOException e) {
            throw new StoreException("event log " + file + ": cannot open: " + e.getMessage(), e);
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    // ---- public API ----

    @Override
    public CompletableFuture<Event> append(String topic, String data) {
        requireTopic(topic);
        Objects.requireNonNull(data, "data");
        CompletableFuture<Event> future = new CompletableFuture<>();
        submit(new Append(topic, data, future), future);
        return future;
    }

    @Override
    public CompletableFuture<Replay> readAfter(String topic, EventId afterId, int limit) {
        return readAfter(topic, afterId, limit, Long.MAX_VALUE);
    }

    @Override
    public CompletableFuture<Replay> readAfter(String topic, EventId afterId, int limit, long maxChars) {
        requireTopic(topic);
        Objects.requireNonNull(afterId, "afterId");
        requirePositive("limit", limit);
        if (maxChars < 1) {
            throw new IllegalArgumentException("maxChars: " + maxChars + " (expected: >= 1)");
        }
        return read(c -> readAfter(c, topic, afterId, limit, maxChars));
    }

    @Override
    public CompletableFuture<List<Event>> latest(String topic, int n) {
        requireTopic(topic);
        if (n < 0) {
            throw new IllegalArgumentException("n: " + n + " (expected: >= 0)");
        }
        if (n == 0) {
            return CompletableFuture.completedFuture(List.of());
        }
        return read(c -> {
            List<Event> events = usable(c, topic, null, n, Long.MAX_VALUE, false);
            Collections.reverse(events);
            return List.copyOf(events);
        });
    }

    @Override
    public CompletableFuture<List<Event>> latestBefore(String topic, EventId beforeId, int n) {
        requireTopic(topic);
        Objects.requireNonNull(beforeId, "beforeId");
        requirePositive("n", n);
        return read(c -> {
            List<Event> events = usable(c, topic, beforeId, n, Long.MAX_VALUE, false);
            Collections.reverse(events);
            return List.copyOf(events);
        });
    }

    @Override
    public AutoCloseable tail(Consumer<Event> listener) {
        Listener l = new Listener(Objects.requireNonNull(listener, "listener"));
        listeners.add(l);
        return () -> listeners.remove(l);
    }

    /**
     * Stops accepting appends and reads, lets the writer commit every append already queued (their futures complete
     * normally, their listeners run), finishes queued reads, then closes the connections. Blocks until done.
     */
    @Override
    public void close() {
        synchronized (submitLock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        boolean interrupted = false;
        while (true) {
            try {
                queue.put(Stop.INSTANCE); // after every accepted job: the writer commits them, then stops
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        interrupted |= join(writerThread);
        readers.shutdown();
        notifier.shutdown();
        interrupted |= await(readers);
        interrupted |= await(notifier);
        closeQuietly(allReaderConnections);
        closeWriter();
        log.info("event log {} closed", file);
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Number of committed append transactions (group commits), for tests. */
    long commits() {
        return commits.get();
    }

    /** Trims retention now, after the appends queued before; for tests. */
    CompletableFuture<Void> trimNow() {
        CompletableFuture<Void> future = new CompletableFuture<>();
        submit(new Trim(future), future);
        return future;
    }

    /**
     * Sets {@code PRAGMA max_page_count} on the writer's connection, after the appends queued before: with a limit
     * below the file's size, every write fails with {@code SQLITE_FULL} as on a full disk. For tests.
     */
    CompletableFuture<Void> maxPageCount(long pages) {
        CompletableFuture<Void> future = new CompletableFuture<>();
        submit(new PageLimit(pages, future), future);
        return future;
    }

    private static void requireTopic(String topic) {
        Objects.requireNonNull(topic, "topic");
        if (topic.isEmpty()) {
            throw new IllegalArgumentException("topic: '' (expected: a non-empty name)");
        }
    }

    private static void requirePositive(String name, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + ": " + value + " (expected: >= 1)");
        }
    }

    private void submit(Job job, CompletableFuture<?> future) {
        synchronized (submitLock) {
            if (closed) {
                future.completeExceptionally(closedException());
            } else if (!queue.offer(job)) {
                future.completeExceptionally(new StoreOverloadedException("store overloaded: " + queueCapacity
                        + " appends already wait for the disk (event log " + file + "); retry later"));
            }
        }
    }

    private StoreClosedException closedException() {
        return new StoreClosedException("event log " + file + " is closed");
    }

    // ---- writer ----

    private sealed interface Job permits Append, Trim, PageLimit, Stop {}

    private record Append(String topic, String data, CompletableFuture<Event> future) implements Job {}

    private record Trim(CompletableFuture<Void> future) implements Job {}

    private record PageLimit(long pages, CompletableFuture<Void> future) implements Job {}

    private enum Stop implements Job { INSTANCE }

    /** What the writer knows of a topic: mutable, copied per transaction and put back only after commit. */
    private static final class TopicState {
        long lastMs;
        long lastSeq;
        long count;
        long oldestMs = Long.MAX_VALUE; // of the retained events; MAX_VALUE when none

        TopicState copy() {
            TopicState s = new TopicState();
            s.lastMs = lastMs;
            s.lastSeq = lastSeq;
            s.count = count;
            s.oldestMs = oldestMs;
            return s;
        }
    }

    /** Opens the writer's connection in WAL mode, with its settings; in auto-commit mode, no statement prepared. */
    private void openWriter() throws SQLException {
        writer = DriverManager.getConnection(url);
        try (Statement st = writer.createStatement()) {
            st.execute("PRAGMA busy_timeout=" + BUSY_TIMEOUT_MS);
            try (ResultSet rs = st.executeQuery("PRAGMA journal_mode=WAL")) {
                String mode = rs.next() ? rs.getString(1) : "?";
                if (!"wal".equalsIgnoreCase(mode)) {
                    throw new StoreException("event log " + file + ": could not enable WAL mode (journal_mode="
                            + mode + "); is it on a network file system?");
                }
            }
            st.execute("PRAGMA synchronous=" + (fullSync ? "FULL" : "NORMAL"));
            if (pageLimit > 0) {
                st.execute("PRAGMA max_page_count=" + pageLimit);
            }
        } catch (SQLException | RuntimeException e) {
            closeWriter();
            throw e;
        }
    }

    private void closeWriter() {
        if (writer != null) {
            closeQuietly(List.of(writer)); // closes its statements too
            writer = null;
        }
    }

    /** Turns the writer's connection to explicit transactions and prepares the append statements. */
    private void prepareWriter() throws SQLException {
        writer.setAutoCommit(false);
        insertEvent = writer.prepareStatement("INSERT INTO events(topic, ms, seq, time, data) VALUES(?, ?, ?, ?, ?)");
        upsertTopic = writer.prepareStatement("INSERT INTO topics(topic, last_ms, last_seq) VALUES(?, ?, ?)"
                + " ON CONFLICT(topic) DO UPDATE SET last_ms = excluded.last_ms, last_seq = excluded.last_seq");
    }

    /**
     * After a failed write transaction: replaces the writer's connection and statements by new ones. A failed
     * {@code COMMIT} (SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY) may have rolled the transaction back by itself, after
     * which the driver's own rollback fails and leaves the connection in auto-commit mode with statements in an
     * unknown state; a new connection has none of that. The committed data is in the file, so nothing is lost. When
     * the new connection cannot be opened either, {@link #writer} stays null and the next batch tries again.
     */
    private void resetWriter() {
        closeWriter(); // rolls back what the failed transaction left, if anything
        try {
            writer();
        } catch (SQLException | RuntimeException e) {
            log.debug("event log {}: could not open the writer's connection again: {}", file, e.toString());
        }
    }

    /** The writer's connection, opened again if the last reset could not. */
    private Connection writer() throws SQLException {
        if (writer == null) {
            openWriter();
            try {
                prepareWriter();
            } catch (SQLException | RuntimeException e) {
                closeWriter();
                throw e;
            }
        }
        return writer;
    }

    /**
     * Logs a failed write transaction once per run of failures: the first with its cause (the stack trace at DEBUG),
     * the following ones only counted, so that a full disk under load does not fill the log as well.
     */
    private void writeFailed(String what, Exception e) {
        recentFailure.failed("sqlite writes fail (" + errorCode(e) + ")", clock.getAsLong());
        if (failedWrites++ == 0) {
            log.error("event log {}: {} failed: {}; appends fail with 503 until a write succeeds", file, what,
                    e.toString());
        }
        log.debug("event log {}: {} failed", file, what, e);
        resetWriter();
    }

    private void writeSucceeded() {
        recentFailure.succeeded();
        if (failedWrites > 0) {
            log.info("event log {}: writes succeed again after {} failed transactions", file, failedWrites);
            failedWrites = 0;
        }
    }

    /**
     * A write transaction that failed (a full disk, an I/O error) in the last {@link RecentFailure#REPORTED_MS} by the
     * log's clock, while none committed since; null otherwise, and once closed the log says so. SQLite is only
     * checked by writes. Short and public (no path): the failure itself is logged.
     */
    @Override
    public String unavailable() {
        return closed ? "sqlite store closed" : recentFailure.reason(clock.getAsLong());
    }

    /** SQLite's result code ({@code SQLITE_FULL}, {@code SQLITE_IOERR}), else the exception's kind. */
    private static String errorCode(Exception e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLiteException se) {
                return se.getResultCode().name();
            }
        }
        return e.getClass().getSimpleName();
    }

    private void loadTopics() throws SQLException {
        try (Statement st = writer.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT topic, last_ms, last_seq FROM topics")) {
                while (rs.next()) {
                    TopicState s = new TopicState();
                    s.lastMs = rs.getLong(2);
                    s.lastSeq = rs.getLong(3);
                    topics.put(rs.getString(1), s);
                }
            }
            try (ResultSet rs = st.executeQuery("SELECT topic, count(*), min(ms) FROM events GROUP BY topic")) {
                while (rs.next()) {
                    TopicState s = topics.computeIfAbsent(rs.getString(1), t -> new TopicState());
                    s.count = rs.getLong(2);
                    s.oldestMs = rs.getLong(3);
                }
            }
        }
        writer.commit();
    }

    private void runWriter() {
        lastTrimNanos = System.nanoTime();
        List<Job> jobs = new ArrayList<>(MAX_BATCH);
        List<Append> appends = new ArrayList<>(MAX_BATCH);
        boolean stop = false;
        while (!stop) {
            Job first;
            try {
                long wait = TRIM_INTERVAL_NANOS - (System.nanoTime() - lastTrimNanos);
                first = wait > 0 ? queue.poll(wait, TimeUnit.NANOSECONDS) : queue.poll();
            } catch (InterruptedException e) {
                continue; // only close() stops the writer, after the queued appends
            }
            if (first != null) {
                jobs.add(first);
                queue.drainTo(jobs, MAX_BATCH - 1);
                List<Trim> trims = new ArrayList<>(0);
                for (Job job : jobs) {
                    if (job instanceof Append a) {
                        appends.add(a);
                    } else if (job instanceof Trim t) {
                        trims.add(t);
                    } else if (job instanceof PageLimit p) {
                        if (!appends.isEmpty()) {
                            writeBatch(appends);
                            appends.clear();
                        }
                        limitPages(p);
                    } else {
                        stop = true; // Stop is the last job ever queued
                    }
                }
                if (!appends.isEmpty()) {
                    writeBatch(appends);
                }
                for (Trim t : trims) {
                    try {
                        trim();
                        notifier.execute(() -> t.future().complete(null));
                    } catch (SQLException | RuntimeException e) {
                        writeFailed("retention trimming", e);
                        notifier.execute(() -> t.future().completeExceptionally(
                                new StoreException("event log " + file + ": trimming failed", e)));
                    }
                }
                jobs.clear();
                appends.clear();
            }
            if (!stop && System.nanoTime() - lastTrimNanos >= TRIM_INTERVAL_NANOS) {
                try {
                    trim();
                } catch (SQLException | RuntimeException e) {
                    writeFailed("retention trimming", e);
                }
            }
        }
    }

    private void writeBatch(List<Append> appends) {
        Map<String, TopicState> touched = new HashMap<>();
        List<Event> events = new ArrayList<>(appends.size());
        List<Append> batch = List.copyOf(appends); // the writer reuses its list once this returns
        try {
            Connection writer = writer();
            for (Append a : batch) {
                TopicState s = touched.get(a.topic());
                if (s == null) {
                    TopicState current = topics.get(a.topic());
                    s = current == null ? new TopicState() : current.copy();
                    touched.put(a.topic(), s);
                }
                long now = clock.getAsLong();
                if (now <= s.lastMs) { // same millisecond, or the clock went back: stay on the last ms
                    s.lastSeq++;
                } else {
                    s.lastMs = now;
                    s.lastSeq = 0;
                }
                s.count++;
                s.oldestMs = Math.min(s.oldestMs, s.lastMs);
                insertEvent.setString(1, a.topic());
                insertEvent.setLong(2, s.lastMs);
                insertEvent.setLong(3, s.lastSeq);
                insertEvent.setLong(4, now);
                insertEvent.setString(5, a.data());
                insertEvent.executeUpdate();
                events.add(new Event(EventId.of(s.lastMs, s.lastSeq), a.topic(), a.data(), now));
            }
            for (Map.Entry<String, TopicState> e : touched.entrySet()) {
                upsertTopic.setString(1, e.getKey());
                upsertTopic.setLong(2, e.getValue().lastMs);
                upsertTopic.setLong(3, e.getValue().lastSeq);
                upsertTopic.executeUpdate();
            }
            writer.commit();
        } catch (SQLException | RuntimeException e) {
            writeFailed("a transaction of " + batch.size() + " appends", e);
            StoreException failure = new StoreException("event log " + file + ": could not store the event: "
                    + e.getMessage(), e);
            notifier.execute(() -> batch.forEach(a -> a.future().completeExceptionally(failure)));
            return;
        }
        writeSucceeded();
        topics.putAll(touched);
        commits.incrementAndGet();
        notifier.execute(() -> {
            for (Event event : events) {
                for (Listener l : listeners) {
                    l.accept(event);
                }
            }
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).future().complete(events.get(i));
            }
        });
    }

    private void limitPages(PageLimit p) {
        pageLimit = p.pages();
        try (Statement st = writer().createStatement()) {
            st.execute("PRAGMA max_page_count=" + p.pages());
            notifier.execute(() -> p.future().complete(null));
        } catch (SQLException e) {
            notifier.execute(() -> p.future().completeExceptionally(e));
        }
    }

    /** The oldest {@code ms} an event may have to be kept at time {@code now}. */
    private long cutoffMs(long now) {
        long age = retention.maxAgeMillis();
        return now - age > now ? Long.MIN_VALUE : now - age; // saturate on underflow
    }

    /**
     * Deletes, per topic, the oldest events beyond {@link Retention#maxEvents()} and those whose id ms is older than
     * {@link Retention#maxAge()} (always a prefix of the topic: ids' ms never decrease); records the last trimmed id;
     * forgets topics with nothing retained and a last id older than the max age.
     */
    private void trim() throws SQLException {
        lastTrimNanos = System.nanoTime();
        long cutoff = cutoffMs(clock.getAsLong());
        int max = retention.maxEvents();
        List<String> candidates = new ArrayList<>();
        for (Map.Entry<String, TopicState> e : topics.entrySet()) {
            TopicState s = e.getValue();
            if (s.count > max || (s.count > 0 && s.oldestMs < cutoff) || (s.count == 0 && s.lastMs < cutoff)) {
                candidates.add(e.getKey());
            }
        }
        if (candidates.isEmpty()) {
            return;
        }
        Map<String, TopicState> changed = new HashMap<>();
        List<String> forgotten = new ArrayList<>();
        long deletedTotal = 0;
        Connection writer = writer(); // on failure, the caller resets the connection (the transaction with it)
        try (PreparedStatement byCount = writer.prepareStatement(
                     "SELECT ms, seq FROM events WHERE topic = ? ORDER BY ms, seq LIMIT 1 OFFSET ?");
             PreparedStatement byAge = writer.prepareStatement(
                     "SELECT ms, seq FROM events WHERE topic = ? AND ms < ? ORDER BY ms DESC, seq DESC LIMIT 1");
             PreparedStatement delete = writer.prepareStatement(
                     "DELETE FROM events WHERE topic = ? AND (ms < ? OR (ms = ? AND seq <= ?))");
             PreparedStatement markTrimmed = writer.prepareStatement(
                     "UPDATE topics SET trimmed_ms = ?, trimmed_seq = ? WHERE topic = ?");
             PreparedStatement oldest = writer.prepareStatement(
                     "SELECT ms FROM events WHERE topic = ? ORDER BY ms, seq LIMIT 1");
             PreparedStatement forget = writer.prepareStatement("DELETE FROM topics WHERE topic = ?")) {
            for (String topic : candidates) {
                TopicState s = topics.get(topic).copy();
                EventId through = null;
                if (s.count > max) {
                    byCount.setString(1, topic);
                    byCount.setLong(2, s.count - max - 1);
                    through = firstId(byCount);
                }
                if (s.count > 0 && s.oldestMs < cutoff) {
                    byAge.setString(1, topic);
                    byAge.setLong(2, cutoff);
                    EventId aged = firstId(byAge);
                    if (aged != null && (through == null || aged.compareTo(through) > 0)) {
                        through = aged;
                    }
                }
                if (through != null) {
                    delete.setString(1, topic);
                    delete.setLong(2, through.ms());
                    delete.setLong(3, through.ms());
                    delete.setLong(4, through.seq());
                    int deleted = delete.executeUpdate();
                    deletedTotal += deleted;
                    markTrimmed.setLong(1, through.ms());
                    markTrimmed.setLong(2, through.seq());
                    markTrimmed.setString(3, topic);
                    markTrimmed.executeUpdate();
                    s.count -= deleted;
                    oldest.setString(1, topic);
                    try (ResultSet rs = oldest.executeQuery()) {
                        s.oldestMs = rs.next() ? rs.getLong(1) : Long.MAX_VALUE;
                    }
                }
                if (s.count == 0 && s.lastMs < cutoff) {
                    forget.setString(1, topic);
                    forget.executeUpdate();
                    forgotten.add(topic);
                } else {
                    changed.put(topic, s);
                }
            }
            writer.commit();
        }
        writeSucceeded();
        topics.putAll(changed);
        forgotten.forEach(topics::remove);
        if (deletedTotal > 0 || !forgotten.isEmpty()) {
            log.debug("event log {}: trimmed {} events, forgot {} expired topics", file, deletedTotal, forgotten.size());
        }
    }

    private static EventId firstId(PreparedStatement st) throws SQLException {
        try (ResultSet rs = st.executeQuery()) {
            return rs.next() ? EventId.of(rs.getLong(1), rs.getLong(2)) : null;
        }
    }

    // ---- readers ----

    @FunctionalInterface
    private interface Read<T> {
        T run(Connection c) throws SQLException;
    }

    private <T> CompletableFuture<T> read(Read<T> read) {
        CompletableFuture<T> future = new CompletableFuture<>();
        if (closed) {
            future.completeExceptionally(closedException());
            return future;
        }
        try {
            readers.execute(() -> {
                Connection c = readerConnections.poll(); // never empty: as many connections as reader threads
                try {
                    T result = read.run(c);
                    c.commit();
                    future.complete(result);
                } catch (SQLException | RuntimeException e) {
                    try {
                        c.rollback();
                    } catch (SQLException ignored) {
                        // the read failed already; its error is the one to report
                    }
                    log.error("event log {}: read failed", file, e);
                    future.completeExceptionally(new StoreException("event log " + file + ": read failed: "
                            + e.getMessage(), e));
                } catch (Error e) {
                    // OutOfMemoryError and the like: the caller must still hear of it, or its subscriber never ends
                    future.completeExceptionally(new StoreException("event log " + file + ": read failed: " + e, e));
                    throw e;
                } finally {
                    readerConnections.add(c);
                }
            });
        } catch (RejectedExecutionException e) {
            future.completeExceptionally(closed ? closedException() : new StoreOverloadedException(
                    "store overloaded: " + queueCapacity + " reads already wait (event log " + file + "); retry later"));
        }
        return future;
    }

    private Replay readAfter(Connection c, String topic, EventId after, int limit, long maxChars)
            throws SQLException {
        EventId last;
        EventId trimmed;
        try (PreparedStatement st = c.prepareStatement(
                "SELECT last_ms, last_seq, trimmed_ms, trimmed_seq FROM topics WHERE topic = ?")) {
            st.setString(1, topic);
            try (ResultSet rs = st.executeQuery()) {
                if (!rs.next()) {
                    // Never written, or every event expired and the topic was forgotten.
                    long cutoff = cutoffMs(clock.getAsLong());
                    Replay.Status status = after.equals(EventId.ZERO) ? Replay.Status.OK
                            : after.ms() >= 0 && after.ms() < cutoff ? Replay.Status.RESET : Replay.Status.UNKNOWN;
                    return new Replay(status, List.of());
                }
                last = EventId.of(rs.getLong(1), rs.getLong(2));
                trimmed = EventId.of(rs.getLong(3), rs.getLong(4));
            }
        }
        if (after.compareTo(last) > 0) {
            return new Replay(Replay.Status.UNKNOWN, List.of());
        }
        if (after.compareTo(trimmed) < 0) {
            return new Replay(Replay.Status.RESET, usable(c, topic, null, limit, maxChars, true));
        }
        // trimmed <= after <= last: every event after it is retained; after must be a real position.
        boolean known = after.equals(EventId.ZERO) || after.equals(trimmed) || after.equals(last)
                || (after.seq() >= 0 && exists(c, topic, after)); // seq >= 0: fits SQLite's signed INTEGER
        if (!known) {
            if (after.ms() >= 0 && after.ms() < cutoffMs(clock.getAsLong())) {
                // Older than the retention: its history expired (perhaps the topic was forgotten and began anew).
                return new Replay(Replay.Status.RESET, usable(c, topic, null, limit, maxChars, true));
            }
            return new Replay(Replay.Status.UNKNOWN, List.of());
        }
        return new Replay(Replay.Status.OK, usable(c, topic, after, limit, maxChars, true));
    }

    /**
     * Up to {@code limit} events of {@code topic} that can be streamed, after {@code from} ascending or before it
     * descending, from the oldest or the newest when it is null. Damaged ones ({@link StoredData}) are skipped and
     * more rows read in their place: fewer than {@code limit} events still means there are no more, which replay
     * paging relies on (a short page ends the replay). Stops early, without reading further rows, once the events
     * hold {@code maxChars} characters of data ({@link EventLog#readAfter(String, EventId, int, long)}).
     */
    private List<Event> usable(Connection c, String topic, EventId from, int limit, long maxChars, boolean ascending)
            throws SQLException {
        List<Event> out = new ArrayList<>(Math.min(limit, 1_024));
        EventId at = from;
        long chars = 0;
        while (true) {
            int want = limit - out.size();
            String order = ascending ? " ORDER BY ms, seq LIMIT ?" : " ORDER BY ms DESC, seq DESC LIMIT ?";
            String where = at == null ? "" : ascending ? " AND (ms > ? OR (ms = ? AND seq > ?))"
                    : " AND (ms < ? OR (ms = ? AND seq < ?))";
            try (PreparedStatement st = c.prepareStatement(
                    "SELECT ms, seq, time, data FROM events WHERE topic = ?" + where + order)) {
                int i = 1;
                st.setString(i++, topic);
                if (at != null) {
                    st.setLong(i++, at.ms());
                    st.setLong(i++, at.ms());
                    st.setLong(i++, at.seq());
                }
                st.setInt(i, want);
                int rows = 0;
                try (ResultSet rs = st.executeQuery()) {
                    while (chars < maxChars && rs.next()) { // rows are stepped one by one: the rest stay unread
                        rows++;
                        at = EventId.of(rs.getLong(1), rs.getLong(2));
                        String data = rs.getString(4);
                        if (data != null && storedData.usable(log, "event log " + file, topic, at, data)) {
                            out.add(new Event(at, topic, data, rs.getLong(3)));
                            chars += data.length();
                        }
                    }
                }
                if (rows < want || out.size() == limit || chars >= maxChars) {
                    return out;
                }
            }
        }
    }

    private static boolean exists(Connection c, String topic, EventId id) throws SQLException {
        try (PreparedStatement st = c.prepareStatement("SELECT 1 FROM events WHERE topic = ? AND ms = ? AND seq = ?")) {
            st.setString(1, topic);
            st.setLong(2, id.ms());
            st.setLong(3, id.seq());
            try (ResultSet rs = st.executeQuery()) {
                return rs.next();
            }
        }
    }

    // ---- tail and lifecycle helpers ----

    /** A registration: its own identity, so that the same consumer registered twice is removed once per handle. */
    private static final class Listener {
        private final Consumer<Event> consumer;

        Listener(Consumer<Event> consumer) {
            this.consumer = consumer;
        }

        void accept(Event event) {
            try {
                consumer.accept(event);
            } catch (RuntimeException e) {
                log.warn("event log tail listener {} failed on event {} of {}", consumer, event.id(), event.topic(), e);
            }
        }
    }

    private static boolean join(Thread t) {
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                return interrupted;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
    }

    private static boolean await(ExecutorService executor) {
        boolean interrupted = false;
        while (true) {
            try {
                if (executor.awaitTermination(1, TimeUnit.MINUTES)) {
                    return interrupted;
                }
                log.warn("event log: {} still busy after a minute; waiting", executor);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
    }

    private static void closeQuietly(List<Connection> connections) {
        for (Connection c : connections) {
            try {
                c.close();
            } catch (SQLException e) {
                log.warn("event log: closing a connection failed", e);
            }
        }
    }
}
