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

    CachePolicy(HeraldConfig config) {
        this.normal = config.cacheControl();
        this.immutablePattern = Pattern.compile(config.immutablePattern());
        this.immutable = config.immutableCacheControl();
    }

    String forPath(String decodedPath) {
        return immutablePattern.matcher(decodedPath).matches() ? immutable : normal;
    }
}
