package dev.herald.bench.realtime;

/**
 * One subscriber stream: partial line, last seq, and the gaps (missing seq ranges) seen so far, which tell a
 * late event (published earlier, stored later) from a repeated one (duplicated) without a bitmap per stream.
 * Reordering proper is judged by the event ids, the server's order (idGoesBack).
 */
final class StreamState {
    byte[] partial = new byte[256];
    int partialLen;
    long lastSeq;
    boolean synced;
    boolean ended;
    long lastIdMs = -1;
    long lastIdSeq = -1;

    /** True if id (ms, seq) is not after the last id this stream received (a server-order violation). */
    boolean idGoesBack(long ms, long seq) {
        boolean back = ms < lastIdMs || ms == lastIdMs && seq <= lastIdSeq;
        if (!back) {
            lastIdMs = ms;
            lastIdSeq = seq;
        }
        return back;
    }
    private long[] gaps = new long[0]; // pairs [from, to] inclusive
    private int gapCount;

    /**
     * Measured seqs start at 1 (every stream is synced with seq-0 events before the first phase), so the first
     * measured event is expected to be lastSeq + 1 = 1. Returns 0 in order (new), 1 new but late (filled a
     * gap), 2 duplicate.
     */
    int accept(long seq) {
        if (seq == lastSeq + 1) {
            lastSeq = seq;
            return 0;
        }
        if (seq > lastSeq + 1) {
            addGap(lastSeq + 1, seq - 1);
            lastSeq = seq;
            return 0;
        }
        return removeFromGaps(seq) ? 1 : 2;
    }

    private void addGap(long from, long to) {
        if (gapCount * 2 == gaps.length) {
            gaps = java.util.Arrays.copyOf(gaps, Math.max(8, gaps.length * 2));
        }
        gaps[gapCount * 2] = from;
        gaps[gapCount * 2 + 1] = to;
        gapCount++;
    }

    private boolean removeFromGaps(long seq) {
        for (int i = 0; i < gapCount; i++) {
            long from = gaps[i * 2];
            long to = gaps[i * 2 + 1];
            if (seq < from || seq > to) {
                continue;
            }
            if (from == to) {
                gapCount--;
                gaps[i * 2] = gaps[gapCount * 2];
                gaps[i * 2 + 1] = gaps[gapCount * 2 + 1];
            } else if (seq == from) {
                gaps[i * 2] = from + 1;
            } else if (seq == to) {
                gaps[i * 2 + 1] = to - 1;
            } else {
                gaps[i * 2 + 1] = seq - 1;
                addGap(seq + 1, to);
            }
            return true;
        }
        return false;
    }
}
