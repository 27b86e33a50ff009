package dev.herald.files;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.Set;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * The gzip variant Herald makes itself ({@code files.compress}) for a text file that has no {@code .gz} sibling:
 * compressed once per version of the file, on the thread that reads it, and kept beside the identity bytes in the
 * file cache, so a request costs no compression (nginx's {@code gzip_static} with the file made for you, rather
 * than its {@code gzip}, which compresses every response again).
 *
 * <p>Only types that compress: text, JavaScript, JSON, XML, SVG, WebAssembly and uncompressed fonts; never images,
 * media, archives or woff/woff2, which are compressed already. Only files held in memory (up to
 * {@code files.cache-max-file-size}); larger ones stream from disk as they are. A result that saves less than an
 * eighth is dropped: the client would pay for the decoding and the cache for the bytes, for little.
 */
final class Compression {
    /** Smaller files fit one packet either way (nginx's {@code gzip_min_length} is 20, h2o's 100). */
    static final int MIN_SIZE = 256;
    /** Level 9: paid once per version of a file of at most a few hundred KB, not per request. */
    private static final int LEVEL = Deflater.BEST_COMPRESSION;
    private static final Set<String> TYPES = Set.of("application/javascript", "application/json",
            "application/manifest+json", "application/xml", "application/wasm", "image/svg+xml", "image/x-icon",
            "font/ttf", "font/otf");

    private Compression() {
    }

    /** Whether a representation of this media type ({@code text/css; charset=utf-8}) is worth compressing. */
    static boolean compressible(String contentType) {
        int semi = contentType.indexOf(';');
        String type = (semi < 0 ? contentType : contentType.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
        return type.startsWith("text/") || TYPES.contains(type);
    }

    /**
     * The gzip variant of an in-memory identity variant of this type, sharing its stamp and date, or {@code null}
     * when it is not worth it (type, size, or saving). {@code previous} is reused when it was made from the same
     * version of the file.
     */
    static Variant gzip(Variant identity, String contentType, Variant previous) {
        byte[] plain = identity.bytes();
        if (plain == null || plain.length < MIN_SIZE || !compressible(contentType)) {
            return null;
        }
        if (previous != null && previous.madeFrom(identity)) {
            return previous;
        }
        byte[] packed = gzip(plain);
        if (packed.length > plain.length - plain.length / 8) {
            return null;
        }
        return new Variant(AcceptEncoding.GZIP, EntityTags.of(packed), identity.lastModified(), packed.length, packed,
                identity.stamp());
    }

    static byte[] gzip(byte[] plain) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(plain.length / 3 + 64);
        try (GZIPOutputStream z = new GZIPOutputStream(out, 8192) {
            {
                def.setLevel(LEVEL);
            }
        }) {
            z.write(plain);
        } catch (IOException e) {
            throw new UncheckedIOException("gzip into memory", e); // a ByteArrayOutputStream does not throw
        }
        return out.toByteArray();
    }
}
