package dev.herald.stream;

import dev.herald.store.Event;
import io.micrometer.core.instrument.Counter;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The recent events of one topic, shared by all of its subscribers on this node: one ring, one cursor per
 * subscriber.
 *
 * <h2>Why a shared ring</h2>
 * A queue per subscriber costs, for every event and every subscriber, a queue node, a few atomic updates on the
 * publishing thread and cache misses on the event loop that drains it; at 10,000 subscribers and 100 events/s that
 * is a million of each per second. Here an event is appended once (sequence numbers from 1) and each subscriber only
 * keeps the sequence number of the next event it needs ({@code cursor}); every subscriber reads the same few,
 * cache-hot entries.
 *
 * <h2>Bounds</h2>
 * The ring keeps an event while some subscriber on this node still needs it, and never more than the lag bounds
 * allow: at most {@code maxLagEvents} events and {@code maxLagBytes} bytes (an event is never dropped for the
 * bytes bound alone if it is the newest). A subscriber whose next event is no longer in the ring, or that is more
 * than either bound behind, is too slow: ended (live) or sent back to the store (replaying). The ring's array
 * grows from 16 slots up to the smallest power of two above {@code maxLagEvents}, so a topic with caught-up
 * subscribers costs a few hundred bytes.
 *
 * <h2>Threads</h2>
 * {@link #append} runs on the log's notifier thread (serialised by this feed's lock); readers on any event loop
 * read {@link #head()} and {@link #get} without locking: an entry is written before {@code head} (volatile)
 * publishes it, and a reader checks an entry's own sequence number, so a slot reused for a newer event reads as
 * missing, never as a wrong event. Each event loop with subscribers of the topic has one {@link LoopFeed}, which
 * drains them all in one task per burst and reports the lowest cursor they still need.
 */
final class TopicFeed {
    private static final int INITIAL_SLOTS = 16;

    final String topic;
    private final int maxEvents;
    private final long maxBytes;
    private final int maxSlots;
    /** The events, at index {@code seq & (length - 1)}; replaced (never shrunk) when it grows. */
    private volatile TopicHub.Queued[] ring = new TopicHub.Queued[INITIAL_SLOTS];
    /** The newest event's sequence number; 0 before the first. */
    private volatile long head;
    /** The oldest sequence number still held (writer only; above {@code head} when empty). */
    private long tail = 1;
    /** Bytes of every event appended so far (writer only). */
    private long bytes;
    /** Set by {@link #gap()}, taken by the next {@link #append}; notifier thread only. */
    private boolean lostBeforeNext;
    final CopyOnWriteArrayList<LoopFeed> loops = new CopyOnWriteArrayList<>();
    private final Counter delivered;

    TopicFeed(String topic, int maxLagEvents, long maxLagBytes, Counter delivered) {
        this.topic = topic;
        this.delivered = delivered;
        this.maxEvents = maxLagEvents;
        this.maxBytes = maxLagBytes;
        this.maxSlots = Integer.highestOneBit(Math.max(maxLagEvents, INITIAL_SLOTS) + 1) << 1;
    }

    /** The newest event's sequence number, 0 before the first. */
    long head() {
        return head;
    }

    /** Event {@code seq}, or null when the ring no longer (or does not yet) hold it. */
    TopicHub.Queued get(long seq) {
        TopicHub.Queued[] r = ring;
        TopicHub.Queued q = r[(int) seq & (r.length - 1)];
        if (q != null && q.seq == seq) {
            return q;
        }
        TopicHub.Queued[] again = ring; // grown meanwhile: the entry moved to the new array
        if (again != r) {
            q = again[(int) seq & (again.length - 1)];
            return q != null && q.seq == seq ? q : null;
        }
        return null;
    }

    /**
     * The cursor of a new reader, taken under the writer's lock so that the ring cannot drop event
     * {@code head() + 1} before {@code loop} reports a cursor at or below it.
     */
    synchronized long register(LoopFeed loop) {
        long next = head + 1;
        loop.hold(next);
        return next;
    }

    /** Notifier thread: the log missed events before the next one ({@link TopicHub.Queued#lostBefore}). */
    void gap() {
        lostBeforeNext = true;
    }

    /** Notifier thread: appends {@code e}, drops what no reader needs or the bounds do not allow, wakes the loops. */
    TopicHub.Queued append(Event e) {
        TopicHub.Queued q;
        synchronized (this) {
            long seq = head + 1;
            q = new TopicHub.Queued(e, seq, bytes, lostBeforeNext);
            lostBeforeNext = false;
            bytes += q.size();
            long needed = seq; // every loop has read all before this
            for (LoopFeed l : loops) {
                needed = Math.min(needed, l.minCursor);
            }
            TopicHub.Queued[] r = ring;
            while (tail < seq) {
                TopicHub.Queued old = r[(int) tail & (r.length - 1)];
                boolean consumed = tail < needed;
                boolean overBounds = seq - tail >= maxEvents || (old != null && bytes - old.startBytes > maxBytes);
                if (!consumed && !overBounds) {
                    break;
                }
                r[(int) tail & (r.length - 1)] = null;
                tail++;
            }
            if (seq - tail >= r.length) {
                r = grow(r, seq);
            }
            r[(int) seq & (r.length - 1)] = q;
            head = seq; // publishes the entry
        }
        for (LoopFeed l : loops) {
            l.schedule();
        }
        return q;
    }

    /** A larger ring with the held events at their new places, published before the new event. */
    private TopicHub.Queued[] grow(TopicHub.Queued[] r, long seq) {
        int size = r.length;
        while (seq - tail >= size && size < maxSlots) {
            size <<= 1;
        }
        TopicHub.Queued[] bigger = new TopicHub.Queued[size];
        for (long s = tail; s < seq; s++) {
            bigger[(int) s & (size - 1)] = r[(int) s & (r.length - 1)];
        }
        ring = bigger;
        return bigger;
    }

    /** Bytes of the events from {@code seq} to the head, or -1 when event {@code seq} is no longer held. */
    long bytesFrom(long seq) {
        TopicHub.Queued first = get(seq);
        TopicHub.Queued last = get(head);
        if (first == null || last == null) {
            return -1;
        }
        return last.startBytes + last.size() - first.startBytes;
    }

    /**
     * The subscribers of one topic on one event loop, drained together by one task after each burst of appends.
     * Their list is confined to the loop; {@link #minCursor} is what the appending thread reads.
     */
    static final class LoopFeed implements Runnable {
        final TopicFeed feed;
        final Executor loop;
        private final AtomicBoolean scheduled = new AtomicBoolean();
        private final List<Subscriber> subscribers = new ArrayList<>();
        /** The lowest cursor any subscriber here still reads from the ring (MAX_VALUE when none). */
        volatile long minCursor = Long.MAX_VALUE;

        LoopFeed(TopicFeed feed, Executor loop) {
            this.feed = feed;
            this.loop = loop;
        }

        /** Under the feed's lock: a new reader's cursor. */
        void hold(long cursor) {
            if (cursor < minCursor) {
                minCursor = cursor;
            }
        }

        /** Any thread: drain the subscribers on the loop soon (once per burst). */
        void schedule() {
            if (scheduled.compareAndSet(false, true)) {
                loop.execute(this);
            }
        }

        /** Event loop. */
        void add(Subscriber s) {
            s.groupIndex = subscribers.size();
            subscribers.add(s);
        }

        /**
         * Event loop, O(1): the last subscriber takes the leaver's place. True when no subscriber is left. The
         * reported cursor is not raised here (a lower one only keeps events a little longer); the next drain does.
         */
        boolean remove(Subscriber s) {
            int i = s.groupIndex;
            if (i < 0 || i >= subscribers.size() || subscribers.get(i) != s) {
                return subscribers.isEmpty();
            }
            Subscriber last = subscribers.remove(subscribers.size() - 1);
            if (last != s) {
                subscribers.set(i, last);
                last.groupIndex = i;
            }
            s.groupIndex = -1;
            if (subscribers.isEmpty()) {
                minCursor = Long.MAX_VALUE;
                return true;
            }
            return false;
        }

        int size() {
            return subscribers.size();
        }

        /** Event loop: every subscriber writes what it can, then the lowest cursor is reported. */
        @Override
        public void run() {
            scheduled.set(false);
            long min = Long.MAX_VALUE;
            long head = feed.head();
            int written = 0;
            // backwards: a subscriber that leaves while it is drained (too slow, or its connection closed under a
            // write) is replaced by the last one, already visited (at worst one is visited twice, never skipped)
            for (int i = subscribers.size() - 1; i >= 0; i--) {
                if (i >= subscribers.size()) {
                    continue;
                }
                Subscriber s = subscribers.get(i);
                try {
                    written += s.onAppended(head);
                } catch (RuntimeException e) {
                    TopicHub.LOG.warn("drain of a {} subscriber failed", feed.topic, e);
                }
                min = Math.min(min, s.ringCursor());
            }
            minCursor = min;
            if (written > 0) {
                feed.delivered.increment(written);
            }
        }
    }
}
