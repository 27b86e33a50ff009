package dev.herald.store;

/**
 * An event id in the Redis Streams form {@code <ms>-<seq>}: two unsigned 64-bit decimal numbers, ordered by
 * {@code ms}, then {@code seq}. {@code ms} is the append time in epoch milliseconds, or the previous id's when the
 * clock went back; {@code seq} counts the events within that millisecond from 0. {@link #ZERO} ({@code 0-0}) is
 * never issued and stands for "before everything".
 */
public final class EventId implements Comparable<EventId> {
    /** {@code 0-0}: lower than every issued id. */
    public static final EventId ZERO = new EventId(0, 0);

    private static final int MAX_DIGITS = 20; // 18446744073709551615
    private static final int MAX_LENGTH = 2 * MAX_DIGITS + 1;

    private final long ms;
    private final long seq;

    private EventId(long ms, long seq) {
        this.ms = ms;
        this.seq = seq;
    }

    /** The id {@code ms-seq}; both are read as unsigned. */
    public static EventId of(long ms, long seq) {
        return ms == 0 && seq == 0 ? ZERO : new EventId(ms, seq);
    }

    /**
     * Parses {@code <ms>-<seq>}: exactly two runs of ASCII digits joined by one {@code -}, each at most
     * 18446744073709551615; no signs, spaces or other forms.
     *
     * @throws IllegalArgumentException with a message fit for a client (400) when {@code text} is not such an id
     */
    public static EventId parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("event id: null (expected: <ms>-<seq>, e.g. 1700000000000-0)");
        }
        int dash = text.indexOf('-');
        if (text.length() > MAX_LENGTH || dash <= 0 || dash == text.length() - 1
                || !digits(text, 0, dash) || !digits(text, dash + 1, text.length())) {
            throw new IllegalArgumentException("event id: '" + abbreviate(text)
                    + "' (expected: <ms>-<seq>, two unsigned decimal numbers, e.g. 1700000000000-0)");
        }
        try {
            return of(Long.parseUnsignedLong(text, 0, dash, 10),
                    Long.parseUnsignedLong(text, dash + 1, text.length(), 10));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("event id: '" + abbreviate(text)
                    + "' (expected: both parts at most 18446744073709551615)", e);
        }
    }

    private static boolean digits(String s, int from, int to) {
        if (to - from > MAX_DIGITS) {
            return false;
        }
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    private static String abbreviate(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && i < 64; i++) {
            char c = s.charAt(i);
            b.append(c < 0x20 || c == 0x7f ? '?' : c); // never echo control characters into logs or replies
        }
        return s.length() > 64 ? b + "..." : b.toString();
    }

    /** The millisecond part (unsigned). */
    public long ms() {
        return ms;
    }

    /** The sequence within the millisecond (unsigned). */
    public long seq() {
        return seq;
    }

    /**
     * The numerically next id ({@code ms-(seq+1)}).
     *
     * @throws ArithmeticException for the largest id, which has none (it would wrap around to {@link #ZERO})
     */
    EventId next() {
        if (ms == -1L && seq == -1L) {
            throw new ArithmeticException("event id: " + this + " is the largest id (no next id)");
        }
        return seq == -1L ? of(ms + 1, 0) : of(ms, seq + 1);
    }

    @Override
    public int compareTo(EventId o) {
        int c = Long.compareUnsigned(ms, o.ms);
        return c != 0 ? c : Long.compareUnsigned(seq, o.seq);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EventId other && ms == other.ms && seq == other.seq;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(ms) * 31 + Long.hashCode(seq);
    }

    /** {@code <ms>-<seq>}, both unsigned decimal: the form {@link #parse} reads. */
    @Override
    public String toString() {
        return Long.toUnsignedString(ms) + '-' + Long.toUnsignedString(seq);
    }
}
