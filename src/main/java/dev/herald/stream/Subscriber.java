package dev.herald.stream;

import dev.herald.server.Exchange;
import dev.herald.server.Headers;
import dev.herald.server.ResponseStream;
import dev.herald.store.Event;
import dev.herald.store.EventId;
import dev.herald.store.EventLog;
import dev.herald.store.Replay;
import io.netty.util.concurrent.FastThreadLocal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * One subscriber stream: a cursor into its topic's {@link TopicFeed}, and the replay of what it missed.
 *
 * <h2>States</h2>
 * {@code REPLAYING}: the subscriber has a cursor in the feed (live events collect there from the moment it
 * joined), holds the log's interest in its topic and, once the log follows the topic, writes pages of missed events
 * read from the store. {@code OVERFLOWED}: while replaying, the feed dropped an event this subscriber would have
 * needed (it fell more than the lag bounds behind); the store has it, so the next page read covers it, after the
 * cursor is taken again. {@code LIVE}: replay is over; the cursor was moved past the events the replay already
 * wrote, events the tail delivers late that the replay also wrote are skipped (no duplicate), and every event from
 * then on is written. A live subscriber more than the lag bounds behind is
 * too slow and ended. {@code DEAD}: ended, slow or closed.
 *
 * <p>Everything runs on the stream's event loop, except {@link #shutdown} and the test accessors.
 */
final class Subscriber {
    private static final Logger LOG = LoggerFactory.getLogger(Subscriber.class);
    private static final int REPLAYING = 0;
    private static final int OVERFLOWED = 1;
    private static final int LIVE = 2;
    private static final int DEAD = 3;
    private static final int BATCH_BYTES = 64 * 1024;
    private static final int BATCH_EVENTS = 256;
    /**
     * The parts of one batch, reused by every drain on an event loop (each loop thread has its own; Netty's
     * FastThreadLocal is an array index on its event-loop threads, and this is read once per subscriber per drain).
     */
    private static final FastThreadLocal<List<byte[]>> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected List<byte[]> initialValue() {
            return new ArrayList<>(BATCH_EVENTS);
        }
    };

    private final TopicHub hub;
    final String topic;
    private final Format format;
    private final Exchange exchange;
    private final long connectionId;
    final Executor loop;

    // event-loop confined
    /** This subscriber's place in its feed group's list (the group maintains it). */
    int groupIndex = -1;
    private TopicFeed.LoopFeed group;
    private TopicFeed feed;
    private volatile int state = REPLAYING; // volatile for the test accessors only
    /** The feed's sequence number of the next live event this subscriber needs. */
    private volatile long cursor;
    private EventLog.Interest interest;
    private ResponseStream stream;
    /** The replay page being written; none for a live-only subscriber (10,000 idle streams, 480 KB less heap). */
    private ArrayDeque<Event> page;
    private boolean released;
    private boolean morePages;
    private boolean fetching;
    private EventId lastId;
    /**
     * The last event the replay wrote, while the feed may still receive it: the store can answer a read with events
     * its tail has not handed to the feed yet (Redis: read on another connection; SQLite: committed, not yet
     * notified). Live events up to it are skipped; cleared at the first one after it.
     */
    private EventId replayedThrough;
    private long lastWrite;

    Subscriber(TopicHub hub, String topic, Format format, Exchange exchange) {
        this.hub = hub;
        this.topic = topic;
        this.format = format;
        this.exchange = exchange;
        this.connectionId = exchange.request().connectionId();
        this.loop = exchange.eventLoop();
    }

    /** Bytes of live events this subscriber has not written yet; never above {@code maxLagBytes}. For tests. */
    long queuedBytes() {
        TopicFeed f = feed;
        if (f == null || state != LIVE || cursor > f.head()) {
            return 0;
        }
        return Math.max(0, f.bytesFrom(cursor));
    }

    /**
     * Starts without history: joined and live, the stream opened once the log follows the topic (so every event
     * published after the client saw the headers reaches it).
     */
    void startLive() {
        loop.execute(() -> {
            state = LIVE;
            join().whenComplete((v, err) -> loop.execute(() -> {
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
        });
    }

    /**
     * Joins first (live events collect in the feed), waits until the log follows the topic, then replays from the
     * store after {@code afterId}: every event is either in the replay or in the feed after the cursor (or both;
     * the ids tell).
     */
    void startResume(EventId afterId) {
        loop.execute(() -> {
            lastId = afterId;
            fetching = true;
            join().thenCompose(v -> hub.readAfter(topic, afterId))
                    .whenComplete((r, err) -> loop.execute(() -> firstPage(afterId, r, err, false)));
        });
    }

    /** Joins the topic's feed and takes the log's interest in the topic; completes once it is followed. */
    private java.util.concurrent.CompletableFuture<Void> join() {
        group = hub.join(this);
        feed = group.feed;
        group.add(this);
        cursor = feed.register(group);
        interest = hub.log.interest(topic);
        return interest.ready();
    }

    /** Leaves the feed and gives the interest in the topic back. Idempotent. */
    private void leave() {
        if (group != null) {
            hub.leave(this, group);
            group = null;
        }
        EventLog.Interest i = interest;
        if (i != null) {
            interest = null;
            i.close();
        }
    }

    /** The lowest feed sequence number this subscriber may still read; MAX_VALUE when it reads none. */
    long ringCursor() {
        int s = state;
        return s == LIVE || s == REPLAYING ? cursor : Long.MAX_VALUE;
    }

    /**
     * The first replay page after {@code afterId}, or, when {@code lost}, the first page from the oldest retained
     * event after the store said it does not have {@code afterId}.
     */
    private void firstPage(EventId afterId, Replay r, Throwable err, boolean lost) {
        if (state == DEAD) {
            return;
        }
        if (err == null && r.status() == Replay.Status.UNKNOWN && !lost) {
            // A well-formed id the store does not have: newer than the topic's last event, or never issued here, as
            // after the store lost data (Redis flushed or restarted without persistence, a restored backup). A 400
            // would end an EventSource for good; like an id older than the retention, it gets a reset and the
            // retained events, read from the start (the cursor in the feed is already taken: no gap).
            LOG.info("resume of {} after {}: the store does not have that id; replaying from the oldest retained"
                    + " event", topic, afterId);
            lastId = EventId.ZERO;
            hub.readAfter(topic, EventId.ZERO)
                    .whenComplete((all, e) -> loop.execute(() -> firstPage(afterId, all, e, true)));
            return;
        }
        if (err != null) {
            kill();
            LOG.warn("replay of {} after {} failed", topic, afterId, err);
            TopicsHandler.error(exchange, 503, "store unavailable", "the event log could not be read");
            return;
        }
        if (!open()) {
            return;
        }
        if (lost) {
            writeReset(afterId, "is not in the store (newer than its last event, or lost with its data)",
                    r.events());
        } else if (r.status() == Replay.Status.RESET) {
            writeReset(afterId, "is older than the retained history", r.events());
        }
        acceptPage(r.events());
    }

    /** The {@code reset} control message: event {@code afterId} {@code why}; the replay starts at the oldest. */
    private void writeReset(EventId afterId, String why, List<Event> events) {
        String oldest = events.isEmpty() ? "null" : "\"" + events.get(0).id() + "\"";
        write(format.control("reset", "{\"reason\":\"event " + afterId + " " + why
                + "; replaying from the oldest retained event\",\"oldest\":" + oldest + "}"));
    }

    /** The headers of a subscriber's stream in {@code format}, which a HEAD answers too. */
    static Headers headers(Format format) {
        return new Headers().add("content-type", format.contentType).add("cache-control", "no-store")
                .add("x-accel-buffering", "no");
    }

    /** Opens the response stream; false (and the slot given back) when the client is already gone. */
    private boolean open() {
        if (!exchange.isOpen() || state == DEAD) {
            kill();
            return false;
        }
        stream = exchange.stream(200, headers(format));
        stream.onClose(this::closed);
        stream.onWritable(() -> hub.delivered(drain()));
        lastWrite = System.nanoTime();
        byte[] pre = format.preamble(hub.settings.sseRetry().toMillis());
        if (pre != null) {
            write(pre);
        }
        return true;
    }

    private void acceptPage(List<Event> events) {
        fetching = false;
        if (page == null) {
            page = new ArrayDeque<>(events.size());
        }
        page.addAll(events);
        morePages = hub.mayHaveMore(events);
        hub.delivered(drain());
    }

    /** The replay's last page is written: go live, or read on from the store. */
    private void nextPage() {
        if (!morePages && state == REPLAYING && goLive()) {
            return;
        }
        if (state == OVERFLOWED) {
            // take the cursor again before reading on: what the store misses, the feed has from here
            cursor = feed.register(group);
            state = REPLAYING;
        }
        if (state != REPLAYING) {
            return;
        }
        fetching = true;
        EventId after = lastId;
        hub.readAfter(topic, after).whenComplete((r, err) -> loop.execute(() -> {
            if (state == DEAD) {
                return;
            }
            if (err != null || r.status() == Replay.Status.UNKNOWN) {
                LOG.warn("replay of {} after {} failed: {}", topic, after, err != null ? err : "unknown id");
                end();
                return;
            }
            if (r.status() == Replay.Status.RESET) {
                // trimmed by retention while this subscriber was replaying
                writeReset(after, "is older than the retained history", r.events());
            }
            acceptPage(r.events());
        }));
    }

    /**
     * Moves the cursor past the feed's events the replay already wrote and turns live; false (and
     * {@code OVERFLOWED}) when the feed no longer holds an event between the two.
     */
    private boolean goLive() {
        long head = feed.head();
        while (cursor <= head) {
            TopicHub.Queued q = feed.get(cursor);
            if (q == null) {
                state = OVERFLOWED;
                return false;
            }
            if (lastId != null && q.event.id().compareTo(lastId) > 0) {
                break;
            }
            cursor++;
        }
        replayedThrough = lastId;
        state = LIVE;
        hub.delivered(drain());
        return true;
    }

    /** Event loop, from the topic's feed after each burst of appends: write, or note falling behind. */
    int onAppended(long head) {
        int s = state;
        if (s == LIVE) {
            return drain();
        }
        if (s == REPLAYING && behind(head)) {
            state = OVERFLOWED; // the store has what the feed drops; the next page read covers it
        }
        return 0;
    }

    /** Whether this subscriber's cursor is more than the lag bounds behind {@code head} (or no longer held). */
    private boolean behind(long head) {
        if (cursor > head) {
            return false;
        }
        if (head - cursor + 1 > hub.settings.maxLagEvents()) {
            return true;
        }
        long bytes = feed.bytesFrom(cursor);
        if (bytes < 0 || bytes > hub.settings.maxLagBytes()) {
            return true;
        }
        hub.queued(bytes);
        return false;
    }

    /**
     * Event loop: writes what is pending while the stream takes it, batching events into one write; a live
     * subscriber left too far behind is ended. Returns the events written.
     */
    int drain() {
        if (stream == null || state == DEAD) {
            return 0;
        }
        List<byte[]> parts = SCRATCH.get();
        int written = 0;
        while (stream.isWritable()) {
            parts.clear();
            int n = takeBatch(parts);
            if (n <= 0) {
                if (n == LOST) {
                    parts.clear();
                    lost();
                    return written;
                }
                if (n < 0) {
                    parts.clear();
                    slow();
                    return written;
                }
                break;
            }
            lastWrite = System.nanoTime();
            stream.write(parts);
            written += n;
        }
        parts.clear();
        int s = state;
        if (s == LIVE) {
            if (behind(feed.head())) {
                slow();
            }
        } else if ((s == REPLAYING || s == OVERFLOWED) && (page == null || page.isEmpty()) && !fetching) {
            nextPage();
        }
        return written;
    }

    /**
     * Moves up to {@link #BATCH_EVENTS} events or about {@link #BATCH_BYTES} bytes into {@code parts}: the events'
     * shared encodings, not copies (the stream copies them once, into the connection's buffer). Returns how many,
     * or -1 when a live event this subscriber needs is no longer in the feed (too slow).
     */
    private int takeBatch(List<byte[]> parts) {
        int size = 0;
        long head = state == LIVE ? feed.head() : 0;
        while (parts.size() < BATCH_EVENTS && size < BATCH_BYTES) {
            byte[] b;
            Event e = page == null ? null : page.poll();
            if (e != null) {
                b = format.event(e);
                lastId = e.id();
            } else if (cursor <= head) {
                TopicHub.Queued q = feed.get(cursor);
                if (q == null) {
                    return parts.isEmpty() ? -1 : parts.size(); // the rest is found missing next time
                }
                if (replayedThrough != null && q.event.id().compareTo(replayedThrough) <= 0) {
                    cursor++;
                    continue; // the replay wrote it before the tail delivered it
                }
                replayedThrough = null;
                if (q.lostBefore) {
                    // The tail missed events before this one: written first, they would be lost for good.
                    return parts.isEmpty() ? LOST : parts.size(); // found again by the next batch
                }
                cursor++;
                lastId = q.event.id();
                b = q.bytes(format);
            } else {
                break;
            }
            size += b.length;
            parts.add(b);
        }
        return parts.size();
    }

    private void write(byte[] bytes) {
        lastWrite = System.nanoTime();
        stream.write(bytes);
    }

    /** Event loop, from the hub's timer: a heartbeat when the stream has been quiet for half the interval. */
    void heartbeat() {
        if (stream == null || state == DEAD || !stream.isWritable()) {
            return;
        }
        if (System.nanoTime() - lastWrite >= hub.settings.heartbeat().toNanos() / 2) {
            write(format.heartbeat());
        }
    }

    /** {@link #takeBatch}: the next live event follows events the log missed. */
    private static final int LOST = -2;

    /**
     * The log missed events before the next live one (the store trimmed them before this node read them): the
     * client resumes by id, and the store then tells it what was lost (a {@code reset}). Ended like a slow
     * subscriber, with a {@code slow} control naming why, which clients already resume from.
     */
    private void lost() {
        if (state == DEAD) {
            return;
        }
        state = DEAD;
        leave();
        LOG.info("subscriber of {} on connection {}: the event log missed events before {}; ending it so that it"
                + " resumes from the store", topic, connectionId, lastId);
        String last = lastId == null ? "null" : "\"" + lastId + "\"";
        stream.write(format.control("slow", "{\"reason\":\"events were trimmed from the store before this server"
                + " read them; resume from lastId\",\"lastId\":" + last + "}"));
        stream.end();
    }

    /** Too far behind: tell the client why (it can resume by id) and end the stream. */
    private void slow() {
        if (state == DEAD) {
            return;
        }
        state = DEAD;
        leave();
        hub.slowDisconnects.increment();
        LOG.info("subscriber of {} on connection {} is too slow (more than {} events or {} bytes behind); "
                + "ending it", topic, connectionId, hub.settings.maxLagEvents(), hub.settings.maxLagBytes());
        if (stream != null) {
            String last = lastId == null ? "null" : "\"" + lastId + "\"";
            // written even when not writable: one small message, then the end of the stream
            stream.write(format.control("slow", "{\"reason\":\"the subscriber fell more than "
                    + hub.settings.maxLagEvents() + " events or " + hub.settings.maxLagBytes()
                    + " bytes behind; resume from lastId\",\"lastId\":" + last + "}"));
            stream.end();
        } else {
            releaseSlot();
            TopicsHandler.error(exchange, 503, "too slow", "the subscriber fell behind before its stream opened");
        }
    }

    /** Hub shutdown; any thread. */
    void shutdown() {
        loop.execute(this::end);
    }

    private void end() {
        boolean wasDead = state == DEAD;
        state = DEAD;
        leave();
        if (stream != null) {
            stream.end();
        } else if (!wasDead) {
            releaseSlot();
            TopicsHandler.error(exchange, 503, "shutting down", "the topic hub is closing");
        }
    }

    /** Before a stream was opened: leave and give the slot back. */
    private void kill() {
        state = DEAD;
        leave();
        releaseSlot();
    }

    private void closed() {
        state = DEAD;
        leave();
        page = null;
        releaseSlot();
    }

    private void releaseSlot() {
        if (!released) { // event loop only, like every path that ends a subscriber
            released = true;
            hub.release(connectionId);
            hub.leaveTopic(topic);
        }
    }
}
