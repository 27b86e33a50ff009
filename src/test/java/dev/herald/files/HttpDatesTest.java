package dev.herald.files;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

class HttpDatesTest {
    private static final long NOV_6_1994 = 784_111_777L;

    @Test
    void formatsImfFixdateWithTwoDigitDays() {
        assertThat(HttpDates.format(NOV_6_1994 * 1000 + 999)).isEqualTo("Sun, 06 Nov 1994 08:49:37 GMT");
        assertThat(HttpDates.format(0)).isEqualTo("Thu, 01 Jan 1970 00:00:00 GMT");
    }

    @Test
    void remembersFormattedSecondsWithoutMixingThemUp() {
        long s = NOV_6_1994;
        for (int round = 0; round < 2; round++) { // the second round reads what the first remembered
            assertThat(HttpDates.format(s * 1000)).isEqualTo("Sun, 06 Nov 1994 08:49:37 GMT");
            assertThat(HttpDates.format(s * 1000 + 500)).isEqualTo("Sun, 06 Nov 1994 08:49:37 GMT");
            assertThat(HttpDates.format((s + 1) * 1000)).isEqualTo("Sun, 06 Nov 1994 08:49:38 GMT");
            // 64 and 4096 seconds on: the same slot of the table, other values
            assertThat(HttpDates.format((s + 64) * 1000)).isEqualTo("Sun, 06 Nov 1994 08:50:41 GMT");
            assertThat(HttpDates.format((s + 4096) * 1000)).isEqualTo("Sun, 06 Nov 1994 09:57:53 GMT");
            assertThat(HttpDates.format(-1)).isEqualTo("Wed, 31 Dec 1969 23:59:59 GMT");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "Sun, 06 Nov 1994 08:49:37 GMT",
        " Sun, 06 Nov 1994 08:49:37 GMT ",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
    })
    void readsAllThreeFormats(String value) {
        assertThat(HttpDates.parseSeconds(value)).isEqualTo(NOV_6_1994);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "yesterday",
        "Sun, 06 Nov 1994 08:49:37",
        "Sun, 06 Nov 1994 08:49:37 PST",
        "Mon, 06 Nov 1994 08:49:37 GMT",
        "Sun, 36 Nov 1994 08:49:37 GMT",
        "784111777",
        "sun, 06 nov 1994 08:49:37 gmt",
    })
    void refusesOtherText(String value) {
        assertThat(HttpDates.parseSeconds(value)).isEqualTo(HttpDates.INVALID);
    }

    @Test
    void nullIsInvalid() {
        assertThat(HttpDates.parseSeconds(null)).isEqualTo(HttpDates.INVALID);
    }

    @Test
    void roundTrips() {
        long now = System.currentTimeMillis();

        assertThat(HttpDates.parseSeconds(HttpDates.format(now))).isEqualTo(now / 1000);
    }
}
