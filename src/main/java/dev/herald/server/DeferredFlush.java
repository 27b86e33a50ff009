package dev.herald.server;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;

/**
 * One flush of an HTTP/2 connection after a burst of writes on its streams. A long-running stream's chunk is
 * written without a flush and the connection is flushed by a task queued behind the burst: an event fanned out to
 * 100 streams of one connection leaves in one {@code writev} instead of 100 (each stream's flush would otherwise
 * flush the whole connection).
 *
 * <p>Event-loop confined: created, requested and run on the connection's event loop.
 */
final class DeferredFlush implements Runnable {
    private static final AttributeKey<DeferredFlush> KEY = AttributeKey.valueOf(DeferredFlush.class, "flush");

    private final Channel connection;
    private boolean scheduled;

    private DeferredFlush(Channel connection) {
        this.connection = connection;
    }

    /** Flushes {@code connection} once the tasks queued on its event loop so far have run. */
    static void request(Channel connection) {
        DeferredFlush f = connection.attr(KEY).get();
        if (f == null) {
            f = new DeferredFlush(connection);
            connection.attr(KEY).set(f);
        }
        if (!f.scheduled) {
            f.scheduled = true;
            connection.eventLoop().execute(f);
        }
    }

    @Override
    public void run() {
        scheduled = false;
        connection.flush();
    }
}
