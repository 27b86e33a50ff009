package dev.herald.files;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a raw, percent-encoded request path into checked segments, or refuses it. Pure: it never touches the
 * file system, so symlinks are the caller's business (see {@link DiskSource}).
 *
 * <h2>Rules, in the order they apply</h2>
 * <ol>
 *   <li>The path must start with {@code /} (400).</li>
 *   <li>Raw characters must be visible ASCII ({@code 0x21..0x7E}) and not a backslash (400): a raw control
 *       character, space, NUL, DEL or non-ASCII byte means the client did not encode the path.</li>
 *   <li>Percent-escapes are decoded exactly once. A truncated ({@code %2}) or non-hex ({@code %zz}) escape is a
 *       400, and so are escapes that would change the path's structure or smuggle a terminator: {@code %2f}
 *       (slash), {@code %5c} (backslash), {@code %00} (NUL). A decoded {@code %25} stays a literal {@code %},
 *       so {@code %252e} is the three characters {@code %2e}, never a dot.</li>
 *   <li>The bytes are decoded as UTF-8 with a strict decoder: overlong forms ({@code %c0%ae},
 *       {@code %e0%80%ae}), surrogates and truncated sequences are a 400.</li>
 *   <li>Decoded control characters (C0, DEL, C1) are a 400.</li>
 *   <li>Runs of slashes are merged, as nginx does with {@code merge_slashes on}: {@code /a//b} is {@code /a/b}.
 *       Nothing is lost by it (an empty segment never names a file) and redirects are built from the merged
 *       path, so {@code //evil.example} can never turn into a protocol-relative {@code Location}.</li>
 *   <li>A {@code .} or {@code ..} segment is a 400: there is no legitimate reason to send one after the client
 *       has normalised the URL (RFC 3986 §5.2.4), and resolving them here would only invite mistakes.</li>
 *   <li>A segment starting with {@code .} is a 404 (dotfiles such as {@code .env}, {@code .git/config} look like
 *       they do not exist), except a first segment that is exactly {@code .well-known} (RFC 8615).</li>
 * </ol>
 * The length limit ({@code max-uri-length}, 414) is checked by {@link StaticFiles} against the whole target.
 */
final class PathResolver {
    private static final String WELL_KNOWN = ".well-known";

    private PathResolver() {
    }

    /** What {@link #resolve} decided. */
    sealed interface Outcome permits Accepted, Rejected {
    }

    /**
     * A safe path.
     *
     * @param path          the decoded path with slashes merged, starting with {@code /}; it ends with {@code /}
     *                      exactly when {@code trailingSlash} is set
     * @param segments      the decoded segments, none empty, none {@code .} or {@code ..}, none hidden
     * @param trailingSlash whether the request named a folder ({@code /docs/}) rather than a file
     */
    record Accepted(String path, List<String> segments, boolean trailingSlash) implements Outcome {
    }

    /** A refused path: the status to answer (400 or 404) and the reason, for the debug log. */
    record Rejected(int status, String reason) implements Outcome {
    }

    static Outcome resolve(String raw) {
        if (raw == null || raw.isEmpty() || raw.charAt(0) != '/') {
            return bad("does not start with /");
        }
        byte[] bytes = new byte[raw.length()];
        int n = 0;
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                if (i + 2 >= raw.length()) {
                    return bad("truncated percent-escape at " + i);
                }
                int hi = hex(raw.charAt(i + 1));
                int lo = hex(raw.charAt(i + 2));
                if (hi < 0 || lo < 0) {
                    return bad("invalid percent-escape at " + i);
                }
                int b = hi << 4 | lo;
                if (b == '/') {
                    return bad("encoded slash (%2f)");
                }
                if (b == '\\') {
                    return bad("encoded backslash (%5c)");
                }
                if (b == 0) {
                    return bad("encoded NUL (%00)");
                }
                bytes[n++] = (byte) b;
                i += 2;
            } else if (c == '\\') {
                return bad("backslash");
            } else if (c < 0x21 || c > 0x7e) {
                return bad(String.format("raw character U+%04X (expected: visible ASCII, percent-encoded)",
                        (int) c));
            } else {
                bytes[n++] = (byte) c;
            }
        }
        String decoded;
        try {
            decoded = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, 0, n))
                    .toString();
        } catch (CharacterCodingException e) {
            return bad("malformed UTF-8 (" + e.getMessage() + ")");
        }
        for (int i = 0; i < decoded.length(); i++) {
            if (Character.isISOControl(decoded.charAt(i))) {
                return bad(String.format("control character U+%04X", (int) decoded.charAt(i)));
            }
        }

        List<String> segments = new ArrayList<>();
        int start = 1;
        while (start <= decoded.length()) {
            int slash = decoded.indexOf('/', start);
            int end = slash < 0 ? decoded.length() : slash;
            if (end > start) {
                String segment = decoded.substring(start, end);
                if (segment.equals(".") || segment.equals("..")) {
                    return bad("dot segment '" + segment + "'");
                }
                segments.add(segment);
            }
            start = end + 1;
        }
        for (int i = 0; i < segments.size(); i++) {
            String segment = segments.get(i);
            if (segment.startsWith(".") && !(i == 0 && segment.equals(WELL_KNOWN))) {
                return new Rejected(404, "hidden segment '" + segment + "'");
            }
        }
        boolean trailingSlash = decoded.endsWith("/");
        String path = "/" + String.join("/", segments) + (trailingSlash && !segments.isEmpty() ? "/" : "");
        return new Accepted(path, List.copyOf(segments), trailingSlash);
    }

    /**
     * Percent-encodes a decoded path for a {@code Location} header: every byte outside RFC 3986's unreserved
     * characters, sub-delims, {@code :}, {@code @} and {@code /} is escaped.
     */
    static String encode(String decodedPath) {
        StringBuilder sb = new StringBuilder(decodedPath.length() + 16);
        for (byte b : decodedPath.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                    || "-._~!$&'()*+,;=:@/".indexOf(c) >= 0) {
                sb.append((char) c);
            } else {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return sb.toString();
    }

    /** An ASCII hex digit's value, or -1 (unlike {@link Character#digit}, which also takes non-ASCII digits). */
    private static int hex(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    private static Rejected bad(String reason) {
        return new Rejected(400, reason);
    }
}
