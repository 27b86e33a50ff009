package dev.herald;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.herald.chat.ChatHandler;
import dev.herald.chat.ChatSettings;
import dev.herald.config.ConfigException;
import dev.herald.config.HeraldConfig;
import dev.herald.push.PushingFiles;
import dev.herald.server.Exchange;
import dev.herald.server.Handler;
import dev.herald.server.HttpServer;
import dev.herald.server.Response;
import dev.herald.server.Router;
import dev.herald.server.ServerMetrics;
import dev.herald.server.TlsSetup;
import dev.herald.store.EventLog;
import dev.herald.store.Retention;
import dev.herald.store.SqliteEventLog;
import dev.herald.store.StoreException;
import dev.herald.store.redis.RedisEventLog;
import dev.herald.server.LimitLog;
import dev.herald.stream.StreamSettings;
import dev.herald.stream.TopicsHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.regex.Pattern;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A running Herald server.
 *
 * <pre>{@code
 * Herald herald = Herald.builder().config(HeraldConfig.builder().root(dir).build()).start();
 * ...
 * herald.close(); // graceful
 * }</pre>
 *
 * <p>It serves {@code /healthz}, Prometheus metrics at {@code metrics.path}, the chat's {@code /msgs}, the
 * application's routes, and static files from {@code root} (or the bundled chat page, extracted into
 * {@code data-dir/app}, when no root is set), with push or early hints for what each page needs. Events
 * live in the event log chosen by {@code store} (SQLite in the data directory by default).
 */
public final class Herald implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Herald.class);
    /** Classpath folder of the built-in default app: the realtime chat page. */
    public static final String DEFAULT_APP = "dev/herald/app";
    /**
     * Push dependencies learned from Referer, saved at shutdown and loaded at start, in the data directory unless
     * {@code push.learned-file} says otherwise.
     */
    public static final String LEARNED_PUSHES = "push-learned.tsv";
    /** The SQLite file, in the data directory. */
    public static final String DATABASE = "herald.db";

    private final HeraldConfig config;
    private final HttpServer server;
    private final ThreadPoolExecutor blocking;
    private final List<AutoCloseable> resources;
    private final CountDownLatch closed = new CountDownLatch(1);
    private final AtomicInteger closing = new AtomicInteger();

    private Herald(HeraldConfig config, HttpServer server, ThreadPoolExecutor blocking, List<AutoCloseable> resources) {
        this.config = config;
        this.server = server;
        this.blocking = blocking;
        this.resources = resources;
    }

    /** Starts Herald with this configuration and no extra routes. */
    public static Herald start(HeraldConfig config) throws Exception {
        return builder().config(config).start();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The URLs Herald listens on, TLS first. */
    public List<String> urls() {
        String host = config.host();
        if (host.equals("0.0.0.0") || host.equals("::") || host.equals("127.0.0.1")) {
            host = "localhost";
        } else if (host.contains(":")) {
            host = "[" + host + "]";
        }
        List<String> urls = new ArrayList<>(2);
        String h = host;
        server.tlsPort().ifPresent(p -> urls.add("https://" + h + ":" + p + "/"));
        server.httpPort().ifPresent(p -> urls.add("http://" + h + ":" + p + "/"));
        return urls;
    }

    /** Base64 SHA-256 of the TLS certificate's SubjectPublicKeyInfo; empty when TLS is off. */
    public Optional<String> spkiSha256() {
        return server.tls().map(TlsSetup::spkiSha256);
    }

    /** The TLS certificate in use, for clients that want to trust it. */
    public Optional<java.security.cert.X509Certificate> certificate() {
        return server.tls().map(TlsSetup::certificate);
    }

    public Optional<Integer> tlsPort() {
        return server.tlsPort();
    }

    public Optional<Integer> httpPort() {
        return server.httpPort();
    }

    public HeraldConfig config() {
        return config;
    }

    /** Graceful shutdown: GOAWAY, in-flight requests finish within {@code shutdown-timeout}. Idempotent. */
    @Override
    public void close() {
        if (closing.getAndIncrement() > 0) {
            awaitClosed();
            return;
        }
        LOG.info("shutting down");
        server.close();
        closeAll(resources);
        blocking.shutdown();
        try {
            blocking.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // Logged before the release: Main's thread returns from awaitClosed and exits the JVM, which could
        // otherwise end it before this line is written (seen in LifecycleJarIT: exit 0, no "stopped").
        LOG.info("stopped");
        closed.countDown();
    }

    private static void closeAll(List<AutoCloseable> resources) {
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception e) {
                LOG.warn("closing {} failed", r, e);
            }
        }
    }

    /** Blocks until {@link #close()} has finished. */
    public void awaitClosed() {
        try {
            closed.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Configures and starts a {@link Herald}. */
    public static final class Builder {
        private HeraldConfig config = HeraldConfig.builder().build();
        private final Map<String, Handler> exact = new LinkedHashMap<>();
        private final Map<String, Handler> prefixes = new LinkedHashMap<>();

        private Builder() {
        }

        public Builder config(HeraldConfig config) {
            this.config = config;
            return this;
        }

        /** Adds an application handler for exactly this path. */
        public Builder route(String path, Handler handler) {
            exact.put(path, handler);
            return this;
        }

        /** Adds an application handler for every path under this prefix. */
        public Builder routePrefix(String prefix, Handler handler) {
            prefixes.put(prefix, handler);
            return this;
        }

        public Herald start() throws Exception {
            config.root().ifPresent(Builder::checkRoot);
            // Closed in reverse order on shutdown: handlers before the store they use, the data-dir lock last.
            List<AutoCloseable> resources = new ArrayList<>();
            resources.add(DataDir.lock(config.dataDir()));
            ThreadPoolExecutor blocking = blockingExecutor();
            try {
                return start(blocking, resources);
            } catch (Exception | Error e) {
                blocking.shutdownNow();
                closeAll(resources);
                throw e;
            }
        }

        private Herald start(ThreadPoolExecutor blocking, List<AutoCloseable> resources) throws Exception {
            boolean learning = !config.pushLearningWindow().isZero();
            Path learned = config.pushLearnedFile().orElseGet(() -> config.dataDir().resolve(LEARNED_PUSHES));
            if (learning) {
                checkLearnedFile(learned);
            }
            ServerMetrics metrics = new ServerMetrics();
            EventLog log = openStore(config);
            resources.add(0, log);
            LimitLog limitLog = LimitLog.create(config.limitLogInterval());
            ChatHandler chat = new ChatHandler(log, ChatSettings.defaults()
                    .withHeartbeat(config.heartbeat(), ChatSettings.HeartbeatStyle.STATE)
                    .withMaxSubscribers(config.maxSubscribers()), limitLog);
            resources.add(0, chat);
            TopicsHandler topics = new TopicsHandler(log, streamSettings(config), metrics.registry(), limitLog);
            resources.add(0, topics);
            Router.Builder router = Router.builder().exact("/healthz", ex -> health(ex, log));
            if (!config.metricsPath().isEmpty()) {
                router.exact(config.metricsPath(), ex -> metrics(ex, metrics));
            }
            router.exact("/msgs", chat);
            router.prefix("/topics/", topics);
            exact.forEach(router::exact);
            prefixes.forEach(router::prefix);
            Path root = config.root().orElseGet(() -> AppExtractor.extract(DEFAULT_APP, config.dataDir().resolve("app")));
            PushingFiles pushing = PushingFiles.create(root, config, blocking);
            if (learning) {
                resources.add(0, new LearnedPushes(pushing, loadLearned(pushing, learned)));
            }
            router.fallback(pushing);
            return new Herald(config, HttpServer.start(config, router.build(), metrics, limitLog), blocking, resources);
        }

        /** A root that is not a folder Herald can list and enter would answer 404 to everything, silently. */
        private static void checkRoot(Path root) {
            if (!Files.isDirectory(root)) {
                throw new ConfigException("root: " + root + " (expected: an existing folder)");
            }
            if (!Files.isReadable(root) || !Files.isExecutable(root)) {
                throw new ConfigException("root: " + root + ": permission denied (expected: a readable folder)");
            }
        }

        /** The learned file is written at shutdown: its folder must exist and be writable now. */
        private static void checkLearnedFile(Path file) {
            Path folder = file.toAbsolutePath().getParent();
            String problem = null;
            if (Files.isDirectory(file)) {
                problem = "is a directory (expected: a file)";
            } else if (!Files.exists(folder)) {
                problem = "folder " + folder + " does not exist";
            } else if (!Files.isDirectory(folder)) {
                problem = folder + " is not a directory";
            } else if (!Files.isWritable(folder) || !Files.isExecutable(folder)) {
                problem = "permission denied on folder " + folder + " (expected: a folder Herald can write)";
            }
            if (problem != null) {
                throw new ConfigException("push.learned-file: " + file + ": " + problem);
            }
        }

        /**
         * Loads the learned lists and returns where to save them at shutdown: the same file, or, when it could
         * not be read at all, a {@code .new} file beside it, so that it is never replaced by what this run learned.
         */
        private static Path loadLearned(PushingFiles pushing, Path file) {
            try {
                pushing.loadLearned(file);
                return file;
            } catch (IOException e) {
                Path beside = file.resolveSibling(file.getFileName() + ".new");
                LOG.warn("cannot load learned push lists from {}: {}; keeping that file, this run's lists will be "
                        + "saved to {}", file, DataDir.reason(e), beside);
                return beside;
            }
        }

        /** Saves the learned push lists at shutdown; a failure is one WARN line naming the file and the reason. */
        private record LearnedPushes(PushingFiles pushing, Path file) implements AutoCloseable {
            @Override
            public void close() {
                try {
                    pushing.dumpLearned(file);
                } catch (IOException e) {
                    LOG.warn("cannot save learned push lists to {}: {}", file, DataDir.reason(e));
                }
            }
        }

        private static EventLog openStore(HeraldConfig config) {
            Retention retention = new Retention(config.retentionMaxEvents(), config.retentionMaxAge());
            if (!config.store().equals("sqlite")) {
                try {
                    return RedisEventLog.open(config.store(), retention);
                } catch (IllegalArgumentException | StoreException e) {
                    throw new ConfigException("store: " + redact(config.store()) + ": " + e.getMessage(), e);
                }
            }
            return SqliteEventLog.open(config.dataDir().resolve(DATABASE), retention, config.sqliteFullSync());
        }

        private static StreamSettings streamSettings(HeraldConfig c) {
            try {
                return new StreamSettings(c.heartbeat(), c.maxLagEvents(), c.maxLagBytes(), c.maxSubscribers(),
                        c.maxSubscribersPerConnection(), c.maxEventBytes(), c.sseRetry(), nonEmpty(c.publishToken()),
                        nonEmpty(c.subscribeToken()), nonEmpty(c.privateTopics()).map(Pattern::compile),
                        c.maxTopics());
            } catch (IllegalArgumentException e) {
                throw new ConfigException(e.getMessage(), e);
            }
        }

        private static Optional<String> nonEmpty(String s) {
            return s.isEmpty() ? Optional.empty() : Optional.of(s);
        }

        /** A store URL without its password, for messages. */
        private static String redact(String url) {
            return url.replaceAll("//[^@/]*@", "//***@");
        }

        /** Disk work (hashing, first reads) runs here, never on an event loop; a full queue answers 503. */
        private static ThreadPoolExecutor blockingExecutor() {
            AtomicInteger n = new AtomicInteger();
            int threads = Math.max(4, Runtime.getRuntime().availableProcessors() * 2);
            ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
                    new ArrayBlockingQueue<>(4096), r -> {
                        Thread t = new Thread(r, "herald-blocking-" + n.incrementAndGet());
                        t.setDaemon(true);
                        return t;
                    }, new ThreadPoolExecutor.AbortPolicy());
            pool.allowCoreThreadTimeOut(true);
            return pool;
        }

        /**
         * 200 {@code {"status":"ok"}}, or 503 {@code {"status":"unavailable","store":"..."}} while the event log
         * knows appends fail ({@link EventLog#unavailable}): a load balancer then takes the node out, as it would
         * for a Mercure hub that lost its transport. Not logged per request: the store logs the outage once.
         */
        private static void health(Exchange ex, EventLog log) {
            if (!getOrHead(ex)) {
                return;
            }
            String problem = log.unavailable();
            Response r = problem == null ? Response.json(200, "{\"status\":\"ok\"}")
                    : Response.json(503, JsonNodeFactory.instance.objectNode().put("status", "unavailable")
                            .put("store", problem).toString()).header("retry-after", "5");
            ex.respond(r.header("cache-control", "no-store"));
        }

        private static void metrics(Exchange ex, ServerMetrics metrics) {
            if (!getOrHead(ex)) {
                return;
            }
            ex.respond(Response.status(200)
                    .header("content-type", "text/plain; version=0.0.4; charset=utf-8")
                    .header("cache-control", "no-store")
                    .body(metrics.scrape().getBytes(StandardCharsets.UTF_8)));
        }

        private static boolean getOrHead(Exchange ex) {
            String m = ex.request().method();
            if (m.equals("GET") || m.equals("HEAD")) {
                return true;
            }
            ex.respond(Response.error(405, "method not allowed", m + " is not allowed here: GET or HEAD")
                    .header("allow", "GET, HEAD"));
            return false;
        }
    }
}
