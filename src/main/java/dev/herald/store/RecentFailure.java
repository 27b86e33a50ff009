package dev.herald.store;

/**
 * The last failed write of a store while none succeeded since, for {@link EventLog#unavailable}: reported for
 * {@link #REPORTED_MS} after it. A store that is only checked by its writes must not stay unhealthy on an old
 * failure: a load balancer that believed it would keep away the appends that show the store works again.
 *
 * <p>Thread-safe: written by whichever thread sees a write end, read by {@code /healthz}.
 */
public final class RecentFailure {
    /** How long (ms) a failed write is reported when nothing was written since. */
    public static final long REPORTED_MS = 10_000;

    private volatile Failure last;

    private record Failure(String reason, long atMs) {
    }

    /** A write failed at {@code nowMs} for {@code reason} (short, public: no host names or paths). */
    public void failed(String reason, long nowMs) {
        last = new Failure(reason, nowMs);
    }

    /** A write succeeded: what failed before is over. */
    public void succeeded() {
        if (last != null) {
            last = null;
        }
    }

    /** The reason of a failure less than {@link #REPORTED_MS} before {@code nowMs}, or null (a clock that went back too). */
    public String reason(long nowMs) {
        Failure f = last;
        long age = f == null ? -1 : nowMs - f.atMs();
        return age >= 0 && age < REPORTED_MS ? f.reason() : null;
    }
}
