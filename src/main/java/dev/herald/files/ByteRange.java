package dev.herald.files;

/**
 * One satisfiable byte range of a representation, or the verdict that a {@code Range} header cannot be satisfied
 * (RFC 9110 §14.1.2).
 *
 * <p>Only single ranges are served. A request for several ranges ({@code bytes=0-1,5-6}) is answered with the
 * whole representation (200), which RFC 9110 §14.2 allows: multipart/byteranges responses are rarely worth their
 * complexity, and refusing to build them takes away a classic amplification trick (many overlapping ranges). A
 * malformed header or another unit is ignored the same way.
 */
final class ByteRange {
    private static final ByteRange UNSATISFIABLE = new ByteRange(-1, -1);

    private final long first;
    private final long last;

    private ByteRange(long first, long last) {
        this.first = first;
        this.last = last;
    }

    /** The inclusive offset of the first byte. */
    long first() {
        return first;
    }

    /** The inclusive offset of the last byte. */
    long last() {
        return last;
    }

    long length() {
        return last - first + 1;
    }

    boolean satisfiable() {
        return this != UNSATISFIABLE;
    }

    /**
     * Parses a {@code Range} value against a representation of {@code total} bytes.
     *
     * @return {@code null} when the header is to be ignored (malformed, another unit, several ranges), the
     *         unsatisfiable marker when the one range lies outside the representation, else the range clamped to it
     */
    static ByteRange parse(String value, long total) {
        String v = value.trim();
        int eq = v.indexOf('=');
        if (eq < 0 || !v.substring(0, eq).trim().equalsIgnoreCase("bytes")) {
            return null;
        }
        String spec = null;
        for (String element : v.substring(eq + 1).split(",", -1)) {
            String e = element.trim();
            if (e.isEmpty()) {
                continue; // RFC 9110 §5.6.1: empty list elements are ignored
            }
            if (spec != null) {
                return null; // several ranges: serve the whole representation
            }
            spec = e;
        }
        if (spec == null) {
            return null;
        }
        int dash = spec.indexOf('-');
        if (dash < 0) {
            return null;
        }
        String a = spec.substring(0, dash);
        String b = spec.substring(dash + 1);
        if (a.isEmpty()) {
            long suffix = digits(b);
            if (suffix < 0) {
                return null;
            }
            if (suffix == 0 || total == 0) {
                return UNSATISFIABLE;
            }
            return new ByteRange(Math.max(0, total - suffix), total - 1);
        }
        long first = digits(a);
        long last = b.isEmpty() ? Long.MAX_VALUE : digits(b);
        if (first < 0 || last < 0 || last < first) {
            return null;
        }
        if (first >= total) {
            return UNSATISFIABLE;
        }
        return new ByteRange(first, Math.min(last, total - 1));
    }

    /** A run of ASCII digits as a number saturating at {@link Long#MAX_VALUE}, or -1 if it is not one. */
    private static long digits(String s) {
        if (s.isEmpty()) {
            return -1;
        }
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            n = n > (Long.MAX_VALUE - 9) / 10 ? Long.MAX_VALUE : n * 10 + (c - '0');
        }
        return n;
    }

    @Override
    public String toString() {
        return satisfiable() ? "bytes " + first + '-' + last : "unsatisfiable";
    }
}
