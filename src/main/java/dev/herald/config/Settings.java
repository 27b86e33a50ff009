package dev.herald.config;

import dev.herald.config.HeraldConfig.Builder;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.Function;

import static dev.herald.config.ValueType.BOOLEAN;
import static dev.herald.config.ValueType.DURATION;
import static dev.herald.config.ValueType.FILE;
import static dev.herald.config.ValueType.FOLDER;
import static dev.herald.config.ValueType.INT;
import static dev.herald.config.ValueType.INT_SIZE;
import static dev.herald.config.ValueType.PATH;
import static dev.herald.config.ValueType.SIZE;
import static dev.herald.config.ValueType.SIZE_OR_AUTO;
import static dev.herald.config.ValueType.PUSH_RULES;
import static dev.herald.config.ValueType.STRING;

/**
 * Every Herald option, once: its key, type, description and {@link HeraldConfig.Builder} setter. YAML loading,
 * environment variables, the command-line flags and {@code herald --help} are all derived from this list.
 */
public final class Settings {
    private static final HeraldConfig DEFAULTS = HeraldConfig.builder().build();
    private static final ValueType<HeraldConfig.EarlyHints> EARLY_HINTS =
            ValueType.enumOf(HeraldConfig.EarlyHints.class);
    private static final ValueType<HeraldConfig.PushPriority> PUSH_PRIORITY =
            ValueType.enumOf(HeraldConfig.PushPriority.class);

    private static final List<Setting> ALL = List.of(
            // Listening
            of("host", STRING, Builder::host, HeraldConfig::host,
                    "Address both ports bind to; 0.0.0.0 accepts connections on every interface, so other "
                            + "devices on the network can test the site too."),
            of("port", INT, Builder::tlsPort, HeraldConfig::tlsPort,
                    "TLS port, h2 and HTTP/1.1 chosen by ALPN; 8443 needs no root privileges. 0 picks a free "
                            + "port, -1 turns TLS off."),
            of("http-port", INT, Builder::httpPort, HeraldConfig::httpPort,
                    "Cleartext port for h2c (prior knowledge or Upgrade) and HTTP/1.1; 8080 needs no root "
                            + "privileges. 0 picks a free port, -1 turns it off."),
            of("data-dir", PATH, Builder::dataDir, HeraldConfig::dataDir,
                    "Folder for the generated TLS certificate and Herald's databases; relative to the working "
                            + "directory so each project keeps its own certificate."),
            of("root", FOLDER, Builder::root, c -> c.root().orElse(null),
                    "Folder to serve (also: herald serve DIR); unset serves the built-in default app."),

            // TLS
            of("tls.cert", FILE, Builder::tlsCert, c -> c.tlsCert().orElse(null),
                    "PEM certificate chain, set together with tls.key; unset, Herald generates a self-signed "
                            + "certificate in data-dir and keeps it across restarts.").alias("--cert"),
            of("tls.key", FILE, Builder::tlsKey, c -> c.tlsKey().orElse(null),
                    "PEM private key of tls.cert.").alias("--key"),
            of("tls.handshake-timeout", DURATION, Builder::handshakeTimeout, HeraldConfig::handshakeTimeout,
                    "Time a client gets to finish the TLS handshake; 10s is ample on slow links and frees "
                            + "sockets held by stalled clients."),

            // HTTP/2 (RFC 9113)
            of("http2.max-concurrent-streams", INT, Builder::maxConcurrentStreams,
                    HeraldConfig::maxConcurrentStreams,
                    "Streams a client may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS); 256 covers a "
                            + "page's assets, pushes and long-running streams while bounding per-connection memory."),
            of("http2.initial-window-size", INT_SIZE, Builder::initialWindowSize, HeraldConfig::initialWindowSize,
                    "Per-stream flow-control window (SETTINGS_INITIAL_WINDOW_SIZE); 1MiB keeps uploads fast "
                            + "over high-latency links, where the protocol's 64KiB would throttle them."),
            of("http2.connection-window-size", INT_SIZE, Builder::connectionWindowSize,
                    HeraldConfig::connectionWindowSize,
                    "Flow-control window shared by all streams of a connection; 4MiB lets several uploads "
                            + "progress at once. Netty returns it as each frame is read, so what a connection "
                            + "buffers is bounded by http2.max-buffered-body-per-connection instead."),
            of("http2.send-buffer", INT_SIZE, Builder::sendBuffer, HeraldConfig::sendBuffer,
                    "Output of an HTTP/2 connection allowed to wait below the priority scheduler: in the kernel "
                            + "(TCP_NOTSENT_LOWAT, epoll) and in Netty's outbound buffer (its high water mark). "
                            + "0 (default) keeps Netty's and the kernel's; 16KiB (Cloudflare's value) lets a page "
                            + "overtake a download on the same connection, at 6% of the download's speed and about a "
                            + "third more CPU for streaming fan-out."),
            of("http2.latency-optimization.min-rtt", DURATION, Builder::latencyOptimizationMinRtt,
                    HeraldConfig::latencyOptimizationMinRtt,
                    "Round-trip time from which a connection, while a request on it waits for its response, "
                            + "hands TCP only what its congestion window sends at once and keeps the rest in the "
                            + "priority scheduler, so that response (a page after its 103 Early Hints) overtakes the "
                            + "bytes before it once ready; h2o's latency optimization, with its 50ms. 0s turns it "
                            + "off. Epoll only."),
            of("http2.latency-optimization.max-cwnd", INT_SIZE, Builder::latencyOptimizationMaxCwnd,
                    HeraldConfig::latencyOptimizationMaxCwnd,
                    "Congestion window (bytes) from which the latency optimization stops: larger windows carry "
                            + "bulk transfers, where full writes cost less CPU; h2o's 65535."),
            of("http2.max-frame-size", INT_SIZE, Builder::maxFrameSize, HeraldConfig::maxFrameSize,
                    "Largest frame payload accepted (SETTINGS_MAX_FRAME_SIZE); 16KiB, the protocol's minimum, "
                            + "keeps frames small so streams interleave fairly."),
            of("http2.max-header-list-size", INT_SIZE, Builder::maxHeaderListSize, HeraldConfig::maxHeaderListSize,
                    "Largest request header list (SETTINGS_MAX_HEADER_LIST_SIZE); 32KiB fits big cookies and "
                            + "bounds HPACK decoding memory."),
            of("http2.max-rst-frames-per-window", INT, Builder::maxRstFramesPerWindow,
                    HeraldConfig::maxRstFramesPerWindow,
                    "RST_STREAM frames a client may send per http2.rst-window-seconds before the connection is "
                            + "closed; 200 stops rapid-reset floods (CVE-2023-44487) yet never hurts a browser."),
            of("http2.rst-window-seconds", INT, Builder::rstWindowSeconds, HeraldConfig::rstWindowSeconds,
                    "Length in seconds of the window http2.max-rst-frames-per-window counts in; 30."),
            of("http2.max-queued-control-frames", INT, Builder::maxQueuedControlFrames,
                    HeraldConfig::maxQueuedControlFrames,
                    "Control frames (PING and SETTINGS acks, RST_STREAM) queued for a client that does not "
                            + "read; 10000 bounds memory under ping and settings floods (CVE-2019-9512)."),
            of("http2.max-consecutive-empty-data-frames", INT, Builder::maxConsecutiveEmptyDataFrames,
                    HeraldConfig::maxConsecutiveEmptyDataFrames,
                    "Empty DATA frames in a row before the connection is closed; 2 stops empty-frame floods "
                            + "(CVE-2019-9518)."),
            of("http2.max-buffered-body-per-connection", SIZE_OR_AUTO, Builder::maxBufferedBodyPerConnection,
                    HeraldConfig::maxBufferedBodyPerConnection,
                    "Request body bytes the streams of one connection may hold before their requests end (a body "
                            + "reaches the application whole); a stream whose DATA would go beyond gets 503 and "
                            + "the others go on. auto: 4 x max-request-body (4MiB), four of the largest uploads at "
                            + "once, as HTTP/1.1 gets on four connections; at least max-request-body."),
            of("http2.max-buffered-body", SIZE_OR_AUTO, Builder::maxBufferedBody, HeraldConfig::maxBufferedBody,
                    "The same for all HTTP/2 connections together, so that many connections cannot exhaust "
                            + "memory. auto: a quarter of the JVM's maximum memory (-Xmx, also Netty's default "
                            + "direct-memory limit), 256MiB with -Xmx1g; at least max-request-body."),

            // Requests and connections
            of("max-uri-length", INT, Builder::maxUriLength, HeraldConfig::maxUriLength,
                    "Longest request target accepted, longer ones get 414; 8192 matches common proxies."),
            of("max-request-body", INT_SIZE, Builder::maxRequestBody, HeraldConfig::maxRequestBody,
                    "Largest request body buffered for a handler, larger ones get 413; 1MiB is ample for "
                            + "forms and JSON and bounds memory per request."),
            of("idle-timeout", DURATION, Builder::idleTimeout, HeraldConfig::idleTimeout,
                    "A connection without traffic for this long is closed; 120s lets browsers reuse it between "
                            + "page loads while idle sockets do not pile up. An HTTP/2 request whose body stops "
                            + "arriving for this long gets 408 and its stream is reset."),
            of("send-timeout", DURATION, Builder::sendTimeout, HeraldConfig::sendTimeout,
                    "A response the client takes none of for this long is cut: its connection closed, or on "
                            + "HTTP/2 its stream reset (CANCEL) while the client keeps its flow-control window shut; "
                            + "60s, nginx's send_timeout, frees the sockets and open files of clients that stopped "
                            + "reading, while a slow reader that takes something now and then goes on."),
            of("shutdown-timeout", DURATION, Builder::shutdownTimeout, HeraldConfig::shutdownTimeout,
                    "On shutdown, time in-flight requests get to finish after GOAWAY; 10s fits within the "
                            + "grace period of container stops."),

            // Limits and certificate reload
            of("limits.max-connections", INT, Builder::maxConnections, HeraldConfig::maxConnections,
                    "Open connections in total; beyond it HTTP/2 gets GOAWAY(ENHANCE_YOUR_CALM), HTTP/1.1 a 503 "
                            + "and TLS is closed before the handshake. 10000: h2o allows 1024 and nginx 512 per "
                            + "worker for short requests; long-running streams need more; fits streams.max-subscribers "
                            + "at two per connection."),
            of("limits.max-connections-per-ip", INT, Builder::maxConnectionsPerIp,
                    HeraldConfig::maxConnectionsPerIp,
                    "Open connections from one IP address, refused like limits.max-connections; 256 leaves room "
                            + "for an office behind one NAT (a browser opens 1 h2 or 6 HTTP/1.1 connections)."),
            of("limits.max-topics", INT, Builder::maxTopics, HeraldConfig::maxTopics,
                    "Distinct live topics (with a subscriber, or published to in the last minute); beyond it "
                            + "subscribing or publishing to a new topic gets 503. 10000 bounds the hub's memory."),
            of("limits.log-interval", DURATION, Builder::limitLogInterval, HeraldConfig::limitLogInterval,
                    "At most one warning per exceeded limit in this interval, naming the peer; the next one "
                            + "says how many were suppressed. 10s keeps a flood from flooding the log."),
            of("tls.reload-interval", DURATION, Builder::tlsReloadInterval, HeraldConfig::tlsReloadInterval,
                    "How often tls.cert and tls.key are checked for changes (a renewal) and reloaded for new "
                            + "connections; 5s, 0 turns it off."),

            // Static files
            of("files.cache-control", STRING, Builder::cacheControl, HeraldConfig::cacheControl,
                    "Cache-Control of files without a content hash in their name; max-age=60: a browser uses "
                            + "its copy for a minute, then revalidates (cheap with ETags), so edits show within a "
                            + "minute (at once on a reload). no-cache shows them at once, but browsers then revalidate "
                            + "what 103 Early Hints fetched, so no-cache files are not hinted."),
            of("files.immutable-pattern", STRING, Builder::immutablePattern, HeraldConfig::immutablePattern,
                    "Java regular expression for paths that carry a content hash (app.3f2a9c1b.js); these "
                            + "never change, so they get files.immutable-cache-control."),
            of("files.immutable-cache-control", STRING, Builder::immutableCacheControl,
                    HeraldConfig::immutableCacheControl,
                    "Cache-Control of content-hashed files; a year and immutable, since a new version gets a "
                            + "new name."),
            of("files.cache-max-bytes", SIZE, Builder::fileCacheBytes, HeraldConfig::fileCacheBytes,
                    "Memory for caching file contents; 32MiB holds a typical site's assets."),
            of("files.cache-max-file-size", SIZE, Builder::fileCacheMaxFile, HeraldConfig::fileCacheMaxFile,
                    "Larger files are streamed from disk instead of cached, and their ETag is made from their "
                            + "modification time and size (as nginx's), not their content; 256KiB keeps the cache "
                            + "for the many small assets a page loads."),
            of("files.compress", BOOLEAN, Builder::filesCompress, HeraldConfig::filesCompress,
                    "Gzip text files (HTML, CSS, JavaScript, JSON, SVG...) for clients that accept it: once per "
                            + "version of a file, kept in the cache when the gzip fits files.cache-max-file-size "
                            + "(files up to 8 times that size); a .gz sibling wins."),

            // Observability
            of("metrics.path", STRING, Builder::metricsPath, HeraldConfig::metricsPath,
                    "Path of the Prometheus scrape endpoint; empty turns it off."),
            of("access-log", BOOLEAN, Builder::accessLog, HeraldConfig::accessLog,
                    "One line per request on stdout; on, since watching requests is half of developing a site."),
            of("verbose", BOOLEAN, Builder::verbose, HeraldConfig::verbose,
                    "Log dev.herald at DEBUG; off, so the console shows requests and problems only."),

            // Realtime streams and their store
            of("store", STRING, Builder::store, HeraldConfig::store,
                    "Event log behind topics and the chat: sqlite keeps it in data-dir/herald.db, embedded and "
                            + "durable; a redis:// URL shares it between nodes."),
            of("sqlite.full-sync", BOOLEAN, Builder::sqliteFullSync, HeraldConfig::sqliteFullSync,
                    "SQLite synchronous=FULL: an acknowledged event survives power loss; false (NORMAL) is "
                            + "faster but may lose the last acknowledged events on power loss."),
            of("retention.max-events", INT, Builder::retentionMaxEvents, HeraldConfig::retentionMaxEvents,
                    "Events kept per topic for resume and history; 10000 covers hours of a busy chat."),
            of("retention.max-age", DURATION, Builder::retentionMaxAge, HeraldConfig::retentionMaxAge,
                    "Events older than this are trimmed; 168h lets a client resume after a week away."),
            of("streams.heartbeat", DURATION, Builder::heartbeat, HeraldConfig::heartbeat,
                    "Heartbeat on idle streams; 20s stays under the 60s idle timeouts of nginx and AWS ALB."),
            of("streams.max-lag-events", INT, Builder::maxLagEvents, HeraldConfig::maxLagEvents,
                    "Events a subscriber may fall behind before it is ended as slow (it can resume by id); "
                            + "1000, like Mercure."),
            of("streams.max-lag-bytes", SIZE, Builder::maxLagBytes, HeraldConfig::maxLagBytes,
                    "Bytes a subscriber may fall behind before it is ended as slow; 1MiB, like Centrifugo."),
            of("streams.max-subscribers", INT, Builder::maxSubscribers, HeraldConfig::maxSubscribers,
                    "Subscribers in total; beyond it 503 with Retry-After. 20000 fits in a 1 GiB heap."),
            of("streams.max-subscribers-per-connection", INT, Builder::maxSubscribersPerConnection,
                    HeraldConfig::maxSubscribersPerConnection,
                    "Subscribers on one connection; 128 leaves room under http2.max-concurrent-streams for "
                            + "the page's other requests."),
            of("streams.max-event-bytes", INT_SIZE, Builder::maxEventBytes, HeraldConfig::maxEventBytes,
                    "Largest event body a publish may carry; 64KiB, beyond it 413."),
            of("streams.sse-retry", DURATION, Builder::sseRetry, HeraldConfig::sseRetry,
                    "The retry hint sent to EventSource clients; 2s reconnects quickly without a storm."),
            of("auth.publish-token", STRING, Builder::publishToken, HeraldConfig::publishToken,
                    "Bearer token required to publish to topics; empty, anyone may publish."),
            of("auth.subscribe-token", STRING, Builder::subscribeToken, HeraldConfig::subscribeToken,
                    "Bearer token required to subscribe to private topics; empty, none needed."),
            of("auth.private-topics", STRING, Builder::privateTopics, HeraldConfig::privateTopics,
                    "Regular expression of topic names that need auth.subscribe-token; empty, none."),

            // Server push and 103 Early Hints
            of("push.enabled", BOOLEAN, Builder::pushEnabled, HeraldConfig::pushEnabled,
                    "Push (PUSH_PROMISE) what pages need to HTTP/2 clients that allow it; false only hints it "
                            + "(push.early-hints and Link headers)."),
            of("push.max-resources", INT, Builder::pushMaxResources, HeraldConfig::pushMaxResources,
                    "Resources pushed per round at most (one round with the page, more while it thinks), the "
                            + "rest hinted; 10, like nginx's concurrent pushes (Jetty pushed up to 16)."),
            of("push.max-bytes", SIZE_OR_AUTO, Builder::pushMaxBytes, HeraldConfig::pushMaxBytes,
                    "Bytes pushed per round at most, the rest hinted. auto: three congestion windows of the "
                            + "page's connection (TCP_INFO cwnd x MSS when its request arrives), what slow start "
                            + "delivers in its first two round trips, the idle time of a page answered at once: "
                            + "43800 (10 x 1460 x 3) from the kernel's 10-segment initial window, more on a route "
                            + "with a larger initcwnd or a connection already up to speed; at most 1MiB, and "
                            + "43800 where the transport cannot tell (not Linux epoll). While the page's response "
                            + "has not started, each round written opens the next one: a page that thinks gets "
                            + "its whole manifest pushed."),
            of("push.early-hints", EARLY_HINTS, Builder::pushEarlyHints, HeraldConfig::pushEarlyHints,
                    "Who gets 103 Early Hints for what is not pushed: off, h2 (HTTP/2 only) or all (HTTP/1.1 "
                            + "too, which RFC 9110 requires to skip unknown 1xx responses)."),
            of("push.priority", PUSH_PRIORITY, Builder::pushPriority, HeraldConfig::pushPriority,
                    "When pushed responses go relative to the page, like Apache's H2PushPriority: before, "
                            + "after, auto (Apache's defaults: CSS and fonts before, scripts interleaved, the rest "
                            + "after) or interleaved, which starts pushes at once and lets the page's bytes overtake "
                            + "them (pushes depend on the page's stream), so they fill its think time."),
            of("push.cache-digest", BOOLEAN, Builder::pushCacheDigest, HeraldConfig::pushCacheDigest,
                    "Keep a cache-digest cookie (herald-digest) of what each browser got, so a returning "
                            + "browser is not pushed or hinted what it holds; on."),
            of("push.learning-window", DURATION, Builder::pushLearningWindow, HeraldConfig::pushLearningWindow,
                    "Requests with a page's Referer within this time after its response, on its connection, "
                            + "become its dependencies; 2s covers a page's own fetches, 0s turns learning off."),
            of("push.learned-file", PATH, Builder::pushLearnedFile, c -> c.pushLearnedFile().orElse(null),
                    "File learned dependencies are saved to at shutdown and loaded from at start; unset, "
                            + "data-dir/push-learned.tsv."),
            of("push.debug-header", BOOLEAN, Builder::pushDebugHeader, HeraldConfig::pushDebugHeader,
                    "Add x-herald-push to page responses, summarising what was pushed, skipped and hinted and "
                            + "why; off, since it shows the site's structure."),
            of("push.rules", PUSH_RULES, Builder::pushRules, HeraldConfig::pushRules,
                    "Declarative push lists: path pattern (exact, * or **) to ordered resources, with enabled, "
                            + "limit, discovery and link per rule; first match wins. In YAML a list; as a flag or "
                            + "variable, the same list as JSON."));

    private static final Map<String, Setting> BY_KEY = new LinkedHashMap<>();

    static {
        ALL.forEach(s -> BY_KEY.put(s.key(), s));
    }

    private Settings() {
    }

    /** Every setting, in the order {@code --help} lists them. */
    public static List<Setting> all() {
        return ALL;
    }

    /** The setting with this YAML key, such as {@code http2.max-concurrent-streams}. */
    public static Optional<Setting> byKey(String key) {
        return Optional.ofNullable(BY_KEY.get(key));
    }

    private static <T> Setting of(String key, ValueType<T> type, BiConsumer<Builder, T> setter,
            Function<HeraldConfig, T> getter, String description) {
        return Setting.of(key, type, setter, getter, DEFAULTS, description);
    }
}
