package dev.herald.files;

import dev.herald.server.Request;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Files under a root folder on disk.
 *
 * <h2>Confinement</h2>
 * A checked path ({@link PathResolver}) is walked from the root one segment at a time: each step is resolved with
 * {@link Path#toRealPath()} (following its symlinks) and must still lie under the root's real path, compared by
 * path components, so {@code /srv/www-old} is not under {@code /srv/www}. A symlink that leaves the root is a 404,
 * even when the rest of the path would lead back in; one that stays inside is followed. A folder's
 * {@code index.html} and the precompressed siblings (looked up next to the name asked for) take the same step, and
 * only regular files are served (never a FIFO or a device, which could block a reader forever).
 *
 * <h2>Memory</h2>
 * Files up to {@code files.cache-max-file-size} are read whole, tagged by their content and may be kept in the
 * {@link FileCache}; larger ones are answered as file regions that the protocol layer streams, tagged by their
 * stat and never read here ({@link EntityTags}: a first request for a 2 GB file costs a {@code stat}, not a pass
 * over 2 GB on the pool that every cache miss waits for). With {@code files.compress}, a text file without a
 * {@code .gz} sibling gets a gzip variant made here, once per version, held in memory ({@link Compression}: a
 * streamed file too, up to a bound).
 *
 * <h2>Files that change while they are read</h2>
 * A file being written (a log, an upload in progress, an rsync target) is served as one snapshot, never refused.
 * A streamed file is the length its {@code stat} gave, as nginx sends the length {@code fstat} gave: what is
 * appended later is not sent, and its tag names that stat, so a later request of the grown file gets a new tag. A
 * file read whole whose {@code stat} differs after the read is read again, up to {@link #MAX_READS} times (a
 * replacement settles); then the last read is served, cut to the length the {@code stat} before it gave (for a
 * file only appended to, the file as it was then), tagged by the hash of exactly those bytes. Its stamp is that
 * earlier {@code stat}, which the file no longer matches, so the cache never answers with it: the next request
 * reads the file again.
 *
 * <h2>Noticing changes</h2>
 * A cache hit costs one {@code stat} of the variant about to be served, on the calling thread: a changed size,
 * modification time or file identity (inode) sends the request to the slow path, which reloads it. The path itself
 * (symlinks, which siblings exist, a folder's index) is resolved again at most once per second per entry
 * ({@link #RESOLVE_INTERVAL_NANOS}), so a new {@code .br} sibling or a retargeted symlink is picked up within a
 * second. That check is metadata only (the path's segments resolved, the siblings looked up, each variant
 * stat'ed; nothing read), so it runs on the calling thread too: when the path still leads to the same files with
 * the same stamps the entry is served at once and counts as resolved now; anything else (a new or gone sibling,
 * another real path, a changed stamp, a path deeper than {@link #MAX_INLINE_SEGMENTS}) goes to the slow path,
 * where unchanged variants are reused rather than read and hashed again.
 *
 * <p>Why on the calling thread: an entry older than a second is the usual case for a page loaded now and then.
 * Answered from the blocking executor, the page is written in a later event-loop task than its 103 and
 * PUSH_PROMISEs: in extra small packets, or after its pushes' bytes. On a new connection its last bytes then miss
 * the first flight of slow start (bench/push, {@code herald serve} at 100 ms RTT: the page done 2.1 round trips
 * after the TLS handshake, 1.1 with this check).
 */
final class DiskSource {
    static final long RESOLVE_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
    /**
     * Paths with more segments are resolved again on the slow path only: each segment costs a {@code realpath}, and
     * the calling thread is an event loop.
     */
    static final int MAX_INLINE_SEGMENTS = 8;
    static final String INDEX = "index.html";
    /**
     * How often a file read whole is read while it keeps changing; then the last read is served. Three lets a
     * replacement ({@code cp new old}) settle without reading a file that is written all the time much longer.
     */
    private static final int MAX_READS = 3;
    /** Byte arrays stay well below the JVM's array limit whatever {@code files.cache-max-file-size} says. */
    private static final long MAX_IN_MEMORY = 1L << 30;
    private static final Logger LOG = LoggerFactory.getLogger(DiskSource.class);

    private final Path root;
    private final CachePolicy policy;
    private final long maxFileInMemory;
    private final FileCache cache;
    private final LongSupplier nanoClock;
    private final boolean compress;

    DiskSource(Path realRoot, CachePolicy policy, long maxFileInMemory, FileCache cache, LongSupplier nanoClock,
               boolean compress) {
        this.root = realRoot;
        this.policy = policy;
        this.maxFileInMemory = Math.min(maxFileInMemory, MAX_IN_MEMORY);
        this.cache = cache;
        this.nanoClock = nanoClock;
        this.compress = compress;
    }

    /**
     * The cached resource for this path if it can be served without blocking: the chosen variant unchanged on disk
     * (one stat), and the path resolved less than a second ago or still leading to the same files now (metadata
     * only, see "Noticing changes"). {@code null} means: call {@link #load} off the event loop.
     */
    Resource cached(PathResolver.Accepted path, Request request) {
        Resource r = cache.get(path.path());
        if (r == null) {
            return null;
        }
        if (nanoClock.getAsLong() - r.resolvedAt() >= RESOLVE_INTERVAL_NANOS) {
            return revalidated(path, r); // every variant stat'ed: no second stat below
        }
        Variant v = Responder.variantFor(request, r);
        return v.stamp().unchanged() ? r : null;
    }

    /**
     * {@code cached} again, marked resolved now, if the path still leads to the same files with the same stamps;
     * else {@code null}. Resolves and stats, never reads.
     */
    private Resource revalidated(PathResolver.Accepted path, Resource cached) {
        if (path.segments().size() > MAX_INLINE_SEGMENTS) {
            return null;
        }
        Layout at;
        try {
            at = resolve(path);
        } catch (AccessDeniedException e) {
            return null; // load answers it
        }
        if (at.notAFile() != null || !same(at.real(), cached.identity())
                || !same(siblingStep(at.parent(), at.name() + ".br"), cached.br())
                || !sameGzip(siblingStep(at.parent(), at.name() + ".gz"), cached)) {
            return null;
        }
        Resource now = new Resource(cached.path(), cached.contentType(), cached.cacheControl(), cached.identity(),
                cached.br(), cached.gzip(), nanoClock.getAsLong());
        cache.put(now);
        return now;
    }

    /** Whether {@code real} (null: absent) is the file {@code v} (null: none) was read from, unchanged. */
    private static boolean same(Path real, Variant v) {
        if (real == null || v == null) {
            return real == null && v == null;
        }
        try {
            return FileStamp.of(real).equals(v.stamp());
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * {@link #same} for the gzip slot, which holds either the {@code .gz} sibling or the variant Herald made from
     * the identity file (checked with it): that one stays only while no sibling appeared.
     */
    private static boolean sameGzip(Path sibling, Resource cached) {
        Variant gzip = cached.gzip();
        return gzip != null && gzip.madeFrom(cached.identity()) ? sibling == null : same(sibling, gzip);
    }

    /** Resolves, reads and hashes on the calling thread, which must be allowed to block. */
    Lookup load(PathResolver.Accepted path) throws IOException {
        Resource previous = cache.get(path.path());
        Layout at;
        Variant identity;
        try {
            at = resolve(path);
            if (at.notAFile() != null) {
                return at.notAFile();
            }
            identity = variant(null, at.real(), previous == null ? null : previous.identity());
        } catch (AccessDeniedException e) {
            return new Lookup.Forbidden("permission denied: " + e.getFile());
        } catch (FileSystemException e) {
            return new Lookup.Missing("cannot serve " + path.path() + ": " + e.getMessage());
        }
        Variant br = sibling(at.parent(), at.name() + ".br", AcceptEncoding.BR,
                previous == null ? null : previous.br());
        Variant gzip = sibling(at.parent(), at.name() + ".gz", AcceptEncoding.GZIP,
                previous == null ? null : previous.gzip());
        String contentType = ContentTypes.forName(at.name());
        if (gzip == null && compress) {
            gzip = Compression.gzip(identity, contentType, previous == null ? null : previous.gzip(), maxFileInMemory);
        }
        Resource resource = new Resource(path.path(), contentType, policy.forPath(at.filePath()), identity, br, gzip,
                nanoClock.getAsLong());
        cache.put(resource);
        return new Lookup.Found(resource);
    }

    /**
     * Where a checked path leads on disk now: the file's real path, the real folder it is in and the name it has
     * there (a folder's {@code index.html} for a folder path), or, when it leads to no file, the answer instead.
     */
    private record Layout(Path parent, String name, String filePath, Path real, Lookup notAFile) {
        static Layout not(Lookup answer) {
            return new Layout(null, null, null, null, answer);
        }
    }

    private Layout resolve(PathResolver.Accepted path) throws AccessDeniedException {
        Path parent = root;
        Path real = root;
        for (String segment : path.segments()) {
            parent = real;
            real = step(parent, segment);
            if (real == null) {
                return Layout.not(new Lookup.Missing("missing, or leaves the root: " + path.path()));
            }
        }
        String name = path.segments().isEmpty() ? "" : path.segments().get(path.segments().size() - 1);
        if (Files.isDirectory(real, LinkOption.NOFOLLOW_LINKS)) {
            if (!path.trailingSlash()) {
                return Layout.not(new Lookup.Redirect(PathResolver.encode(path.path() + "/")));
            }
            Path index = step(real, INDEX);
            if (index == null) {
                return Layout.not(new Lookup.Missing("folder without an index.html inside the root: " + path.path()));
            }
            return new Layout(real, INDEX, path.path() + INDEX, index, null);
        }
        if (path.trailingSlash()) {
            return Layout.not(new Lookup.Missing("a file asked for as a folder: " + path.path()));
        }
        return new Layout(parent, name, path.path(), real, null);
    }

    /**
     * The real path of {@code name} in the real folder {@code dir}, if it exists and lies under the root, else
     * {@code null}. Checking after every segment means a path cannot leave the root through a symlinked folder and
     * come back in ({@code /outside/root/index.html}): each step has to stay inside. A folder Herald may not look
     * into is not a missing file: the {@link AccessDeniedException} goes to the caller (403, as nginx answers).
     */
    private Path step(Path dir, String name) throws AccessDeniedException {
        Path real;
        try {
            real = dir.resolve(name).toRealPath();
        } catch (AccessDeniedException e) {
            throw e;
        } catch (IOException | InvalidPathException e) {
            return null;
        }
        if (!real.startsWith(root)) {
            LOG.debug("{} resolves to {}, outside the root {}", dir.resolve(name), real, root);
            return null;
        }
        return real;
    }

    /**
     * {@link #step} for a precompressed sibling, which is usually absent: a plain existence check first, so the
     * absent one costs no {@code NoSuchFileException} (a stack trace each) on the event loop.
     */
    private Path siblingStep(Path dir, String name) {
        try {
            return dir.resolve(name).toFile().exists() ? step(dir, name) : null;
        } catch (AccessDeniedException e) {
            return null; // an unreadable .br or .gz is not served; the file itself still is
        }
    }

    private Variant sibling(Path dir, String name, String encoding, Variant previous) throws IOException {
        Path real = siblingStep(dir, name);
        if (real == null) {
            return null;
        }
        try {
            return variant(encoding, real, previous);
        } catch (FileSystemException e) {
            LOG.debug("sibling {} not served: {}", real, e.getMessage());
            return null;
        }
    }

    /**
     * One file as a variant, reusing {@code previous} when its stamp still matches: read whole and tagged by content
     * (small), or tagged by its stat and left for the protocol layer to stream (large). See "Files that change
     * while they are read".
     */
    /**
     * The ETag of {@code real}'s identity bytes as served: from its stat above the in-memory size, else the hash of
     * its content (read whole: blocking).
     */
    String identityTag(Path real) throws IOException {
        FileStamp stamp = FileStamp.of(real);
        if (stamp.size() > maxFileInMemory) {
            return EntityTags.of(stamp, null);
        }
        return EntityTags.of(Files.readAllBytes(real));
    }

    private Variant variant(String encoding, Path real, Variant previous) throws IOException {
        for (int read = 1; ; read++) {
            FileStamp stamp = FileStamp.of(real);
            if (previous != null && stamp.equals(previous.stamp())) {
                return previous;
            }
            long modified = stamp.modified().toMillis();
            if (stamp.size() > maxFileInMemory) {
                return new Variant(encoding, EntityTags.of(stamp, encoding), modified, stamp.size(), null, stamp);
            }
            byte[] bytes;
            try (InputStream in = Files.newInputStream(real)) {
                bytes = in.readNBytes((int) stamp.size() + 1);
            }
            boolean settled = bytes.length == stamp.size() && stamp.equals(FileStamp.of(real));
            if (settled || read == MAX_READS) {
                if (!settled) {
                    LOG.debug("{} changed during each of {} reads: serving the last, cut to the {} bytes stat gave "
                            + "before it", real, MAX_READS, stamp.size());
                    bytes = Arrays.copyOf(bytes, (int) Math.min(bytes.length, stamp.size()));
                }
                return new Variant(encoding, EntityTags.of(bytes), modified, bytes.length, bytes, stamp);
            }
        }
    }
}
