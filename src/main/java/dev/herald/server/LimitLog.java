package dev.herald.server;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * One WARN line per exceeded limit, naming the peer and the limit, at most once per {@code limits.log-interval}
 * for each limit: a flood of refused connections must not flood the log as well. The first line after a quiet
 * interval says how many similar lines were suppressed before it.
 *
 * <p>Limits are named by Herald's code ({@code limits.max-connections}, {@code h2 GOAWAY ENHANCE_YOUR_CALM}), never
 * by the peer, so the state kept here is one small entry per kind of limit. Thread-safe.
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
        Window w = windows.computeIfAbsent(limit, k -> new Window());
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
        sink.accept("limit " + limit + " exceeded by " + peer(peer) + ": " + detail
                + (suppressed > 0 ? " (" + suppressed + " similar suppressed before this one)" : ""));
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
