package dev.herald.bench.realtime;

import java.nio.charset.StandardCharsets;

/**
 * Finds "seq" and "t" in one NDJSON line without a JSON parser (the load generator must read up to a few
 * million lines per second on one core). Herald and the Node baseline send {"id","topic","data","time"} with
 * data = the published {"seq":N,"t":T}; data embedded as a JSON string (escaped quotes) is accepted too.
 */
final class Lines {
    private static final byte[] SEQ = "\"seq".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] T = "\"t".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SLOW = "slow".getBytes(StandardCharsets.US_ASCII);

    private Lines() {
    }

    /** The number after key (quote-prefixed, e.g. "seq) followed by an optional \ and " then :, or -1. */
    static long number(byte[] b, int len, byte[] key) {
        int from = 0;
        while (true) {
            int i = indexOf(b, len, key, from);
            if (i < 0) {
                return -1;
            }
            int j = i + key.length;
            if (j < len && b[j] == '\\') {
                j++;
            }
            if (j < len && b[j] == '"') {
                j++;
                while (j < len && (b[j] == ' ' || b[j] == ':')) {
                    j++;
                }
                long v = 0;
                int digits = 0;
                while (j < len && b[j] >= '0' && b[j] <= '9') {
                    v = v * 10 + (b[j] - '0');
                    j++;
                    digits++;
                }
                if (digits > 0) {
                    return v;
                }
            }
            from = i + 1;
        }
    }

    static long seq(byte[] b, int len) {
        return number(b, len, SEQ);
    }

    static long t(byte[] b, int len) {
        return number(b, len, T);
    }

    private static final byte[] ID = "\"id\"".getBytes(StandardCharsets.US_ASCII);

    /**
     * The event id "MS-SEQ" (Redis stream id form) of the line as {ms, seq} into out; false if absent or of
     * another form.
     */
    static boolean id(byte[] b, int len, long[] out) {
        int i = indexOf(b, len, ID, 0);
        if (i < 0) {
            return false;
        }
        int j = i + ID.length;
        while (j < len && (b[j] == ' ' || b[j] == ':')) {
            j++;
        }
        if (j >= len || b[j] != '"') {
            return false;
        }
        j++;
        long ms = 0;
        long seq = 0;
        int digits = 0;
        while (j < len && b[j] >= '0' && b[j] <= '9') {
            ms = ms * 10 + (b[j++] - '0');
            digits++;
        }
        if (digits == 0 || j >= len || b[j] != '-') {
            return false;
        }
        j++;
        digits = 0;
        while (j < len && b[j] >= '0' && b[j] <= '9') {
            seq = seq * 10 + (b[j++] - '0');
            digits++;
        }
        if (digits == 0) {
            return false;
        }
        out[0] = ms;
        out[1] = seq;
        return true;
    }

    /** What {@link #parse} found in one line; reused (one per reader). */
    static final class Parsed {
        long seq;
        long t;
        boolean hasId;
        /** The id as {ms, seq}. */
        final long[] id = new long[2];
    }

    /**
     * One pass over a line of the expected shape {@code {"id":"MS-SEQ",...,"data":{"seq":N,"t":T},...}}: the id
     * first, then "seq" after it, then "t" after that (the order Herald and the Node baseline write). A line of
     * another shape falls back to {@link #seq}, {@link #t} and {@link #id}, which search the whole line.
     */
    static Parsed parse(byte[] b, int len, Parsed out) {
        long[] id = out.id;
        int afterId = idEnd(b, len, id);
        int seqAt = afterId < 0 ? -1 : indexOf(b, len, SEQ, afterId);
        int tAt = seqAt < 0 ? -1 : indexOf(b, len, T_KEY, seqAt + SEQ.length);
        if (tAt < 0) {
            out.seq = seq(b, len);
            out.t = t(b, len);
            out.hasId = id(b, len, id);
        } else {
            out.seq = numberAt(b, len, seqAt + SEQ.length);
            out.t = numberAt(b, len, tAt + T_KEY.length);
            out.hasId = true;
        }
        return out;
    }

    private static final byte[] T_KEY = "\"t\"".getBytes(StandardCharsets.US_ASCII);

    /** The digits after {@code j} (skipping {@code "}, spaces and {@code :}), or -1. */
    private static long numberAt(byte[] b, int len, int j) {
        while (j < len && (b[j] == '"' || b[j] == '\\' || b[j] == ' ' || b[j] == ':')) {
            j++;
        }
        long v = 0;
        int digits = 0;
        while (j < len && b[j] >= '0' && b[j] <= '9') {
            v = v * 10 + (b[j++] - '0');
            digits++;
        }
        return digits > 0 ? v : -1;
    }

    /** Where the line's leading {@code "id":"MS-SEQ"} ends (out = {ms, seq}), or -1. */
    private static int idEnd(byte[] b, int len, long[] out) {
        int i = indexOf(b, len, ID, 0);
        if (i < 0 || i > 8) {
            return -1;
        }
        return id(b, len, out) ? i + ID.length : -1;
    }

    static boolean isSlow(byte[] b, int len) {
        return indexOf(b, len, SLOW, 0) >= 0;
    }

    static int indexOf(byte[] b, int len, byte[] key, int from) {
        outer:
        for (int i = from; i <= len - key.length; i++) {
            for (int k = 0; k < key.length; k++) {
                if (b[i + k] != key[k]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
