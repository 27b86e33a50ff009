package dev.herald.store;

import java.time.Duration;
import java.util.Objects;

/**
 * How much history is kept, per topic. An event is trimmed once {@code maxEvents} newer ones exist in its topic,
 * or once its id's millisecond part is older than {@code maxAge}; trimming always removes the oldest events first,
 * so the retained events of a topic are a contiguous range of ids. Trimming is periodic (see the implementation),
 * so a topic may briefly hold more than {@code maxEvents}.
 *
 * @param maxEvents the most events kept per topic, at least 1
 * @param maxAge    how long an event is kept at most, positive
 */
public record Retention(int maxEvents, Duration maxAge) {

    /** 10 000 events and 24 hours per topic: a day of reconnects for a busy topic, a few MB of SQLite per topic. */
    public static Retention defaults() {
        return new Retention(10_000, Duration.ofHours(24));
    }

    /** Validates both bounds. */
    public Retention {
        if (maxEvents < 1) {
            throw new IllegalArgumentException("maxEvents: " + maxEvents + " (expected: >= 1)");
        }
        Objects.requireNonNull(maxAge, "maxAge");
        if (maxAge.isNegative() || maxAge.isZero()) {
            throw new IllegalArgumentException("maxAge: " + maxAge + " (expected: > 0)");
        }
    }

    /** {@link #maxAge} in milliseconds, saturated at {@link Long#MAX_VALUE}. */
    long maxAgeMillis() {
        try {
            return maxAge.toMillis();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }
}
