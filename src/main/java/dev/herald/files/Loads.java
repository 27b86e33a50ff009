package dev.herald.files;

import dev.herald.server.Exchange;
import dev.herald.server.Request;
import dev.herald.server.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BiFunction;

/**
 * Cache misses on the blocking executor, one load per path at a time (single-flight): the requests that miss while
 * a path is being loaded wait for that load and are answered from its result. Four requests for a file that just
 * changed read, hash and compress it once, and take one thread of the shared pool, not four.
 *
 * <p>A request that joins a running load may get the version that load found, a moment older than its own
 * arrival: the same answer it would have got had it come in a moment earlier. A load whose requests have all gone
 * away before it starts does no disk work.
 */
final class Loads {
    private static final Logger LOG = LoggerFactory.getLogger(Loads.class);

    private final DiskSource disk;
    private final Executor blocking;
    private final BiFunction<Request, Lookup, Response> render;
    private final ConcurrentHashMap<String, Load> running = new ConcurrentHashMap<>();

    Loads(DiskSource disk, Executor blocking, BiFunction<Request, Lookup, Response> render) {
        this.disk = disk;
        this.blocking = blocking;
        this.render = render;
    }

    /**
     * Answers {@code exchange} from the load of {@code path} running now, or from a new one started on the blocking
     * executor.
     *
     * @throws RejectedExecutionException when the executor refuses a new load; the server answers 503
     */
    void answer(PathResolver.Accepted path, Exchange exchange) {
        while (true) {
            Load fresh = new Load(path, exchange);
            Load load = running.putIfAbsent(path.path(), fresh);
            if (load == null) {
                start(fresh);
                return;
            }
            if (load.join(exchange)) {
                return;
            }
            running.remove(path.path(), load); // finishing: no longer takes requests
        }
    }

    private void start(Load load) {
        try {
            blocking.execute(load);
        } catch (RejectedExecutionException e) {
            List<Exchange> joined = load.close();
            Response overloaded = Response.error(503, "overloaded", "try again shortly").header("retry-after", "1");
            for (Exchange other : joined.subList(1, joined.size())) {
                other.respond(overloaded); // the first one's 503 comes from the server, which catches this
            }
            throw e;
        }
    }

    /** Loads running or queued now, for tests. */
    int running() {
        return running.size();
    }

    /** One load of a path and the requests waiting for it; the first of them started it. */
    private final class Load implements Runnable {
        private final PathResolver.Accepted path;
        private final List<Exchange> waiting = new ArrayList<>(2);
        private boolean closed;

        Load(PathResolver.Accepted path, Exchange first) {
            this.path = path;
            waiting.add(first);
        }

        /** Adds a request to answer, unless the load is finishing. */
        synchronized boolean join(Exchange exchange) {
            if (!closed) {
                waiting.add(exchange);
            }
            return !closed;
        }

        /** Takes no more requests and leaves the table; returns the ones to answer. */
        List<Exchange> close() {
            List<Exchange> all;
            synchronized (this) {
                closed = true;
                all = List.copyOf(waiting);
            }
            running.remove(path.path(), this);
            return all;
        }

        /** Whether every request went away before the load started: then it closes and does nothing. */
        private boolean abandoned() {
            synchronized (this) {
                if (waiting.stream().anyMatch(Exchange::isOpen)) {
                    return false;
                }
                closed = true;
            }
            running.remove(path.path(), this);
            return true;
        }

        @Override
        public void run() {
            if (abandoned()) {
                return;
            }
            Lookup lookup = null;
            Throwable failure = null;
            try {
                lookup = disk.load(path);
            } catch (Exception | Error e) {
                failure = e;
            }
            List<Exchange> all = close();
            if (failure != null) {
                LOG.warn("{}: cannot serve {}", all.get(0).request(), path.path(), failure);
            }
            for (Exchange exchange : all) {
                if (!exchange.isOpen()) {
                    continue;
                }
                Response answer;
                try {
                    answer = failure == null ? render.apply(exchange.request(), lookup) : null;
                } catch (RuntimeException | Error e) {
                    // each waiting request is answered, whatever one of them does
                    LOG.error("{}: cannot answer from {}", exchange.request(), path.path(), e);
                    answer = null;
                }
                exchange.respond(answer != null ? answer
                        : Response.error(500, "internal", "the file could not be read; see the server's log"));
            }
        }
    }
}
