package dev.herald.stream;

import dev.herald.server.Exchange;
import dev.herald.server.Headers;
import dev.herald.server.ResponseStream;
import dev.herald.store.Event;
import dev.herald.store.EventId;
import dev.herald.store.EventLog;
import dev.herald.store.Replay;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One subscriber stream.
 *
 * <h2>States</h2>
 * {@code REPLAYING}: the subscriber is registered (live events collect in its queue), holds the log's interest in
 * its topic, and, once the log follows the topic, pages of missed events are read from the store and written. {@code OVERFLOWED}: while replaying, the queue hit its bound and a live
 * event was dropped; the store has it, so the next page read covers it. {@code LIVE}: replay is over, queued
 * events are written (those with an id not above the last replayed one are dropped, so there is no duplicate),
 * and a full queue now means the subscriber is too slow. {@code DEAD}: ended, or slow, or closed.
 *
 * <p>{@link #offer} runs on the store's notifier thread and only touches atomics and the lock-free queue;
 * everything else runs on the stream's event loop.
 */
final class Subscriber {
    private static final Logger LOG = LoggerFactory.getLogger(Subscriber.class);
    private static final int REPLAYING = 0;
    private static final int OVERFLOWED = 1;
    private static final int LIVE = 2;
    private static final int DEAD = 3;
    private static final int BATCH_BYTES = 64 * 1024;
    private static final int BATCH_EVENTS = 256;

    private final TopicHub hub;
    final String topic;
    private final Format format;
    private final Exchange exchange;
    private final long connectionId;
    final Executor loop;
    private final TopicHub.LoopBatch batch;
    private final ConcurrentLinkedQueue<TopicHub.Queued> inbox = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queuedEvents = new AtomicInteger();
    private final AtomicLong queuedBytes = new AtomicLong();
    private final AtomicInteger state = new AtomicInteger(REPLAYING);
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final AtomicBoolean released = new AtomicBoolean();
    private volatile EventLog.Interest interest;

    // event-loop confined
    private ResponseStream stream;
    private final ArrayDeque<Event> page = new ArrayDeque<>(1); // grows on replay; live-only stays small
    private boolean morePages;
    private boolean fetching;
    private EventId lastId;
    private long lastWrite;

    Subscriber(TopicHub hub, String topic, Format format, Exchange exchange) {
        this.hub = hub;
        this.topic = topic;
        this.format = format;
        this.exchange = exchange;
        this.connectionId = exchange.request().connectionId();
        this.loop = exchange.eventLoop();
        this.batch = hub.batch(loop);
    }

    /** Bytes queued and not yet written; never above {@code maxLagBytes}. */
    long queuedBytes() {
        return queuedBytes.get();
    }

    /**
     * Starts without history: registered and live, the stream opened once the log follows the topic (so every event
     * published after the client saw the headers reaches it).
     */
    void startLive() {
        state.set(LIVE);
        register().whenComplete((v, err) -> loop.execute(() -> {
            if (err != null) {
                kill();
                LOG.warn("following {} failed", topic, err);
                TopicsHandler.error(exchange, 503, "store unavailable", "the event log could not be followed");
                return;
            }
            if (open()) {
                drain();
            }
        }));
    }

    /**
     * Registers first (live events queue up), waits until the log follows the topic, then replays from the store
     * after {@code afterId}: every event is either in the replay or queued live (or both; the ids tell).
     */
    void startResume(EventId afterId) {
        lastId = afterId;
        fetching = true;
        register().thenCompose(v -> hub.log.readAfter(topic, afterId, hub.replayPage()))
                .whenComplete((r, err) -> loop.execute(() -> firstPage(afterId, r, err)));
    }

    /** Registers with the hub and takes the log's interest in the topic; completes once it is followed. */
    private CompletableFuture<Void> register() {
        interest = hub.register(this);
        return interest.ready();
    }

    /** Stops receiving live events and gives the interest in the topic back. Idempotent. */
    private void unregister() {
        hub.unregister(this);
        EventLog.Interest i = interest;
        if (i != null) {
            i.close();
        }
    }

    private void firstPage(EventId afterId, Replay r, Throwable err) {
        if (err != null || r.status() == Replay.Status.UNKNOWN) {
            kill();
            if (err != null) {
                LOG.warn("replay of {} after {} failed", topic, afterId, err);
                TopicsHandler.error(exchange, 503, "store unavailable", "the event log could not be read");
            } else {
                TopicsHandler.error(exchange, 400, "unknown event id",
                        "topic " + topic + " never had an event with id " + afterId);
            }
            return;
        }
        if (!open()) {
            return;
        }
        if (r.status() == Replay.Status.RESET) {
            writeReset(afterId, r.events());
        }
        acceptPage(r.events());
    }

    private void writeReset(EventId afterId, List<Event> events) {
        String oldest = events.isEmpty() ? "null" : "\"" + events.get(0).id() + "\"";
        write(format.control("reset", "{\"reason\":\"event " + afterId
                + " is older than the retained history; replaying from the oldest retained event\",\"oldest\":"
                + oldest + "}"));
    }

    /** Opens the response stream; false (and the slot given back) when the client is already gone. */
    private boolean open() {
        if (!exchange.isOpen() || state.get() == DEAD) {
            kill();
            return false;
        }
        Headers h = new Headers().add("content-type", format.contentType).add("cache-control", "no-store")
                .add("x-accel-buffering", "no");
        stream = exchange.stream(200, h);
        stream.onClose(this::closed);
        stream.onWritable(this::drain);
        lastWrite = System.nanoTime();
        byte[] pre = format.preamble(hub.settings.sseRetry().toMillis());
        if (pre != null) {
            write(pre);
        }
        return true;
    }

    private void acceptPage(List<Event> events) {
        fetching = false;
        page.addAll(events);
        morePages = events.size() >= hub.replayPage();
        drain();
    }

    private void nextPage() {
        // drop queued live events the replay already covered, to make room
        for (TopicHub.Queued q; (q = inbox.peek()) != null && lastId != null
                && q.event.id().compareTo(lastId) <= 0; ) {
            inbox.poll();
            dequeued(q);
        }
        if (!morePages) {
            if (state.compareAndSet(REPLAYING, LIVE)) {
                drain();
                return;
            }
            if (!state.compareAndSet(OVERFLOWED, REPLAYING)) {
                return; // dead
            }
        } else if (!state.compareAndSet(OVERFLOWED, REPLAYING) && state.get() != REPLAYING) {
            return;
        }
        fetching = true;
        EventId after = lastId;
        hub.log.readAfter(topic, after, hub.replayPage()).whenComplete((r, err) -> loop.execute(() -> {
            if (state.get() == DEAD) {
                return;
            }
            if (err != null || r.status() == Replay.Status.UNKNOWN) {
                LOG.warn("replay of {} after {} failed: {}", topic, after, err != null ? err : "unknown id");
                end();
                return;
            }
            if (r.status() == Replay.Status.RESET) {
                writeReset(after, r.events()); // trimmed by retention while this subscriber was replaying
            }
            acceptPage(r.events());
        }));
    }

    /** Notifier thread: queue the event, or end the subscriber when it is too far behind. */
    void offer(TopicHub.Queued q) {
        if (state.get() == DEAD) {
            return;
        }
        if (!reserve(q.size())) {
            if (state.compareAndSet(REPLAYING, OVERFLOWED) || state.get() == OVERFLOWED) {
                return; // the store has the event; the next replay page covers it
            }
            slow();
            return;
        }
        inbox.add(q);
        if (state.get() == LIVE && drainScheduled.compareAndSet(false, true)) {
            batch.add(this);
        }
    }

    private boolean reserve(int size) {
        long max = hub.settings.maxLagBytes();
        for (;;) {
            long b = queuedBytes.get();
            if (b + size > max || queuedEvents.get() >= hub.settings.maxLagEvents()) {
                return false;
            }
            if (queuedBytes.compareAndSet(b, b + size)) {
                queuedEvents.incrementAndGet();
                hub.queued(b + size);
                return true;
            }
        }
    }

    private void dequeued(TopicHub.Queued q) {
        queuedEvents.decrementAndGet();
        queuedBytes.addAndGet(-q.size());
    }

    /** Event loop: write what is pending while the stream takes it, batching events into one write. */
    void drain() {
        drainScheduled.set(false);
        if (stream == null || state.get() == DEAD) {
            return;
        }
        List<byte[]> parts = batch.scratch;
        while (stream.isWritable()) {
            parts.clear();
            if (!takeBatch(parts)) {
                break;
            }
            lastWrite = System.nanoTime();
            stream.write(parts);
        }
        parts.clear();

        int s = state.get();
        if ((s == REPLAYING || s == OVERFLOWED) && page.isEmpty() && !fetching) {
            nextPage();
        }
    }

    /**
     * Moves up to {@link #BATCH_EVENTS} events or about {@link #BATCH_BYTES} bytes into {@code parts}: the queued
     * events' shared encodings, not copies (the stream copies them once, into the connection's buffer).
     */
    private boolean takeBatch(List<byte[]> parts) {
        int size = 0;
        while (parts.size() < BATCH_EVENTS && size < BATCH_BYTES) {
            byte[] b;
            Event e = page.poll();
            if (e != null) {
                b = format.event(e);
                lastId = e.id();
            } else if (state.get() == LIVE) {
                TopicHub.Queued q = inbox.poll();
                if (q == null) {
                    break;
                }
                dequeued(q);
                if (lastId != null && q.event.id().compareTo(lastId) <= 0) {
                    continue; // already sent by the replay
                }
                lastId = q.event.id();
                b = q.bytes(format);
            } else {
                break;
            }
            size += b.length;
            parts.add(b);
        }
        if (parts.isEmpty()) {
            return false;
        }
        hub.delivered.increment(parts.size());
        return true;
    }

    private void write(byte[] bytes) {
        lastWrite = System.nanoTime();
        stream.write(bytes);
    }

    /** Event loop, from the hub's timer: a heartbeat when the stream has been quiet for half the interval. */
    void heartbeat() {
        if (stream == null || state.get() == DEAD || !stream.isWritable()) {
            return;
        }
        if (System.nanoTime() - lastWrite >= hub.settings.heartbeat().toNanos() / 2) {
            write(format.heartbeat());
        }
    }

    /** Notifier thread: too far behind. Tell the client why (it can resume by id) and end the stream. */
    private void slow() {
        if (state.getAndSet(DEAD) == DEAD) {
            return;
        }
        unregister();
        hub.slowDisconnects.increment();
        loop.execute(() -> {
            clearInbox();
            LOG.info("subscriber of {} on connection {} is too slow (more than {} events or {} bytes behind); "
                    + "ending it", topic, connectionId, hub.settings.maxLagEvents(), hub.settings.maxLagBytes());
            if (stream != null) {
                String last = lastId == null ? "null" : "\"" + lastId + "\"";
                // written even when not writable: one small message, then the end of the stream
                stream.write(format.control("slow", "{\"reason\":\"the subscriber fell more than "
                        + hub.settings.maxLagEvents() + " events or " + hub.settings.maxLagBytes()
                        + " bytes behind; resume from lastId\",\"lastId\":" + last + "}"));
                stream.end();
            }
        });
    }

    /** Hub shutdown. */
    void shutdown() {
        if (state.getAndSet(DEAD) != DEAD) {
            unregister();
        }
        loop.execute(this::end);
    }

    private void end() {
        state.set(DEAD);
        unregister();
        clearInbox();
        if (stream != null) {
            stream.end();
        } else {
            releaseSlot();
            TopicsHandler.error(exchange, 503, "shutting down", "the topic hub is closing");
        }
    }

    /** Before a stream was opened: unregister and give the slot back. */
    private void kill() {
        state.set(DEAD);
        unregister();
        clearInbox();
        releaseSlot();
    }

    private void closed() {
        if (state.getAndSet(DEAD) != DEAD) {
            unregister();
        }
        clearInbox();
        page.clear();
        releaseSlot();
    }

    private void releaseSlot() {
        if (released.compareAndSet(false, true)) {
            hub.release(connectionId);
            hub.leaveTopic(topic);
        }
    }

    private void clearInbox() {
        for (TopicHub.Queued q; (q = inbox.poll()) != null; ) {
            dequeued(q);
        }
    }
}
