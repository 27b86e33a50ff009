package dev.herald.server;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;

/**
 * One line per request or stream on logger {@code herald.access}:
 * {@code time conn=ID stream=ID protocol method path status bytes duration [key=value...]}.
 *
 * <p>The trailing {@code key=value} pairs are free-form so features can add detail without changing the fixed
 * columns that log parsers rely on. A page that announced resources gets
 * {@code pushed=N cancelled=N skipped-diary=N skipped-digest=N hinted=N}, and {@code push-reason=...} when push
 * was not possible (push-disabled, client-refuses-push, http/1.1, conditional, goaway...); its line is written
 * once all its pushes have closed. A pushed response's own line ends with {@code push=completed},
 * {@code push=cancelled} or {@code push=refused}.
 */
final class AccessLog {
    private static final Logger LOG = LoggerFactory.getLogger("herald.access");
    private final boolean enabled;

    AccessLog(boolean enabled) {
        this.enabled = enabled && LOG.isInfoEnabled();
    }

    boolean enabled() {
        return enabled;
    }

    void log(Request req, int status, long bytes, long startNanos, String extra) {
        log(req, status, bytes, startNanos, System.nanoTime(), extra);
    }

    /** A line for a response that ended at {@code endNanos}, written later (a page waits for its pushes). */
    void log(Request req, int status, long bytes, long startNanos, long endNanos, String extra) {
        if (!enabled) {
            return;
        }
        double ms = (endNanos - startNanos) / 1e6;
        StringBuilder sb = new StringBuilder(128);
        sb.append(Instant.now()).append(" conn=").append(req.connectionId())
                .append(" stream=").append(req.streamId())
                .append(' ').append(req.protocol())
                .append(' ').append(sanitize(req.method()))
                .append(' ').append(sanitize(req.path()))
                .append(' ').append(status)
                .append(' ').append(bytes < 0 ? "-" : Long.toString(bytes))
                .append(' ').append(String.format(java.util.Locale.ROOT, "%.3fms", ms));
        if (extra != null && !extra.isEmpty()) {
            sb.append(' ').append(extra);
        }
        LOG.info(sb.toString());
    }

    /** Keeps the log one line per request whatever the client sent. */
    private static String sanitize(String s) {
        if (s.length() > 512) {
            s = s.substring(0, 512) + "...";
        }
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f || c == ' ') {
                if (sb == null) {
                    sb = new StringBuilder(s.substring(0, i));
                }
                sb.append(String.format("%%%02X", (int) c));
            } else if (sb != null) {
                sb.append(c);
            }
        }
        return sb == null ? s : sb.toString();
    }
}
