package dev.herald.push;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;

/**
 * A cache digest: the set of (path, ETag) pairs a browser holds, as a Golomb-coded set small enough for a cookie
 * (the idea of h2o's CASPer and of the HTTP cache-digest draft).
 *
 * <h2>Encoding</h2>
 * Each pair is hashed to 64 bits ({@link #key}: SHA-256 of {@code path + ' ' + etag}), reduced modulo
 * {@code N * 2^P}, sorted and deduplicated; the gaps between successive values are Rice-coded (quotient
 * {@code gap >> P} in unary as ones and a terminating zero, then the low {@code P} bits) and the last byte is
 * padded with ones. The cookie value is base64url (no padding) of {@code [version=1, log2 N, P]} followed by the
 * bits.
 *
 * <h2>Bounds</h2>
 * {@code N} is fixed at {@value #MAX_ENTRIES} and {@code P} at {@value #P}: a query is a false positive with
 * probability at most {@code entries / (N * 2^P)}, so at most 1/128 when full; a full digest is about
 * {@code MAX_ENTRIES * (P + 1) + N} bits, under 300 bytes (about 400 cookie characters). A fixed domain lets old
 * and new entries merge without the original hashes. Adding beyond {@value #MAX_ENTRIES} entries starts a fresh
 * digest (h2o does the same), so the cookie never grows past its bound.
 *
 * <p>Instances are immutable. Decoding is strict: anything malformed yields {@link Optional#empty()}.
 */
final class CacheDigest {
    /** Entries at most; also {@code N}, the digest's capacity. */
    static final int MAX_ENTRIES = 256;
    /** Bits of the remainder: a false-positive probability of 1/2^P = 1/128 at capacity. */
    static final int P = 7;
    private static final int LOG2_N = Integer.numberOfTrailingZeros(MAX_ENTRIES);
    private static final int VERSION = 1;
    /** Longest cookie value decoded at all; a well-formed full digest is far below it. */
    static final int MAX_ENCODED_CHARS = 1024;
    static final CacheDigest EMPTY = new CacheDigest(new long[0]);

    /** Sorted, distinct values in {@code [0, N * 2^P)}. */
    private final long[] values;

    private CacheDigest(long[] values) {
        this.values = values;
    }

    /** The 64-bit hash of one (path, ETag) pair. */
    static long key(String path, String etag) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256")
                    .digest((path + ' ' + etag).getBytes(StandardCharsets.UTF_8));
            long k = 0;
            for (int i = 0; i < 8; i++) {
                k = (k << 8) | (d[i] & 0xff);
            }
            return k;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private static long reduce(long key) {
        return Long.remainderUnsigned(key, (long) MAX_ENTRIES << P);
    }

    /** Whether the pair with this {@link #key} is (probably) held. */
    boolean contains(long key) {
        return Arrays.binarySearch(values, reduce(key)) >= 0;
    }

    /** Distinct values held. */
    int size() {
        return values.length;
    }

    /**
     * This digest plus {@code keys}; when the union would exceed {@value #MAX_ENTRIES} entries, a digest of
     * {@code keys} alone (the oldest knowledge is dropped, the current page's is kept).
     */
    CacheDigest with(long... keys) {
        long[] added = new long[keys.length];
        for (int i = 0; i < keys.length; i++) {
            added[i] = reduce(keys[i]);
        }
        long[] merged = Arrays.copyOf(values, values.length + added.length);
        System.arraycopy(added, 0, merged, values.length, added.length);
        long[] distinct = sortedDistinct(merged);
        if (distinct.length > MAX_ENTRIES) {
            distinct = sortedDistinct(added);
            if (distinct.length > MAX_ENTRIES) {
                distinct = Arrays.copyOf(distinct, MAX_ENTRIES);
            }
        }
        return distinct.length == values.length && Arrays.equals(distinct, values) ? this : new CacheDigest(distinct);
    }

    private static long[] sortedDistinct(long[] a) {
        long[] s = a.clone();
        Arrays.sort(s);
        int n = 0;
        for (int i = 0; i < s.length; i++) {
            if (n == 0 || s[n - 1] != s[i]) {
                s[n++] = s[i];
            }
        }
        return Arrays.copyOf(s, n);
    }

    /** The cookie value: base64url without padding. */
    String encode() {
        BitWriter w = new BitWriter();
        long previous = 0;
        for (long v : values) {
            long gap = v - previous;
            previous = v;
            for (long q = gap >>> P; q > 0; q--) {
                w.bit(1);
            }
            w.bit(0);
            for (int b = P - 1; b >= 0; b--) {
                w.bit((int) (gap >>> b) & 1);
            }
        }
        byte[] bits = w.finish();
        byte[] out = new byte[3 + bits.length];
        out[0] = VERSION;
        out[1] = (byte) LOG2_N;
        out[2] = (byte) P;
        System.arraycopy(bits, 0, out, 3, bits.length);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(out);
    }

    /**
     * Decodes a cookie value; empty when it is not a digest this version wrote (bad base64, other version or
     * parameters, a value out of range, more than {@value #MAX_ENTRIES} entries, bad padding, too long).
     */
    static Optional<CacheDigest> decode(String value) {
        if (value == null || value.isEmpty() || value.length() > MAX_ENCODED_CHARS) {
            return Optional.empty();
        }
        byte[] raw;
        try {
            raw = Base64.getUrlDecoder().decode(value);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        if (raw.length < 3 || raw[0] != VERSION || raw[1] != LOG2_N || raw[2] != P) {
            return Optional.empty();
        }
        long limit = (long) MAX_ENTRIES << P;
        long totalBits = (long) (raw.length - 3) * 8;
        long[] out = new long[MAX_ENTRIES];
        int n = 0;
        long pos = 0;
        long previous = 0;
        while (pos < totalBits) {
            long start = pos;
            long q = 0;
            while (pos < totalBits && bit(raw, pos) == 1) {
                q++;
                pos++;
            }
            if (pos >= totalBits) {
                // Only ones to the end: padding, which must stay inside the last byte.
                if (pos - start >= 8) {
                    return Optional.empty();
                }
                break;
            }
            pos++; // the terminating zero
            if (pos + P > totalBits) {
                return Optional.empty();
            }
            long r = 0;
            for (int b = 0; b < P; b++) {
                r = (r << 1) | bit(raw, pos++);
            }
            long gap = (q << P) | r;
            if (gap == 0 && n > 0) {
                return Optional.empty(); // values are distinct
            }
            long v = previous + gap;
            if (q > limit || v >= limit || n == MAX_ENTRIES) {
                return Optional.empty();
            }
            out[n++] = v;
            previous = v;
        }
        return Optional.of(new CacheDigest(Arrays.copyOf(out, n)));
    }

    private static int bit(byte[] raw, long pos) {
        return (raw[3 + (int) (pos >>> 3)] >>> (7 - (int) (pos & 7))) & 1;
    }

    private static final class BitWriter {
        private byte[] buf = new byte[64];
        private long pos;

        void bit(int b) {
            int i = (int) (pos >>> 3);
            if (i == buf.length) {
                buf = Arrays.copyOf(buf, buf.length * 2);
            }
            if (b != 0) {
                buf[i] |= (byte) (0x80 >>> (pos & 7));
            }
            pos++;
        }

        byte[] finish() {
            while ((pos & 7) != 0) {
                bit(1);
            }
            return Arrays.copyOf(buf, (int) (pos >>> 3));
        }
    }

    @Override
    public String toString() {
        return "CacheDigest(" + values.length + " entries)";
    }
}
