package dev.herald.files;

import dev.herald.server.Request;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
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
 * Files up to {@code files.cache-max-file-size} are read whole and may be kept in the {@link FileCache}; larger ones
 * are answered as file regions that the protocol layer streams, and their tags are computed by streaming the file
 * through the digest, remembered in the {@link EtagCache}.
 *
 * <h2>Noticing changes</h2>
 * A cache hit costs one {@code stat} of the variant about to be served, on the calling thread: a changed size,
 * modification time or file identity (inode) sends the request to the slow path, which reloads it. The path itself
 * (symlinks, which siblings exist, a folder's index) is resolved again on the slow path at most once per second
 * per entry ({@link #RESOLVE_INTERVAL_NANOS}), so a new {@code .br} sibling or a retargeted symlink is picked up
 * within a second, and unchanged variants are reused rather than read and hashed again.
 */
final class DiskSource {
    static final long RESOLVE_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
    static final String INDEX = "index.html";
    /** Byte arrays stay well below the JVM's array limit whatever {@code files.cache-max-file-size} says. */
    private static final long MAX_IN_MEMORY = 1L << 30;
    private static final Logger LOG = LoggerFactory.getLogger(DiskSource.class);

    private final Path root;
    private final CachePolicy policy;
    private final long maxFileInMemory;
    private final FileCache cache;
    private final EtagCache etags;
    private final LongSupplier nanoClock;

    DiskSource(Path realRoot, CachePolicy policy, long maxFileInMemory, FileCache cache, EtagCache etags,
               LongSupplier nanoClock) {
        this.root = realRoot;
        this.policy = policy;
        this.maxFileInMemory = Math.min(maxFileInMemory, MAX_IN_MEMORY);
        this.cache = cache;
        this.etags = etags;
        this.nanoClock = nanoClock;
    }

    /**
     * The cached resource for this path if it can be served without blocking: resolved less than a second ago and
     * the chosen variant unchanged on disk (one stat). {@code null} means: call {@link #load} off the event loop.
     */
    Resource cached(PathResolver.Accepted path, Request request) {
        Resource r = cache.get(path.path());
        if (r == null || nanoClock.getAsLong() - r.resolvedAt() >= RESOLVE_INTERVAL_NANOS) {
            return null;
        }
        Variant v = Responder.variantFor(request, r);
        return v.stamp().unchanged() ? r : null;
    }

    /** Resolves, reads and hashes on the calling thread, which must be allowed to block. */
    Lookup load(PathResolver.Accepted path) throws IOException {
        Resource previous = cache.get(path.path());
        Path parent = root;
        Path real = root;
        for (String segment : path.segments()) {
            parent = real;
            real = step(parent, segment);
            if (real == null) {
                return new Lookup.Missing("missing, or leaves the root: " + path.path());
            }
        }
        String name = path.segments().isEmpty() ? "" : path.segments().get(path.segments().size() - 1);
        String filePath = path.path();
        if (Files.isDirectory(real, LinkOption.NOFOLLOW_LINKS)) {
            if (!path.trailingSlash()) {
                return new Lookup.Redirect(PathResolver.encode(path.path() + "/"));
            }
            parent = real;
            name = INDEX;
            filePath = path.path() + INDEX;
            real = step(parent, INDEX);
            if (real == null) {
                return new Lookup.Missing("folder without an index.html inside the root: " + path.path());
            }
        } else if (path.trailingSlash()) {
            return new Lookup.Missing("a file asked for as a folder: " + path.path());
        }

        Variant identity;
        try {
            identity = variant(null, real, previous == null ? null : previous.identity());
        } catch (FileSystemException e) {
            return new Lookup.Missing("cannot serve " + real + ": " + e.getMessage());
        }
        Variant br = sibling(parent, name + ".br", AcceptEncoding.BR, previous == null ? null : previous.br());
        Variant gzip = sibling(parent, name + ".gz", AcceptEncoding.GZIP, previous == null ? null : previous.gzip());
        Resource resource = new Resource(path.path(), ContentTypes.forName(name), policy.forPath(filePath),
                identity, br, gzip, nanoClock.getAsLong());
        cache.put(resource);
        return new Lookup.Found(resource);
    }

    /**
     * The real path of {@code name} in the real folder {@code dir}, if it exists and lies under the root, else
     * {@code null}. Checking after every segment means a path cannot leave the root through a symlinked folder and
     * come back in ({@code /outside/root/index.html}): each step has to stay inside.
     */
    private Path step(Path dir, String name) {
        Path real;
        try {
            real = dir.resolve(name).toRealPath();
        } catch (IOException | InvalidPathException e) {
            return null;
        }
        if (!real.startsWith(root)) {
            LOG.debug("{} resolves to {}, outside the root {}", dir.resolve(name), real, root);
            return null;
        }
        return real;
    }

    private Variant sibling(Path dir, String name, String encoding, Variant previous) throws IOException {
        Path real = step(dir, name);
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
     * Reads (small) or streams through the digest (large) one file, reusing {@code previous} when its stamp still
     * matches. A file that changes while it is read is read again, up to three times.
     */
    private Variant variant(String encoding, Path real, Variant previous) throws IOException {
        for (int attempt = 1; ; attempt++) {
            FileStamp stamp = FileStamp.of(real);
            if (previous != null && stamp.equals(previous.stamp())) {
                return previous;
            }
            long modified = stamp.modified().toMillis();
            Variant v = null;
            if (stamp.size() <= maxFileInMemory) {
                byte[] bytes;
                try (InputStream in = Files.newInputStream(real)) {
                    bytes = in.readNBytes((int) stamp.size() + 1);
                }
                if (bytes.length == stamp.size()) {
                    v = new Variant(encoding, EntityTags.of(bytes), modified, bytes.length, bytes, stamp);
                }
            } else {
                String etag = etags.get(stamp);
                v = new Variant(encoding, etag != null ? etag : EntityTags.of(real), modified, stamp.size(), null,
                        stamp);
            }
            if (v != null && stamp.equals(FileStamp.of(real))) {
                if (v.bytes() == null) {
                    etags.put(stamp, v.etag());
                }
                return v;
            }
            if (attempt == 3) {
                throw new IOException(real + " kept changing while it was read");
            }
        }
    }
}
