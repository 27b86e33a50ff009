package dev.herald.server;

import java.util.Locale;
import java.util.Objects;

/**
 * A resource the page will need, announced before the page's response: pushed on HTTP/2 when the client allows
 * push, otherwise sent as a {@code Link: <path>; rel=preload} line in a {@code 103 Early Hints} response and on
 * the final response.
 *
 * <p>The path is same-origin and absolute ({@code /css/site.css}, optionally with a query). {@link #push()} false
 * means "hint, never push" (the {@code nopush} of a Link header, or a resource of unknown size).
 *
 * <h2>Rounds</h2>
 * A pushable resource also has a {@link #round()}: 0 (the default) is promised with the page's first promises;
 * a later round only while the page's response has not started, once every push of the rounds before it has been
 * written (the page is still "thinking", so the connection would otherwise idle). Meanwhile a later round's
 * resource is hinted like a {@code nopush} one. {@code PushingFiles} splits a page's manifest into rounds of one
 * push budget each.
 */
public final class Preload {
    /**
     * What the resource is, for the {@code as} attribute of the Link line and for push order (CSS and fonts first,
     * then scripts, then the rest).
     */
    public enum Type {
        STYLE("style", 0), FONT("font", 0), SCRIPT("script", 1), MODULE("script", 1), IMAGE("image", 2),
        FETCH("fetch", 2);

        private final String as;
        private final int rank;

        Type(String as, int rank) {
            this.as = as;
            this.rank = rank;
        }

        /** The {@code as} value of a preload link. */
        public String as() {
            return as;
        }

        /** Push order: 0 render-blocking (CSS, fonts), 1 scripts, 2 the rest. */
        public int rank() {
            return rank;
        }

        /** Guesses the type from the path's extension; {@link #FETCH} when unknown. */
        public static Type ofPath(String path) {
            String p = path.toLowerCase(Locale.ROOT);
            int q = p.indexOf('?');
            if (q >= 0) {
                p = p.substring(0, q);
            }
            if (p.endsWith(".css")) {
                return STYLE;
            }
            if (p.endsWith(".js") || p.endsWith(".mjs")) {
                return SCRIPT;
            }
            if (p.endsWith(".woff2") || p.endsWith(".woff") || p.endsWith(".ttf") || p.endsWith(".otf")) {
                return FONT;
            }
            for (String ext : new String[] {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".avif", ".ico"}) {
                if (p.endsWith(ext)) {
                    return IMAGE;
                }
            }
            return FETCH;
        }
    }

    private final String path;
    private final Type type;
    private final boolean push;
    private final long size;
    private final int round;
    /** The element's CORS mode: null for the type's own, {@code anonymous} or {@code use-credentials}. */
    private final String cors;
    /** Whether it goes in the 103 Early Hints (it always goes on the final response). */
    private final boolean early;

    private Preload(String path, Type type, boolean push, long size, int round, String cors, boolean early) {
        this.path = Objects.requireNonNull(path, "path");
        this.type = Objects.requireNonNull(type, "type");
        if (!path.startsWith("/") || path.startsWith("//")) {
            throw new IllegalArgumentException("path: " + path + " (expected: a same-origin absolute path)");
        }
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c <= 0x20 || c >= 0x7f || c == '>' || c == '<' || c == '"') {
                throw new IllegalArgumentException("path: " + path + " (expected: no spaces, controls or <>\")");
            }
        }
        if (round < 0) {
            throw new IllegalArgumentException("round: " + round + " (expected: >= 0)");
        }
        if (cors != null && !cors.equals(ANONYMOUS) && !cors.equals(USE_CREDENTIALS)) {
            throw new IllegalArgumentException("cors: " + cors + " (expected: anonymous or use-credentials)");
        }
        this.push = push;
        this.size = size;
        this.round = round;
        this.cors = cors;
        this.early = early;
    }

    /** The CORS modes of an element's {@code crossorigin} attribute. */
    public static final String ANONYMOUS = "anonymous";
    public static final String USE_CREDENTIALS = "use-credentials";

    /**
     * The CORS mode a {@code crossorigin} attribute or Link parameter asks for (HTML: {@code use-credentials}, or
     * {@code anonymous} for any other value, an empty or missing one too).
     */
    public static String corsMode(String crossorigin) {
        return crossorigin != null && crossorigin.trim().equalsIgnoreCase(USE_CREDENTIALS) ? USE_CREDENTIALS
                : ANONYMOUS;
    }

    /** A resource that may be pushed; its type from the extension. */
    public static Preload of(String path) {
        return new Preload(path, Type.ofPath(path), true, -1, 0, null, true);
    }

    public static Preload of(String path, Type type) {
        return new Preload(path, type, true, -1, 0, null, true);
    }

    /** The same resource, hinted but never pushed. */
    public Preload noPush() {
        return new Preload(path, type, false, size, round, cors, early);
    }

    /** The same resource, pushable in round 0: where a budget starts over. */
    public Preload pushable() {
        return new Preload(path, type, true, size, 0, cors, early);
    }

    /** The same resource with its size in bytes (for budgets; -1 when unknown). */
    public Preload size(long bytes) {
        return new Preload(path, type, push, bytes, round, cors, early);
    }

    /**
     * The same resource, pushed in round {@code n} (see the class comment): 0 with the page's first promises,
     * {@code n > 0} only if the page's response has still not started once round {@code n - 1} is written.
     */
    public Preload round(int n) {
        return new Preload(path, type, push, size, n, cors, early);
    }

    /**
     * The same resource fetched in the CORS mode of its element's {@code crossorigin} attribute ({@link #ANONYMOUS}
     * or {@link #USE_CREDENTIALS}): a browser reuses a preload only if the modes match.
     */
    public Preload cors(String mode) {
        return new Preload(path, type, push, size, round, mode, early);
    }

    /**
     * The same resource, left out of the 103 Early Hints (still on the final response): a browser stores what
     * early hints fetched in its HTTP cache only, and must revalidate or refetch it there when its
     * {@code cache-control} says {@code no-cache} or {@code no-store}.
     */
    public Preload notEarly() {
        return new Preload(path, type, push, size, round, cors, false);
    }

    /** Whether it goes in the 103 Early Hints. */
    public boolean early() {
        return early;
    }

    public String path() {
        return path;
    }

    public Type type() {
        return type;
    }

    public boolean push() {
        return push;
    }

    /** Size in bytes, or -1 when unknown. */
    public long size() {
        return size;
    }

    /** The push round: 0 with the page's first promises, later ones while the page's response is not ready. */
    public int round() {
        return round;
    }

    /** Whether this resource is pushable, but only in a later round (hinted until then). */
    public boolean later() {
        return push && round > 0;
    }

    /**
     * The Link field value: {@code </a.css>; rel=preload; as=style}; module scripts use
     * {@code rel=modulepreload}; fonts and fetches carry {@code crossorigin} (they are fetched in CORS mode, and a
     * preload without it would not be reused), and so does any resource whose element had it, with its value.
     */
    public String linkValue() {
        StringBuilder sb = new StringBuilder().append('<').append(path).append('>');
        if (type == Type.MODULE) {
            sb.append("; rel=modulepreload");
        } else {
            sb.append("; rel=preload; as=").append(type.as());
        }
        if (USE_CREDENTIALS.equals(cors)) {
            sb.append("; crossorigin=use-credentials");
        } else if (cors != null || type == Type.FONT || type == Type.FETCH) {
            sb.append("; crossorigin");
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Preload p && p.path.equals(path) && p.type == type && p.push == push && p.size == size
                && p.round == round && Objects.equals(p.cors, cors) && p.early == early;
    }

    @Override
    public int hashCode() {
        return Objects.hash(path, type, push, size, round, cors, early);
    }

    @Override
    public String toString() {
        return linkValue() + (push ? (round > 0 ? "; round=" + round : "") : "; nopush") + (early ? "" : "; not-early");
    }
}
