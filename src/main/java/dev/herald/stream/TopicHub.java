package dev.herald.stream;

import dev.herald.store.Event;
import dev.herald.store.EventId;
import dev.herald.store.EventLog;
import dev.herald.store.Replay;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * Owns the subscribers of every topic and fans committed events out to them.
 *
 * <h2>Fan-out</h2>
 * One {@link EventLog#tail} listener serves the whole hub; each subscriber holds an {@link EventLog#interest} in
 * its topic, so a log shared by several nodes only reads the topics that have subscribers here. Each committed
 * event is appended once to its topic's {@link TopicFeed} (encoded once as NDJSON; SSE is encoded lazily, also
 * once), which wakes one task per event loop with subscribers of the topic; that task lets each of them write the
 * events from its cursor on, batched into one write while its stream is writable. The publishing thread never
 * touches a subscriber, a stalled subscriber only stops moving its own cursor, and no subscriber can delay
 * another.
 *
 * <h2>Memory</h2>
 * A feed holds an event only while a subscriber here still needs it, and at most
 * {@link StreamSettings#maxLagEvents()} events and {@link StreamSettings#maxLagBytes()} bytes; a live subscriber
 * beyond either bound is ended as slow (it may resume by id). Replay pages are at most {@link #replayPage()}
 * events.
 *
 * <h2>Threads</h2>
 * The tail listener runs on the store's notifier thread; heartbeats are scheduled on one hub timer thread and
 * hop to each subscriber's event loop; everything that touches a stream runs on that stream's event loop.
 */
public final class TopicHub implements AutoCloseable {
    static final Logger LOG = LoggerFactory.getLogger(TopicHub.class);
    /**
     * How long a topic without subscribers stays live after its last publish or subscriber, counting towards
     * {@link StreamSettings#maxTopics()}: long enough that a publisher and its subscribers, arriving in any order,
     * see the same topic; short enough that topics published once stop counting soon.
     */
    public static final Duration TOPIC_LINGER = Duration.ofMinutes(1);
    /**
     * A topic name. Not {@code .} or {@code ..}: browsers, curl and proxies remove those path segments
     * (RFC 3986 §5.2.4), so {@code EventSource('/topics/..')} could never reach such a topic.
     */
    static final Pattern TOPIC = Pattern.compile("(?!\\.\\.?$)[A-Za-z0-9._-]{1,128}");
    /** {@link #TOPIC} for people, in error messages. */
    static final String TOPIC_GRAMMAR = "1 to 128 of A-Z a-z 0-9 . _ -, not . or ..";

    final EventLog log;
    final StreamSettings settings;
    private final ConcurrentHashMap<String, TopicFeed> feeds = new ConcurrentHashMap<>();
    private final Set<Subscriber> all = ConcurrentHashMap.newKeySet();
    private final AtomicInteger slots = new AtomicInteger();
    private final ConcurrentHashMap<Long, AtomicInteger> perConnection = new ConcurrentHashMap<>();
    private final AtomicLong peakQueuedBytes = new AtomicLong();
    private final ConcurrentHashMap<String, LiveTopic> live = new ConcurrentHashMap<>();
    private final AtomicInteger liveCount = new AtomicInteger();
    private final AutoCloseable tail;
    final ScheduledExecutorService timer;
    final Counter delivered;
    final Counter slowDisconnects;
    private volatile boolean closed;

    TopicHub(EventLog log, StreamSettings settings, MeterRegistry metrics) {
        this.log = log;
        this.settings = settings;
        Gauge.builder("herald.topics.subscribers", slots, AtomicInteger::get)
                .description("open topic subscriber streams").register(metrics);
        delivered = Counter.builder("herald.topics.events.delivered")
                .description("events written to subscriber streams").register(metrics);
        slowDisconnects = Counter.builder("herald.topics.slow.disconnects")
                .description("subscribers ended because they fell too far behind").register(metrics);
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "herald-topics-heartbeat");
            t.setDaemon(true);
            return t;
        });
        long hb = settings.heartbeat().toMillis();
        timer.scheduleAtFixedRate(this::heartbeats, hb / 2, hb / 2, TimeUnit.MILLISECONDS);
        long sweep = TOPIC_LINGER.toMillis() / 4;
        timer.scheduleAtFixedRate(() -> sweepTopics(System.nanoTime()), sweep, sweep, TimeUnit.MILLISECONDS);
        tail = log.tail(this::onEvent, this::onGap);
    }

    /**
     * Publishes {@code json} to {@code topic} from code, with the same validation as an HTTP publish.
     *
     * @return the stored event, once committed
     * @throws IllegalArgumentException when the topic name or the JSON is invalid or too large
     */
    public CompletableFuture<Event> publish(String topic, String json) {
        if (!validTopic(topic)) {
            throw new IllegalArgumentException("topic: " + topic + " (expected: " + TOPIC_GRAMMAR + ")");
        }
        byte[] bytes = json.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (bytes.length > settings.maxEventBytes()) {
            throw new IllegalArgumentException("event: " + bytes.length + " bytes (expected: <= "
                    + settings.maxEventBytes() + ")");
        }
        String problem = JsonCheck.problem(bytes);
        if (problem != null) {
            throw new IllegalArgumentException("event: " + problem);
        }
        return log.append(topic, json.strip());
    }

    /**
     * Counts a subscriber of, or a publish to, {@code topic}; false (and nothing counted) when the topic is not
     * live and {@link StreamSettings#maxTopics()} topics already are.
     */
    boolean admitTopic(String topic, boolean subscriber) {
        boolean[] refused = new boolean[1];
        long now = System.nanoTime();
        live.compute(topic, (k, t) -> {
            if (t == null) {
                if (liveCount.incrementAndGet() > settings.maxTopics()) {
                    liveCount.decrementAndGet();
                    refused[0] = true;
                    return null;
                }
                t = new LiveTopic();
            }
            if (subscriber) {
                t.subscribers++;
            }
            t.touched = now;
            return t;
        });
        return !refused[0];
    }

    /** Whether {@link #admitTopic} would admit {@code topic} now, counting nothing (a HEAD's check). */
    boolean wouldAdmitTopic(String topic) {
        return live.containsKey(topic) || liveCount.get() < settings.maxTopics();
    }

    /** A subscriber admitted by {@link #admitTopic} has gone; the topic lingers for {@link #TOPIC_LINGER}. */
    void leaveTopic(String topic) {
        long now = System.nanoTime();
        live.computeIfPresent(topic, (k, t) -> {
            t.subscribers--;
            t.touched = now;
            return t;
        });
    }

    /** Forgets the topics without subscribers that nothing touched within {@link #TOPIC_LINGER} before {@code now}. */
    void sweepTopics(long nowNanos) {
        long linger = TOPIC_LINGER.toNanos();
        for (String topic : live.keySet()) {
            live.computeIfPresent(topic, (k, t) -> {
                if (t.subscribers <= 0 && nowNanos - t.touched > linger) {
                    liveCount.decrementAndGet();
                    return null;
                }
                return t;
            });
        }
    }

    /** Live topics now: with a subscriber, or touched within {@link #TOPIC_LINGER}. */
    public int liveTopics() {
        return liveCount.get();
    }

    /** Open subscriber streams, all topics. */
    public int subscriberCount() {
        return slots.get();
    }

    /** Ends every subscriber stream and stops listening to the log. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        timer.shutdownNow();
        try {
            tail.close();
        } catch (Exception e) {
            LOG.warn("closing the event log listener failed", e);
        }
        for (Subscriber s : List.copyOf(all)) {
            s.shutdown();
        }
    }

    static boolean validTopic(String name) {
        return name != null && TOPIC.matcher(name).matches();
    }

    /** Events per replay read; also bounds the events a resuming subscriber holds outside its queue. */
    int replayPage() {
        return Math.min(settings.maxLagEvents(), 512);
    }

    /**
     * One replay read: at most {@link #replayPage()} events, and the store stops once they hold
     * {@code max-lag-bytes} characters of data, so that a resuming subscriber whose stream does not drain holds
     * about as much as a live one may (512 events of 64 KiB were 32 MiB each).
     */
    CompletableFuture<Replay> readAfter(String topic, EventId after) {
        return log.readAfter(topic, after, replayPage(), settings.maxLagBytes());
    }

    /** Whether the store may hold events after this page of {@link #readAfter}: it was full by count or size. */
    boolean mayHaveMore(List<Event> page) {
        if (page.size() >= replayPage()) {
            return true;
        }
        long chars = 0;
        for (Event e : page) {
            chars += e.data().length();
        }
        return chars >= settings.maxLagBytes();
    }

    /** Reserves a subscriber slot, or says why not. */
    String reserve(long connectionId) {
        int total = slots.incrementAndGet();
        int onConnection = perConnection.computeIfAbsent(connectionId, k -> new AtomicInteger()).incrementAndGet();
        String refused = refusal(total, onConnection);
        if (refused != null) {
            release(connectionId);
        }
        return refused;
    }

    /** Why {@link #reserve} would refuse a subscriber now, or null; reserves nothing (a HEAD's check). */
    String wouldRefuse(long connectionId) {
        AtomicInteger c = perConnection.get(connectionId);
        return refusal(slots.get() + 1, (c == null ? 0 : c.get()) + 1);
    }

    /** Why a subscriber that would make {@code total} in all and {@code onConnection} on its own is refused. */
    private String refusal(int total, int onConnection) {
        if (closed) {
            return "the hub is shutting down";
        }
        if (total > settings.maxSubscribers()) {
            return "too many subscribers (limit " + settings.maxSubscribers() + ")";
        }
        if (onConnection > settings.maxSubscribersPerConnection()) {
            return "too many subscribers on this connection (limit " + settings.maxSubscribersPerConnection() + ")";
        }
        return null;
    }

    void release(long connectionId) {
        slots.decrementAndGet();
        perConnection.computeIfPresent(connectionId, (k, c) -> c.decrementAndGet() <= 0 ? null : c);
    }

    /**
     * Event loop of {@code s}: the feed group of its topic on its loop, created when it is the first there. The
     * subscriber then adds itself and takes its cursor, and only then the log's interest in the topic, so that no
     * event the log delivers once it follows the topic can miss it.
     */
    TopicFeed.LoopFeed join(Subscriber s) {
        all.add(s);
        TopicFeed.LoopFeed[] group = new TopicFeed.LoopFeed[1];
        feeds.compute(s.topic, (k, f) -> {
            TopicFeed feed = f != null ? f : new TopicFeed(k, settings.maxLagEvents(), settings.maxLagBytes(),
                    delivered);
            for (TopicFeed.LoopFeed l : feed.loops) {
                if (l.loop == s.loop) {
                    group[0] = l;
                    break;
                }
            }
            if (group[0] == null) {
                group[0] = new TopicFeed.LoopFeed(feed, s.loop);
                feed.loops.add(group[0]);
            }
            return feed;
        });
        return group[0];
    }

    /** Event loop of {@code s}: it stops reading its topic's feed; the feed goes with its last subscriber. */
    void leave(Subscriber s, TopicFeed.LoopFeed group) {
        all.remove(s);
        feeds.computeIfPresent(s.topic, (k, f) -> {
            if (group.remove(s)) {
                f.loops.remove(group);
            }
            return f.loops.isEmpty() ? null : f;
        });
    }

    /** Counts events written outside a feed's drain task (replay pages, a stream writable again). */
    void delivered(int events) {
        if (events > 0) {
            delivered.increment(events);
        }
    }

    void queued(long bytes) {
        peakQueuedBytes.accumulateAndGet(bytes, Math::max);
    }

    /** The most bytes any one subscriber ever had queued; never above {@code maxLagBytes}. For tests. */
    long peakQueuedBytes() {
        return peakQueuedBytes.get();
    }

    /** The live subscribers of a topic. For tests. */
    List<Subscriber> subscribers(String topic) {
        List<Subscriber> list = new ArrayList<>();
        for (Subscriber s : all) {
            if (s.topic.equals(topic)) {
                list.add(s);
            }
        }
        return list;
    }

    private void onEvent(Event e) {
        TopicFeed f = feeds.get(e.topic());
        if (f != null) {
            f.append(e);
        }
    }

    /** Store notifier thread: the log missed events of {@code topic}; its next event is marked for subscribers. */
    private void onGap(String topic) {
        TopicFeed f = feeds.get(topic);
        if (f != null) {
            f.gap();
        }
    }

    private void heartbeats() {
        try {
            for (Subscriber s : all) {
                s.loop.execute(s::heartbeat);
            }
        } catch (RuntimeException e) {
            LOG.warn("heartbeat round failed", e);
        }
    }

    /** A live topic's subscribers (admitted, not yet gone) and when it was last subscribed or published to. */
    private static final class LiveTopic {
        int subscribers;
        long touched;
    }

    /** An event as queued for subscribers: encoded once per representation, shared by every subscriber. */
    static final class Queued {
        final Event event;
        final byte[] ndjson;
        /** Its sequence number in its topic's feed. */
        final long seq;
        /** The bytes (by {@link #size()}) of every event appended to the feed before this one. */
        final long startBytes;
        /**
         * Whether the log missed events right before this one (trimmed from the store before this node read them):
         * a subscriber that has not read past it from the store lost them, and must resume from the store.
         */
        final boolean lostBefore;
        private volatile byte[] sse;

        Queued(Event event, long seq, long startBytes) {
            this(event, seq, startBytes, false);
        }

        Queued(Event event, long seq, long startBytes, boolean lostBefore) {
            this.event = event;
            this.ndjson = Format.ndjson(event);
            this.seq = seq;
            this.startBytes = startBytes;
            this.lostBefore = lostBefore;
        }

        /** What this event counts towards the lag bounds: its NDJSON size (the SSE form differs by a few bytes). */
        int size() {
            return ndjson.length + 32;
        }

        byte[] bytes(Format f) {
            if (f == Format.NDJSON) {
                return ndjson;
            }
            byte[] b = sse;
            if (b == null) {
                b = Format.SSE.event(event); // a benign race: at worst encoded twice
                sse = b;
            }
            return b;
        }
    }
}
