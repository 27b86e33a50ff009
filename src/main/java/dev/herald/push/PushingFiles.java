package dev.herald.push;

import dev.herald.config.HeraldConfig;
import dev.herald.config.PushRule;
import dev.herald.files.StaticFiles;
import dev.herald.server.Exchange;
import dev.herald.server.Handler;
import dev.herald.server.LinkHeader;
import dev.herald.server.Preload;
import dev.herald.server.Request;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;

/**
 * Static files that announce their pages' dependencies: for a GET of an HTML page, what it needs goes to
 * {@link Exchange#preload} before the page is served, so it is pushed (HTTP/2, push allowed) or sent as 103 Early
 * Hints (everyone else). Every other request goes straight to the wrapped {@link StaticFiles}, unless a rule
 * names its path.
 *
 * <h2>Sources, in order</h2>
 * Each path is announced once, at its first place: the first matching {@link PushRule}'s resources
 * ({@code push.rules}; only files under the root), the page's manifest ({@link Discovery}: stylesheets, their
 * imports and fonts, scripts, preloads; CSS and fonts first; unless the rule turns discovery off), the rule's
 * {@code link} values (which also go on the response as Link headers), then the learned dependencies. A rule
 * with {@code enabled: false} announces nothing for its paths; a rule's {@code limit} replaces the resource cap.
 * A rule only applies to a path that names a file: a 404 announces nothing, since promises cannot wait for it.
 *
 * <h2>Budget</h2>
 * At most {@link #DEFAULT_MAX_PUSHES} resources ({@code push.max-resources}) and a byte budget
 * ({@code push.max-bytes}) are promised with the page (round 0); the rest of the manifest is hinted (Link preload).
 * The default byte budget, {@code auto}, is what the page's connection delivers in its first two round trips of
 * slow start, the idle time of a page answered at once: {@link #AUTO_WINDOWS} congestion windows
 * (w + 2w; {@link Exchange#congestionWindowBytes()}, read when the page's request arrives), at most
 * {@link #AUTO_MAX_BYTES}. From the kernel's IW10 initial window (RFC 6928) that is 10 x 1460 x 3 = 43,800 bytes
 * ({@link #DEFAULT_MAX_BYTES}, also the budget where the transport cannot tell the window); a route with a larger
 * {@code initcwnd}, or a connection whose window has grown, delivers more in the same round trips, so more is
 * pushed; a window cut by loss pushes less. A fixed {@code push.max-bytes} replaces it. A resource counts the
 * bytes its push would carry: for a client that accepts
 * gzip (the promise copies its {@code Accept-Encoding}), the gzip variant's, once the file cache holds it. Building
 * a manifest reads its files into that cache, so the first load of a page counts them too.
 *
 * <h2>Think time: more rounds</h2>
 * A page that is slow to answer (an application thinking) leaves the connection idle for longer, and push is
 * meant to fill the idle time: the first round trip plus the server's think time. So what does not fit the first
 * budget is split into later rounds ({@link Preload#round()}), one budget each, in manifest order. The server
 * promises round n only while the page's response has not started (PUSH_PROMISE must precede the page's HEADERS,
 * RFC 9113 §8.4) and once every push of round n - 1 has been written to the socket; until then those resources
 * are hinted. A page answered at once gets exactly the first budget, as before; a page that thinks long enough
 * gets its whole manifest pushed before its HEADERS. A later round takes at least one resource, so a file larger
 * than the budget can still fill a long think time. A rule's {@code limit} is the path's total: no later rounds.
 *
 * <h2>Cache</h2>
 * Manifests are kept per page file ({@link #MAX_PAGES} pages, least recently used out) and rebuilt when the page
 * or any file read to build it changes modification time or size. Checking costs one {@code stat} per file on the
 * event loop; building runs on the blocking executor.
 *
 * <h2>Cache digest (on by default, {@link #cacheDigest})</h2>
 * The page's 200 response sets the {@value #DIGEST_COOKIE} cookie: a {@link CacheDigest} of the (path, ETag) of
 * every resource announced for the pages this browser loaded (pushed, hinted, or fetched from the page). On the
 * next page load, from any connection, resources the cookie holds are neither pushed nor hinted, and the budget
 * is applied again to what is left; a changed file has a new ETag, so it is announced again. The cookie is
 * {@code Path=/; SameSite=Lax; HttpOnly}, {@code Secure} on TLS, lives {@value #DIGEST_MAX_AGE_SECONDS} s, and
 * stays under about 400 characters ({@link CacheDigest#MAX_ENTRIES} entries, then it starts over). A malformed
 * cookie is ignored (logged at debug). No cookie is set when nothing new would be recorded, nor on a conditional
 * request.
 *
 * <h2>Learning (on by default, {@link #learning})</h2>
 * A GET answered 200 whose Referer is a page served on the same connection within the window (2 s) becomes one
 * of that page's dependencies ({@link RefererLearning}: bounded, decaying, never from conditional requests, never
 * a page). A page's learned dependencies follow its discovered ones (discovery order first) and share the
 * budget; learned paths of unknown type are not announced. {@link #dumpLearned} and {@link #loadLearned} keep
 * them across restarts.
 */
public final class PushingFiles implements Handler {
    private static final Logger LOG = LoggerFactory.getLogger(PushingFiles.class);
    /** Resources pushed per round at most by default (Jetty pushed up to 16, nginx allowed 10 concurrent). */
    public static final int DEFAULT_MAX_PUSHES = HeraldConfig.builder().build().pushMaxResources();
    /**
     * Bytes pushed per round at most where the congestion window is unknown: two round trips of slow start from
     * IW10, 10 x 1460 x 3 (see the class comment).
     */
    public static final long DEFAULT_MAX_BYTES = 10L * 1460 * 3;
    /** Congestion windows in an automatic byte budget (two round trips of slow start: w + 2w). */
    static final int AUTO_WINDOWS = 3;
    /** The most bytes an automatic budget allows per round. */
    public static final long AUTO_MAX_BYTES = 1L << 20;
    /** The bytes {@link #readAhead} reads for a new manifest, in budgets ({@code push.max-bytes}). */
    static final int READ_AHEAD_BUDGETS = 8;
    /** Pages whose manifests are cached at most. */
    public static final int MAX_PAGES = 1024;

    /** Name of the cache digest cookie. */
    public static final String DIGEST_COOKIE = "herald-digest";
    /** Lifetime of the digest cookie: 30 days, about how long browsers keep static assets that are revalidated. */
    static final long DIGEST_MAX_AGE_SECONDS = 30L * 24 * 3600;

    private final Handler files;
    /** {@code files} when it is the static files (encoded sizes, identity ETags, reading ahead); else null. */
    private final StaticFiles cached;
    /** Rules whose resources were read ahead already ({@link #serveWarm}); bounded by the rules in the config. */
    private final Set<PushRule> warmedRules = ConcurrentHashMap.newKeySet();
    private final Path root;
    private final Executor blocking;
    private final int maxPushes;
    private final long maxBytes;
    private final boolean digest;
    /** Null when learning is off. */
    private final RefererLearning learning;
    private final List<PushRule> rules;
    private final Map<Path, Discovery.Manifest> manifests = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Path, Discovery.Manifest> eldest) {
            return size() > MAX_PAGES;
        }
    };

    private PushingFiles(Handler files, Path root, Executor blocking, int maxPushes, long maxBytes, boolean digest,
                         RefererLearning learning, List<PushRule> rules) {
        this.files = files;
        this.cached = files instanceof StaticFiles f ? f : null;
        this.rules = List.copyOf(rules);
        this.root = root;
        this.blocking = blocking;
        this.maxPushes = maxPushes;
        this.maxBytes = maxBytes;
        this.digest = digest;
        this.learning = learning;
    }

    /**
     * Serves {@code root} like {@link StaticFiles#create}, with push and early hints as the {@code push.*} settings
     * say: budget, cache digest, learning window and rules. (Whether to push at all, early hints, priority and the
     * debug header are the server's part, read from the same config.)
     */
    public static PushingFiles create(Path root, HeraldConfig config, Executor blockingExecutor) {
        return wrap(StaticFiles.create(root, config, blockingExecutor), root, blockingExecutor,
                config.pushMaxResources(), config.pushMaxBytes())
                .cacheDigest(config.pushCacheDigest())
                .learning(config.pushLearningWindow())
                .rules(config.pushRules());
    }

    /**
     * Wraps a handler that serves {@code root}.
     *
     * @param maxPushes resources pushed per round at most (see "Budget"); 0 hints only
     * @param maxBytes  bytes pushed per round at most, or {@link HeraldConfig#PUSH_BYTES_AUTO}
     */
    public static PushingFiles wrap(Handler files, Path root, Executor blockingExecutor, int maxPushes,
                                    long maxBytes) {
        Objects.requireNonNull(files, "files");
        Objects.requireNonNull(blockingExecutor, "blockingExecutor");
        if (maxPushes < 0) {
            throw new IllegalArgumentException("maxPushes: " + maxPushes + " (expected: >= 0)");
        }
        if (maxBytes < 0 && maxBytes != HeraldConfig.PUSH_BYTES_AUTO) {
            throw new IllegalArgumentException("maxBytes: " + maxBytes + " (expected: >= 0, or auto: "
                    + HeraldConfig.PUSH_BYTES_AUTO + ")");
        }
        Path real;
        try {
            real = root.toRealPath();
        } catch (IOException e) {
            throw new IllegalArgumentException("root: " + root + " (expected: an existing folder)", e);
        }
        return new PushingFiles(files, real, blockingExecutor, maxPushes, maxBytes, true,
                new RefererLearning(RefererLearning.DEFAULT_WINDOW_NANOS), List.of());
    }

    /**
     * The same handler with the cache digest cookie on or off (default on). Off: no cookie is read or set, and
     * only the per-connection diary avoids waste.
     */
    public PushingFiles cacheDigest(boolean enabled) {
        return new PushingFiles(files, root, blocking, maxPushes, maxBytes, enabled, learning, rules);
    }

    /**
     * The same handler with learning from Referer off ({@code window} zero) or on with this window after a
     * page's response (default 2 s). The learned dependencies start empty; see {@link #loadLearned}.
     */
    public PushingFiles learning(java.time.Duration window) {
        Objects.requireNonNull(window, "window");
        if (window.isNegative()) {
            throw new IllegalArgumentException("learning window: " + window + " (expected: >= 0)");
        }
        return new PushingFiles(files, root, blocking, maxPushes, maxBytes, digest,
                window.isZero() ? null : new RefererLearning(window.toNanos()), rules);
    }

    /** The same handler with these declarative rules (see {@link PushRule}; first match wins). */
    public PushingFiles rules(List<PushRule> pushRules) {
        return new PushingFiles(files, root, blocking, maxPushes, maxBytes, digest, learning, pushRules);
    }

    /** The first rule matching {@code path}, or null. */
    PushRule rule(String path) {
        for (PushRule r : rules) {
            if (r.matches(path)) {
                return r;
            }
        }
        return null;
    }

    /**
     * Writes the learned dependencies to {@code file} (atomically replaced; a text file, one dependency a line).
     * Nothing is written when learning is off. Blocking.
     */
    public void dumpLearned(Path file) throws IOException {
        if (learning != null) {
            learning.dump(file);
        }
    }

    /**
     * Adds the dependencies a previous {@link #dumpLearned} wrote; a missing file loads nothing, malformed lines
     * (not UTF-8, or not an entry) are skipped, with one WARN giving their count and the first one's number.
     * Blocking; call it at start. Throws only when the file cannot be read at all.
     *
     * @return the number of dependencies loaded
     */
    public int loadLearned(Path file) throws IOException {
        if (learning == null) {
            return 0;
        }
        RefererLearning.Loaded loaded = learning.load(file);
        if (loaded.skipped() > 0) {
            LOG.warn("learned push lists {}: skipped {} malformed line(s), the first at line {}; loaded {} entries "
                    + "(the file is rewritten without the bad lines at shutdown)",
                    file, loaded.skipped(), loaded.firstBadLine(), loaded.entries());
        }
        return loaded.entries();
    }

    @Override
    public void handle(Exchange exchange) throws Exception {
        Request request = exchange.request();
        boolean get = "GET".equals(request.method());
        PushRule rule = get ? rule(request.path()) : null;
        Path page = get ? pageFile(request.path()) : null;
        Exchange forward = get && learning != null && page == null ? learner(exchange) : exchange;
        if (rule != null && !rule.enabled()) {
            files.handle(forward); // this path announces nothing, from any source
            return;
        }
        if (page == null || (rule != null && !rule.discovery())) {
            if (rule == null || (page == null && assetFile(request.path()) == null)) {
                // No rule, or no file to serve (a 404 needs nothing): promises cannot wait for the status.
                files.handle(forward);
            } else {
                serveWarm(forward, null, rule, page != null);
            }
            return;
        }
        Discovery.Manifest m;
        synchronized (manifests) {
            m = manifests.get(page);
        }
        if (m != null && m.fresh()) {
            serveWarm(exchange, m, rule, true);
            return;
        }
        String pagePath = request.path();
        blocking.execute(() -> {
            Discovery.Manifest built = null;
            try {
                built = Discovery.scan(root, page, pagePath, maxPushes, maxBudgetBytes(), tagger());
                synchronized (manifests) {
                    manifests.put(page, built);
                }
                LOG.debug("{}: manifest {}", pagePath, built.resources());
                readAhead(built.resources());
                coldRuleFiles(rule, request).forEach(cached::warm);
            } catch (IOException | RuntimeException e) {
                LOG.debug("{}: no manifest: {}", pagePath, e.toString());
            }
            serveOnLoop(exchange, built, rule, true);
        });
    }

    /**
     * {@link #serve}, after reading the rule's resources into the file cache on the blocking executor the first
     * time they are needed: their digest keys come from the ETags it holds, so that the first page's cookie names
     * them too. Each rule is read ahead once (a file too large for the cache would otherwise be read every time),
     * so later requests of the rule's pages pay one set lookup.
     */
    private void serveWarm(Exchange exchange, Discovery.Manifest m, PushRule rule, boolean isPage) throws Exception {
        List<String> cold = coldRuleFiles(rule, exchange.request());
        if (cold.isEmpty()) {
            serve(exchange, m, rule, isPage);
            return;
        }
        blocking.execute(() -> {
            cold.forEach(cached::warm);
            serveOnLoop(exchange, m, rule, isPage);
        });
    }

    /**
     * The files of the rule's resources and same-origin Link targets that the file cache holds no ETag for, the first
     * time the rule is asked (the rule is then taken off that list); after that none.
     */
    private List<String> coldRuleFiles(PushRule rule, Request request) {
        if (!digest || cached == null || rule == null || !warmedRules.add(rule)) {
            return List.of();
        }
        List<String> paths = new ArrayList<>(rule.resources());
        for (String value : rule.links()) {
            LinkHeader.preloads(value, request.scheme(), request.authority()).forEach(p -> paths.add(p.path()));
        }
        List<String> cold = new ArrayList<>();
        for (String path : paths) {
            String file = withoutQuery(path);
            if (cached.cachedEtag(file) == null) {
                cold.add(file);
            }
        }
        return cold;
    }

    /** {@link #serve} on the exchange's event loop, from the blocking executor. */
    private void serveOnLoop(Exchange exchange, Discovery.Manifest m, PushRule rule, boolean isPage) {
        exchange.eventLoop().execute(() -> {
            try {
                serve(exchange, m, rule, isPage);
            } catch (Exception e) {
                LOG.error("{}: handler failed", exchange.request(), e);
                exchange.respond(dev.herald.server.Response.error(500, "internal",
                        "the page failed; see the server's log"));
            }
        });
    }

    /**
     * Announces what the path needs, minus what the digest says is held, and serves it. The sources combine in
     * this order, each path once (its first place wins): the rule's resources, the discovered manifest, the
     * rule's Link headers, the learned dependencies; then by type ({@link #merge}). The budget then marks the first
     * ones pushable.
     */
    private void serve(Exchange exchange, Discovery.Manifest m, PushRule rule, boolean isPage) throws Exception {
        Request request = exchange.request();
        Map<String, Long> keys = new LinkedHashMap<>(m == null ? Map.of() : m.keys());
        List<Preload> fromRule = ruleResources(rule);
        List<Preload> ruleLinks = ruleLinks(rule, request);
        List<Preload> all = cacheableOnly(encodedSizes(merge(fromRule, m == null ? List.of() : pushable(m.resources()),
                ruleLinks, learned(isPage ? request.path() : null, keys)), request));
        CacheDigest held = digest ? heldDigest(request) : CacheDigest.EMPTY;
        if (digest) {
            // A rule's resources count like discovered ones, by the ETag the file cache holds (serveWarm).
            addCachedKeys(fromRule, keys);
            addCachedKeys(ruleLinks, keys);
        }
        List<Preload> announce = new ArrayList<>(all.size());
        List<String> skipped = new ArrayList<>();
        for (Preload p : all) {
            Long key = keys.get(p.path());
            if (key == null || !held.contains(key)) {
                announce.add(p);
            } else {
                skipped.add(p.path());
            }
        }
        if (!all.isEmpty()) {
            // A rule's limit is the path's total: no later rounds for it.
            boolean limited = rule != null && rule.limit() >= 0;
            exchange.preload(budget(announce, limited ? rule.limit() : maxPushes, budgetBytes(exchange), !limited),
                    skipped);
        }
        CacheDigest next = held;
        if (digest && !keys.isEmpty() && !isConditional(request)) {
            next = held.with(keys.values().stream().mapToLong(Long::longValue).toArray());
        }
        String cookie = next != held ? setCookie(next, "https".equals(request.scheme())) : null;
        files.handle(new PageExchange(exchange, cookie, isPage ? learning : null,
                rule == null ? List.of() : rule.links()));
    }

    /** The byte budget of a round for this exchange's page: {@code push.max-bytes}, or what auto makes of it. */
    private long budgetBytes(Exchange exchange) {
        return budgetBytes(exchange::congestionWindowBytes);
    }

    /** The byte budget of a round on a connection whose window {@code cwndBytes} tells, asked for only under auto. */
    private long budgetBytes(LongSupplier cwndBytes) {
        return maxBytes == HeraldConfig.PUSH_BYTES_AUTO ? autoBudget(cwndBytes.getAsLong()) : maxBytes;
    }

    /**
     * The automatic byte budget for a connection whose congestion window is {@code cwndBytes} (-1 unknown):
     * {@link #AUTO_WINDOWS} windows, at most {@link #AUTO_MAX_BYTES}; {@link #DEFAULT_MAX_BYTES} when unknown.
     */
    static long autoBudget(long cwndBytes) {
        return cwndBytes < 0 ? DEFAULT_MAX_BYTES : Math.min(AUTO_MAX_BYTES, AUTO_WINDOWS * cwndBytes);
    }

    /** The largest byte budget a round can have, for reading ahead and marking a manifest. */
    private long maxBudgetBytes() {
        return maxBytes == HeraldConfig.PUSH_BYTES_AUTO ? AUTO_MAX_BYTES : maxBytes;
    }

    /**
     * Reads the manifest's files into the file cache now, on the blocking executor, where the first pushes would
     * otherwise each read theirs: so the first page load is pushed from memory too, and {@link #encodedSizes}
     * knows the sizes of the variants {@code files.compress} makes. The page waits for it once per manifest, so it
     * reads files in manifest order up to {@link #READ_AHEAD_BUDGETS} budgets of file bytes in all (first fit),
     * what round 0 could hold even if gzip saved that much; the rest is read when it is first asked for.
     */
    private void readAhead(List<Preload> resources) {
        if (cached == null) {
            return;
        }
        // auto: the budget of an unknown window (a 10-segment one); a larger one reads the rest when it is pushed.
        long left = READ_AHEAD_BUDGETS * budgetBytes(() -> -1);
        for (Preload p : resources) {
            if (p.size() >= 0 && p.size() <= left) {
                left -= p.size();
                cached.warm(withoutQuery(p.path()));
            }
        }
    }

    /**
     * The resources with the sizes of the bodies their pushes would carry (a promise copies the page's
     * {@code Accept-Encoding}), where the file cache knows them: the budget counts the bytes that go on the wire. A
     * client that accepts gzip (nghttp does) gets more of the page within the same budget. Else the sizes stay
     * those of the files.
     */
    private List<Preload> encodedSizes(List<Preload> resources, Request page) {
        if (cached == null) {
            return resources;
        }
        List<Preload> out = new ArrayList<>(resources.size());
        for (Preload p : resources) {
            long n = cached.cachedLength(withoutQuery(p.path()), page);
            out.add(n >= 0 && p.size() >= 0 ? p.size(n) : p);
        }
        return out;
    }

    /**
     * The resources, those whose responses a client may not store ({@code cache-control: no-store}) never pushed:
     * a promised request must be cacheable (RFC 9113 §8.4), and a push nobody may keep is waste. Those a client
     * must revalidate before each use (also {@code no-cache}, {@code max-age=0}) are left out of the 103 Early
     * Hints: a browser keeps what early hints fetched in its HTTP cache only, so it would fetch or revalidate them
     * again (measured with Chromium); they stay on the final response's Link lines, which the page's own preloads
     * use.
     */
    private List<Preload> cacheableOnly(List<Preload> resources) {
        if (cached == null) {
            return resources;
        }
        List<Preload> out = new ArrayList<>(resources.size());
        for (Preload p : resources) {
            String path = withoutQuery(p.path());
            Preload q = p.push() && !cached.storable(path) ? p.noPush() : p;
            out.add(cached.reusable(path) ? q : q.notEarly());
        }
        return out;
    }

    static String withoutQuery(String path) {
        int q = path.indexOf('?');
        return q < 0 ? path : path.substring(0, q);
    }

    /** Discovered resources, all pushable again: the budget is applied once the sources are merged. */
    private static List<Preload> pushable(List<Preload> resources) {
        List<Preload> out = new ArrayList<>(resources.size());
        for (Preload p : resources) {
            out.add(p.pushable());
        }
        return out;
    }

    /**
     * The sources in order, each path once, at its first place; then CSS and fonts first, scripts next, the rest
     * last ({@link Preload.Type#rank()}), keeping that order within each (a learned stylesheet still goes before
     * a discovered script).
     */
    @SafeVarargs
    static List<Preload> merge(List<Preload>... sources) {
        Set<String> seen = new HashSet<>();
        List<Preload> out = new ArrayList<>();
        for (List<Preload> source : sources) {
            for (Preload p : source) {
                if (seen.add(p.path())) {
                    out.add(p);
                }
            }
        }
        out.sort(java.util.Comparator.comparingInt(p -> p.type().rank())); // stable
        return out;
    }

    /** A rule's resources that name regular files under the root, with their sizes (a 404 is never pushed). */
    private List<Preload> ruleResources(PushRule rule) {
        if (rule == null) {
            return List.of();
        }
        List<Preload> out = new ArrayList<>(rule.resources().size());
        for (String path : rule.resources()) {
            Path f = assetFile(path);
            if (f == null) {
                LOG.debug("push rule {}: {} is not a file under the root, not announced", rule.path(), path);
                continue;
            }
            try {
                out.add(Preload.of(path).size(Files.size(f)));
            } catch (IOException | IllegalArgumentException e) {
                LOG.debug("push rule {}: {}: {}", rule.path(), path, e.toString());
            }
        }
        return out;
    }

    /** The preloads of a rule's Link values, sized when they name files under the root (else hint-only). */
    private List<Preload> ruleLinks(PushRule rule, Request request) {
        if (rule == null || rule.links().isEmpty()) {
            return List.of();
        }
        List<Preload> out = new ArrayList<>();
        for (String value : rule.links()) {
            for (Preload p : LinkHeader.preloads(value, request.scheme(), request.authority())) {
                Path f = assetFile(p.path());
                long size = -1;
                try {
                    size = f == null ? -1 : Files.size(f);
                } catch (IOException e) {
                    LOG.debug("push rule {}: {}: {}", rule.path(), p.path(), e.toString());
                }
                out.add(p.size(size));
            }
        }
        return out;
    }

    /**
     * The ETags of discovered files for their digest keys: the static files' own (a stat tag above the cache's file
     * size), so that the keys agree with those of rules and learning, which take the served ETag.
     */
    private Discovery.Tagger tagger() {
        StaticFiles files = cached;
        return files == null ? Discovery::etag : f -> {
            String tag = files.identityTag(f);
            return tag != null ? tag : Discovery.etag(f);
        };
    }

    /** Adds the digest keys of {@code resources} the file cache knows an ETag for, unless they have one. */
    private void addCachedKeys(List<Preload> resources, Map<String, Long> keys) {
        for (Preload p : resources) {
            if (!keys.containsKey(p.path())) {
                Long key = cachedKey(p.path());
                if (key != null) {
                    keys.put(p.path(), key);
                }
            }
        }
    }

    /** The digest key of {@code path} by the identity ETag the file cache holds (no I/O), or null. */
    private Long cachedKey(String path) {
        String etag = cached == null ? null : cached.cachedEtag(withoutQuery(path));
        return etag == null ? null : CacheDigest.key(path, etag);
    }

    /** The page's learned dependencies that still exist and have a known type; adds their digest keys. */
    private List<Preload> learned(String pagePath, Map<String, Long> keys) {
        if (learning == null || pagePath == null) {
            return List.of();
        }
        List<Preload> out = new ArrayList<>();
        for (RefererLearning.Dependency d : learning.dependencies(pagePath)) {
            Preload.Type type = Preload.Type.ofPath(d.path());
            // Unknown types are not announced: a preload with the wrong "as" is fetched twice.
            if (type != Preload.Type.FETCH && assetExists(d.path())) {
                out.add(Preload.of(d.path(), type).size(d.size()));
                if (d.etag() != null) {
                    keys.putIfAbsent(d.path(), CacheDigest.key(d.path(), d.etag()));
                }
            }
        }
        return out;
    }

    /**
     * Applies the budget again to what is left once the digest took out what the client holds (see the class
     * comment, "Budget"): round 0 is the first {@code maxPushes} resources within {@code maxBytes}, in order;
     * what does not fit goes to later rounds, each one budget's worth (and at least one resource); those marked
     * {@code nopush}, and those of unknown size, are hint-only. Without {@code laterRounds} (a rule's limit, the
     * path's total) what does not fit round 0 is hint-only.
     */
    static List<Preload> budget(List<Preload> resources, int maxPushes, long maxBytes, boolean laterRounds) {
        Preload[] out = new Preload[resources.size()];
        List<Integer> left = new ArrayList<>();
        for (int i = 0; i < out.length; i++) {
            Preload p = resources.get(i);
            Preload q = p.pushable();
            out[i] = p.push() && p.size() >= 0 && maxPushes > 0 ? q : q.noPush();
            if (out[i].push()) {
                left.add(i);
            }
        }
        for (int round = 0; !left.isEmpty() && (round == 0 || laterRounds); round++) {
            int pushes = 0;
            long bytes = 0;
            for (java.util.Iterator<Integer> it = left.iterator(); it.hasNext(); ) {
                int i = it.next();
                long size = out[i].size();
                // Round 0 is first fit within the budget; a later round always takes at least its first resource,
                // so a file larger than one budget is still pushed if the page's response keeps the time free.
                boolean first = round > 0 && pushes == 0;
                if (first || (pushes < maxPushes && bytes + size <= maxBytes)) {
                    pushes++;
                    bytes += size;
                    out[i] = out[i].round(round);
                    it.remove();
                }
            }
        }
        for (int i : left) {
            out[i] = out[i].noPush();
        }
        return List.of(out);
    }

    /** The digest the request's cookie carries; empty when absent, and when malformed (logged at debug). */
    static CacheDigest heldDigest(Request request) {
        String value = cookie(request, DIGEST_COOKIE);
        if (value == null) {
            return CacheDigest.EMPTY;
        }
        java.util.Optional<CacheDigest> d = CacheDigest.decode(value);
        if (d.isEmpty()) {
            LOG.debug("{}: malformed {} cookie ignored ({} chars)", request, DIGEST_COOKIE, value.length());
            return CacheDigest.EMPTY;
        }
        return d.get();
    }

    /** The first value of cookie {@code name} over every Cookie field (HTTP/2 may split them), or null. */
    static String cookie(Request request, String name) {
        for (String field : request.headers().getAll("cookie")) {
            for (String pair : field.split(";")) {
                int eq = pair.indexOf('=');
                if (eq > 0 && pair.substring(0, eq).trim().equals(name)) {
                    String v = pair.substring(eq + 1).trim();
                    if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
                        v = v.substring(1, v.length() - 1);
                    }
                    return v;
                }
            }
        }
        return null;
    }

    /** The Set-Cookie value carrying a digest: Path=/, SameSite=Lax, HttpOnly, Secure on TLS. */
    static String setCookie(CacheDigest d, boolean secure) {
        return DIGEST_COOKIE + '=' + d.encode() + "; Path=/; Max-Age=" + DIGEST_MAX_AGE_SECONDS
                + "; SameSite=Lax; HttpOnly" + (secure ? "; Secure" : "");
    }

    /** Wraps an asset request so that its 200 response teaches {@link #learning} when its Referer is a page. */
    private Exchange learner(Exchange exchange) {
        Request request = exchange.request();
        if (isConditional(request)) {
            return exchange; // never learn from conditional requests: a cache revalidating is not a page load
        }
        String page = refererPage(request);
        if (page == null || page.equals(request.path()) || pageFile(request.path()) != null
                || !RefererLearning.plainPath(request.target())) {
            return exchange;
        }
        return new ForwardingExchange(exchange) {
            @Override
            public void respond(dev.herald.server.Response response) {
                if (response.status() == 200) {
                    learning.requested(request.connectionId(), page, request.target(),
                            identityEtag(request.path(), response), response.contentLength(), System.nanoTime());
                }
                super.respond(response);
            }
        };
    }

    /**
     * The ETag for the cache digest key of a learned dependency: that of the identity bytes, as for discovered
     * resources, so that clients with other encodings share the key. A gzip response's own ETag is swapped for the
     * identity's the file cache holds (null, so no key, when it holds none).
     */
    private String identityEtag(String path, dev.herald.server.Response response) {
        String etag = response.headers().get("etag");
        if (etag == null || !response.headers().contains("content-encoding")) {
            return etag;
        }
        return cached == null ? null : cached.cachedEtag(path);
    }


    /** Conditional or partial (as {@code AbstractExchange} judges it): the client holds a copy already. */
    static boolean isConditional(Request r) {
        dev.herald.server.Headers h = r.headers();
        return h.contains("if-none-match") || h.contains("if-modified-since") || h.contains("if-match")
                || h.contains("if-unmodified-since") || h.contains("range") || h.contains("if-range");
    }

    /** The path of the same-origin page named by the Referer, or null. */
    String refererPage(Request request) {
        String referer = request.header("referer");
        if (referer == null || request.authority() == null) {
            return null;
        }
        try {
            URI u = new URI(referer.trim());
            if (u.getRawAuthority() == null || !u.getRawAuthority().equalsIgnoreCase(request.authority())
                    || u.getRawPath() == null || u.getRawPath().isEmpty()) {
                return null;
            }
            String p = u.getRawPath();
            return pageFile(p) != null && RefererLearning.plainPath(p) ? p : null;
        } catch (java.net.URISyntaxException e) {
            return null;
        }
    }

    /** The page's exchange: sets the digest cookie on a 200 and notes the response time for learning. */
    private static final class PageExchange extends ForwardingExchange {
        private final String cookie;
        private final RefererLearning learning;
        private final List<String> links;

        PageExchange(Exchange delegate, String cookie, RefererLearning learning, List<String> links) {
            super(delegate);
            this.cookie = cookie;
            this.learning = learning;
            this.links = links;
        }

        @Override
        public void respond(dev.herald.server.Response response) {
            if (response.status() >= 200 && response.status() < 300) {
                links.forEach(l -> response.header("link", l)); // the rule's per-path Link headers
            }
            if (response.status() == 200) {
                if (cookie != null) {
                    response.header("set-cookie", cookie);
                }
                if (learning != null) {
                    Request r = request();
                    learning.pageServed(r.connectionId(), r.path(), System.nanoTime());
                }
            }
            super.respond(response);
        }
    }

    /** The paths learned for a page (for tests and tools); empty when learning is off. */
    List<String> learned(String pagePath) {
        return learning == null ? List.of()
                : learning.dependencies(pagePath).stream().map(RefererLearning.Dependency::path).toList();
    }

    /** The manifest currently cached for a URL path, building it if needed (for tests and tools). */
    List<Preload> manifest(String urlPath) throws IOException {
        Path page = pageFile(urlPath);
        if (page == null) {
            return List.of();
        }
        Discovery.Manifest m = Discovery.scan(root, page, urlPath, maxPushes, maxBudgetBytes(), tagger());
        synchronized (manifests) {
            manifests.put(page, m);
        }
        return m.resources();
    }

    /** Whether a learned path still names a regular file under the root that is not a page (no push of a 404). */
    boolean assetExists(String path) {
        return assetFile(path) != null;
    }

    /** The regular file under the root that a path (query ignored) names, unless it is a page; else null. */
    Path assetFile(String path) {
        int q = path.indexOf('?');
        String p = q < 0 ? path : path.substring(0, q);
        if (pageFile(p) != null) {
            return null;
        }
        String decoded;
        try {
            decoded = URI.create(p).getPath();
        } catch (IllegalArgumentException e) {
            return null;
        }
        if (decoded == null || !decoded.startsWith("/") || decoded.contains("/.") || decoded.contains("\0")) {
            return null;
        }
        Path f = root.resolve(decoded.substring(1)).normalize();
        return f.startsWith(root) && Files.isRegularFile(f) ? f : null;
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
