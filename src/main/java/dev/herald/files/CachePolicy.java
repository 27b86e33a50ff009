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

    CachePolicy(HeraldConfig config) {
        this.normal = config.cacheControl();
        this.immutablePattern = Pattern.compile(config.immutablePattern());
        this.immutable = config.immutableCacheControl();
        this.normalStorable = !noStore(normal);
        this.immutableStorable = !noStore(immutable);
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

    private static boolean noStore(String cacheControl) {
        for (String directive : cacheControl.split(",")) {
            String d = directive.strip();
            if (d.regionMatches(true, 0, "no-store", 0, 8) && (d.length() == 8 || d.charAt(8) == '=')) {
                return true;
            }
        }
        return false;
    }
}
