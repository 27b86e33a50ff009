package dev.herald.store.redis;

import dev.herald.store.Event;
import dev.herald.store.EventId;
import dev.herald.store.EventLog;
import dev.herald.store.Replay;
import dev.herald.store.Retention;
import dev.herald.store.StoreClosedException;
import dev.herald.store.StoreException;
import dev.herald.store.StoreOverloadedException;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.TimeoutOptions;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
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
 *   <li>{@code herald:topics}: the set of topic names ever appended to.</li>
 *   <li>{@code herald:topics:created}: a short stream announcing each new topic, so that every node's tail reader
 *       wakes up and starts reading the new topic's stream at once.</li>
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
 * One reader loop per instance, on a dedicated connection: {@code XREAD BLOCK} over every topic stream and the
 * announcement stream, from the last id delivered per stream. Listeners run on the loop's single thread, in stream
 * order, so every node delivers each topic's events in the same order. After an outage the loop resumes from those
 * ids: the events appended meanwhile (by other nodes, or by this one once Redis is back) are delivered with no gap
 * and no duplicate.
 *
 * <h2>Faults</h2>
 * Commands are rejected at once while the connection is down (no buffering) and time out after
 * {@link #COMMAND_TIMEOUT}: appends then fail with {@link RedisUnavailableException}, a Redis error reply with
 * {@link StoreException}, and more than {@link #MAX_PENDING_APPENDS} appends in flight with
 * {@link StoreOverloadedException}. Lettuce reconnects by itself; the outage and the recovery are logged once each.
 * The password (from the URL or {@code HERALD_REDIS_PASSWORD}) is never logged: logs name host and port only.
 *
 * <p>Requires Redis 7 or later ({@code XINFO STREAM}'s {@code entries-added}, exclusive ranges).
 */
public final class RedisEventLog implements EventLog {
    private static final Logger LOG = LoggerFactory.getLogger(RedisEventLog.class);

    /** The environment variable read for the password when the URL has none. */
    public static final String PASSWORD_ENV = "HERALD_REDIS_PASSWORD";
    /**
     * The environment variable naming a PEM file of CA certificates to trust for {@code rediss://}, for a Redis with
     * a private or self-signed certificate; without it the JVM's default trust store is used.
     */
    public static final String CA_FILE_ENV = "HERALD_REDIS_CA_FILE";

    static final String TOPIC_PREFIX = "herald:topic:";
    static final String TOPICS = "herald:topics";
    static final String CREATED = "herald:topics:created";

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
    /** Pause of the reader loop after a failed read (Lettuce reconnects meanwhile). */
    private static final Duration RETRY = Duration.ofMillis(200);

    private static final String APPEND = """
            local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], ARGV[2], '*', 'd', ARGV[3])
            if ARGV[4] ~= '0' then redis.call('XTRIM', KEYS[1], 'MINID', ARGV[4]) end
            if redis.call('SADD', KEYS[2], ARGV[5]) == 1 then
              redis.call('XADD', KEYS[3], 'MAXLEN', '~', '1000', '*', 't', ARGV[5])
            end
            return id
            """;

    private final Retention retention;
    private final String where;
    private final ClientResources resources;
    private final RedisClient client;
    private final StatefulRedisConnection<String, String> commands;
    private final StatefulRedisConnection<String, String> reader;
    private final ScheduledExecutorService notifier;
    private final CopyOnWriteArrayList<Consumer<Event>> listeners = new CopyOnWriteArrayList<>();
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicBoolean down = new AtomicBoolean();
    private volatile long downSince;
    private volatile boolean closed;

    // Reader state, touched only on the notifier thread.
    private final Map<String, String> cursors = new LinkedHashMap<>();
    private String createdCursor = "0-0";

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
        log.notifier.scheduleWithFixedDelay(log::trimByAge, TRIM_EVERY.toMillis(), TRIM_EVERY.toMillis(),
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
        String[] keys = {key, TOPICS, CREATED};
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
                throw failure("append to " + topic, err);
            }
            markUp();
            EventId eid = EventId.parse(id);
            return new Event(eid, topic, data, eid.ms());
        });
    }

    // ---------------------------------------------------------------------------------------------- reads

    @Override
    public CompletableFuture<Replay> readAfter(String topic, EventId afterId, int limit) {
        checkTopic(topic);
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
                Throwable t = unwrap(err);
                if (t instanceof RedisCommandExecutionException && String.valueOf(t.getMessage()).contains("no such key")) {
                    return null;
                }
                throw failure("read " + topic, t);
            }
            return StreamInfo.parse(info);
        }).thenCompose(info -> replay(c, key, topic, info, afterId, limit)).handle((r, err) -> {
            if (err != null) {
                throw failure("read " + topic, err);
            }
            markUp();
            return r;
        });
    }

    private CompletableFuture<Replay> replay(RedisAsyncCommands<String, String> c, String key, String topic,
            StreamInfo info, EventId after, int limit) {
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
            return fromStart(c, key, topic, limit);
        }
        if (after.equals(EventId.ZERO) || after.equals(info.last)) {
            return call(() -> c.xrange(key, Range.create(after.equals(EventId.ZERO) ? "-" : next(after), "+"),
                    Limit.from(limit))).thenApply(list -> new Replay(Replay.Status.OK, events(topic, list)));
        }
        // Inside the retained range: after must be a real id. Read it with the events after it in one round trip.
        return call(() -> c.xrange(key, Range.create(after.toString(), "+"), Limit.from(limit + 1L)))
                .thenCompose(list -> {
                    if (!list.isEmpty() && list.get(0).getId().equals(after.toString())) {
                        return CompletableFuture.completedFuture(
                                new Replay(Replay.Status.OK, events(topic, list.subList(1, list.size()))));
                    }
                    if (old) { // its history expired (perhaps the topic was recreated)
                        return fromStart(c, key, topic, limit);
                    }
                    return CompletableFuture.completedFuture(new Replay(Replay.Status.UNKNOWN, List.of()));
                });
    }

    private CompletableFuture<Replay> fromStart(RedisAsyncCommands<String, String> c, String key, String topic,
            int limit) {
        return call(() -> c.xrange(key, Range.create("-", "+"), Limit.from(limit)))
                .thenApply(list -> new Replay(Replay.Status.RESET, events(topic, list)));
    }

    @Override
    public CompletableFuture<List<Event>> latest(String topic, int n) {
        checkTopic(topic);
        if (n < 1) {
            throw new IllegalArgumentException("n: " + n + " (expected: >= 1)");
        }
        if (closed) {
            return CompletableFuture.failedFuture(new StoreClosedException("the redis event log is closed"));
        }
        String key = TOPIC_PREFIX + topic;
        return call(() -> commands.async().xrevrange(key, Range.create("-", "+"), Limit.from(n))).handle((list, err) -> {
            if (err != null) {
                throw failure("read " + topic, err);
            }
            markUp();
            List<Event> events = new ArrayList<>(events(topic, list));
            Collections.reverse(events);
            return List.copyOf(events);
        });
    }

    // ---------------------------------------------------------------------------------------------- tail

    @Override
    public AutoCloseable tail(Consumer<Event> listener) {
        Objects.requireNonNull(listener, "listener");
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    /** Sets the cursors to the current ends of the streams, then starts the loop; completes once the cursors are set. */
    private CompletableFuture<Void> startReader() {
        RedisAsyncCommands<String, String> c = reader.async();
        CompletableFuture<Void> started = new CompletableFuture<>();
        // The announcement cursor first: a topic created after this point is announced after it.
        call(() -> c.xrevrange(CREATED, Range.create("-", "+"), Limit.from(1)))
                .thenCompose(last -> {
                    createdCursor = last.isEmpty() ? "0-0" : last.get(0).getId();
                    return call(() -> c.smembers(TOPICS));
                })
                .thenCompose(names -> {
                    List<String> keys = names.stream().map(n -> TOPIC_PREFIX + n).sorted().toList();
                    List<CompletableFuture<List<StreamMessage<String, String>>>> lasts = keys.stream()
                            .map(k -> call(() -> c.xrevrange(k, Range.create("-", "+"), Limit.from(1)))).toList();
                    return CompletableFuture.allOf(lasts.toArray(CompletableFuture[]::new)).thenApply(v -> {
                        Map<String, String> ids = new LinkedHashMap<>();
                        for (int i = 0; i < keys.size(); i++) {
                            List<StreamMessage<String, String>> last = lasts.get(i).join();
                            ids.put(keys.get(i), last.isEmpty() ? "0-0" : last.get(0).getId());
                        }
                        return ids;
                    });
                })
                .whenCompleteAsync((ids, err) -> {
                    if (err != null) {
                        started.completeExceptionally(unwrap(err));
                        return;
                    }
                    ids.forEach(cursors::putIfAbsent);
                    started.complete(null);
                    readNext();
                }, notifier);
        return started;
    }

    /** One turn of the reader loop, on the notifier thread. */
    private void readNext() {
        if (closed) {
            return;
        }
        List<XReadArgs.StreamOffset<String>> offsets = new ArrayList<>(cursors.size() + 1);
        offsets.add(XReadArgs.StreamOffset.from(CREATED, createdCursor));
        cursors.forEach((k, id) -> offsets.add(XReadArgs.StreamOffset.from(k, id)));
        @SuppressWarnings("unchecked")
        XReadArgs.StreamOffset<String>[] array = offsets.toArray(XReadArgs.StreamOffset[]::new);
        call(() -> reader.async().xread(XReadArgs.Builder.block(BLOCK).count(READ_COUNT), array))
                .whenCompleteAsync((messages, err) -> {
                    if (closed) {
                        return;
                    }
                    if (err != null) {
                        markDown(unwrap(err));
                        notifier.schedule(this::readNext, RETRY.toMillis(), TimeUnit.MILLISECONDS);
                        return;
                    }
                    markUp();
                    deliver(messages);
                    readNext();
                }, notifier);
    }

    /** Runs {@link #trimByAge} now, for tests; completes once the trims were sent. */
    CompletableFuture<Void> trimNow() {
        return CompletableFuture.runAsync(this::trimByAge, notifier);
    }

    /** Trims every known topic to the max age, on the notifier thread; failures wait for the next turn. */
    private void trimByAge() {
        long cutoff = cutoffMs(System.currentTimeMillis());
        if (closed || cutoff <= 0 || down.get()) {
            return;
        }
        XTrimArgs args = XTrimArgs.Builder.minId(cutoff + "-0").exactTrimming();
        for (String key : cursors.keySet()) {
            call(() -> commands.async().xtrim(key, args)).exceptionally(e -> {
                LOG.debug("trim of {} failed", key, e);
                return 0L;
            });
        }
    }

    private void deliver(List<StreamMessage<String, String>> messages) {
        if (messages == null) {
            return;
        }
        for (StreamMessage<String, String> m : messages) {
            String stream = m.getStream();
            if (stream.equals(CREATED)) {
                createdCursor = m.getId();
                String name = m.getBody().get("t");
                if (name != null) {
                    cursors.putIfAbsent(TOPIC_PREFIX + name, "0-0"); // created after the reader started: all of it
                }
                continue;
            }
            if (!cursors.containsKey(stream)) {
                continue;
            }
            cursors.put(stream, m.getId());
            Event e = event(stream.substring(TOPIC_PREFIX.length()), m);
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

    // ---------------------------------------------------------------------------------------------- close

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        notifier.shutdownNow();
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

    /** The id right after {@code id}, for an exclusive start. */
    private static String next(EventId id) {
        return id.seq() == -1L ? Long.toUnsignedString(id.ms() + 1) + "-0"
                : Long.toUnsignedString(id.ms()) + "-" + Long.toUnsignedString(id.seq() + 1);
    }

    private static List<Event> events(String topic, List<StreamMessage<String, String>> list) {
        List<Event> out = new ArrayList<>(list.size());
        for (StreamMessage<String, String> m : list) {
            Event e = event(topic, m);
            if (e != null) {
                out.add(e);
            }
        }
        return out;
    }

    private static Event event(String topic, StreamMessage<String, String> m) {
        String data = m.getBody() == null ? null : m.getBody().get("d");
        if (data == null) {
            LOG.warn("redis stream {}{} entry {} has no field d: skipped", TOPIC_PREFIX, topic, m.getId());
            return null;
        }
        EventId id = EventId.parse(m.getId());
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

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** The store exception for a failed command, counting an unreachable Redis as an outage. */
    private StoreException failure(String what, Throwable err) {
        Throwable t = unwrap(err);
        if (t instanceof StoreException se) {
            return se;
        }
        if (t instanceof RedisCommandExecutionException) {
            return new StoreException("redis at " + where + " refused to " + what + ": " + t.getMessage(), t);
        }
        markDown(t);
        return new RedisUnavailableException("redis at " + where + " is unreachable; retry later", t);
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
