package dev.herald.server;

import dev.herald.testing.HeraldExtension;
import dev.herald.testing.RawHttp1;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The {@code date} header: IMF-fixdate, formatted once per second, on every response (success and error). */
class DateHeaderTest {
    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.site("basic");

    @Test
    void formatsImfFixdateOncePerSecond() {
        AtomicLong clock = new AtomicLong(Instant.parse("2026-12-07T08:04:05.100Z").toEpochMilli());
        DateHeader date = new DateHeader(clock::get);

        String first = date.now();
        clock.addAndGet(800);
        String sameSecond = date.now();
        clock.addAndGet(200);

        assertThat(first).isEqualTo("Mon, 07 Dec 2026 08:04:05 GMT");
        assertThat(sameSecond).isSameAs(first);
        assertThat(date.now()).isEqualTo("Mon, 07 Dec 2026 08:04:06 GMT");
    }

    @Test
    void everyResponseCarriesTheCurrentDate() throws Exception {
        long before = System.currentTimeMillis() / 1000;
        String ok = RawHttp1.get(HERALD.httpPort(), "/hello.txt");
        String missing = RawHttp1.get(HERALD.httpPort(), "/no-such-file");
        long after = System.currentTimeMillis() / 1000;

        for (String raw : new String[] {ok, missing}) {
            Matcher m = Pattern.compile("(?im)^date: ([^\r\n]+)").matcher(raw);
            assertThat(m.find()).as(raw).isTrue();
            long sent = ZonedDateTime.parse(m.group(1), DateTimeFormatter.RFC_1123_DATE_TIME).toEpochSecond();
            assertThat(sent).as(raw).isBetween(before, after);
        }
    }
}
