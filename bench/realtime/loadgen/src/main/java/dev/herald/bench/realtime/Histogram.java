package dev.herald.bench.realtime;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Latency histogram in microseconds, log-linear: exact below 256 us, then 128 sub-buckets per power of two
 * (under 1% relative error). Thread-safe; the maximum is kept exactly.
 */
final class Histogram {
    private static final int SUB = 128;
    private static final int SIZE = 64 * SUB;
    private final AtomicLongArray counts = new AtomicLongArray(SIZE);
    private final AtomicLong max = new AtomicLong();

    void recordMicros(long us) {
        if (us < 0) {
            us = 0;
        }
        counts.incrementAndGet(index(us));
        long m;
        while (us > (m = max.get())) {
            if (max.compareAndSet(m, us)) {
                break;
            }
        }
    }

    /** The number of values recorded (summed over the buckets: recording stays one atomic add). */
    long count() {
        long n = 0;
        for (int i = 0; i < SIZE; i++) {
            n += counts.get(i);
        }
        return n;
    }

    long maxMicros() {
        return max.get();
    }

    /** The value (upper bound of its bucket, capped by the max) at quantile q in [0,1]; 0 when empty. */
    long quantileMicros(double q) {
        long n = count();
        if (n == 0) {
            return 0;
        }
        long rank = Math.max(1, (long) Math.ceil(q * n));
        long seen = 0;
        for (int i = 0; i < SIZE; i++) {
            seen += counts.get(i);
            if (seen >= rank) {
                return Math.min(upper(i), max.get());
            }
        }
        return max.get();
    }

    static int index(long v) {
        if (v < 2 * SUB) {
            return (int) v;
        }
        int msb = 63 - Long.numberOfLeadingZeros(v);
        int shift = msb - 7;
        return (shift + 1) * SUB + (int) ((v >>> shift) & (SUB - 1));
    }

    static long upper(int i) {
        if (i < 2 * SUB) {
            return i;
        }
        int shift = i / SUB - 1;
        long sub = (i % SUB) + SUB;
        return ((sub + 1) << shift) - 1;
    }
}
