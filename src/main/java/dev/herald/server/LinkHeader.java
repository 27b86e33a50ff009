package dev.herald.server;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads the preloads out of a {@code Link} field value (RFC 8288): the entries whose {@code rel} contains
 * {@code preload} or {@code modulepreload} and whose target is on the same origin. A response's Link headers,
 * from the config or from a handler, become pushes or early hints this way.
 *
 * <p>The parser is lenient the way browsers are: a malformed entry is skipped, the rest still count, and it never
 * throws. Targets are absolute paths ({@code </a.css>}) or absolute URLs whose scheme and authority equal the
 * request's; relative references ({@code <a.css>}) and other origins are skipped, since a push must be for the
 * origin the client asked. A {@code nopush} parameter makes the preload a hint only. The fragment is dropped.
 */
public final class LinkHeader {
    /** Preloads read from one field value at most; a page needs a handful, and more only costs memory. */
    public static final int MAX_LINKS = 64;

    private final String value;
    private final boolean anyOrigin;
    private int pos;

    private LinkHeader(String value, boolean anyOrigin) {
        this.value = value;
        this.anyOrigin = anyOrigin;
    }

    /**
     * The same-origin preloads of {@code fieldValue}, in order, without duplicates.
     *
     * @param scheme the request's scheme ({@code https} or {@code http}), to accept absolute URLs of this origin
     * @param authority the request's authority ({@code host[:port]}), or null to accept absolute paths only
     */
    public static List<Preload> preloads(String fieldValue, String scheme, String authority) {
        List<Preload> out = new ArrayList<>();
        if (fieldValue == null) {
            return out;
        }
        new LinkHeader(fieldValue, false).parse(scheme, authority, out);
        return out;
    }

    /**
     * Whether every entry of {@code fieldValue} is a well-formed preload of an absolute path or an http(s) URL,
     * at most {@link #MAX_LINKS} of them: what a configured Link value must be, since an entry this parser skips
     * would go out with every response and never be pushed or hinted.
     */
    public static boolean isPreloadList(String fieldValue) {
        List<Preload> out = new ArrayList<>();
        LinkHeader parser = new LinkHeader(fieldValue, true);
        return parser.parse(null, null, out) && !out.isEmpty() && parser.pos >= fieldValue.length();
    }

    /** Adds the preloads to {@code out}; returns whether every entry read was one. */
    private boolean parse(String scheme, String authority, List<Preload> out) {
        boolean allPreloads = true;
        while (pos < value.length() && out.size() < MAX_LINKS) {
            skipSpaces();
            if (pos >= value.length()) {
                break;
            }
            if (value.charAt(pos) != '<') {
                skipEntry();
                allPreloads = false;
                continue;
            }
            int close = value.indexOf('>', pos + 1);
            if (close < 0) {
                return false;
            }
            String target = value.substring(pos + 1, close).trim();
            pos = close + 1;
            Entry entry = params();
            Preload preload = entry.preload(anyOrigin ? anyOriginPath(target)
                    : sameOriginPath(target, scheme, authority));
            allPreloads &= preload != null;
            if (preload != null && out.stream().noneMatch(p -> p.path().equals(preload.path()))) {
                out.add(preload);
            }
        }
        return allPreloads;
    }

    /** Reads {@code ; name[=value]} pairs up to the entry's end (a comma outside quotes, or the end). */
    private Entry params() {
        Entry entry = new Entry();
        while (true) {
            skipSpaces();
            if (pos >= value.length()) {
                return entry;
            }
            char c = value.charAt(pos);
            if (c == ',') {
                pos++;
                return entry;
            }
            if (c != ';') {
                entry.malformed = true;
                skipEntry();
                return entry;
            }
            pos++;
            skipSpaces();
            int start = pos;
            while (pos < value.length() && Headers.isTokenChar(value.charAt(pos))) {
                pos++;
            }
            String name = value.substring(start, pos).toLowerCase(Locale.ROOT);
            skipSpaces();
            String paramValue = null;
            if (pos < value.length() && value.charAt(pos) == '=') {
                pos++;
                skipSpaces();
                paramValue = pos < value.length() && value.charAt(pos) == '"' ? quoted() : token();
            }
            if (name.isEmpty()) {
                entry.malformed = true;
                skipEntry();
                return entry;
            }
            entry.set(name, paramValue);
        }
    }

    private String quoted() {
        StringBuilder sb = new StringBuilder();
        pos++;
        while (pos < value.length()) {
            char c = value.charAt(pos++);
            if (c == '"') {
                return sb.toString();
            }
            if (c == '\\' && pos < value.length()) {
                c = value.charAt(pos++);
            }
            sb.append(c);
        }
        return sb.toString();
    }

    private String token() {
        int start = pos;
        while (pos < value.length() && Headers.isTokenChar(value.charAt(pos))) {
            pos++;
        }
        return value.substring(start, pos);
    }

    /** Skips to just after the next comma that is outside quotes and angle brackets. */
    private void skipEntry() {
        boolean quoted = false;
        boolean bracketed = false;
        while (pos < value.length()) {
            char c = value.charAt(pos++);
            if (quoted) {
                if (c == '\\') {
                    pos++;
                } else if (c == '"') {
                    quoted = false;
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == '<') {
                bracketed = true;
            } else if (c == '>') {
                bracketed = false;
            } else if (c == ',' && !bracketed) {
                return;
            }
        }
    }

    private void skipSpaces() {
        while (pos < value.length() && (value.charAt(pos) == ' ' || value.charAt(pos) == '\t')) {
            pos++;
        }
    }


    /** The target as an absolute path on the request's origin, or null. */
    static String sameOriginPath(String target, String scheme, String authority) {
        int hash = target.indexOf('#');
        if (hash >= 0) {
            target = target.substring(0, hash);
        }
        if (target.startsWith("/") && !target.startsWith("//")) {
            return target;
        }
        if (authority == null || scheme == null) {
            return null;
        }
        String prefix = scheme.toLowerCase(Locale.ROOT) + "://";
        if (target.length() <= prefix.length() || !target.regionMatches(true, 0, prefix, 0, prefix.length())) {
            return null;
        }
        int slash = target.indexOf('/', prefix.length());
        String targetAuthority = target.substring(prefix.length(), slash < 0 ? target.length() : slash);
        if (!targetAuthority.equalsIgnoreCase(authority)) {
            return null;
        }
        return slash < 0 ? "/" : target.substring(slash);
    }

    /** The path of an absolute path or http(s) URL, whatever its origin, or null. */
    private static String anyOriginPath(String target) {
        for (String scheme : List.of("https", "http")) {
            int authority = scheme.length() + 3;
            if (target.regionMatches(true, 0, scheme + "://", 0, authority)) {
                int slash = target.indexOf('/', authority);
                return sameOriginPath(target, scheme, target.substring(authority, slash < 0 ? target.length() : slash));
            }
        }
        return sameOriginPath(target, null, null);
    }

    /** One entry's parameters. */
    private static final class Entry {
        boolean preload;
        boolean module;
        boolean noPush;
        boolean malformed;
        String as;
        String cors;

        void set(String name, String paramValue) {
            switch (name) {
                case "rel" -> {
                    if (paramValue != null) {
                        for (String rel : paramValue.toLowerCase(Locale.ROOT).split("[ \t]+")) {
                            preload |= rel.equals("preload");
                            module |= rel.equals("modulepreload");
                        }
                    }
                }
                case "as" -> as = paramValue == null ? null : paramValue.toLowerCase(Locale.ROOT);
                case "nopush" -> noPush = true;
                case "crossorigin" -> cors = Preload.corsMode(paramValue);
                default -> {
                }
            }
        }

        Preload preload(String path) {
            if (malformed || path == null || !(preload || module)) {
                return null;
            }
            Preload.Type type = module ? Preload.Type.MODULE : typeOf(as, path);
            try {
                Preload p = Preload.of(path, type);
                if (cors != null) {
                    p = p.cors(cors);
                }
                return noPush ? p.noPush() : p;
            } catch (IllegalArgumentException e) {
                return null;
            }
        }

        private static Preload.Type typeOf(String as, String path) {
            if (as == null) {
                return Preload.Type.ofPath(path);
            }
            return switch (as) {
                case "style" -> Preload.Type.STYLE;
                case "font" -> Preload.Type.FONT;
                case "script" -> Preload.Type.SCRIPT;
                case "image" -> Preload.Type.IMAGE;
                default -> Preload.Type.FETCH;
            };
        }
    }
}
