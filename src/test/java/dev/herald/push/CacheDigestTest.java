package dev.herald.push;

import org.junit.jupiter.api.Test;

import java.util.Base64;
import java.util.Random;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

class CacheDigestTest {
    private static long[] keys(int n, int seed) {
        return LongStream.range(0, n).map(i -> CacheDigest.key("/asset/" + seed + "/" + i + ".css", "\"e" + i + "\""))
                .toArray();
    }

    @Test
    void roundTripKeepsEveryEntry() {
        long[] keys = keys(40, 1);
        CacheDigest d = CacheDigest.EMPTY.with(keys);

        CacheDigest back = CacheDigest.decode(d.encode()).orElseThrow();

        assertThat(back.size()).isEqualTo(d.size()).isEqualTo(40);
        for (long k : keys) {
            assertThat(back.contains(k)).as("key %d", k).isTrue();
        }
        assertThat(back.encode()).isEqualTo(d.encode());
    }

    @Test
    void emptyAndSingleEntryDigestsRoundTrip() {
        assertThat(CacheDigest.decode(CacheDigest.EMPTY.encode()).orElseThrow().size()).isZero();
        long k = CacheDigest.key("/a.css", "\"x\"");
        CacheDigest one = CacheDigest.decode(CacheDigest.EMPTY.with(k).encode()).orElseThrow();
        assertThat(one.contains(k)).isTrue();
        assertThat(one.contains(CacheDigest.key("/a.css", "\"y\""))).as("another ETag").isFalse();
    }

    @Test
    void aFullDigestStaysSmallAndItsFalsePositiveRateIsBounded() {
        CacheDigest full = CacheDigest.EMPTY.with(keys(CacheDigest.MAX_ENTRIES, 2));
        String cookie = full.encode();
        assertThat(cookie.length()).as("cookie characters").isLessThanOrEqualTo(420);

        CacheDigest back = CacheDigest.decode(cookie).orElseThrow();
        Random random = new Random(42);
        int queries = 200_000;
        int hits = 0;
        for (int i = 0; i < queries; i++) {
            if (back.contains(random.nextLong())) {
                hits++;
            }
        }
        // Expected entries / (N * 2^P) = 1/128 at most (less when hashes collide); allow sampling noise.
        assertThat((double) hits / queries).isLessThan(1.0 / 128 * 1.2);
    }

    @Test
    void addingBeyondTheCapStartsAFreshDigestWithTheNewKeys() {
        CacheDigest full = CacheDigest.EMPTY.with(keys(CacheDigest.MAX_ENTRIES, 3));
        long[] fresh = keys(5, 4);

        CacheDigest next = full.with(fresh);

        assertThat(next.size()).isEqualTo(5);
        for (long k : fresh) {
            assertThat(next.contains(k)).isTrue();
        }
        assertThat(full.with(keys(3, 3))).as("nothing new: the same digest").isSameAs(full);
    }

    @Test
    void malformedValuesAreRejected() {
        String good = CacheDigest.EMPTY.with(keys(10, 5)).encode();
        byte[] raw = Base64.getUrlDecoder().decode(good);
        byte[] otherVersion = raw.clone();
        otherVersion[0] = 9;
        byte[] otherP = raw.clone();
        otherP[2] = 3;
        byte[] allOnes = new byte[3 + 4];
        System.arraycopy(raw, 0, allOnes, 0, 3);
        java.util.Arrays.fill(allOnes, 3, allOnes.length, (byte) 0xff); // padding longer than one byte
        byte[] truncatedRemainder = {raw[0], raw[1], raw[2], (byte) 0xfe}; // quotient 7, no remainder bits
        byte[] huge = new byte[3 + 300];
        System.arraycopy(raw, 0, huge, 0, 3); // all zero bits: repeated gaps of 0, duplicates
        String enc = Base64.getUrlEncoder().withoutPadding().encodeToString(new byte[0]);

        for (String bad : new String[] {null, "", "not base64 !", "%%%", enc, "AQ", b64(otherVersion), b64(otherP),
                b64(allOnes), b64(huge), "A".repeat(CacheDigest.MAX_ENCODED_CHARS + 1)}) {
            assertThat(CacheDigest.decode(bad)).as("%s", bad).isEmpty();
        }
        assertThat(CacheDigest.decode(b64(truncatedRemainder))).as("a code cut before its remainder").isEmpty();
        // Random garbage never throws.
        Random random = new Random(7);
        for (int i = 0; i < 2000; i++) {
            byte[] junk = new byte[random.nextInt(40)];
            random.nextBytes(junk);
            if (junk.length >= 3) {
                junk[0] = 1;
                junk[1] = 8;
                junk[2] = 7;
            }
            CacheDigest.decode(b64(junk)).ifPresent(d -> assertThat(d.size()).isLessThanOrEqualTo(256));
        }
    }

    @Test
    void theCookieIsBoundedLaxRootWideAndSecureOnTls() {
        CacheDigest d = CacheDigest.EMPTY.with(keys(3, 6));
        assertThat(PushingFiles.setCookie(d, true)).startsWith("herald-digest=" + d.encode() + ";")
                .contains("; Path=/", "; SameSite=Lax", "; Secure");
        assertThat(PushingFiles.setCookie(d, false)).doesNotContain("Secure");
    }

    private static String b64(byte[] b) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
