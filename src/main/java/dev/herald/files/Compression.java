package dev.herald.files;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
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
 * media, archives or woff/woff2, which are compressed already. A result that saves less than an eighth is dropped:
 * the client would pay for the decoding and the cache for the bytes, for little.
 *
 * <p>The gzip bytes are always held in memory, within the same bound as a file ({@code files.cache-max-file-size}).
 * A file larger than that, which streams from disk, is read through the compressor once per version when it is at
 * most {@link #MAX_STREAMED_FACTOR} times the bound (a 2 MB JavaScript bundle, say, with the default 256 KiB), and
 * its variant is kept when the gzip bytes fit the bound; otherwise it streams as it is. (nginx's {@code gzip}
 * compresses such files on every response instead, at a lower level.)
 */
final class Compression {
    private static final Logger LOG = LoggerFactory.getLogger(Compression.class);
    /** Smaller files fit one packet either way (nginx's {@code gzip_min_length} is 20, h2o's 100). */
    static final int MIN_SIZE = 256;
    /** Level 9 for a file held in memory: paid once per version of a file of at most a few hundred KB. */
    private static final int LEVEL = Deflater.BEST_COMPRESSION;
    /**
     * Level 6 (zlib's default) for a file streamed from disk, which its first request waits for: zlib on 2 MiB of
     * npm's JavaScript took 57 ms against 151 at level 9, for output 0.7% larger.
     */
    private static final int STREAMED_LEVEL = Deflater.DEFAULT_COMPRESSION;
    /** Files streamed from disk are compressed up to this many times {@code files.cache-max-file-size}. */
    static final int MAX_STREAMED_FACTOR = 8;
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
     * The gzip variant of an identity variant of this type, sharing its stamp and date, or {@code null} when it is
     * not worth it (type, size, or saving) or its gzip bytes would be over {@code maxInMemory}. {@code previous} is
     * reused when it was made from the same version of the file. An identity variant streamed from disk is read
     * through the compressor (blocking), when it is at most {@link #MAX_STREAMED_FACTOR} x {@code maxInMemory}.
     */
    static Variant gzip(Variant identity, String contentType, Variant previous, long maxInMemory) {
        if (identity.length() < MIN_SIZE || !compressible(contentType)) {
            return null;
        }
        if (previous != null && previous.madeFrom(identity)) {
            return previous;
        }
        byte[] packed;
        if (identity.bytes() != null) {
            packed = gzip(identity.bytes());
        } else if (identity.stamp() != null && (identity.length() - 1) / MAX_STREAMED_FACTOR < maxInMemory) {
            packed = gzip(identity.stamp(), maxInMemory);
        } else {
            return null;
        }
        long plain = identity.length();
        if (packed == null || packed.length > maxInMemory || packed.length > plain - plain / 8) {
            return null;
        }
        return new Variant(AcceptEncoding.GZIP, EntityTags.of(packed), identity.lastModified(), packed.length, packed,
                identity.stamp());
    }

    /**
     * The gzip bytes of a file streamed from disk, read in 64 KiB chunks; {@code null} once they pass
     * {@code maxOut}, when the file cannot be read, or when it is no longer the version {@code stamp} names.
     */
    private static byte[] gzip(FileStamp stamp, long maxOut) {
        Bounded out = new Bounded(maxOut);
        try (InputStream in = Files.newInputStream(stamp.path());
             GZIPOutputStream z = gzipTo(out, STREAMED_LEVEL)) {
            in.transferTo(z);
        } catch (Bounded.Full e) {
            return null;
        } catch (IOException e) {
            LOG.debug("{}: not compressed: {}", stamp.path(), e.toString());
            return null;
        }
        return stamp.unchanged() ? out.toByteArray() : null;
    }

    private static GZIPOutputStream gzipTo(OutputStream out, int level) throws IOException {
        return new GZIPOutputStream(out, 8192) {
            {
                def.setLevel(level);
            }
        };
    }

    /** Bytes in memory up to a bound; a write past it throws {@link Full}. */
    private static final class Bounded extends ByteArrayOutputStream {
        private final long max;

        Bounded(long max) {
            super(8192);
            this.max = max;
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            if (count + (long) len > max) {
                throw new Full();
            }
            super.write(b, off, len);
        }

        @Override
        public synchronized void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        /** Thrown through the compressor, which declares only IOException, and caught around it. */
        static final class Full extends RuntimeException {
            Full() {
                super("over the bound", null, false, false);
            }
        }
    }

    static byte[] gzip(byte[] plain) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(plain.length / 3 + 64);
        try (GZIPOutputStream z = gzipTo(out, LEVEL)) {
            z.write(plain);
        } catch (IOException e) {
            throw new UncheckedIOException("gzip into memory", e); // a ByteArrayOutputStream does not throw
        }
        return out.toByteArray();
    }
}
