package dev.herald.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EventIdTest {

    @Test
    void parsesAndPrintsTheRedisForm() {
        EventId id = EventId.parse("1700000000000-7");
        assertThat(id.ms()).isEqualTo(1_700_000_000_000L);
        assertThat(id.seq()).isEqualTo(7);
        assertThat(id).hasToString("1700000000000-7").isEqualTo(EventId.of(1_700_000_000_000L, 7));
        assertThat(EventId.parse("0-0")).isSameAs(EventId.ZERO);
    }

    @Test
    void acceptsTheFullUnsignedRange() {
        EventId max = EventId.parse("18446744073709551615-18446744073709551615");
        assertThat(max).hasToString("18446744073709551615-18446744073709551615");
        assertThat(max.ms()).isEqualTo(-1L);
        assertThat(max).isGreaterThan(EventId.parse("9223372036854775807-0"));
    }

    @Test
    void ordersNumericallyByMsThenSeq() {
        List<EventId> ids = new ArrayList<>(List.of(EventId.parse("10-0"), EventId.parse("9-5"),
                EventId.parse("10-10"), EventId.parse("10-2"), EventId.ZERO, EventId.parse("100-0")));
        ids.sort(null);
        assertThat(ids).extracting(EventId::toString).containsExactly("0-0", "9-5", "10-0", "10-2", "10-10", "100-0");
        assertThat(EventId.parse("5-1").next()).isEqualTo(EventId.parse("5-2"));
    }

    @Test
    void theLargestIdHasNoNextRatherThanWrappingToZero() {
        // Found by EventIdFuzzTest: next() of the largest id used to be 0-0, lower than every id.
        EventId largest = EventId.parse("18446744073709551615-18446744073709551615");
        assertThat(EventId.parse("7-18446744073709551615").next()).hasToString("8-0");
        assertThatThrownBy(largest::next).isInstanceOf(ArithmeticException.class)
                .hasMessageContaining("18446744073709551615-18446744073709551615");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "abc", "1", "1-", "-1", "-", "1-2-3", "+1-2", "1-+2", " 1-2", "1-2 ", "1_2", "1.5-2",
            "0x10-1", "１-2", "18446744073709551616-0", "1-18446744073709551616", "000000000000000000001-0",
            "1-2\n", "1-2\u0000"})
    void rejectsMalformedIdsWithAClearMessage(String text) {
        assertThatThrownBy(() -> EventId.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("event id: '")
                .hasMessageContaining("expected:")
                .hasMessageNotContaining("\n")
                .hasMessageNotContaining("\u0000");
    }

    @Test
    void rejectsNullAndHugeInputWithoutEchoingAll() {
        assertThatThrownBy(() -> EventId.parse(null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("null");
        String huge = "1".repeat(10_000) + "-1";
        assertThatThrownBy(() -> EventId.parse(huge)).isInstanceOf(IllegalArgumentException.class)
                .message().hasSizeLessThan(200);
    }

    @Test
    void retentionValidatesItsBounds() {
        assertThatThrownBy(() -> new Retention(0, Duration.ofHours(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("maxEvents: 0 (expected: >= 1)");
        assertThatThrownBy(() -> new Retention(1, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("maxAge: PT0S (expected: > 0)");
        assertThat(new Retention(1, Duration.ofSeconds(Long.MAX_VALUE)).maxAgeMillis()).isEqualTo(Long.MAX_VALUE);
        assertThat(Retention.defaults().maxEvents()).isPositive();
    }
}
