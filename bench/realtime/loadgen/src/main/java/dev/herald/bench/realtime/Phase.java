package dev.herald.bench.realtime;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** One publishing period at a fixed rate, and what the subscribers received of the events published in it. */
final class Phase {
    final String name;
    final String kind; // warmup, main, step
    final int rate;
    final double seconds;
    /** First seq of this phase; events with seq >= firstSeq (and below the next phase's) belong to it. */
    final long firstSeq;
    volatile long lastSeq; // set when publishing ends
    volatile long publishStartNs;
    volatile long publishEndNs;
    final AtomicLong lastReceiptNs = new AtomicLong();

    final Histogram latency = new Histogram();
    final Histogram ackLatency = new Histogram();
    final LongAdder received = new LongAdder();
    final LongAdder reordered = new LongAdder();
    final LongAdder duplicated = new LongAdder();
    /** Events that arrived after an event published later (by seq): concurrent POSTs stored in another order. */
    final LongAdder publishOrderInversions = new LongAdder();
    final LongAdder withoutId = new LongAdder();
    final LongAdder publishErrors = new LongAdder();
    final LongAdder publishAcked = new LongAdder();
    long published;
    long maxInFlight;
    long expected;
    int streamsEndedBefore;
    int streamsEndedAfter;
    double drainSeconds;
    /** CPU seconds used during the phase (publishing + drain) by this process and by the server (-1: unknown). */
    double clientCpuSeconds = -1;
    double serverCpuSeconds = -1;
    double wallSeconds;
    /** CPU seconds of the --watch-pids processes during the phase (-1: unknown). */
    final Map<String, Double> watchedCpuSeconds = new LinkedHashMap<>();

    Phase(String name, String kind, int rate, double seconds, long firstSeq) {
        this.name = name;
        this.kind = kind;
        this.rate = rate;
        this.seconds = seconds;
        this.firstSeq = firstSeq;
    }

    long lost() {
        return expected - received.sum();
    }

    double deliveredPerSecond() {
        long end = Math.max(lastReceiptNs.get(), publishEndNs);
        double s = (end - publishStartNs) / 1e9;
        return s <= 0 ? 0 : received.sum() / s;
    }

    boolean pass(double p99LimitMs) {
        return lost() == 0 && reordered.sum() == 0 && duplicated.sum() == 0 && publishErrors.sum() == 0
                && latency.quantileMicros(0.99) <= p99LimitMs * 1000 && streamsEndedAfter == streamsEndedBefore;
    }

    Map<String, Object> toJson(double p99LimitMs) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("kind", kind);
        m.put("rate", rate);
        m.put("seconds", seconds);
        m.put("publishedEvents", published);
        m.put("publishAcked", publishAcked.sum());
        m.put("publishErrors", publishErrors.sum());
        m.put("publishMaxInFlight", maxInFlight);
        m.put("actualPublishSeconds", round((publishEndNs - publishStartNs) / 1e9, 3));
        m.put("expectedDeliveries", expected);
        m.put("delivered", received.sum());
        m.put("deliveredPerSecond", round(deliveredPerSecond(), 1));
        m.put("lost", lost());
        m.put("reordered", reordered.sum());
        m.put("duplicated", duplicated.sum());
        m.put("publishOrderInversions", publishOrderInversions.sum());
        m.put("eventsWithoutId", withoutId.sum());
        m.put("streamsEndedByServer", streamsEndedAfter - streamsEndedBefore);
        m.put("drainSeconds", round(drainSeconds, 3));
        m.put("wallSeconds", round(wallSeconds, 3));
        m.put("clientCpuUtilization", clientCpuSeconds < 0 ? null : round(clientCpuSeconds / wallSeconds, 3));
        m.put("serverCpuUtilization", serverCpuSeconds < 0 ? null : round(serverCpuSeconds / wallSeconds, 3));
        if (!watchedCpuSeconds.isEmpty()) {
            m.put("watchedCpuSeconds", watchedCpuSeconds);
        }
        m.put("latencyMs", latencyJson(latency));
        m.put("publishAckLatencyMs", latencyJson(ackLatency));
        m.put("pass", pass(p99LimitMs));
        return m;
    }

    static Map<String, Object> latencyJson(Histogram h) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", h.count());
        m.put("p50", ms(h.quantileMicros(0.50)));
        m.put("p90", ms(h.quantileMicros(0.90)));
        m.put("p99", ms(h.quantileMicros(0.99)));
        m.put("p999", ms(h.quantileMicros(0.999)));
        m.put("max", ms(h.maxMicros()));
        Map<String, Object> curve = new LinkedHashMap<>();
        for (double q : List.of(0.0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999, 0.99999)) {
            curve.put(Double.toString(q), ms(h.quantileMicros(q)));
        }
        curve.put("1.0", ms(h.maxMicros()));
        m.put("percentiles", curve);
        return m;
    }

    private static double ms(long us) {
        return round(us / 1000.0, 3);
    }

    static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }
}
