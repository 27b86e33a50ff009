package dev.herald.files;

import dev.herald.config.ConfigException;
import dev.herald.config.HeraldConfig;
import dev.herald.server.Exchange;
import dev.herald.server.Handler;
import dev.herald.server.Request;
import dev.herald.server.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;

/**
 * Serves static files, from a folder on disk ({@link #create}) or from a folder bundled on the classpath
 * ({@link #classpath}), over any protocol Herald speaks.
 *
 * <h2>What a request goes through</h2>
 * <ol>
 *   <li>Method: GET and HEAD only, anything else is 405 with {@code allow: GET, HEAD}. HEAD gets the GET response;
 *       the protocol layer drops the body and keeps {@code content-length}.</li>
 *   <li>Length: a target (path and query) longer than {@code max-uri-length} is 414.</li>
 *   <li>Path: decoded once and checked by {@link PathResolver} (400 for anything that could be traversal or
 *       smuggling, 404 for dotfiles except {@code /.well-known/}); then confined to the root with symlinks
 *       resolved ({@link DiskSource}).</li>
 *   <li>Folders: {@code /docs/} serves {@code /docs/index.html}; {@code /docs} is redirected (301) to
 *       {@code /docs/}, as nginx does, so relative links in the index resolve against the folder. There are no
 *       listings: a folder without an index is 404.</li>
 *   <li>Representation: a precompressed {@code x.br} or {@code x.gz} sibling, or else (with
 *       {@code files.compress}) the gzip variant Herald made of a text file ({@link Compression}), when
 *       {@code Accept-Encoding} allows it; validators, conditional requests and single byte ranges
 *       ({@link Responder}).</li>
 * </ol>
 * Every refusal is logged at DEBUG with its reason; the client only sees a short plain-text error.
 *
 * <h2>Threads</h2>
 * {@link #handle} runs on the event loop. A cached small file, or a cached large file's metadata, is answered there
 * after one {@code stat} (once a second, after its path is resolved again and its variants stat'ed: metadata only,
 * see {@link DiskSource}); everything else (a miss, a change on disk, reading, hashing) runs on the blocking
 * executor, which then calls {@link Exchange#respond}, one load per path at a time: misses for a path being loaded
 * wait for that load ({@link Loads}). Bundled resources are all in memory and always answered at once.
 */
public final class StaticFiles implements Handler {
    private static final Logger LOG = LoggerFactory.getLogger(StaticFiles.class);

    private final int maxUriLength;
    private final CachePolicy policy;
    private final DiskSource disk;
    private final ClasspathSource bundled;
    private final Loads loads;
    private final FileCache cache;

    private StaticFiles(int maxUriLength, DiskSource disk, ClasspathSource bundled, Executor blocking,
                        FileCache cache, CachePolicy policy) {
        this.policy = policy;
        this.maxUriLength = maxUriLength;
        this.disk = disk;
        this.bundled = bundled;
        this.loads = disk == null ? null : new Loads(disk, blocking, StaticFiles::render);
        this.cache = cache;
    }

    /**
     * Serves the files under {@code root}.
     *
     * @param root             an existing folder; symlinks inside it are followed as long as they stay inside
     * @param config           for the cache-control values, the file cache bounds and {@code max-uri-length}
     * @param blockingExecutor where disk work runs; a rejected task surfaces as a 503 from the server
     * @throws ConfigException if {@code root} is not an existing folder
     */
    public static StaticFiles create(Path root, HeraldConfig config, Executor blockingExecutor) {
        return create(root, config, blockingExecutor, System::nanoTime);
    }

    static StaticFiles create(Path root, HeraldConfig config, Executor blockingExecutor, LongSupplier nanoClock) {
        if (blockingExecutor == null) {
            throw new NullPointerException("blockingExecutor");
        }
        Path realRoot;
        try {
            realRoot = root.toRealPath();
        } catch (IOException e) {
            throw new ConfigException("root: " + root + " (expected: an existing folder)", e);
        }
        if (!Files.isDirectory(realRoot)) {
            throw new ConfigException("root: " + root + " (expected: an existing folder)");
        }
        FileCache cache = new FileCache(config.fileCacheBytes());
        CachePolicy policy = new CachePolicy(config);
        DiskSource disk = new DiskSource(realRoot, policy, config.fileCacheMaxFile(), cache, nanoClock,
                config.filesCompress());
        return new StaticFiles(config.maxUriLength(), disk, null, blockingExecutor, cache, policy);
    }

    /**
     * Serves a folder bundled on the classpath, such as the built-in app, loaded whole into memory now.
     *
     * @param resourceFolder a classpath folder such as {@code dev/herald/app}, in a directory or a jar
     * @param config         for the cache-control values and {@code max-uri-length}
     * @throws ConfigException if the folder is missing or cannot be read
     */
    public static StaticFiles classpath(String resourceFolder, HeraldConfig config) {
        ClassLoader loader = StaticFiles.class.getClassLoader();
        CachePolicy policy = new CachePolicy(config);
        ClasspathSource source;
        try {
            source = ClasspathSource.load(loader, resourceFolder, policy, System.currentTimeMillis(),
                    config.filesCompress());
        } catch (IOException e) {
            throw new ConfigException("bundled folder: " + resourceFolder + " (expected: a readable classpath "
                    + "folder; " + e.getMessage() + ")", e);
        }
        LOG.debug("serving {} bundled files from classpath:{}", source.size(), resourceFolder);
        return new StaticFiles(config.maxUriLength(), null, source, Runnable::run, null, policy);
    }

    @Override
    public void handle(Exchange exchange) {
        Request request = exchange.request();
        String method = request.method();
        if (!"GET".equals(method) && !"HEAD".equals(method)) {
            exchange.respond(Response.error(405, "method not allowed", method + " is not allowed on files: GET or HEAD").header("allow", "GET, HEAD"));
            return;
        }
        long targetLength = request.path().length() + (request.query() == null ? 0 : request.query().length() + 1L);
        if (targetLength > maxUriLength) {
            LOG.debug("{}: refused with 414: target of {} characters, more than max-uri-length {}",
                    request, targetLength, maxUriLength);
            exchange.respond(Response.error(414, "uri too long", "the request target has " + targetLength
                    + " characters, more than max-uri-length " + maxUriLength));
            return;
        }
        PathResolver.Outcome outcome = PathResolver.resolve(request.path());
        if (outcome instanceof PathResolver.Rejected rejected) {
            LOG.debug("{}: refused with {}: {}", request, rejected.status(), rejected.reason());
            exchange.respond(rejected.status() == 404 ? notFound(request)
                    : Response.error(400, "bad path", rejected.reason()));
            return;
        }
        PathResolver.Accepted path = (PathResolver.Accepted) outcome;

        if (bundled != null) {
            exchange.respond(render(request, bundled.lookup(path)));
            return;
        }
        Resource hit = disk.cached(path, request);
        if (hit != null) {
            exchange.respond(Responder.respond(request, hit));
            return;
        }
        loads.answer(path, exchange);
    }

    /**
     * The body length a GET of {@code urlPath} (no query) with the {@code Accept-Encoding} of {@code like} gets
     * (the variant {@link Responder} would choose), as far as the file cache knows now: no I/O, so it may be a
     * version the next revalidation replaces. -1 when the cache holds nothing for the path. Push budgets use it
     * with the page's request, whose {@code Accept-Encoding} the promises copy: a client that accepts gzip is
     * pushed fewer bytes.
     */
    public long cachedLength(String urlPath, Request like) {
        Resource r = held(urlPath);
        return r == null ? -1 : Responder.variantFor(like, r).length();
    }

    /**
     * Whether a client may store the response for {@code urlPath}: its {@code cache-control} has no
     * {@code no-store}. Only such a response may be pushed (RFC 9113 §8.4: a promised request is cacheable).
     */
    public boolean storable(String urlPath) {
        if (policy.allStorable()) {
            return true; // no path is resolved for the usual configuration: this runs per announced resource
        }
        return !(PathResolver.resolve(urlPath) instanceof PathResolver.Accepted path) || policy.storable(path.path());
    }

    /**
     * Whether a client may use its stored response for {@code urlPath} without revalidating it first (no
     * {@code no-store}, {@code no-cache} or {@code max-age=0}): only then is a copy that 103 Early Hints fetched of
     * use to a browser, which keeps it in its HTTP cache.
     */
    public boolean reusable(String urlPath) {
        if (policy.allReusable()) {
            return true;
        }
        return !(PathResolver.resolve(urlPath) instanceof PathResolver.Accepted path) || policy.reusable(path.path());
    }

    /**
     * The strong ETag these files send for the identity bytes of {@code file}, a regular file under the root: its
     * stat's above {@code cache-max-file-size}, else its content's (read whole: blocking). Null for bundled files.
     */
    public String identityTag(Path file) throws IOException {
        return disk == null ? null : disk.identityTag(file.toRealPath());
    }

    /** The strong ETag of the identity bytes the file cache holds for {@code urlPath} (no I/O), or null. */
    public String cachedEtag(String urlPath) {
        Resource r = held(urlPath);
        return r == null ? null : r.identity().etag();
    }

    /**
     * Reads {@code urlPath} into the file cache, with the variant {@code files.compress} makes, unless it is there
     * already; a path that names no file is left alone. Blocking: call it where {@link #handle} would hand the
     * miss, on the blocking executor.
     */
    public void warm(String urlPath) {
        if (bundled != null || !(PathResolver.resolve(urlPath) instanceof PathResolver.Accepted path)
                || cache.get(path.path()) != null) {
            return;
        }
        try {
            disk.load(path);
        } catch (IOException | RuntimeException e) {
            LOG.debug("{}: not read ahead: {}", urlPath, e.toString());
        }
    }

    private Resource held(String urlPath) {
        if (!(PathResolver.resolve(urlPath) instanceof PathResolver.Accepted path) || path.trailingSlash()) {
            return null;
        }
        if (bundled != null) {
            return bundled.lookup(path) instanceof Lookup.Found found ? found.resource() : null;
        }
        return cache.get(path.path());
    }

    private static Response render(Request request, Lookup lookup) {
        if (lookup instanceof Lookup.Found found) {
            return Responder.respond(request, found.resource());
        }
        if (lookup instanceof Lookup.Redirect redirect) {
            String query = request.query();
            boolean keepQuery = query != null && query.chars().allMatch(c -> c > 0x20 && c < 0x7f);
            return Response.status(301).header("content-type", "text/plain; charset=utf-8")
                    .body("301 Moved Permanently\n".getBytes(StandardCharsets.UTF_8))
                    .header("location", keepQuery ? redirect.location() + '?' + query : redirect.location());
        }
        if (lookup instanceof Lookup.Forbidden forbidden) {
            // A permission mistake, not a missing file: the operator needs the line (nginx logs it as an error).
            LOG.warn("{}: 403: {}", request, forbidden.reason());
            return Response.error(403, "forbidden", "the server may not read " + request.path());
        }
        LOG.debug("{}: 404: {}", request, ((Lookup.Missing) lookup).reason());
        return notFound(request);
    }

    /** The 404 body names the path only: the reason (logged at debug) may describe the server's folders. */
    private static Response notFound(Request request) {
        return Response.error(404, "not found", "no file at " + request.path());
    }

    /** The in-memory file cache, for tests; {@code null} when serving bundled resources. */
    FileCache cache() {
        return cache;
    }

    /** Paths being loaded now, for tests; {@code null} when serving bundled resources. */
    Loads loads() {
        return loads;
    }
}
