package dev.herald.push;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Fuzzes the cache-digest cookie: {@link CacheDigest#decode} on any cookie value, and digests built from any keys.
 * Seeds: {@code src/test/resources/dev/herald/push/CacheDigestFuzzTestInputs/<method>/}.
 */
class CacheDigestFuzzTest {
    /** A full digest: 3 header bytes, 256 remainders of 8 bits, at most 256 quotient ones; base64 of 291 bytes. */
    private static final int MAX_FULL_CHARS = 388;

    /** Any cookie value: empty, or a digest within bounds whose own encoding decodes to the same digest. */
    @FuzzTest(maxDuration = "30s")
    void decode(byte[] input) {
        String value = new String(input, StandardCharsets.ISO_8859_1);
        Optional<CacheDigest> decoded = CacheDigest.decode(value);
        if (value.length() > CacheDigest.MAX_ENCODED_CHARS) {
            assertThat(decoded).as("a value of %d chars", value.length()).isEmpty();
        }
        decoded.ifPresent(CacheDigestFuzzTest::checkBoundsAndRoundTrip);
    }

    /**
     * Digests grown from any keys (8 bytes each, added in batches of up to 64): never over
     * {@value CacheDigest#MAX_ENTRIES} entries, always holding the last batch, and round-tripping.
     */
    @FuzzTest(maxDuration = "30s")
    void grow(byte[] input) {
        ByteBuffer b = ByteBuffer.wrap(input);
        CacheDigest d = CacheDigest.EMPTY;
        while (b.hasRemaining()) {
            long[] batch = new long[Math.min(1 + (b.get() & 0x3f), b.remaining() / Long.BYTES)];
            for (int i = 0; i < batch.length; i++) {
                batch[i] = b.getLong();
            }
            CacheDigest before = d;
            d = d.with(batch);
            for (long k : batch) {
                assertThat(d.contains(k)).as("key %d after adding it to %s", k, before).isTrue();
            }
            assertThat(d.size()).isLessThanOrEqualTo(before.size() + batch.length);
            checkBoundsAndRoundTrip(d);
        }
        assertThat(CacheDigest.decode(d.encode()).map(CacheDigest::size)).contains(d.size());
    }

    private static void checkBoundsAndRoundTrip(CacheDigest d) {
        assertThat(d.size()).isBetween(0, CacheDigest.MAX_ENTRIES);
        String encoded = d.encode();
        assertThat(encoded.length()).as("encoding of %s", d).isLessThanOrEqualTo(MAX_FULL_CHARS);
        CacheDigest again = CacheDigest.decode(encoded).orElseThrow(
                () -> new AssertionError("own encoding refused: " + encoded));
        assertThat(again.size()).isEqualTo(d.size());
        assertThat(again.encode()).isEqualTo(encoded);
    }
}
