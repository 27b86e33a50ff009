package dev.herald.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.regex.Pattern;

/**
 * Fuzzes Last-Event-ID parsing ({@link EventId#parse}) and the id order. Seeds:
 * {@code src/test/resources/dev/herald/store/EventIdFuzzTestInputs/<method>/}.
 */
class EventIdFuzzTest {
    private static final Pattern ID = Pattern.compile("([0-9]{1,20})-([0-9]{1,20})");
    private static final BigInteger MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
    private static final BigInteger LARGEST = MAX.shiftLeft(64).add(MAX);

    /** Any header value: a 400 message on one line, or an id that prints as the same numbers and parses back. */
    @FuzzTest(maxDuration = "30s")
    void parse(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        EventId id;
        try {
            id = EventId.parse(text);
        } catch (IllegalArgumentException e) {
            assertThat(e.getMessage()).startsWith("event id: ").doesNotContain("\n").doesNotContain("\r");
            assertThat(e.getMessage().length()).isLessThan(200);
            return;
        }
        var m = ID.matcher(text);
        assertThat(m.matches()).as("'%s' accepted", text).isTrue();
        BigInteger ms = new BigInteger(m.group(1));
        BigInteger seq = new BigInteger(m.group(2));
        assertThat(ms).isLessThanOrEqualTo(MAX);
        assertThat(seq).isLessThanOrEqualTo(MAX);
        assertThat(id).hasToString(ms + "-" + seq); // leading zeros dropped, nothing else changed
        assertThat(EventId.parse(id.toString())).isEqualTo(id).isEqualByComparingTo(id);
    }

    /** Two ids from 32 bytes: ordered by (ms, seq) as unsigned numbers, consistent with equals and next(). */
    @FuzzTest(maxDuration = "30s")
    void order(byte[] input) {
        ByteBuffer b = ByteBuffer.wrap(Arrays.copyOf(input, 32));
        EventId x = EventId.of(b.getLong(), b.getLong());
        EventId y = EventId.of(b.getLong(), b.getLong());
        int expected = number(x).compareTo(number(y));
        assertThat(Integer.signum(x.compareTo(y))).as("%s vs %s", x, y).isEqualTo(expected);
        assertThat(Integer.signum(y.compareTo(x))).isEqualTo(-expected);
        assertThat(x.equals(y)).isEqualTo(expected == 0);
        if (expected == 0) {
            assertThat(x.hashCode()).isEqualTo(y.hashCode());
        }
        for (EventId id : new EventId[] {x, y}) {
            assertThat(EventId.parse(id.toString())).isEqualTo(id);
            assertThat(id).isGreaterThanOrEqualTo(EventId.ZERO);
            if (number(id).equals(LARGEST)) {
                assertThatThrownBy(id::next).isInstanceOf(ArithmeticException.class);
                continue;
            }
            EventId next = id.next();
            assertThat(next).as("after %s", id).isGreaterThan(id);
            assertThat(number(next)).isEqualTo(number(id).add(BigInteger.ONE));
        }
    }

    /** The id as the 128-bit number ms * 2^64 + seq, whose order the ids must follow. */
    private static BigInteger number(EventId id) {
        return new BigInteger(Long.toUnsignedString(id.ms())).shiftLeft(64)
                .add(new BigInteger(Long.toUnsignedString(id.seq())));
    }
}
