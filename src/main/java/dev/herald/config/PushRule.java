package dev.herald.config;

import dev.herald.server.LinkHeader;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One entry of {@code push.rules}: the resources a path pattern's pages need, announced (pushed or hinted) before
 * anything discovery, Link headers or learning add.
 *
 * <pre>{@code
 * push:
 *   rules:
 *     - path: /index.html                    # exact, or a glob: * within a segment, ** across segments
 *       resources: [/css/site.css, /js/app.js]
 *     - path: /docs/**
 *       limit: 2                             # push at most 2 resources for these pages (hint the rest)
 *       discovery: false                     # do not scan these pages' HTML and CSS
 *       link: ["</fonts/doc.woff2>; rel=preload; as=font; crossorigin"]
 *     - path: /admin/*
 *       enabled: false                       # neither push nor hint anything for these paths
 * }</pre>
 *
 * The first rule whose pattern matches a request's path (without its query) applies; later ones are ignored.
 *
 * @param path      an absolute path, exact or with {@code *} (any characters but {@code /}) and {@code **} (any);
 *                  three {@code *} in a row are refused, since they could mean either
 * @param resources absolute same-origin paths, in the order they should be pushed
 * @param enabled   false: nothing is pushed or hinted for matching paths, from any source
 * @param limit     resources pushed per page at most for matching paths, in total (no later rounds while the
 *                  page thinks), replacing {@code push.max-resources}; 0 hints only; -1 (no {@code limit} in
 *                  YAML, which refuses negative values) keeps it
 * @param discovery whether matching HTML pages are scanned for what they link to
 * @param links     Link field values added to matching responses, each a list of {@code rel=preload} (or
 *                  {@code modulepreload}) entries, pushed (unless {@code nopush}) or hinted like any Link header
 */
public record PushRule(String path, List<String> resources, boolean enabled, int limit, boolean discovery,
                       List<String> links) {
    /** The rule fields a YAML entry may have. */
    static final List<String> FIELDS = List.of("path", "resources", "enabled", "limit", "discovery", "link");

    public PushRule {
        Objects.requireNonNull(path, "path");
        resources = List.copyOf(resources);
        links = List.copyOf(links);
    }

    /** A rule for {@code path} announcing {@code resources}, with every option at its default. */
    public static PushRule of(String path, List<String> resources) {
        return new PushRule(path, resources, true, -1, true, List.of());
    }

    /** Whether {@code requestPath} (its query, if any, is ignored) matches this rule's pattern. */
    public boolean matches(String requestPath) {
        int q = requestPath.indexOf('?');
        String p = q < 0 ? requestPath : requestPath.substring(0, q);
        if (path.indexOf('*') < 0) {
            return path.equals(p);
        }
        return glob(path).matcher(p).matches();
    }

    /** {@code **} matches anything, {@code *} anything but a slash; every other character stands for itself. */
    static Pattern glob(String pattern) {
        StringBuilder re = new StringBuilder();
        int literal = 0;
        for (int i = 0; i < pattern.length(); i++) {
            if (pattern.charAt(i) != '*') {
                continue;
            }
            re.append(Pattern.quote(pattern.substring(literal, i)));
            if (i + 1 < pattern.length() && pattern.charAt(i + 1) == '*') {
                re.append(".*");
                i++;
            } else {
                re.append("[^/]*");
            }
            literal = i + 1;
        }
        re.append(Pattern.quote(pattern.substring(literal)));
        return Pattern.compile(re.toString());
    }

    /** What is wrong with this rule (as {@code field: value (expected: ...)}), or null when it is valid. */
    String problem() {
        if (!isAbsolutePath(path) || path.contains("***")) {
            return "path: " + path + " (expected: " + expected("path") + ")";
        }
        for (String r : resources) {
            if (!isAbsolutePath(r) || r.indexOf('*') >= 0) {
                return "resources: " + r + " (expected: " + expected("resources") + ")";
            }
        }
        if (limit < -1) {
            return "limit: " + limit + " (expected: " + expected("limit") + ")";
        }
        for (String l : links) {
            if (!HeraldConfig.isFieldValue(l) || !LinkHeader.isPreloadList(l)) {
                return "link: " + Setting.oneLine(l) + " (expected: " + expected("link") + ")";
            }
        }
        return null;
    }

    /** What a valid value of one of the {@link #FIELDS} looks like. */
    static String expected(String field) {
        return switch (field) {
            case "path" -> "an absolute path such as /index.html or /docs/**, with * or ** but no ***";
            case "resources" -> "an absolute same-origin path such as /css/site.css";
            case "enabled", "discovery" -> "true or false";
            case "limit" -> "an integer from 0 (hint only) to 2147483647";
            case "link" -> "a Link field value of preloads such as </a.css>; rel=preload; as=style";
            default -> "one of the rule keys " + String.join(", ", FIELDS);
        };
    }

    private static boolean isAbsolutePath(String p) {
        if (!p.startsWith("/") || p.startsWith("//")) {
            return false;
        }
        for (int i = 0; i < p.length(); i++) {
            char c = p.charAt(i);
            if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == '\\') {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return "{path: " + path + ", resources: " + resources + (enabled ? "" : ", enabled: false")
                + (limit >= 0 ? ", limit: " + limit : "") + (discovery ? "" : ", discovery: false")
                + (links.isEmpty() ? "" : ", link: " + links) + "}";
    }
}
