package dev.herald.server;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Chooses the handler for a request: exact paths first, then the longest matching prefix, then the fallback
 * (static files). Built once at start and never changed, so lookups need no locking.
 */
public final class Router implements Handler {
    private final Map<String, Handler> exact;
    private final List<Map.Entry<String, Handler>> prefixes;
    private final Handler fallback;

    private Router(Builder b) {
        this.exact = Map.copyOf(b.exact);
        List<Map.Entry<String, Handler>> p = new ArrayList<>(b.prefixes.entrySet());
        p.sort((x, y) -> y.getKey().length() - x.getKey().length());
        this.prefixes = List.copyOf(p);
        this.fallback = b.fallback;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public void handle(Exchange exchange) throws Exception {
        Handler h = route(exchange.request().path());
        (h != null ? h : fallback).handle(exchange);
    }

    /**
     * Whether {@code path} (without its query) goes to the fallback, the static files, rather than to a route. A
     * route may answer anything, so a Link header's preload of it is hinted but never pushed: a push must be
     * cacheable (RFC 9113 §8.4), and that is only known of static files before the answer exists.
     */
    public boolean isFallback(String path) {
        int q = path.indexOf('?');
        return route(q < 0 ? path : path.substring(0, q)) == null;
    }

    private Handler route(String path) {
        Handler h = exact.get(path);
        if (h == null) {
            for (Map.Entry<String, Handler> e : prefixes) {
                if (path.startsWith(e.getKey())) {
                    h = e.getValue();
                    break;
                }
            }
        }
        return h;
    }

    /** Builds a {@link Router}. */
    public static final class Builder {
        private final Map<String, Handler> exact = new HashMap<>();
        private final Map<String, Handler> prefixes = new HashMap<>();
        private Handler fallback = ex -> ex.respond(Response.error(404, "not found",
                "nothing is served at " + ex.request().path()));

        private Builder() {
        }

        /** Routes exactly this path. */
        public Builder exact(String path, Handler handler) {
            exact.put(path, handler);
            return this;
        }

        /** Routes every path starting with this prefix (e.g. {@code /topics/}). */
        public Builder prefix(String prefix, Handler handler) {
            prefixes.put(prefix, handler);
            return this;
        }

        public Builder fallback(Handler handler) {
            this.fallback = handler;
            return this;
        }

        public Router build() {
            return new Router(this);
        }
    }
}
