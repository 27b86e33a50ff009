package dev.herald.push;

import dev.herald.config.HeraldConfig;
import dev.herald.files.StaticFiles;
import dev.herald.server.Exchange;
import dev.herald.server.Handler;
import dev.herald.server.Preload;
import dev.herald.server.Request;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * Static files that announce their pages' dependencies: for a GET of an HTML page, the page's manifest
 * ({@link Discovery}: stylesheets, their imports and fonts, scripts, preloads; CSS and fonts first) goes to
 * {@link Exchange#preload} before the page is served, so it is pushed (HTTP/2, push allowed) or sent as 103 Early
 * Hints (everyone else). Every other request goes straight to the wrapped {@link StaticFiles}.
 *
 * <h2>Budget</h2>
 * At most {@link #DEFAULT_MAX_PUSHES} resources and {@link #DEFAULT_MAX_BYTES} bytes are pushed per page; the rest
 * of the manifest is only hinted (Link preload). The byte cap is 10 x 1460 x 3 = 43,800 bytes: what a sender
 * starting at the IW10 initial congestion window (RFC 6928) delivers in its first two round trips of slow start
 * (10 + 20 segments of a 1460-byte MSS). That is the idle time push can fill (the first round trip plus the
 * server's think time) without delaying the page; pushing more only competes with it.
 *
 * <h2>Cache</h2>
 * Manifests are kept per page file ({@link #MAX_PAGES} pages, least recently used out) and rebuilt when the page
 * or any file read to build it changes modification time or size. Checking costs one {@code stat} per file on the
 * event loop; building runs on the blocking executor.
 */
public final class PushingFiles implements Handler {
    private static final Logger LOG = LoggerFactory.getLogger(PushingFiles.class);
    /** Resources pushed per page at most (Jetty pushed up to 16, nginx allowed 10 concurrent). */
    public static final int DEFAULT_MAX_PUSHES = 10;
    /** Bytes pushed per page at most: about two round trips of slow start from IW10 (see the class comment). */
    public static final long DEFAULT_MAX_BYTES = 10L * 1460 * 3;
    /** Pages whose manifests are cached at most. */
    public static final int MAX_PAGES = 1024;

    private final Handler files;
    private final Path root;
    private final Executor blocking;
    private final int maxPushes;
    private final long maxBytes;
    private final Map<Path, Discovery.Manifest> manifests = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Path, Discovery.Manifest> eldest) {
            return size() > MAX_PAGES;
        }
    };

    private PushingFiles(Handler files, Path root, Executor blocking, int maxPushes, long maxBytes) {
        this.files = files;
        this.root = root;
        this.blocking = blocking;
        this.maxPushes = maxPushes;
        this.maxBytes = maxBytes;
    }

    /** Serves {@code root} like {@link StaticFiles#create}, with push and early hints, default budget. */
    public static PushingFiles create(Path root, HeraldConfig config, Executor blockingExecutor) {
        return wrap(StaticFiles.create(root, config, blockingExecutor), root, blockingExecutor,
                DEFAULT_MAX_PUSHES, DEFAULT_MAX_BYTES);
    }

    /**
     * Wraps a handler that serves {@code root}.
     *
     * @param maxPushes resources pushed per page at most; 0 hints only
     * @param maxBytes  bytes pushed per page at most
     */
    public static PushingFiles wrap(Handler files, Path root, Executor blockingExecutor, int maxPushes,
                                    long maxBytes) {
        Objects.requireNonNull(files, "files");
        Objects.requireNonNull(blockingExecutor, "blockingExecutor");
        if (maxPushes < 0) {
            throw new IllegalArgumentException("maxPushes: " + maxPushes + " (expected: >= 0)");
        }
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes: " + maxBytes + " (expected: >= 0)");
        }
        Path real;
        try {
            real = root.toRealPath();
        } catch (IOException e) {
            throw new IllegalArgumentException("root: " + root + " (expected: an existing folder)", e);
        }
        return new PushingFiles(files, real, blockingExecutor, maxPushes, maxBytes);
    }

    @Override
    public void handle(Exchange exchange) throws Exception {
        Request request = exchange.request();
        Path page = "GET".equals(request.method()) ? pageFile(request.path()) : null;
        if (page == null) {
            files.handle(exchange);
            return;
        }
        Discovery.Manifest m;
        synchronized (manifests) {
            m = manifests.get(page);
        }
        if (m != null && m.fresh()) {
            announce(exchange, m.resources());
            files.handle(exchange);
            return;
        }
        String pagePath = request.path();
        blocking.execute(() -> {
            List<Preload> resources = List.of();
            try {
                Discovery.Manifest built = Discovery.scan(root, page, pagePath, maxPushes, maxBytes);
                synchronized (manifests) {
                    manifests.put(page, built);
                }
                resources = built.resources();
                LOG.debug("{}: manifest {}", pagePath, resources);
            } catch (IOException | RuntimeException e) {
                LOG.debug("{}: no manifest: {}", pagePath, e.toString());
            }
            List<Preload> found = resources;
            exchange.eventLoop().execute(() -> {
                announce(exchange, found);
                try {
                    files.handle(exchange);
                } catch (Exception e) {
                    LOG.error("{}: handler failed", request, e);
                    exchange.respond(dev.herald.server.Response.error(500, "Internal Server Error"));
                }
            });
        });
    }

    private static void announce(Exchange exchange, List<Preload> resources) {
        if (!resources.isEmpty()) {
            exchange.preload(resources);
        }
    }

    /** The manifest currently cached for a URL path, building it if needed (for tests and tools). */
    List<Preload> manifest(String urlPath) throws IOException {
        Path page = pageFile(urlPath);
        if (page == null) {
            return List.of();
        }
        Discovery.Manifest m = Discovery.scan(root, page, urlPath, maxPushes, maxBytes);
        synchronized (manifests) {
            manifests.put(page, m);
        }
        return m.resources();
    }

    /** The HTML file a GET of this path serves (folder index included), or null when it is not a page. */
    Path pageFile(String urlPath) {
        String p = urlPath;
        if (p.endsWith("/")) {
            p = p + "index.html";
        }
        String lower = p.toLowerCase(java.util.Locale.ROOT);
        if (!lower.endsWith(".html") && !lower.endsWith(".htm")) {
            return null;
        }
        String decoded;
        try {
            decoded = URI.create(p).getPath();
        } catch (IllegalArgumentException e) {
            return null;
        }
        if (decoded == null || !decoded.startsWith("/") || decoded.contains("/.") || decoded.contains("\0")
                || decoded.contains("\\")) {
            return null; // StaticFiles refuses these; nothing to announce
        }
        Path f = root.resolve(decoded.substring(1)).normalize();
        return f.startsWith(root) && Files.isRegularFile(f) ? f : null;
    }
}
