package dev.herald.server;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The {@code date} every response carries (RFC 9110 §6.6.1: an origin server with a clock must send it), as an
 * IMF-fixdate formatted once per second and shared by every thread, as nginx and h2o do.
 */
final class DateHeader {
    private static final DateTimeFormatter IMF_FIXDATE =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.ENGLISH).withZone(ZoneOffset.UTC);
    static final DateHeader SYSTEM = new DateHeader(System::currentTimeMillis);

    /** One second and its text, replaced whole so that a reader never sees one without the other. */
    private record Formatted(long second, String text) {
    }

    private final LongSupplier clock;
    private volatile Formatted last = new Formatted(Long.MIN_VALUE, "");

    DateHeader(LongSupplier clock) {
        this.clock = clock;
    }

    String now() {
        long second = Math.floorDiv(clock.getAsLong(), 1000L);
        Formatted f = last;
        if (f.second != second) {
            f = new Formatted(second, IMF_FIXDATE.format(Instant.ofEpochSecond(second)));
            last = f;
        }
        return f.text;
    }
}
