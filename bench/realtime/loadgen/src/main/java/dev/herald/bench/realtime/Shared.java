package dev.herald.bench.realtime;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/** State shared by the subscriber connections, the publisher and the main thread. */
final class Shared {
    /** Origin of every timestamp: the "t" the publisher sends is System.nanoTime() - BASE_NS. */
    static final long BASE_NS = System.nanoTime();

    static long now() {
        return System.nanoTime() - BASE_NS;
    }

    final AtomicInteger subscribed = new AtomicInteger();   // streams answered 200
    final AtomicInteger synced = new AtomicInteger();       // streams that received a seq-0 sync event
    final AtomicInteger ended = new AtomicInteger();        // streams ended by the server (end of stream or RST)
    final AtomicInteger resets = new AtomicInteger();
    final AtomicInteger connectionsClosed = new AtomicInteger();
    final Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
    final LongAdder heartbeats = new LongAdder();
    final LongAdder lines = new LongAdder();                // every line received, of any phase
    final LongAdder slowNotices = new LongAdder();
    final LongAdder otherLines = new LongAdder();
    final LongAdder unknownSeq = new LongAdder();
    final List<String> samples = new CopyOnWriteArrayList<>();  // a few unexpected lines/bodies, for diagnosis
    volatile Phase[] phases = new Phase[0];

    synchronized void addPhase(Phase p) {
        Phase[] a = java.util.Arrays.copyOf(phases, phases.length + 1);
        a[a.length - 1] = p;
        phases = a;
    }

    Phase phaseFor(long seq) {
        Phase[] a = phases;
        for (int i = a.length - 1; i >= 0; i--) {
            if (seq >= a[i].firstSeq) {
                return a[i];
            }
        }
        return null;
    }

    void sample(String s) {
        if (samples.size() < 20) {
            samples.add(s.length() > 300 ? s.substring(0, 300) + "..." : s);
        }
    }
}
