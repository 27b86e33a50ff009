package dev.herald.files;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;

/**
 * Strong entity tags derived from content, and the comparisons RFC 9110 §8.8.3.2 asks for: weak comparison for
 * {@code If-None-Match}, strong comparison for {@code If-Match} and {@code If-Range}.
 *
 * <p>A tag is {@code "} + base64url of the first 16 bytes of the content's SHA-256 + {@code "}: the same bytes
 * give the same tag on every server and after every restart, and 128 bits make a collision a non-issue.
 */
final class EntityTags {
    private static final int CHUNK = 64 << 10;

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
     * The tag of a file's content, read through the digest in 64 KiB chunks: a file of any size costs one buffer,
     * never its whole length in memory. Blocking; call it off the event loop.
     */
    static String of(Path file) throws IOException {
        MessageDigest digest = sha256();
        byte[] buffer = new byte[CHUNK];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                digest.update(buffer, 0, n);
            }
        }
        return fromDigest(digest.digest());
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
