package dev.herald.server;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * One WARN line per exceeded limit, naming the peer and the limit, at most once per {@code limits.log-interval}
 * for each limit: a flood of refused connections must not flood the log as well. The first line after a quiet
 * interval says how many similar lines were suppressed before it. Requests failed by an outage of the store (a full
 * disk, Redis down) are logged the same way ({@link #failed}): one line per interval, without a stack trace.
 *
 * <p>Limits and failures are named by Herald's code ({@code limits.max-connections},
 * {@code h2 GOAWAY ENHANCE_YOUR_CALM}, {@code topics publish}), never by the peer, so the state kept here is one small
 * entry per kind. Thread-safe.
 */
public final class LimitLog {
    private static final Logger LOG = LoggerFactory.getLogger(LimitLog.class);

    private final long intervalNanos;
    private final LongSupplier clock;
    private final Consumer<String> sink;
    private final Map<String, Window> windows = new ConcurrentHashMap<>();

    LimitLog(Duration interval, LongSupplier clock, Consumer<String> sink) {
        this.intervalNanos = interval.toNanos();
        this.clock = clock;
        this.sink = sink;
    }

    /** A log writing to Herald's logger, at most one line per limit per {@code interval}. */
    public static LimitLog create(Duration interval) {
        return new LimitLog(interval, System::nanoTime, LOG::warn);
    }

    /**
     * Records that {@code peer} exceeded {@code limit}; logs it unless a line for the same limit went out less than
     * an interval ago, in which case it is counted for the next line.
     *
     * @param peer the client's address (an {@link InetSocketAddress} is shown as {@code host:port}); may be null
     * @param detail what happened, such as {@code 257 connections (limit 256)}
     */
    public void exceeded(String limit, Object peer, String detail) {
        log(limit, () -> "limit " + limit + " exceeded by " + peer(peer) + ": " + detail);
    }

    /**
     * Records a request that failed because of {@code cause}, an expected condition such as a store outage that is
     * already reported where it happens; logs {@code what} and the cause's messages (the stack trace only at DEBUG)
     * unless a line of the same {@code kind} went out less than an interval ago.
     *
     * @param kind what failed, such as {@code topics publish}
     * @param what the request, such as {@code POST /topics/news from 10.0.0.1:5000}
     */
    public void failed(String kind, String what, Throwable cause) {
        LOG.debug("{} failed: {}", kind, what, cause);
        log(kind, () -> {
            StringBuilder causes = new StringBuilder();
            for (Throwable t = cause; t != null && causes.length() < 1_000; t = t.getCause()) {
                causes.append(causes.length() == 0 ? "" : "; caused by ")
                        .append(t.getMessage() != null ? t.getMessage() : t.getClass().getName());
            }
            return kind + " failed: " + what + ": " + causes;
        });
    }

    /** Writes the line {@code line} makes, unless the window of {@code kind} suppresses it: only then is it made. */
    private void log(String kind, Supplier<String> line) {
        Window w = windows.computeIfAbsent(kind, k -> new Window());
        long now = clock.getAsLong();
        long suppressed;
        synchronized (w) {
            if (w.logged && now - w.lastNanos < intervalNanos) {
                w.suppressed++;
                return;
            }
            suppressed = w.suppressed;
            w.logged = true;
            w.lastNanos = now;
            w.suppressed = 0;
        }
        sink.accept(line.get() + (suppressed > 0 ? " (" + suppressed + " similar suppressed before this one)" : ""));
    }

    private static String peer(Object peer) {
        if (peer instanceof InetSocketAddress a) {
            return a.getHostString() + ":" + a.getPort();
        }
        return String.valueOf(peer);
    }

    private static final class Window {
        boolean logged;
        long lastNanos;
        long suppressed;
    }
}
