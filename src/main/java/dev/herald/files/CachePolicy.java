package dev.herald.files;

import dev.herald.config.HeraldConfig;

import java.util.regex.Pattern;

/**
 * The {@code cache-control} value for a file: {@code files.immutable-cache-control} when the decoded path of the
 * file served fully matches {@code files.immutable-pattern} (fingerprinted assets such as
 * {@code /app.0123abcd.js}), else {@code files.cache-control}. For a folder's index the path is the index file's,
 * {@code /docs/index.html}.
 */
final class CachePolicy {
    private final String normal;
    private final Pattern immutablePattern;
    private final String immutable;

    private final boolean normalStorable;
    private final boolean immutableStorable;
    private final boolean normalReusable;
    private final boolean immutableReusable;

    CachePolicy(HeraldConfig config) {
        this.normal = config.cacheControl();
        this.immutablePattern = Pattern.compile(config.immutablePattern());
        this.immutable = config.immutableCacheControl();
        this.normalStorable = !noStore(normal);
        this.immutableStorable = !noStore(immutable);
        this.normalReusable = normalStorable && !revalidatesEachUse(normal);
        this.immutableReusable = immutableStorable && !revalidatesEachUse(immutable);
    }

    String forPath(String decodedPath) {
        return immutablePattern.matcher(decodedPath).matches() ? immutable : normal;
    }

    /** Whether no file's value has {@code no-store}: then every response may be stored (the usual case). */
    boolean allStorable() {
        return normalStorable && immutableStorable;
    }

    /** Whether a client may store the file at {@code decodedPath}: its value has no {@code no-store}. */
    boolean storable(String decodedPath) {
        return allStorable() || (immutablePattern.matcher(decodedPath).matches() ? immutableStorable : normalStorable);
    }

    /** Whether every file's value lets a client use its stored copy without asking first (the usual case). */
    boolean allReusable() {
        return normalReusable && immutableReusable;
    }

    /**
     * Whether a client may use its stored copy of the file at {@code decodedPath} without revalidating it: no
     * {@code no-store}, no {@code no-cache}, no {@code max-age=0}. What 103 Early Hints fetched is only of use then.
     */
    boolean reusable(String decodedPath) {
        return allReusable() || (immutablePattern.matcher(decodedPath).matches() ? immutableReusable : normalReusable);
    }

    private static boolean noStore(String cacheControl) {
        return has(cacheControl, "no-store", true);
    }

    private static boolean revalidatesEachUse(String cacheControl) {
        // A no-cache with field names (no-cache="set-cookie") is about those fields only.
        return has(cacheControl, "no-cache", false) || has(cacheControl, "max-age=0", false);
    }

    /** Whether a directive is {@code name}, or (with {@code withArgument}) {@code name=anything}; any case. */
    private static boolean has(String cacheControl, String name, boolean withArgument) {
        int n = name.length();
        for (String directive : cacheControl.split(",")) {
            String d = directive.strip();
            if (d.regionMatches(true, 0, name, 0, n) && (d.length() == n || withArgument && d.charAt(n) == '=')) {
                return true;
            }
        }
        return false;
    }
}
