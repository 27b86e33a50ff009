package dev.herald.files;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

/**
 * Strong entity tags, and the comparisons RFC 9110 §8.8.3.2 asks for: weak comparison for {@code If-None-Match},
 * strong comparison for {@code If-Match} and {@code If-Range}.
 *
 * <h2>Two kinds of tag</h2>
 * A representation held in memory (a file up to {@code files.cache-max-file-size}, a gzip variant, a bundled
 * resource) is tagged by its content ({@link #of(byte[])}): {@code "} + base64url of the first 16 bytes of its
 * SHA-256 + {@code "}. The same bytes give the same tag on every server and after every restart, and 128 bits make
 * a collision a non-issue. The bytes are read anyway, so the hash costs little.
 *
 * <p>A file streamed from disk is tagged by its stat ({@link #of(FileStamp, String)}):
 * {@code "<mtime in ns, hex>-<size, hex>"}, as nginx and h2o tag every file ({@code "<mtime s>-<size>"}). Hashing
 * its content would read all of it before the first byte goes out: 7.9 s for a 2 GB file on 2 CPUs, even for
 * {@code Range: bytes=0-0}, on the pool every cache miss waits for. The tag is strong, as theirs are, so
 * {@code If-Range} resumes downloads: it changes whenever the size or the modification time does, which writes
 * and replacements do. What it misses is a rewrite that keeps the size within the timestamp's resolution (a few
 * ms on Linux, where nginx has a second). The inode is left out on purpose: copies made with their times
 * ({@code rsync -t}, {@code cp -p}) get the same tag on every server behind a load balancer (why Apache 2.4
 * dropped the inode from its default {@code FileETag}); an identical size and time to the nanosecond is in
 * practice that same copy.
 */
final class EntityTags {
    private EntityTags() {
    }

    /** A fresh SHA-256 digest (cheap to create; instances are not thread-safe, so none is shared). */
    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    static String of(byte[] content) {
        return fromDigest(sha256().digest(content));
    }

    /**
     * The tag of a file streamed from disk, from its stat alone (see "Two kinds of tag"); a precompressed sibling's
     * tag names its encoding too, so it can never equal the tag of another representation of the same resource.
     *
     * @param encoding {@code null} for the identity file, else the sibling's {@code content-encoding}
     */
    static String of(FileStamp stamp, String encoding) {
        String tag = Long.toHexString(stamp.modified().to(TimeUnit.NANOSECONDS)) + '-'
                + Long.toHexString(stamp.size());
        return '"' + (encoding == null ? tag : tag + '-' + encoding) + '"';
    }

    static String fromDigest(byte[] sha256) {
        return '"' + Base64.getUrlEncoder().withoutPadding().encodeToString(Arrays.copyOf(sha256, 16)) + '"';
    }

    /**
     * Whether an {@code If-None-Match} value matches {@code etag} by weak comparison: {@code *} matches any
     * current representation, {@code W/"x"} matches {@code "x"}. A malformed list matches only up to the point
     * where it stops making sense.
     */
    static boolean noneMatchHits(String ifNoneMatch, String etag) {
        return listHits(ifNoneMatch, etag, false);
    }

    /**
     * Whether an {@code If-Match} value matches {@code etag} by strong comparison (RFC 9110 §13.1.1): {@code *}
     * matches any current representation, a weak tag in the list never matches. A malformed list matches only up
     * to the point where it stops making sense.
     */
    static boolean matchHits(String ifMatch, String etag) {
        return listHits(ifMatch, etag, true);
    }

    private static boolean listHits(String list, String etag, boolean strong) {
        String value = list.trim();
        if (value.equals("*")) {
            return true;
        }
        if (strong && etag.startsWith("W/")) {
            return false;
        }
        String opaque = opaque(etag);
        int i = 0;
        int n = value.length();
        while (i < n) {
            char c = value.charAt(i);
            if (c == ' ' || c == '\t' || c == ',') {
                i++;
                continue;
            }
            boolean weak = c == 'W' && value.startsWith("W/", i);
            if (weak) {
                i += 2;
            }
            if (i >= n || value.charAt(i) != '"') {
                return false;
            }
            int close = value.indexOf('"', i + 1);
            if (close < 0) {
                return false;
            }
            if (!(strong && weak) && value.regionMatches(i, opaque, 0, opaque.length())
                    && close + 1 - i == opaque.length()) {
                return true;
            }
            i = close + 1;
        }
        return false;
    }

    /** Strong comparison for {@code If-Range}: a weak tag never matches. */
    static boolean strongMatch(String candidate, String etag) {
        String c = candidate.trim();
        return !c.startsWith("W/") && c.equals(etag);
    }

    /** Whether an {@code If-Range} value is an entity tag (rather than a date). */
    static boolean looksLikeTag(String ifRange) {
        String c = ifRange.trim();
        return c.startsWith("\"") || c.startsWith("W/");
    }

    private static String opaque(String etag) {
        return etag.startsWith("W/") ? etag.substring(2) : etag;
    }
}
