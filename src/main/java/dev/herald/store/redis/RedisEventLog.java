package dev.herald.store.redis;

import dev.herald.store.Event;
import dev.herald.store.EventId;
import dev.herald.store.EventLog;
import dev.herald.store.RecentFailure;
import dev.herald.store.Replay;
import dev.herald.store.Retention;
import dev.herald.store.StoreClosedException;
import dev.herald.store.StoreException;
import dev.herald.store.StoredData;
import dev.herald.store.StoreOverloadedException;
import dev.herald.store.StoreTimeoutException;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.UnblockType;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.XTrimArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.protocol.RedisCommand;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.lettuce.core.resource.DefaultClientResources;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link EventLog} on Redis Streams, shared by several Herald nodes: every node that opens the same Redis sees
 * the same topics, ids and order, so a client can resume on any node with its last id.
 *
 * <h2>Keys</h2>
 * <ul>
 *   <li>{@code herald:topic:<name>}: one stream per topic; each entry has one field {@code d}, the JSON document.
 *       Event ids are the stream ids; an event's time is its id's millisecond part (Redis's clock).</li>
 *   <li>{@code herald:topics}: the set of topic names ever appended to (for the periodic age trim).</li>
 * </ul>
 *
 * <h2>Append</h2>
 * One Lua script: {@code XADD} with a {@code MAXLEN} trim ({@code ~} from 1 000 events on, exact below, where a
 * whole macro node would be far more than the bound), an {@code XTRIM MINID} for the max age, and the topic's
 * registration. (The age trim is exact: a quiet topic's few events fit in one macro node, which {@code ~} would
 * never remove.) The future completes once Redis answered, so an acknowledged event is in Redis (durable as far as
 * Redis's own persistence, AOF, makes it).
 *
 * <h2>Tail</h2>
 * One reader loop per instance, on a dedicated connection: {@code XREAD BLOCK} over the streams of the topics this
 * node holds an {@linkplain #interest interest} in (its local subscribers, its chat), from the last id delivered per
 * stream; no interest, no read. A topic gaining its first holder is followed from the end of its stream as fetched
 * then (every later entry is delivered; the holder reads its history after {@link Interest#ready()}, so nothing falls
 * between), and the blocked {@code XREAD} is woken with {@code CLIENT UNBLOCK} so that it reads the new set at once;
 * a topic losing its last holder is dropped the same way. Listeners run on the loop's single thread, in stream
 * order, so every node delivers each topic's events in the same order. After an outage the loop resumes from those
 * ids: the events appended meanwhile (by other nodes, or by this one once Redis is back) are delivered with no gap
 * and no duplicate.
 *
 * <h2>Faults</h2>
 * Commands are rejected at once while the connection is down (no buffering, and none written again after a
 * reconnect) and time out after {@link #COMMAND_TIMEOUT}: appends then fail with {@link RedisUnavailableException}
 * (not sent: not stored) or {@link StoreTimeoutException} (sent, unanswered: perhaps stored, as Redis may run it later
 * or may have run it before the connection broke), a Redis error reply with {@link StoreException}, and more than
 * {@link #MAX_PENDING_APPENDS} appends in flight with {@link StoreOverloadedException}. Lettuce reconnects by
 * itself; the outage and the recovery are logged once each.
 * The password (from the URL or {@code HERALD_REDIS_PASSWORD}) is never logged: logs name host and port only.
 *
 * <p>Requires Redis 7 or later ({@code XINFO STREAM}'s {@code entries-added}, exclusive ranges).
 */
public final class RedisEventLog implements EventLog {
    private static final Logger LOG = LoggerFactory.getLogger(RedisEventLog.class);
    /** The error code of a Redis error reply; a script's reply carries the code of the call that failed in it. */
    private static final Pattern ERROR_CODE = Pattern.compile("\\b(OOM|MISCONF|READONLY|LOADING|BUSY|NOPERM)\\b");

    /** The environment variable read for the password when the URL has none. */
    public static final String PASSWORD_ENV = "HERALD_REDIS_PASSWORD";
    /**
     * The environment variable naming a PEM file of CA certificates to trust for {@code rediss://}, for a Redis with
     * a private or self-signed certificate; without it the JVM's default trust store is used.
     */
    public static final String CA_FILE_ENV = "HERALD_REDIS_CA_FILE";

    static final String TOPIC_PREFIX = "herald:topic:";
    static final String TOPICS = "herald:topics";
    /**
     * A hash of per-topic append counts: each entry carries its count as field {@code n}, so that a reader sees
     * when entries it never read were trimmed (a jump in {@code n}). Entries without it (older, or written by other
     * programs) are not checked.
     */
    static final String COUNTS = "herald:counts";

    /** How long a command may take before the store counts Redis as unreachable: well above a healthy round trip. */
    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(5);
    /** How long one {@code XREAD} blocks: bounds how stale the reader's view of a dead connection can get. */
    static final Duration BLOCK = Duration.ofSeconds(2);
    /** Appends waiting for Redis at once; above it they fail with {@link StoreOverloadedException}. */
    static final int MAX_PENDING_APPENDS = 10_000;
    /** Entries per stream per {@code XREAD}. */
    private static final int READ_COUNT = 1_000;
    /**
     * How often the reader trims every known topic by age: appends trim their own topic, this catches topics that
     * went quiet. Every node does it; the trims are idempotent.
     */
    static final Duration TRIM_EVERY = Duration.ofMinutes(1);
    /** How often a wake-up retries {@code CLIENT UNBLOCK} while the read it targets has not blocked yet. */
    private static final int UNBLOCK_TRIES = 20;
    private static final Duration UNBLOCK_AGAIN = Duration.ofMillis(5);
    /** Lettuce's message for a command refused, not written, while the connection is down. */
    private static final String REJECTED = "Currently not connected. Commands are rejected.";
    /** Lettuce's message for a command refused, not written, on a closed connection. */
    private static final String ENDPOINT_CLOSED = "Connection is closed";
    /** Pause of the reader loop after a failed read (Lettuce reconnects meanwhile). */
    private static final Duration RETRY = Duration.ofMillis(200);

    private static final String APPEND = """
            local n = (tonumber(redis.call('HGET', KEYS[3], ARGV[5])) or 0) + 1
            local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], ARGV[2], '*', 'd', ARGV[3], 'n', n)
            redis.call('HSET', KEYS[3], ARGV[5], n)
            if ARGV[4] ~= '0' then redis.call('XTRIM', KEYS[1], 'MINID', ARGV[4]) end
            redis.call('SADD', KEYS[2], ARGV[5])
            return id
            """;

    private final Retention retention;
    private final String where;
    private final StoredData storedData = new StoredData();
    private final ClientResources resources;
    private final RedisClient client;
    private final StatefulRedisConnection<String, String> commands;
    private final StatefulRedisConnection<String, String> reader;
    private final ScheduledExecutorService notifier;
    private final CopyOnWriteArrayList<Consumer<Event>> listeners = new CopyOnWriteArrayList<>();
    private final CopyOnWriteArrayList<Consumer<String>> gapListeners = new CopyOnWriteArrayList<>();
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicBoolean down = new AtomicBoolean();
    /** The last append that failed while none succeeded since, for {@link #unavailable}. */
    private final RecentFailure recentFailure = new RecentFailure();
    private volatile long downSince;
    private volatile boolean closed;

    private final ConcurrentHashMap<String, Watch> watches = new ConcurrentHashMap<>();
    private final AtomicLong entriesRead = new AtomicLong();
    /** The reader connection's client id, for {@code CLIENT UNBLOCK}; -1 while unknown. */
    private volatile long readerId = -1;

    // Reader state, touched only on the notifier thread.
    /** The followed streams and the id of the last entry delivered from each. */
    private final Map<String, EventId> cursors = new LinkedHashMap<>();
    /** The append count ({@link #COUNTS}) of the last entry delivered from each followed stream, when it had one. */
    private final Map<String, Long> counts = new HashMap<>();
    /** Streams whose end is being fetched to start following them. */
    private final Set<String> placing = new HashSet<>();
    private boolean reading;
    /** Counts the reads sent, so that a late unblock can tell whether its read is still out. */
    private long readTurn;
    private final List<CompletableFuture<List<String>>> turnWatchers = new ArrayList<>();

    private RedisEventLog(RedisURI uri, Retention retention, Optional<Path> trustedCa) {
        this.retention = retention;
        this.where = uri.getHost() + ":" + uri.getPort() + (uri.isSsl() ? " (TLS)" : "");
        this.resources = DefaultClientResources.builder()
                .reconnectDelay(Delay.exponential(Duration.ofMillis(50), Duration.ofSeconds(2), 2, TimeUnit.MILLISECONDS))
                .build();
        this.client = RedisClient.create(resources);
        SslOptions.Builder ssl = SslOptions.builder().jdkSslProvider();
        trustedCa.ifPresent(ca -> ssl.trustManager(ca.toFile()));
        client.setOptions(ClientOptions.builder()
                .sslOptions(ssl.build())
                .autoReconnect(true)
                // Not the default, which with autoReconnect queues commands while disconnected and writes the
                // unanswered ones again after the reconnect: an append whose connection broke after Redis ran it
                // would run twice. Rejected, a command never leaves, as a 503 "not stored" promises.
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .socketOptions(SocketOptions.builder().connectTimeout(COMMAND_TIMEOUT).keepAlive(true).build())
                .timeoutOptions(TimeoutOptions.builder().timeoutSource(new Timeouts()).build())
                .build());
        this.notifier = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "herald-redis-tail");
            t.setDaemon(true);
            return t;
        });
        StatefulRedisConnection<String, String> c = null;
        StatefulRedisConnection<String, String> rd = null;
        try {
            c = client.connect(StringCodec.UTF8, uri);
            rd = client.connect(StringCodec.UTF8, uri);
        } catch (RuntimeException e) {
            closeQuietly(c);
            shutdownClient();
            throw new RedisUnavailableException("redis at " + where + " is unreachable: " + e.getMessage(), e);
        }
        this.commands = c;
        this.reader = rd;
    }

    /**
     * Connects to {@code url} ({@code redis://[user:password@]host[:port][/db]} or {@code rediss://...} for TLS),
     * taking the password from {@value #PASSWORD_ENV} when the URL has none and the CA certificates to trust for TLS
     * from the PEM file named by {@value #CA_FILE_ENV}, if set; then starts the tail reader.
     *
     * @throws IllegalArgumentException when the URL is not a Redis URL
     * @throws RedisUnavailableException when Redis cannot be reached now
     */
    public static RedisEventLog open(String url, Retention retention) {
        return open(url, retention, Optional.ofNullable(System.getenv(PASSWORD_ENV)).filter(s -> !s.isEmpty()),
                Optional.ofNullable(System.getenv(CA_FILE_ENV)).filter(s -> !s.isEmpty()).map(Path::of));
    }

    /** Like {@link #open(String, Retention)}, with the password to use when the URL has none. */
    static RedisEventLog open(String url, Retention retention, Optional<String> password) {
        return open(url, retention, password, Optional.empty());
    }

    /** Like {@link #open(String, Retention)}, with the password to use when the URL has none and the CAs to trust. */
    static RedisEventLog open(String url, Retention retention, Optional<String> password, Optional<Path> trustedCa) {
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(retention, "retention");
        if (!url.startsWith("redis://") && !url.startsWith("rediss://")) {
            throw new IllegalArgumentException("store: not a Redis URL (expected: redis://host:port[/db] or rediss://...)");
        }
        RedisURI uri;
        try {
            uri = RedisURI.create(url);
        } catch (RuntimeException e) {
            // The message of the parser may echo the URL, password included: do not pass it on.
            throw new IllegalArgumentException("store: invalid Redis URL (expected: redis://[:password@]host:port[/db])");
        }
        if (uri.getPassword() == null || uri.getPassword().length == 0) {
            password.ifPresent(p -> uri.setPassword(p.toCharArray()));
        }
        uri.setTimeout(COMMAND_TIMEOUT);
        trustedCa.ifPresent(ca -> {
            if (!Files.isReadable(ca)) {
                throw new IllegalArgumentException(CA_FILE_ENV + ": " + ca + " (expected: a readable PEM file)");
            }
        });
        RedisEventLog log = new RedisEventLog(uri, retention, trustedCa);
        try {
            log.startReader().get(COMMAND_TIMEOUT.toMillis() * 2, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            log.close();
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            throw new RedisUnavailableException("redis at " + log.where + " is unreachable: " + cause, cause);
        } catch (InterruptedException e) {
            log.close();
            Thread.currentThread().interrupt();
            throw new StoreException("interrupted while connecting to redis at " + log.where, e);
        }
        log.notifier.scheduleWithFixedDelay(() -> log.trimByAge(), TRIM_EVERY.toMillis(), TRIM_EVERY.toMillis(),
                TimeUnit.MILLISECONDS);
        LOG.info("event log: redis at {}, retention {} events / {}", log.where, retention.maxEvents(),
                retention.maxAge());
        return log;
    }

    /** Host and port (and TLS) of the Redis this log uses, for logs: never the credentials. */
    public String where() {
        return where;
    }

    // ---------------------------------------------------------------------------------------------- append

    @Override
    public CompletableFuture<Event> append(String topic, String data) {
        checkTopic(topic);
        Objects.requireNonNull(data, "data");
        if (closed) {
            return CompletableFuture.failedFuture(new StoreClosedException("the redis event log is closed"));
        }
        if (pending.incrementAndGet() > MAX_PENDING_APPENDS) {
            pending.decrementAndGet();
            return CompletableFuture.failedFuture(new StoreOverloadedException(
                    "redis at " + where + " has " + MAX_PENDING_APPENDS + " appends pending (the most allowed)"));
        }
        String key = TOPIC_PREFIX + topic;
        int max = retention.maxEvents();
        long cutoff = cutoffMs(System.currentTimeMillis());
        String[] keys = {key, TOPICS, COUNTS};
        CompletableFuture<String> sent;
        try {
            sent = commands.async().<String>eval(APPEND, ScriptOutputType.VALUE, keys,
                    max >= 1_000 ? "~" : "=", Integer.toString(max), data,
                    cutoff <= 0 ? "0" : Long.toString(cutoff), topic).toCompletableFuture();
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        return sent.handle((id, err) -> {
            pending.decrementAndGet();
            if (err != null) {
                StoreException e = failure("append to " + topic, err);
                if (!connectionLost(e)) { // that shows in the connection's state
                    recentFailure.failed(appendFailure(e), System.currentTimeMillis());
                }
                throw e;
            }
            markUp();
            recentFailure.succeeded();
            EventId eid = EventId.parse(id);
            return new Event(eid, topic, data, eid.ms());
        });
    }

    // ---------------------------------------------------------------------------------------------- reads

    @Override
    public CompletableFuture<Replay> readAfter(String topic, EventId afterId, int limit) {
        return readAfter(topic, afterId, limit, Long.MAX_VALUE);
    }

    @Override
    public CompletableFuture<Replay> readAfter(String topic, EventId afterId, int limit, long maxChars) {
        checkTopic(topic);
        if (maxChars < 1) {
            throw new IllegalArgumentException("maxChars: " + maxChars + " (expected: >= 1)");
        }
        Objects.requireNonNull(afterId, "afterId");
        if (limit < 1) {
            throw new IllegalArgumentException("limit: " + limit + " (expected: >= 1)");
        }
        if (closed) {
            return CompletableFuture.failedFuture(new StoreClosedException("the redis event log is closed"));
        }
        String key = TOPIC_PREFIX + topic;
        RedisAsyncCommands<String, String> c = commands.async();
        return call(() -> c.xinfoStream(key)).handle((info, err) -> {
            if (err != null) {
                Throwable t = StoreException.unwrap(err);
                if (t instanceof RedisCommandExecutionException && String.valueOf(t.getMessage()).contains("no such key")) {
                    return null;
                }
                throw failure("read " + topic, t);
            }
            return StreamInfo.parse(info);
        }).thenCompose(info -> replay(c, new Page(key, topic, limit, maxChars), info, afterId)).handle((r, err) -> {
            if (err != null) {
                throw failure("read " + topic, err);
            }
            markUp();
            return r;
        });
    }

    private CompletableFuture<Replay> replay(RedisAsyncCommands<String, String> c, Page page, StreamInfo info,
            EventId after) {
        String key = page.key;
        boolean old = after.ms() >= 0 && after.ms() < cutoffMs(System.currentTimeMillis());
        if (info == null) { // never written
            Replay.Status status = after.equals(EventId.ZERO) ? Replay.Status.OK
                    : old ? Replay.Status.RESET : Replay.Status.UNKNOWN;
            return CompletableFuture.completedFuture(new Replay(status, List.of()));
        }
        if (after.compareTo(info.last) > 0) {
            return CompletableFuture.completedFuture(new Replay(Replay.Status.UNKNOWN, List.of()));
        }
        boolean trimmedAny = info.added > info.length;
        if (trimmedAny && !after.equals(info.last) && (info.first == null || after.compareTo(info.first) < 0)) {
            return fromStart(c, page);
        }
        if (after.equals(EventId.ZERO) || after.equals(info.last)) {
            return forward(c, page, after.equals(EventId.ZERO) ? "-" : next(after))
                    .thenApply(events -> new Replay(Replay.Status.OK, events));
        }
        // Inside the retained range: after must be a real id. Read it with the events after it in one round trip.
        return call(() -> c.xrange(key, Range.create(after.toString(), "+"), Limit.from(page.chunk() + 1L)))
                .thenCompose(list -> {
                    if (!list.isEmpty() && list.get(0).getId().equals(after.toString())) {
                        return onward(c, page, list.subList(1, list.size()), page.chunk())
                                .thenApply(events -> new Replay(Replay.Status.OK, events));
                    }
                    if (old) { // its history expired (perhaps the topic was recreated)
                        return fromStart(c, page);
                    }
                    return CompletableFuture.completedFuture(new Replay(Replay.Status.UNKNOWN, List.of()));
                });
    }

    private CompletableFuture<Replay> fromStart(RedisAsyncCommands<String, String> c, Page page) {
        return forward(c, page, "-").thenApply(events -> new Replay(Replay.Status.RESET, events));
    }

    /**
     * A replay read in progress: the stream, the bounds ({@link EventLog#readAfter(String, EventId, int, long)}) and
     * the events so far. Read in chunks of {@value #CHUNK} entries when characters are bounded, so that what Lettuce
     * holds at once stays small whatever the events' sizes.
     */
    private static final class Page {
        static final int CHUNK = 64;
        final String key;
        final String topic;
        final int limit;
        final long maxChars;
        final List<Event> events = new ArrayList<>();
        long chars;

        Page(String key, String topic, int limit, long maxChars) {
            this.key = key;
            this.topic = topic;
            this.limit = limit;
            this.maxChars = maxChars;
        }

        /** Entries to ask for next. */
        int chunk() {
            int left = limit - events.size();
            return maxChars == Long.MAX_VALUE ? left : Math.min(left, CHUNK);
        }

        boolean full() {
            return events.size() >= limit || chars >= maxChars;
        }
    }

    /**
     * Adds to {@code got} the events from the id {@code start} on (inclusive, or "-") until it holds {@code limit}
     * or the stream ends. Entries that cannot be streamed ({@link #event}) are skipped and more read in their
     * place: fewer than {@code limit} events still means there are no more, which replay paging relies on (a short
     * page ends the replay).
     */
    private CompletableFuture<List<Event>> forward(RedisAsyncCommands<String, String> c, Page page, String start) {
        int wanted = page.chunk();
        return call(() -> c.xrange(page.key, Range.create(start, "+"), Limit.from(wanted)))
                .thenCompose(list -> onward(c, page, list, wanted));
    }

    /**
     * Adds the entries {@code list} read for {@link #forward} ({@code wanted} asked for) until the page is full,
     * and reads on when it is not and the stream has more.
     */
    private CompletableFuture<List<Event>> onward(RedisAsyncCommands<String, String> c, Page page,
            List<StreamMessage<String, String>> list, int wanted) {
        for (StreamMessage<String, String> m : list) {
            if (page.full()) {
                return CompletableFuture.completedFuture(page.events); // the rest is read by the next page
            }
            Event e = event(page.topic, m);
            if (e != null) {
                page.events.add(e);
                page.chars += e.data().length();
            }
        }
        if (list.size() < wanted || page.full()) {
            return CompletableFuture.completedFuture(page.events);
        }
        return forward(c, page, next(EventId.parse(list.get(list.size() - 1).getId())));
    }

    @Override
    public CompletableFuture<List<Event>> latest(String topic, int n) {
        return newest(topic, null, n);
    }

    @Override
    public CompletableFuture<List<Event>> latestBefore(String topic, EventId beforeId, int n) {
        return newest(topic, Objects.requireNonNull(beforeId, "beforeId"), n);
    }

    /** The newest {@code n} events of {@code topic}, below {@code beforeId} unless it is null, ascending. */
    private CompletableFuture<List<Event>> newest(String topic, EventId beforeId, int n) {
        checkTopic(topic);
        if (n < 1) {
            throw new IllegalArgumentException("n: " + n + " (expected: >= 1)");
        }
        if (closed) {
            return CompletableFuture.failedFuture(new StoreClosedException("the redis event log is closed"));
        }
        String key = TOPIC_PREFIX + topic;
        String end = beforeId == null ? "+" : previous(beforeId);
        if (end == null) {
            return CompletableFuture.completedFuture(List.of());
        }
        return backward(commands.async(), key, topic, end, n, new ArrayList<>()).handle((events, err) -> {
            if (err != null) {
                throw failure("read " + topic, err);
            }
            markUp();
            Collections.reverse(events);
            return List.copyOf(events);
        });
    }

    /** As {@link #forward}, newest first, from the id {@code end} (inclusive, or "+") down. */
    private CompletableFuture<List<Event>> backward(RedisAsyncCommands<String, String> c, String key, String topic,
            String end, int limit, List<Event> got) {
        int wanted = limit - got.size();
        return call(() -> c.xrevrange(key, Range.create("-", end), Limit.from(wanted))).thenCompose(list -> {
            got.addAll(events(topic, list));
            String below = list.size() < wanted || got.size() >= limit ? null
                    : previous(EventId.parse(list.get(list.size() - 1).getId()));
            return below == null ? CompletableFuture.completedFuture(got) : backward(c, key, topic, below, limit, got);
        });
    }

    // ---------------------------------------------------------------------------------------------- tail

    @Override
    public AutoCloseable tail(Consumer<Event> listener) {
        return tail(listener, topic -> { });
    }

    @Override
    public AutoCloseable tail(Consumer<Event> listener, Consumer<String> gap) {
        Objects.requireNonNull(listener, "listener");
        Objects.requireNonNull(gap, "gap");
        listeners.add(listener);
        gapListeners.add(gap);
        return () -> {
            listeners.remove(listener);
            gapListeners.remove(gap);
        };
    }

    @Override
    public Interest interest(String topic) {
        checkTopic(topic);
        if (closed) {
            return new Closed();
        }
        boolean[] first = new boolean[1];
        watches.compute(topic, (k, w) -> {
            Watch v = w;
            if (v == null) {
                v = new Watch();
                first[0] = true;
            }
            v.holders++;
            return v;
        });
        if (first[0]) {
            onReader(() -> follow(topic));
        }
        return new Handle(topic);
    }

    /** Checks that Redis answers and learns the reader connection's client id; the loop starts with an interest. */
    private CompletableFuture<Void> startReader() {
        return call(() -> reader.async().clientId()).thenAccept(id -> readerId = id);
    }

    /**
     * Notifier thread: starts following {@code topic} from the current end of its stream (every later entry is
     * delivered), then completes the interest. A topic already followed keeps its cursor.
     */
    private void follow(String topic) {
        Watch w = watches.get(topic);
        if (w == null || closed) {
            return;
        }
        String key = TOPIC_PREFIX + topic;
        if (cursors.containsKey(key)) {
            w.ready.complete(null);
            return;
        }
        if (!placing.add(key)) {
            return; // the end is being fetched; its answer completes the interest
        }
        // On the command connection: the reader's is busy in XREAD BLOCK. The append count first: an empty stream
        // (new, or emptied by max-age) has no entry to take it from, and appends after it show in the last entry.
        RedisAsyncCommands<String, String> c = commands.async();
        CompletableFuture<String> appended = call(() -> c.hget(COUNTS, topic));
        call(() -> c.xrevrange(key, Range.create("-", "+"), Limit.from(1)))
                .thenCombine(appended, End::new)
                .whenCompleteAsync((end, err) -> {
                    placing.remove(key);
                    Watch now = watches.get(topic);
                    if (err != null) {
                        StoreException failure = failure("follow " + topic, err);
                        if (now != null) {
                            now.ready.completeExceptionally(failure);
                        }
                        return;
                    }
                    markUp();
                    if (now == null) {
                        return; // given back meanwhile
                    }
                    if (!cursors.containsKey(key)) {
                        List<StreamMessage<String, String>> last = end.last();
                        cursors.put(key, last.isEmpty() ? EventId.ZERO : EventId.parse(last.get(0).getId()));
                        Long n = last.isEmpty() ? (end.count() == null ? Long.valueOf(0) : parseCount(end.count()))
                                : count(last.get(0));
                        if (n != null) {
                            counts.put(key, n);
                        }
                        wake();
                    }
                    now.ready.complete(null);
                }, notifier);
    }

    /** Notifier thread: stops reading {@code topic} unless it was taken again meanwhile. */
    private void unfollow(String topic) {
        if (!watches.containsKey(topic) && cursors.remove(TOPIC_PREFIX + topic) != null) {
            counts.remove(TOPIC_PREFIX + topic);
            wake();
        }
    }

    /**
     * Notifier thread: makes the loop read the current set of streams. An idle loop starts; a loop blocked in
     * {@code XREAD} is unblocked with {@code CLIENT UNBLOCK} (on the command connection) and reads again at once.
     * The unblock can overtake the read it targets (two connections), so it is repeated a few times while that read
     * is still out and not yet blocked; should it still miss (the reader reconnected under a new client id), the
     * change takes effect when the block times out, within {@link #BLOCK}.
     */
    private void wake() {
        if (!reading) {
            readNext();
        } else {
            unblock(readTurn, 0);
        }
    }

    private void unblock(long turn, int attempt) {
        if (closed || !reading || readTurn != turn) {
            return; // that read is over: the next one already has the new set
        }
        long id = readerId;
        CompletableFuture<Long> sent = id > 0
                ? call(() -> commands.async().clientUnblock(id, UnblockType.TIMEOUT))
                : CompletableFuture.completedFuture(0L);
        sent.whenCompleteAsync((n, err) -> {
            if (err == null && n == 0 && attempt < UNBLOCK_TRIES) {
                notifier.schedule(() -> unblock(turn, attempt + 1), UNBLOCK_AGAIN.toMillis(), TimeUnit.MILLISECONDS);
            }
        }, notifier);
    }

    /** One turn of the reader loop, on the notifier thread; idle while no topic is followed. */
    private void readNext() {
        if (!turnWatchers.isEmpty()) {
            List<String> topics = followedTopics();
            turnWatchers.forEach(w -> w.complete(topics));
            turnWatchers.clear();
        }
        if (closed || cursors.isEmpty()) {
            reading = false;
            return;
        }
        reading = true;
        readTurn++;
        RedisAsyncCommands<String, String> r = reader.async();
        if (readerId < 0) { // pipelined before the read, so answered before it blocks
            call(r::clientId).thenAccept(id -> readerId = id);
        }
        List<XReadArgs.StreamOffset<String>> offsets = new ArrayList<>(cursors.size());
        cursors.forEach((k, id) -> offsets.add(XReadArgs.StreamOffset.from(k, id.toString())));
        @SuppressWarnings("unchecked")
        XReadArgs.StreamOffset<String>[] array = offsets.toArray(XReadArgs.StreamOffset[]::new);
        call(() -> r.xread(XReadArgs.Builder.block(BLOCK).count(READ_COUNT), array))
                .whenCompleteAsync((messages, err) -> {
                    if (closed) {
                        return;
                    }
                    if (err != null) {
                        readerId = -1; // the reader may come back as another client
                        markDown(StoreException.unwrap(err));
                        notifier.schedule(this::readNext, RETRY.toMillis(), TimeUnit.MILLISECONDS);
                        return;
                    }
                    markUp();
                    if (messages == null || messages.isEmpty()) {
                        readerId = -1; // woken or timed out: cheap to confirm who the reader is now
                    } else {
                        deliver(messages);
                    }
                    readNext();
                }, notifier);
    }

    /** Runs {@code task} on the notifier thread, unless the log is closing. */
    private void onReader(Runnable task) {
        try {
            notifier.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            LOG.debug("redis event log closing: {} dropped", task);
        }
    }

    /** Entries the reader loop received from Redis, all streams. For tests: a topic nobody follows adds none. */
    long entriesRead() {
        return entriesRead.get();
    }

    /** The topics the reader loop follows now. For tests. */
    CompletableFuture<List<String>> following() {
        return CompletableFuture.supplyAsync(this::followedTopics, notifier);
    }

    /**
     * The topics of the reader's next {@code XREAD}, once it is sent (at once, and empty, when the reader is idle):
     * from then on no read of a topic left out is outstanding. For tests.
     */
    CompletableFuture<List<String>> nextRead() {
        CompletableFuture<List<String>> f = new CompletableFuture<>();
        onReader(() -> {
            if (reading) {
                turnWatchers.add(f);
            } else {
                f.complete(followedTopics());
            }
        });
        return f;
    }

    private List<String> followedTopics() {
        return cursors.keySet().stream().map(k -> k.substring(TOPIC_PREFIX.length())).sorted().toList();
    }

    /** Runs {@link #trimByAge} now, for tests; completes once the trims were sent. */
    CompletableFuture<Void> trimNow() {
        return CompletableFuture.supplyAsync(this::trimByAge, notifier).thenCompose(f -> f);
    }

    /**
     * Trims every known topic (followed here or not) to the max age; failures wait for the next turn. Completes once
     * the trims were sent.
     */
    private CompletableFuture<Void> trimByAge() {
        long cutoff = cutoffMs(System.currentTimeMillis());
        if (closed || cutoff <= 0 || down.get()) {
            return CompletableFuture.completedFuture(null);
        }
        XTrimArgs args = XTrimArgs.Builder.minId(cutoff + "-0").exactTrimming();
        RedisAsyncCommands<String, String> c = commands.async();
        return call(() -> c.smembers(TOPICS)).thenAccept(names -> {
            for (String name : names) {
                String key = TOPIC_PREFIX + name;
                call(() -> c.xtrim(key, args)).exceptionally(e -> {
                    LOG.debug("trim of {} failed", key, e);
                    return 0L;
                });
            }
        }).exceptionally(e -> {
            LOG.debug("trim: topics unknown", e);
            return null;
        });
    }

    /** Notifier thread: hands each new entry of a followed stream to the listeners, in stream order. */
    private void deliver(List<StreamMessage<String, String>> messages) {
        entriesRead.addAndGet(messages.size());
        for (StreamMessage<String, String> m : messages) {
            String stream = m.getStream();
            EventId cursor = cursors.get(stream);
            EventId id = EventId.parse(m.getId());
            // Not followed any more, or read from an older cursor before the topic was followed again.
            if (cursor == null || id.compareTo(cursor) <= 0) {
                continue;
            }
            cursors.put(stream, id);
            String topic = stream.substring(TOPIC_PREFIX.length());
            Long n = count(m);
            Long before = n == null ? counts.remove(stream) : counts.put(stream, n);
            if (n != null && before != null && n > before + 1) {
                LOG.warn("redis stream {}: {} entries were trimmed before this node read them (append count {} after"
                        + " {}); the topic's subscribers resume from the store", stream, n - before - 1, n, before);
                for (Consumer<String> g : gapListeners) {
                    try {
                        g.accept(topic);
                    } catch (RuntimeException ex) {
                        LOG.warn("event log gap listener failed on {}", topic, ex);
                    }
                }
            }
            Event e = event(topic, m);
            if (e == null) {
                continue;
            }
            for (Consumer<Event> l : listeners) {
                try {
                    l.accept(e);
                } catch (RuntimeException ex) {
                    LOG.warn("event log listener failed on {} {}", e.topic(), e.id(), ex);
                }
            }
        }
    }

    /** What {@link #follow} reads of a stream's end: its last entry (if any) and the topic's append count before. */
    private record End(List<StreamMessage<String, String>> last, String count) {
    }

    /** The entry's append count (field {@code n}), or null when it has none. */
    private static Long count(StreamMessage<String, String> m) {
        return parseCount(m.getBody() == null ? null : m.getBody().get("n"));
    }

    private static Long parseCount(String n) {
        if (n == null) {
            return null;
        }
        try {
            return Long.parseLong(n);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** The holders of one topic's interest and the future that says it is followed; guarded by the map. */
    private static final class Watch {
        int holders;
        volatile CompletableFuture<Void> ready = new CompletableFuture<>();
    }

    /** One holder's interest. */
    private final class Handle implements Interest {
        private final String topic;
        private final AtomicBoolean released = new AtomicBoolean();

        Handle(String topic) {
            this.topic = topic;
        }

        @Override
        public CompletableFuture<Void> ready() {
            if (released.get()) {
                return CompletableFuture.failedFuture(new IllegalStateException("interest in " + topic
                        + " was given back"));
            }
            boolean[] retry = new boolean[1];
            Watch w = watches.computeIfPresent(topic, (k, v) -> {
                if (v.ready.isCompletedExceptionally()) {
                    v.ready = new CompletableFuture<>();
                    retry[0] = true;
                }
                return v;
            });
            if (w == null) {
                return CompletableFuture.failedFuture(new StoreClosedException("the redis event log is closed"));
            }
            CompletableFuture<Void> f = w.ready;
            if (retry[0]) {
                onReader(() -> follow(topic));
            }
            return f;
        }

        @Override
        public void close() {
            if (!released.compareAndSet(false, true)) {
                return;
            }
            boolean[] last = new boolean[1];
            watches.computeIfPresent(topic, (k, v) -> {
                if (--v.holders > 0) {
                    return v;
                }
                last[0] = true;
                return null;
            });
            if (last[0]) {
                onReader(() -> unfollow(topic));
            }
        }
    }

    /** The interest handed out by a closed log. */
    private static final class Closed implements Interest {
        @Override
        public CompletableFuture<Void> ready() {
            return CompletableFuture.failedFuture(new StoreClosedException("the redis event log is closed"));
        }

        @Override
        public void close() {
        }
    }

    // ---------------------------------------------------------------------------------------------- close

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        notifier.shutdownNow();
        StoreClosedException gone = new StoreClosedException("the redis event log is closed");
        watches.values().forEach(w -> w.ready.completeExceptionally(gone));
        closeQuietly(reader);
        closeQuietly(commands);
        shutdownClient();
    }

    private void shutdownClient() {
        try {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        } catch (RuntimeException e) {
            LOG.debug("redis client shutdown", e);
        }
        try {
            resources.shutdown(0, 2, TimeUnit.SECONDS).await(3, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(StatefulRedisConnection<?, ?> c) {
        if (c != null) {
            try {
                c.close();
            } catch (RuntimeException e) {
                LOG.debug("redis connection close", e);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- helpers

    private static void checkTopic(String topic) {
        Objects.requireNonNull(topic, "topic");
        if (topic.isEmpty()) {
            throw new IllegalArgumentException("topic: empty (expected: a name)");
        }
    }

    private long cutoffMs(long now) {
        long age;
        try {
            age = retention.maxAge().toMillis();
        } catch (ArithmeticException e) {
            age = Long.MAX_VALUE;
        }
        return age >= now ? 0 : now - age;
    }

    /**
     * The id right before {@code id}, for an exclusive end (XREVRANGE's "(" needs Redis 6.2), or {@code null} when
     * there is none. Seqs are unsigned: the one before {@code ms-0} is {@code (ms-1)-18446744073709551615}.
     */
    private static String previous(EventId id) {
        if (id.seq() != 0) {
            return Long.toUnsignedString(id.ms()) + "-" + Long.toUnsignedString(id.seq() - 1);
        }
        return id.ms() == 0 ? null : Long.toUnsignedString(id.ms() - 1) + "-" + Long.toUnsignedString(-1L);
    }

    /** The id right after {@code id}, for an exclusive start. */
    private static String next(EventId id) {
        return id.seq() == -1L ? Long.toUnsignedString(id.ms() + 1) + "-0"
                : Long.toUnsignedString(id.ms()) + "-" + Long.toUnsignedString(id.seq() + 1);
    }

    private List<Event> events(String topic, List<StreamMessage<String, String>> list) {
        List<Event> out = new ArrayList<>(list.size());
        for (StreamMessage<String, String> m : list) {
            Event e = event(topic, m);
            if (e != null) {
                out.add(e);
            }
        }
        return out;
    }

    /** The entry as an event, or {@code null} (logged) when it has no data or its data is damaged. */
    private Event event(String topic, StreamMessage<String, String> m) {
        String data = m.getBody() == null ? null : m.getBody().get("d");
        EventId id = EventId.parse(m.getId());
        String where = "redis stream " + TOPIC_PREFIX + topic;
        if (data == null) {
            storedData.skipped(LOG, where, topic, id, "it has no field d");
            return null;
        }
        if (!storedData.usable(LOG, where, topic, id, data)) {
            return null;
        }
        return new Event(id, topic, data, id.ms());
    }

    /** Runs a Lettuce call; one that throws (for example rejected while disconnected) gives a failed future. */
    private static <T> CompletableFuture<T> call(java.util.function.Supplier<? extends java.util.concurrent.CompletionStage<T>> f) {
        try {
            return f.get().toCompletableFuture();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** The store exception for a failed command, counting an unreachable Redis as an outage. */
    private StoreException failure(String what, Throwable err) {
        Throwable t = StoreException.unwrap(err);
        if (t instanceof StoreException se) {
            return se;
        }
        if (t instanceof RedisCommandExecutionException) {
            return new StoreException("redis at " + where + " refused to " + what + ": " + t.getMessage(), t);
        }
        markDown(t);
        if (t instanceof RedisCommandTimeoutException) {
            // Sent, but not answered: Redis may still run it (it was only slow, or frozen and resumed).
            return new StoreTimeoutException("redis at " + where + " did not answer within "
                    + COMMAND_TIMEOUT.toSeconds() + " s; the command may have been applied", t);
        }
        if (neverSent(t)) {
            return new RedisUnavailableException("redis at " + where + " is unreachable; retry later", t);
        }
        // Written to the connection, which broke before the reply came: Redis may have run it all the same.
        return new StoreTimeoutException("redis at " + where + " closed the connection before answering ("
                + t + "); the command may have been applied", t);
    }

    /**
     * Whether a command that failed with {@code t} provably never reached Redis, so that "not stored" is true. Lettuce
     * (6.8, with {@link ClientOptions.DisconnectedBehavior#REJECT_COMMANDS}) fails a command it refuses to write with a
     * plain {@link RedisException}: {@value #REJECTED} while disconnected, {@value #ENDPOINT_CLOSED} once closed; and
     * with a {@link RedisConnectionException} while connecting or when Redis refuses the connection (protected mode,
     * where it runs nothing). A command it wrote fails with {@code "Connection disconnected"} (or, the oldest one,
     * with the I/O error) when the connection breaks before its reply: that one may have run, as may anything this
     * method does not know.
     */
    static boolean neverSent(Throwable t) {
        if (t instanceof RedisConnectionException) {
            return true;
        }
        return t.getClass() == RedisException.class
                && (REJECTED.equals(t.getMessage()) || ENDPOINT_CLOSED.equals(t.getMessage()));
    }

    /**
     * Either connection down (Lettuce marks it while it reconnects, in the background, so this clears by itself), or
     * an append that failed in the last {@link RecentFailure#REPORTED_MS} while none succeeded since: Redis refusing
     * writes ({@code MISCONF}, {@code OOM}, {@code READONLY} after a failover) while it still answers reads, or not
     * answering. Short and public (no host): the outage itself is logged.
     */
    @Override
    public String unavailable() {
        if (closed) {
            return "redis store closed";
        }
        if (!commands.isOpen() || !reader.isOpen()) {
            return "redis unreachable";
        }
        return recentFailure.reason(System.currentTimeMillis());
    }

    /** Whether {@code e} is a failure of the connection (down, or broken before the reply), not of Redis. */
    private static boolean connectionLost(StoreException e) {
        return e instanceof RedisUnavailableException
                || e instanceof StoreTimeoutException && !(e.getCause() instanceof RedisCommandTimeoutException);
    }

    /** The public reason of a failed append: unanswered, or refused with Redis's error code. */
    private static String appendFailure(StoreException e) {
        if (e instanceof StoreTimeoutException) {
            return "redis does not answer";
        }
        Throwable cause = e.getCause();
        String reply = cause instanceof RedisCommandExecutionException && cause.getMessage() != null
                ? cause.getMessage() : "";
        Matcher code = ERROR_CODE.matcher(reply);
        return "redis refuses writes" + (code.find() ? " (" + code.group(1) + ")" : "");
    }

    private void markDown(Throwable cause) {
        if (!closed && down.compareAndSet(false, true)) {
            downSince = System.nanoTime();
            LOG.warn("redis at {} is unreachable ({}): publishes fail with 503 until it is back", where,
                    cause.toString());
        }
    }

    private void markUp() {
        if (down.get() && down.compareAndSet(true, false)) {
            LOG.info("redis at {} is reachable again after {} ms", where,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - downSince));
        }
    }

    /** What {@code XINFO STREAM} says of a topic: the newest id, the oldest retained, and whether any was trimmed. */
    private record StreamInfo(EventId last, EventId first, long length, long added) {
        static StreamInfo parse(List<Object> info) {
            EventId last = EventId.ZERO;
            EventId first = null;
            long length = 0;
            long added = -1;
            for (int i = 0; i + 1 < info.size(); i += 2) {
                String name = String.valueOf(info.get(i));
                Object value = info.get(i + 1);
                switch (name) {
                    case "last-generated-id" -> last = EventId.parse(String.valueOf(value));
                    case "length" -> length = ((Number) value).longValue();
                    case "entries-added" -> added = ((Number) value).longValue();
                    case "first-entry" -> {
                        if (value instanceof List<?> entry && !entry.isEmpty()) {
                            first = EventId.parse(String.valueOf(entry.get(0)));
                        }
                    }
                    default -> { }
                }
            }
            if (added < 0) {
                throw new StoreException("redis is older than 7.0 (XINFO STREAM has no entries-added): upgrade it");
            }
            return new StreamInfo(last, first, length, added);
        }
    }

    /** The command timeout, longer for {@code XREAD BLOCK} by the block time. */
    private static final class Timeouts extends TimeoutOptions.TimeoutSource {
        @Override
        public long getTimeout(RedisCommand<?, ?, ?> command) {
            long base = COMMAND_TIMEOUT.toMillis();
            return command.getType() != null && "XREAD".equals(command.getType().toString()) ? base + BLOCK.toMillis()
                    : base;
        }

        @Override
        public TimeUnit getTimeUnit() {
            return TimeUnit.MILLISECONDS;
        }
    }
}
