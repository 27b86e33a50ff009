package dev.herald.chat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.herald.server.Exchange;
import dev.herald.server.Handler;
import dev.herald.server.Headers;
import dev.herald.server.LimitLog;
import dev.herald.server.Response;
import dev.herald.server.ResponseStream;
import dev.herald.store.Event;
import dev.herald.store.EventId;
import dev.herald.store.EventLog;
import dev.herald.store.StoreException;
import dev.herald.store.StoreTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The course's chat at {@code /msgs}, wire-compatible with its browser client, on top of an {@link EventLog}.
 *
 * <h2>Wire format</h2>
 * <ul>
 *   <li>{@code GET /msgs}: 200 {@code application/x-ndjson; charset=utf-8}, never ends by itself. The first line is
 *       the state {@code {"msg":[...]}} (at most {@link ChatSettings#history()} messages, newest first, each
 *       {@code {"id","user","text","time"}}); after every change one more state line follows. Every document ends
 *       with {@code \n}, which {@code JSON.parse} in the course's client still accepts.</li>
 *   <li>{@code POST /msgs} with {@code {"user","text"}} (a JSON content type, at most 16 KiB): 201 with the stored
 *       message, sent only after the store committed it; 400/413/415 {@code {"error","detail"}} otherwise, and
 *       nothing is stored.</li>
 *   <li>{@code HEAD} answers the stream's headers; {@code OPTIONS} 204; other methods 405 with {@code Allow}.</li>
 * </ul>
 *
 * <h2>State and other nodes</h2>
 * Messages are events of topic {@value #TOPIC} whose data is {@code {"user","text"}}. The newest messages are kept
 * in memory: loaded with {@link EventLog#latest} at start (then {@link EventLog#latestBefore}, page by page, while
 * the events read hold fewer valid messages than the history keeps), then updated from {@link EventLog#tail} (the
 * handler holds the log's {@link EventLog#interest} in the topic for its whole life), so a message that reached the
 * store by another path (a {@code POST /topics/chat}, another node on a shared store) shows up too. Updates are
 * keyed by event id, so seeing one event twice (from the POST's own commit and from the tail) changes nothing.
 * Events of the topic that are not valid chat messages are skipped with a debug line, at start and live, and never
 * take a message's place.
 *
 * <h2>Backpressure: coalescing</h2>
 * Every state document supersedes the previous one, so a stream that is not writable (its HTTP/2 window or its
 * socket is full) keeps only the newest pending document, written when {@link ResponseStream#onWritable} fires.
 * A stalled reader therefore costs one pending reference to a shared byte array, never a growing queue.
 *
 * <h2>Heartbeats</h2>
 * A stream silent for {@link ChatSettings#heartbeat()} gets a heartbeat so that proxies keep it open. The course's
 * client runs {@code JSON.parse} on every chunk and throws on an empty line, so the default heartbeat is the
 * current state document again ({@link ChatSettings.HeartbeatStyle#STATE}); deployments without the old client
 * can choose an empty line.
 *
 * <p>Nothing here blocks an event loop: the store's futures complete on its threads, and replies and writes hop
 * back through {@link Exchange} and {@link ResponseStream}, which accept calls from any thread.
 */
public final class ChatHandler implements Handler, AutoCloseable {
    /** The event-log topic that holds the chat. */
    public static final String TOPIC = "chat";
    static final String ALLOW = "GET, HEAD, POST, OPTIONS";
    private static final Logger LOG = LoggerFactory.getLogger(ChatHandler.class);
    private static final byte[] EMPTY_LINE = {'\n'};
    /** Events read per page when the newest ones held too few chat messages. */
    private static final int OLDER_PAGE = 256;

    private final EventLog log;
    private final ChatSettings settings;
    private final LimitLog limitLog;
    private final Object lock = new Object();
    /** The newest messages by id; guarded by {@link #lock}. */
    private final TreeMap<EventId, Message> messages = new TreeMap<>();
    /** The current state document with its newline; replaced (never mutated) under {@link #lock}. */
    private volatile byte[] document;
    private final Set<Subscriber> subscribers = ConcurrentHashMap.newKeySet();
    private final AtomicInteger reserved = new AtomicInteger();
    private final LongAdder coalesced = new LongAdder();
    private final AutoCloseable tail;
    private final EventLog.Interest interest;
    private final ScheduledExecutorService heartbeats;
    private volatile CompletableFuture<Void> loaded;
    private volatile boolean closed;

    /** One chat message as clients see it, with its JSON form rendered once. */
    record Message(EventId id, String user, String text, long time, String json) {
    }

    /**
     * Starts following the log's topic {@value #TOPIC} and loads the newest messages. The caller keeps owning
     * the log; {@link #close()} does not close it.
     */
    public ChatHandler(EventLog log, ChatSettings settings) {
        this(log, settings, LimitLog.create(java.time.Duration.ofSeconds(10)));
    }

    /** As {@link #ChatHandler(EventLog, ChatSettings)}, refusals beyond the stream limit logged to {@code limitLog}. */
    public ChatHandler(EventLog log, ChatSettings settings, LimitLog limitLog) {
        this.limitLog = Objects.requireNonNull(limitLog, "limitLog");
        this.log = Objects.requireNonNull(log, "log");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.document = render();
        this.tail = log.tail(this::onEvent);
        this.interest = log.interest(TOPIC); // always: the state follows the topic with or without streams open
        this.loaded = load();
        this.heartbeats = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "herald-chat-heartbeat");
            t.setDaemon(true);
            return t;
        });
        long period = Math.max(1, settings.heartbeat().toMillis() / 2);
        heartbeats.scheduleAtFixedRate(this::heartbeat, period, period, TimeUnit.MILLISECONDS);
    }

    @Override
    public void handle(Exchange exchange) {
        switch (exchange.request().method()) {
            case "GET" -> subscribe(exchange);
            case "HEAD" -> head(exchange);
            case "POST" -> post(exchange);
            case "OPTIONS" -> exchange.respond(Response.status(204).header("allow", ALLOW));
            default -> {
                LOG.info("chat: {} /msgs from {}: 405", exchange.request().method(), exchange.request().remote());
                exchange.respond(error(405, "method not allowed",
                        exchange.request().method() + " is not supported on /msgs (expected: " + ALLOW + ")")
                        .header("allow", ALLOW));
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- GET

    private void subscribe(Exchange exchange) {
        if (closed) {
            exchange.respond(unavailable("the chat is shutting down"));
            return;
        }
        if (reserved.incrementAndGet() > settings.maxSubscribers()) {
            reserved.decrementAndGet();
            limitLog.exceeded("streams.max-subscribers", exchange.request().remote(),
                    "GET /msgs: 503, " + settings.maxSubscribers() + " streams open");
            exchange.respond(unavailable("too many open /msgs streams; retry later"));
            return;
        }
        CompletableFuture<Void> l = loaded;
        if (l.isCompletedExceptionally()) {
            synchronized (lock) {
                if (loaded == l) {
                    loaded = load();
                }
                l = loaded;
            }
        }
        l.whenComplete((v, err) -> exchange.eventLoop().execute(() -> start(exchange, err)));
    }

    private void start(Exchange exchange, Throwable loadError) {
        if (loadError != null || closed || !exchange.isOpen()) {
            reserved.decrementAndGet();
            if (loadError != null || closed) {
                exchange.respond(unavailable("the chat history cannot be read; retry later"));
            }
            return;
        }
        ResponseStream stream = exchange.stream(200, streamHeaders());
        Subscriber sub = new Subscriber(stream);
        stream.onWritable(sub::drain);
        stream.onClose(sub::remove);
        synchronized (lock) {
            subscribers.add(sub);
            sub.offer(document);
        }
    }

    /**
     * HEAD: the GET's status and headers with no content-length (the GET is endless) and no body; nothing is
     * subscribed and no stream stays open.
     */
    private void head(Exchange exchange) {
        if (closed) {
            exchange.respond(unavailable("the chat is shutting down"));
            return;
        }
        Response r = Response.status(200).lengthUnknown();
        streamHeaders().forEach(r::header);
        exchange.respond(r);
    }

    /** The headers of a {@code GET /msgs} stream, which a HEAD answers too. */
    private static Headers streamHeaders() {
        return new Headers().add("content-type", "application/x-ndjson; charset=utf-8")
                .add("cache-control", "no-store").add("x-accel-buffering", "no")
                .add("x-content-type-options", "nosniff");
    }

    // ---------------------------------------------------------------------------------------------- POST

    private void post(Exchange exchange) {
        MessageInput.Valid valid;
        try {
            valid = MessageInput.parseRequest(exchange.request().header("content-type"), exchange.request().body(),
                    settings);
        } catch (MessageInput.Rejected r) {
            LOG.info("chat: POST /msgs from {}: {} {}: {}", exchange.request().remote(), r.status, r.error,
                    r.detail());
            exchange.respond(error(r.status, r.error, r.detail()));
            return;
        }
        ObjectNode data = MessageInput.JSON.createObjectNode().put("user", valid.user()).put("text", valid.text());
        log.append(TOPIC, data.toString()).whenComplete((event, err) -> {
            if (err != null) {
                Throwable cause = StoreException.unwrap(err);
                limitLog.failed("chat post", "POST /msgs from " + exchange.request().remote(), cause);
                exchange.respond(cause instanceof StoreTimeoutException
                        ? error(504, "timeout", "the store did not answer; the message may have been stored:"
                                + " read GET /msgs to check before posting it again")
                        : unavailable("the message could not be stored; retry later"));
                return;
            }
            Message m = toMessage(event);
            if (m == null) { // cannot happen: we validated it
                exchange.respond(error(500, "internal error", "the stored message cannot be read back"));
                return;
            }
            apply(m); // open streams get the new state before the poster sees 201
            exchange.respond(Response.json(201, m.json()).header("cache-control", "no-store"));
        });
    }

    // ---------------------------------------------------------------------------------------------- state

    /**
     * Reads the newest {@link ChatSettings#history()} valid messages: the newest events first, then page after
     * older page while fewer valid messages were found, until enough are or the history begins. Events of the topic
     * that are not chat messages (anyone may publish to {@code /topics/chat}) therefore never hide older messages.
     */
    private CompletableFuture<Void> load() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        int n = settings.history();
        // Once the log follows the topic, so that every message after the read reaches onEvent.
        interest.ready().thenCompose(v -> log.latest(TOPIC, n))
                .whenComplete((page, err) -> loadPage(page, err, n, 0, done));
        return done.whenComplete((v, err) -> {
            if (err != null) {
                LOG.error("chat: cannot load the newest messages of topic {}", TOPIC, err);
            }
        });
    }

    /** Keeps a page's messages, then reads the one before it unless {@code done} can complete. */
    private void loadPage(List<Event> page, Throwable err, int requested, int found, CompletableFuture<Void> done) {
        if (err != null) {
            done.completeExceptionally(err);
            return;
        }
        int valid = found;
        synchronized (lock) {
            boolean changed = false;
            for (Event e : page) {
                Message m = toMessage(e);
                if (m != null) {
                    valid++;
                    changed |= add(m);
                }
            }
            if (changed) {
                publish();
            }
        }
        if (valid >= settings.history() || page.size() < requested) {
            done.complete(null);
            return;
        }
        int total = valid;
        int n = Math.max(settings.history(), OLDER_PAGE);
        try {
            log.latestBefore(TOPIC, page.get(0).id(), n).whenComplete((older, e) -> loadPage(older, e, n, total, done));
        } catch (RuntimeException e) {
            done.completeExceptionally(e);
        }
    }

    private void onEvent(Event event) {
        if (!TOPIC.equals(event.topic())) {
            return;
        }
        Message m = toMessage(event);
        if (m != null) {
            apply(m);
        }
    }

    private void apply(Message m) {
        synchronized (lock) {
            if (add(m)) {
                publish();
            }
        }
    }

    /** Adds a message unless it is known or older than the window; called under {@link #lock}. */
    private boolean add(Message m) {
        if (messages.size() >= settings.history() && m.id().compareTo(messages.firstKey()) <= 0) {
            return false;
        }
        if (messages.putIfAbsent(m.id(), m) != null) {
            return false;
        }
        while (messages.size() > settings.history()) {
            messages.pollFirstEntry();
        }
        return true;
    }

    /** Renders the state and hands it to every stream; called under {@link #lock} so offers keep their order. */
    private void publish() {
        byte[] doc = render();
        document = doc;
        for (Subscriber s : subscribers) {
            s.offer(doc);
        }
    }

    private byte[] render() {
        StringBuilder sb = new StringBuilder(64 + messages.size() * 128).append("{\"msg\":[");
        boolean first = true;
        for (Message m : messages.descendingMap().values()) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            sb.append(m.json());
        }
        return sb.append("]}\n").toString().getBytes(StandardCharsets.UTF_8);
    }

    private Message toMessage(Event e) {
        try {
            MessageInput.Valid v = MessageInput.fields(MessageInput.JSON.readTree(e.data()), settings);
            ObjectNode json = MessageInput.JSON.createObjectNode().put("id", e.id().toString())
                    .put("user", v.user()).put("text", v.text()).put("time", e.time());
            return new Message(e.id(), v.user(), v.text(), e.time(), json.toString());
        } catch (MessageInput.Rejected | JsonProcessingException | RuntimeException x) {
            LOG.debug("chat: skipping event {} of topic {}: not a chat message: {}", e.id(), TOPIC, x.getMessage());
            return null;
        }
    }

    /** The messages currently kept, newest first (for tests and diagnostics). */
    List<Message> messages() {
        synchronized (lock) {
            return new ArrayList<>(messages.descendingMap().values());
        }
    }

    // ---------------------------------------------------------------------------------------------- streams

    private void heartbeat() {
        long idle = settings.heartbeat().toNanos();
        long now = System.nanoTime();
        for (Subscriber s : subscribers) {
            if (now - s.lastWrite >= idle) {
                if (settings.heartbeatStyle() == ChatSettings.HeartbeatStyle.STATE) {
                    synchronized (lock) {
                        s.offerIfIdle(document);
                    }
                } else {
                    s.offerIfIdle(EMPTY_LINE);
                }
            }
        }
    }

    /** Open /msgs streams. */
    int subscribers() {
        return subscribers.size();
    }

    /** State documents dropped because a newer one replaced them before the stream could take them. */
    long coalesced() {
        return coalesced.sum();
    }

    /** Stops following the log and ends every open stream. The log stays open (its owner closes it). */
    @Override
    public void close() {
        closed = true;
        heartbeats.shutdownNow();
        try {
            tail.close();
        } catch (Exception e) {
            LOG.warn("chat: cannot unregister from the event log", e);
        }
        interest.close();
        for (Subscriber s : subscribers) {
            s.stream.end();
        }
    }

    /** One open /msgs stream with at most one pending document. */
    private final class Subscriber {
        final ResponseStream stream;
        final AtomicReference<byte[]> pending = new AtomicReference<>();
        final AtomicBoolean scheduled = new AtomicBoolean();
        final AtomicBoolean removed = new AtomicBoolean();
        volatile long lastWrite = System.nanoTime();

        Subscriber(ResponseStream stream) {
            this.stream = stream;
        }

        /** Replaces the pending document (coalescing) and makes sure a drain is on its way. */
        void offer(byte[] doc) {
            byte[] previous = pending.getAndSet(doc);
            if (previous != null && previous != EMPTY_LINE) {
                coalesced.increment();
            }
            schedule();
        }

        void offerIfIdle(byte[] doc) {
            if (pending.compareAndSet(null, doc)) {
                schedule();
            }
        }

        private void schedule() {
            if (scheduled.compareAndSet(false, true)) {
                stream.eventLoop().execute(this::drain);
            }
        }

        /** On the stream's event loop: writes the pending document if the stream can take it now. */
        void drain() {
            scheduled.set(false);
            if (!stream.isOpen()) {
                remove();
                return;
            }
            while (stream.isWritable()) {
                byte[] doc = pending.getAndSet(null);
                if (doc == null) {
                    return;
                }
                stream.write(doc);
                lastWrite = System.nanoTime();
            }
        }

        void remove() {
            if (removed.compareAndSet(false, true)) {
                subscribers.remove(this);
                pending.set(null);
                reserved.decrementAndGet();
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- replies

    private static Response unavailable(String detail) {
        return error(503, "unavailable", detail).header("retry-after", "5");
    }

    static Response error(int status, String error, String detail) {
        return Response.error(status, error, detail).header("cache-control", "no-store");
    }

}
