package dev.herald.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Herald's whole configuration, immutable. Built by {@link #builder()}; {@link ConfigLoader} fills the builder
 * from {@code herald.yaml}, {@code HERALD_*} environment variables and command-line flags, in that order.
 *
 * <p>Every setter validates its value where it is set and throws {@link ConfigException} with a message of the
 * form {@code key: value (expected: ...)}.
 */
public final class HeraldConfig {
    /** The largest {@code max-uri-length}: 1 MiB (nginx's whole request line fits in 8 KiB by default). */
    static final int MAX_URI_LENGTH_LIMIT = 1 << 20;

    /** A size option set to {@code auto}: Herald derives the value (each option says how). */
    public static final long SIZE_AUTO = -1;
    /** {@link #pushMaxBytes()} when it follows each connection's congestion window ({@code push.max-bytes: auto}). */
    public static final long PUSH_BYTES_AUTO = SIZE_AUTO;
    private static final String CACHE_CONTROL_VALUE =
            "a Cache-Control value such as no-cache, without line breaks or other control characters";

    private final String host;
    private final int tlsPort;
    private final int httpPort;
    private final Path dataDir;
    private final Path tlsCert;
    private final Path tlsKey;
    private final Path root;
    private final int maxConcurrentStreams;
    private final int initialWindowSize;
    private final int connectionWindowSize;
    private final int sendBuffer;
    private final Duration latencyOptimizationMinRtt;
    private final int latencyOptimizationMaxCwnd;
    private final int maxFrameSize;
    private final int maxHeaderListSize;
    private final int maxRstFramesPerWindow;
    private final int rstWindowSeconds;
    private final int maxQueuedControlFrames;
    private final int maxConsecutiveEmptyDataFrames;
    private final long maxBufferedBodyPerConnection;
    private final long maxBufferedBody;
    private final int maxUriLength;
    private final int maxRequestBody;
    private final Duration shutdownTimeout;
    private final Duration idleTimeout;
    private final Duration sendTimeout;
    private final Duration handshakeTimeout;
    private final String cacheControl;
    private final String immutablePattern;
    private final String immutableCacheControl;
    private final long fileCacheBytes;
    private final long fileCacheMaxFile;
    private final boolean filesCompress;
    private final String metricsPath;
    private final boolean accessLog;
    private final boolean verbose;
    private final String store;
    private final boolean sqliteFullSync;
    private final int retentionMaxEvents;
    private final Duration retentionMaxAge;
    private final Duration heartbeat;
    private final int maxLagEvents;
    private final long maxLagBytes;
    private final int maxSubscribers;
    private final int maxSubscribersPerConnection;
    private final int maxEventBytes;
    private final Duration sseRetry;
    private final String publishToken;
    private final String subscribeToken;
    private final String privateTopics;
    // Server push and early hints
    private final boolean pushEnabled;
    private final int pushMaxResources;
    private final long pushMaxBytes;
    private final EarlyHints pushEarlyHints;
    private final PushPriority pushPriority;
    private final boolean pushCacheDigest;
    private final Duration pushLearningWindow;
    private final Path pushLearnedFile;
    private final boolean pushDebugHeader;
    private final List<PushRule> pushRules;
    // Limits and certificate reload (issue 6)
    private final int maxConnections;
    private final int maxConnectionsPerIp;
    private final int maxTopics;
    private final Duration limitLogInterval;
    private final Duration tlsReloadInterval;

    private HeraldConfig(Builder b) {
        host = b.host;
        tlsPort = b.tlsPort;
        httpPort = b.httpPort;
        dataDir = b.dataDir;
        tlsCert = b.tlsCert;
        tlsKey = b.tlsKey;
        root = b.root;
        maxConcurrentStreams = b.maxConcurrentStreams;
        initialWindowSize = b.initialWindowSize;
        connectionWindowSize = b.connectionWindowSize;
        sendBuffer = b.sendBuffer;
        latencyOptimizationMinRtt = b.latencyOptimizationMinRtt;
        latencyOptimizationMaxCwnd = b.latencyOptimizationMaxCwnd;
        maxFrameSize = b.maxFrameSize;
        maxHeaderListSize = b.maxHeaderListSize;
        maxRstFramesPerWindow = b.maxRstFramesPerWindow;
        rstWindowSeconds = b.rstWindowSeconds;
        maxQueuedControlFrames = b.maxQueuedControlFrames;
        maxConsecutiveEmptyDataFrames = b.maxConsecutiveEmptyDataFrames;
        maxBufferedBodyPerConnection = b.maxBufferedBodyPerConnection;
        maxBufferedBody = b.maxBufferedBody;
        maxUriLength = b.maxUriLength;
        maxRequestBody = b.maxRequestBody;
        shutdownTimeout = b.shutdownTimeout;
        idleTimeout = b.idleTimeout;
        sendTimeout = b.sendTimeout;
        handshakeTimeout = b.handshakeTimeout;
        cacheControl = b.cacheControl;
        immutablePattern = b.immutablePattern;
        immutableCacheControl = b.immutableCacheControl;
        fileCacheBytes = b.fileCacheBytes;
        fileCacheMaxFile = b.fileCacheMaxFile;
        filesCompress = b.filesCompress;
        metricsPath = b.metricsPath;
        accessLog = b.accessLog;
        verbose = b.verbose;
        store = b.store;
        sqliteFullSync = b.sqliteFullSync;
        retentionMaxEvents = b.retentionMaxEvents;
        retentionMaxAge = b.retentionMaxAge;
        heartbeat = b.heartbeat;
        maxLagEvents = b.maxLagEvents;
        maxLagBytes = b.maxLagBytes;
        maxSubscribers = b.maxSubscribers;
        maxSubscribersPerConnection = b.maxSubscribersPerConnection;
        maxEventBytes = b.maxEventBytes;
        sseRetry = b.sseRetry;
        publishToken = b.publishToken;
        subscribeToken = b.subscribeToken;
        privateTopics = b.privateTopics;
        pushEnabled = b.pushEnabled;
        pushMaxResources = b.pushMaxResources;
        pushMaxBytes = b.pushMaxBytes;
        pushEarlyHints = b.pushEarlyHints;
        pushPriority = b.pushPriority;
        pushCacheDigest = b.pushCacheDigest;
        pushLearningWindow = b.pushLearningWindow;
        pushLearnedFile = b.pushLearnedFile;
        pushDebugHeader = b.pushDebugHeader;
        pushRules = b.pushRules;
        maxConnections = b.maxConnections;
        maxConnectionsPerIp = b.maxConnectionsPerIp;
        maxTopics = b.maxTopics;
        limitLogInterval = b.limitLogInterval;
        tlsReloadInterval = b.tlsReloadInterval;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this configuration's values, to derive a changed copy. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.host = host;
        b.tlsPort = tlsPort;
        b.httpPort = httpPort;
        b.dataDir = dataDir;
        b.tlsCert = tlsCert;
        b.tlsKey = tlsKey;
        b.root = root;
        b.maxConcurrentStreams = maxConcurrentStreams;
        b.initialWindowSize = initialWindowSize;
        b.connectionWindowSize = connectionWindowSize;
        b.sendBuffer = sendBuffer;
        b.latencyOptimizationMinRtt = latencyOptimizationMinRtt;
        b.latencyOptimizationMaxCwnd = latencyOptimizationMaxCwnd;
        b.maxFrameSize = maxFrameSize;
        b.maxHeaderListSize = maxHeaderListSize;
        b.maxRstFramesPerWindow = maxRstFramesPerWindow;
        b.rstWindowSeconds = rstWindowSeconds;
        b.maxQueuedControlFrames = maxQueuedControlFrames;
        b.maxConsecutiveEmptyDataFrames = maxConsecutiveEmptyDataFrames;
        b.maxBufferedBodyPerConnection = maxBufferedBodyPerConnection;
        b.maxBufferedBody = maxBufferedBody;
        b.maxUriLength = maxUriLength;
        b.maxRequestBody = maxRequestBody;
        b.shutdownTimeout = shutdownTimeout;
        b.idleTimeout = idleTimeout;
        b.sendTimeout = sendTimeout;
        b.handshakeTimeout = handshakeTimeout;
        b.cacheControl = cacheControl;
        b.immutablePattern = immutablePattern;
        b.immutableCacheControl = immutableCacheControl;
        b.fileCacheBytes = fileCacheBytes;
        b.fileCacheMaxFile = fileCacheMaxFile;
        b.filesCompress = filesCompress;
        b.metricsPath = metricsPath;
        b.accessLog = accessLog;
        b.verbose = verbose;
        b.store = store;
        b.sqliteFullSync = sqliteFullSync;
        b.retentionMaxEvents = retentionMaxEvents;
        b.retentionMaxAge = retentionMaxAge;
        b.heartbeat = heartbeat;
        b.maxLagEvents = maxLagEvents;
        b.maxLagBytes = maxLagBytes;
        b.maxSubscribers = maxSubscribers;
        b.maxSubscribersPerConnection = maxSubscribersPerConnection;
        b.maxEventBytes = maxEventBytes;
        b.sseRetry = sseRetry;
        b.publishToken = publishToken;
        b.subscribeToken = subscribeToken;
        b.privateTopics = privateTopics;
        b.pushEnabled = pushEnabled;
        b.pushMaxResources = pushMaxResources;
        b.pushMaxBytes = pushMaxBytes;
        b.pushEarlyHints = pushEarlyHints;
        b.pushPriority = pushPriority;
        b.pushCacheDigest = pushCacheDigest;
        b.pushLearningWindow = pushLearningWindow;
        b.pushLearnedFile = pushLearnedFile;
        b.pushDebugHeader = pushDebugHeader;
        b.pushRules = pushRules;
        b.maxConnections = maxConnections;
        b.maxConnectionsPerIp = maxConnectionsPerIp;
        b.maxTopics = maxTopics;
        b.limitLogInterval = limitLogInterval;
        b.tlsReloadInterval = tlsReloadInterval;
        return b;
    }

    /** Address to bind both ports to. */
    public String host() {
        return host;
    }

    /** TLS port (h2 and http/1.1 by ALPN); 0 picks a free port, -1 disables it. */
    public int tlsPort() {
        return tlsPort;
    }

    /** Cleartext port (h2c prior knowledge, Upgrade: h2c, HTTP/1.1); 0 picks a free port, -1 disables it. */
    public int httpPort() {
        return httpPort;
    }

    /** Where Herald keeps its generated certificate and its databases. */
    public Path dataDir() {
        return dataDir;
    }

    public Optional<Path> tlsCert() {
        return Optional.ofNullable(tlsCert);
    }

    public Optional<Path> tlsKey() {
        return Optional.ofNullable(tlsKey);
    }

    /** The folder to serve; empty means the built-in default app. */
    public Optional<Path> root() {
        return Optional.ofNullable(root);
    }

    public int maxConcurrentStreams() {
        return maxConcurrentStreams;
    }

    public int initialWindowSize() {
        return initialWindowSize;
    }

    public int connectionWindowSize() {
        return connectionWindowSize;
    }

    /**
     * Bytes of an HTTP/2 connection's output that may wait below Netty's HTTP/2 flow controller (which orders
     * streams by priority): in the kernel ({@code TCP_NOTSENT_LOWAT}, epoll only) and in the channel's outbound
     * buffer (write-buffer high water mark; low = half). 0 leaves the kernel's and Netty's defaults.
     */
    public int sendBuffer() {
        return sendBuffer;
    }

    /**
     * Smoothed round-trip time from which an HTTP/2 connection, while a request on it waits for its response, hands
     * the socket only what its congestion window can send at once (h2o's latency optimization); zero turns it off.
     */
    public Duration latencyOptimizationMinRtt() {
        return latencyOptimizationMinRtt;
    }

    /** Congestion window (bytes) from which the latency optimization stops holding bytes back. */
    public int latencyOptimizationMaxCwnd() {
        return latencyOptimizationMaxCwnd;
    }

    public int maxFrameSize() {
        return maxFrameSize;
    }

    public int maxHeaderListSize() {
        return maxHeaderListSize;
    }

    public int maxRstFramesPerWindow() {
        return maxRstFramesPerWindow;
    }

    public int rstWindowSeconds() {
        return rstWindowSeconds;
    }

    public int maxQueuedControlFrames() {
        return maxQueuedControlFrames;
    }

    public int maxConsecutiveEmptyDataFrames() {
        return maxConsecutiveEmptyDataFrames;
    }

    /**
     * Request body bytes the streams of one HTTP/2 connection may hold while their requests are incomplete (a body
     * is handed to the application only whole); a stream whose DATA would go beyond is answered 503. Or
     * {@link #SIZE_AUTO}: four times {@link #maxRequestBody()}. Never below {@code max-request-body}.
     */
    public long maxBufferedBodyPerConnection() {
        return maxBufferedBodyPerConnection;
    }

    /**
     * The same as {@link #maxBufferedBodyPerConnection()} for all HTTP/2 connections together. Or
     * {@link #SIZE_AUTO}: a quarter of the JVM's maximum memory ({@code Runtime.maxMemory()}), at least
     * {@link #maxRequestBody()}. Never below {@code max-request-body}.
     */
    public long maxBufferedBody() {
        return maxBufferedBody;
    }

    public int maxUriLength() {
        return maxUriLength;
    }

    public int maxRequestBody() {
        return maxRequestBody;
    }

    public Duration shutdownTimeout() {
        return shutdownTimeout;
    }

    public Duration idleTimeout() {
        return idleTimeout;
    }

    /**
     * How long a response may wait with none of its bytes taken by the client before it is cut ({@code send-timeout},
     * nginx's {@code send_timeout}, with its default of 60 s): an HTTP/1.1 or HTTP/2 connection whose bytes wait
     * and are not acknowledged is closed, and an HTTP/2 stream whose data waits for a flow-control window the client
     * keeps shut is reset with {@code CANCEL}. It frees the socket and the open file a client that stopped reading
     * would otherwise hold for good (idle-timeout never applies while a response is in flight); a slow reader that
     * takes something within each period is never cut.
     */
    public Duration sendTimeout() {
        return sendTimeout;
    }

    public Duration handshakeTimeout() {
        return handshakeTimeout;
    }

    public String cacheControl() {
        return cacheControl;
    }

    public String immutablePattern() {
        return immutablePattern;
    }

    public String immutableCacheControl() {
        return immutableCacheControl;
    }

    public long fileCacheBytes() {
        return fileCacheBytes;
    }

    public long fileCacheMaxFile() {
        return fileCacheMaxFile;
    }

    public boolean filesCompress() {
        return filesCompress;
    }

    /** Path of the Prometheus scrape endpoint; empty disables it. */
    public String metricsPath() {
        return metricsPath;
    }

    public boolean accessLog() {
        return accessLog;
    }

    public boolean verbose() {
        return verbose;
    }

    /** Where events live: {@code sqlite} (a file in the data directory) or a Redis URL. */
    public String store() {
        return store;
    }

    /** SQLite synchronous=FULL (acknowledged events survive power loss) rather than NORMAL. */
    public boolean sqliteFullSync() {
        return sqliteFullSync;
    }

    /** Events kept per topic. */
    public int retentionMaxEvents() {
        return retentionMaxEvents;
    }

    /** Age after which events are trimmed. */
    public Duration retentionMaxAge() {
        return retentionMaxAge;
    }

    /** Interval of heartbeats on idle long-running streams. */
    public Duration heartbeat() {
        return heartbeat;
    }

    /** Events a subscriber may fall behind before it is ended as slow. */
    public int maxLagEvents() {
        return maxLagEvents;
    }

    /** Bytes a subscriber may fall behind before it is ended as slow. */
    public long maxLagBytes() {
        return maxLagBytes;
    }

    /** Subscribers in total. */
    public int maxSubscribers() {
        return maxSubscribers;
    }

    /** Subscribers per connection. */
    public int maxSubscribersPerConnection() {
        return maxSubscribersPerConnection;
    }

    /** Largest published event body. */
    public int maxEventBytes() {
        return maxEventBytes;
    }

    /** The SSE {@code retry} hint sent to EventSource clients. */
    public Duration sseRetry() {
        return sseRetry;
    }

    /** Bearer token required to publish; empty for none. */
    public String publishToken() {
        return publishToken;
    }

    /** Bearer token required to subscribe to private topics; empty for none. */
    public String subscribeToken() {
        return subscribeToken;
    }

    /** Regular expression of private topic names; empty for none. */
    public String privateTopics() {
        return privateTopics;
    }

    /** Which clients get {@code 103 Early Hints} for what a page needs and is not pushed to them. */
    public enum EarlyHints {
        /** Never; the final response still carries the Link preload lines. */
        OFF,
        /** HTTP/2 clients only (those that refuse push, and what is beyond the push budget). */
        H2,
        /** HTTP/2 and HTTP/1.1 clients (not HTTP/1.0, which cannot parse a 1xx response). */
        ALL
    }

    /**
     * When a pushed response is sent relative to its page's response, like Apache's {@code H2PushPriority}. Every
     * push also depends on its page's stream in the priority tree (the page's ready bytes go before the push's
     * queued ones); these values add the send order on top.
     */
    public enum PushPriority {
        /** Per type, Apache's defaults: CSS and fonts {@link #BEFORE}, scripts {@link #INTERLEAVED}, the rest {@link #AFTER}. */
        AUTO,
        /**
         * The pushed response completes before the page's body starts (the page's HEADERS go first), or until the
         * client's flow-control window stops it: a client that does not read the push cannot hold the page.
         */
        BEFORE,
        /**
         * The pushed response starts at once and takes whatever the page leaves: the time before the page's
         * response is ready and the page's flow-control stalls; the page's bytes overtake its queued ones (the
         * default: it never holds the page, and it fills the think time).
         */
        INTERLEAVED,
        /** The pushed response starts once the page's response is complete. */
        AFTER
    }

    /** Whether resources may be pushed at all (PUSH_PROMISE); off, they are only hinted. */
    public boolean pushEnabled() {
        return pushEnabled;
    }

    /** Resources pushed per round at most (see {@code PushingFiles}, "Think time: more rounds"). */
    public int pushMaxResources() {
        return pushMaxResources;
    }

    /**
     * Bytes pushed per round at most (see {@code PushingFiles}, "Budget" and "Think time: more rounds"), or
     * {@link #PUSH_BYTES_AUTO}: three congestion windows of the page's connection, read when its request arrives.
     */
    public long pushMaxBytes() {
        return pushMaxBytes;
    }

    public EarlyHints pushEarlyHints() {
        return pushEarlyHints;
    }

    public PushPriority pushPriority() {
        return pushPriority;
    }

    /** Whether the cache-digest cookie is read and set. */
    public boolean pushCacheDigest() {
        return pushCacheDigest;
    }

    /** How long after a page's response its Referer-bearing requests teach its dependencies; zero turns it off. */
    public Duration pushLearningWindow() {
        return pushLearningWindow;
    }

    /** Where learned dependencies are saved and loaded; empty means {@code data-dir/push-learned.tsv}. */
    public Optional<Path> pushLearnedFile() {
        return Optional.ofNullable(pushLearnedFile);
    }

    /** Whether page responses carry the {@code x-herald-push} debug header. */
    public boolean pushDebugHeader() {
        return pushDebugHeader;
    }

    /** The declarative push rules, first match wins. */
    public List<PushRule> pushRules() {
        return pushRules;
    }

    /** Open client connections in total, both ports; beyond it new connections are refused. */
    public int maxConnections() {
        return maxConnections;
    }

    /** Open client connections from one IP address; beyond it new ones from that address are refused. */
    public int maxConnectionsPerIp() {
        return maxConnectionsPerIp;
    }

    /** Distinct live topics in the topic hub; beyond it subscribing or publishing to a new topic gets 503. */
    public int maxTopics() {
        return maxTopics;
    }

    /** At most one warning per limit in this interval; the next one counts those suppressed. */
    public Duration limitLogInterval() {
        return limitLogInterval;
    }

    /** How often {@code tls.cert} and {@code tls.key} are checked for changes; zero turns reloading off. */
    public Duration tlsReloadInterval() {
        return tlsReloadInterval;
    }

    /** Builds a {@link HeraldConfig}; every setter validates at once. */
    public static final class Builder {
        private String host = "0.0.0.0";
        private int tlsPort = 8443;
        private int httpPort = 8080;
        private Path dataDir = Path.of("herald-data");
        private Path tlsCert;
        private Path tlsKey;
        private Path root;
        private int maxConcurrentStreams = 256;
        private int initialWindowSize = 1 << 20;
        private int connectionWindowSize = 4 << 20;
        private int sendBuffer = 0;
        private Duration latencyOptimizationMinRtt = Duration.ofMillis(50);
        private int latencyOptimizationMaxCwnd = 65_535;
        private int maxFrameSize = 16_384;
        private int maxHeaderListSize = 32_768;
        private int maxRstFramesPerWindow = 200;
        private int rstWindowSeconds = 30;
        private int maxQueuedControlFrames = 10_000;
        private int maxConsecutiveEmptyDataFrames = 2;
        private long maxBufferedBodyPerConnection = SIZE_AUTO;
        private long maxBufferedBody = SIZE_AUTO;
        private int maxUriLength = 8192;
        private int maxRequestBody = 1 << 20;
        private Duration shutdownTimeout = Duration.ofSeconds(10);
        private Duration idleTimeout = Duration.ofSeconds(120);
        private Duration sendTimeout = Duration.ofSeconds(60);
        private Duration handshakeTimeout = Duration.ofSeconds(10);
        private String cacheControl = "max-age=60";
        private String immutablePattern = ".*[.-][0-9a-f]{8,}\\.[A-Za-z0-9]+";
        private String immutableCacheControl = "public, max-age=31536000, immutable";
        private long fileCacheBytes = 32L << 20;
        private long fileCacheMaxFile = 256L << 10;
        private boolean filesCompress = true;
        private String metricsPath = "/metrics";
        private boolean accessLog = true;
        private boolean verbose;
        private String store = "sqlite";
        private boolean sqliteFullSync = true;
        private int retentionMaxEvents = 10_000;
        private Duration retentionMaxAge = Duration.ofDays(7);
        private Duration heartbeat = Duration.ofSeconds(20);
        private int maxLagEvents = 1000;
        private long maxLagBytes = 1L << 20;
        private int maxSubscribers = 20_000;
        private int maxSubscribersPerConnection = 128;
        private int maxEventBytes = 64 << 10;
        private Duration sseRetry = Duration.ofSeconds(2);
        private String publishToken = "";
        private String subscribeToken = "";
        private String privateTopics = "";
        private boolean pushEnabled = true;
        private int pushMaxResources = 10;
        private long pushMaxBytes = PUSH_BYTES_AUTO;
        private EarlyHints pushEarlyHints = EarlyHints.ALL;
        private PushPriority pushPriority = PushPriority.INTERLEAVED;
        private boolean pushCacheDigest = true;
        private Duration pushLearningWindow = Duration.ofSeconds(2);
        private Path pushLearnedFile;
        private boolean pushDebugHeader;
        private List<PushRule> pushRules = List.of();
        private int maxConnections = 10_000;
        private int maxConnectionsPerIp = 256;
        private int maxTopics = 10_000;
        private Duration limitLogInterval = Duration.ofSeconds(10);
        private Duration tlsReloadInterval = Duration.ofSeconds(5);

        private Builder() {
        }

        public Builder host(String host) {
            require("host", host, host != null && !host.isBlank(), "a host name or IP address");
            this.host = host;
            return this;
        }

        public Builder tlsPort(int port) {
            require("port", port, port >= -1 && port <= 65535, "-1 (off), 0 (any) or 1..65535");
            this.tlsPort = port;
            return this;
        }

        public Builder httpPort(int port) {
            require("http-port", port, port >= -1 && port <= 65535, "-1 (off), 0 (any) or 1..65535");
            this.httpPort = port;
            return this;
        }

        public Builder dataDir(Path dir) {
            require("data-dir", dir, dir != null, "a folder path");
            this.dataDir = dir;
            return this;
        }

        public Builder tlsCert(Path cert) {
            this.tlsCert = cert;
            return this;
        }

        public Builder tlsKey(Path key) {
            this.tlsKey = key;
            return this;
        }

        public Builder root(Path root) {
            this.root = root;
            return this;
        }

        public Builder maxConcurrentStreams(int n) {
            require("http2.max-concurrent-streams", n, n >= 1, "an integer >= 1");
            this.maxConcurrentStreams = n;
            return this;
        }

        public Builder initialWindowSize(int n) {
            // RFC 9113 §6.5.2: at most 2^31-1.
            require("http2.initial-window-size", n, n >= 1, "1..2147483647 bytes");
            this.initialWindowSize = n;
            return this;
        }

        public Builder connectionWindowSize(int n) {
            require("http2.connection-window-size", n, n >= 65_535, "65535..2147483647 bytes");
            this.connectionWindowSize = n;
            return this;
        }

        public Builder sendBuffer(int n) {
            require("http2.send-buffer", n, n == 0 || n >= 2048, "0 (off) or an integer >= 2048 bytes");
            this.sendBuffer = n;
            return this;
        }

        public Builder latencyOptimizationMinRtt(Duration d) {
            require("http2.latency-optimization.min-rtt", d, d != null && !d.isNegative(),
                    "a duration >= 0 such as 50ms (0 turns it off)");
            this.latencyOptimizationMinRtt = d;
            return this;
        }

        public Builder latencyOptimizationMaxCwnd(int n) {
            require("http2.latency-optimization.max-cwnd", n, n > 0, "an integer > 0 bytes");
            this.latencyOptimizationMaxCwnd = n;
            return this;
        }

        public Builder maxFrameSize(int n) {
            // RFC 9113 §6.5.2: 2^14..2^24-1.
            require("http2.max-frame-size", n, n >= 16_384 && n <= 16_777_215, "16384..16777215 bytes");
            this.maxFrameSize = n;
            return this;
        }

        public Builder maxHeaderListSize(int n) {
            require("http2.max-header-list-size", n, n >= 1024, "an integer >= 1024 bytes");
            this.maxHeaderListSize = n;
            return this;
        }

        public Builder maxRstFramesPerWindow(int n) {
            require("http2.max-rst-frames-per-window", n, n >= 1, "an integer >= 1");
            this.maxRstFramesPerWindow = n;
            return this;
        }

        public Builder rstWindowSeconds(int n) {
            require("http2.rst-window-seconds", n, n >= 1, "an integer >= 1");
            this.rstWindowSeconds = n;
            return this;
        }

        public Builder maxQueuedControlFrames(int n) {
            require("http2.max-queued-control-frames", n, n >= 1, "an integer >= 1");
            this.maxQueuedControlFrames = n;
            return this;
        }

        public Builder maxConsecutiveEmptyDataFrames(int n) {
            require("http2.max-consecutive-empty-data-frames", n, n >= 1, "an integer >= 1");
            this.maxConsecutiveEmptyDataFrames = n;
            return this;
        }

        public Builder maxBufferedBodyPerConnection(long n) {
            require(BUFFERED_PER_CONNECTION, n, n >= 0 || n == SIZE_AUTO, BUFFERED_EXPECTED);
            this.maxBufferedBodyPerConnection = n;
            return this;
        }

        public Builder maxBufferedBody(long n) {
            require(BUFFERED_TOTAL, n, n >= 0 || n == SIZE_AUTO, BUFFERED_EXPECTED);
            this.maxBufferedBody = n;
            return this;
        }

        public Builder maxUriLength(int n) {
            // At most 1 MiB: the HTTP/1.1 line limit adds room for the method and version to it.
            require("max-uri-length", n, n >= 256 && n <= MAX_URI_LENGTH_LIMIT, "an integer from 256 to "
                    + MAX_URI_LENGTH_LIMIT);
            this.maxUriLength = n;
            return this;
        }

        public Builder maxRequestBody(int n) {
            require("max-request-body", n, n >= 0, "a size >= 0");
            this.maxRequestBody = n;
            return this;
        }

        public Builder shutdownTimeout(Duration d) {
            require("shutdown-timeout", d, d != null && !d.isNegative(), "a duration >= 0 such as 10s");
            this.shutdownTimeout = d;
            return this;
        }

        public Builder idleTimeout(Duration d) {
            require("idle-timeout", d, d != null && !d.isNegative() && !d.isZero(), "a duration > 0 such as 120s");
            this.idleTimeout = d;
            return this;
        }

        public Builder sendTimeout(Duration d) {
            require("send-timeout", d, d != null && !d.isNegative() && !d.isZero(), "a duration > 0 such as 60s");
            this.sendTimeout = d;
            return this;
        }

        public Builder handshakeTimeout(Duration d) {
            require("tls.handshake-timeout", d, d != null && !d.isNegative() && !d.isZero(),
                    "a duration > 0 such as 10s");
            this.handshakeTimeout = d;
            return this;
        }

        public Builder cacheControl(String v) {
            require("files.cache-control", v, isFieldValue(v), CACHE_CONTROL_VALUE);
            this.cacheControl = v;
            return this;
        }

        public Builder immutablePattern(String regex) {
            boolean ok;
            try {
                java.util.regex.Pattern.compile(regex);
                ok = true;
            } catch (RuntimeException e) {
                ok = false;
            }
            require("files.immutable-pattern", regex, ok, "a Java regular expression matched against the path");
            this.immutablePattern = regex;
            return this;
        }

        public Builder immutableCacheControl(String v) {
            require("files.immutable-cache-control", v, isFieldValue(v), CACHE_CONTROL_VALUE);
            this.immutableCacheControl = v;
            return this;
        }

        public Builder fileCacheBytes(long n) {
            require("files.cache-max-bytes", n, n >= 0, "a size >= 0");
            this.fileCacheBytes = n;
            return this;
        }

        public Builder fileCacheMaxFile(long n) {
            require("files.cache-max-file-size", n, n >= 0, "a size >= 0");
            this.fileCacheMaxFile = n;
            return this;
        }

        public Builder filesCompress(boolean on) {
            this.filesCompress = on;
            return this;
        }

        public Builder metricsPath(String path) {
            require("metrics.path", path, path != null && (path.isEmpty() || path.startsWith("/")),
                    "a path starting with / or empty to disable");
            this.metricsPath = path;
            return this;
        }

        public Builder accessLog(boolean on) {
            this.accessLog = on;
            return this;
        }

        public Builder verbose(boolean on) {
            this.verbose = on;
            return this;
        }

        public Builder store(String v) {
            require("store", v, v != null && (v.equals("sqlite") || v.startsWith("redis://") || v.startsWith("rediss://")), "sqlite, or a redis:// or rediss:// URL");
            this.store = v;
            return this;
        }

        public Builder sqliteFullSync(boolean v) {
            this.sqliteFullSync = v;
            return this;
        }

        public Builder retentionMaxEvents(int v) {
            require("retention.max-events", v, v >= 1, "an integer >= 1");
            this.retentionMaxEvents = v;
            return this;
        }

        public Builder retentionMaxAge(Duration v) {
            require("retention.max-age", v, v != null && !v.isNegative() && !v.isZero(), "a duration > 0 such as 168h");
            this.retentionMaxAge = v;
            return this;
        }

        public Builder heartbeat(Duration v) {
            require("streams.heartbeat", v, v != null && v.toMillis() >= 10, "a duration >= 10ms such as 20s");
            this.heartbeat = v;
            return this;
        }

        public Builder maxLagEvents(int v) {
            require("streams.max-lag-events", v, v >= 1, "an integer >= 1");
            this.maxLagEvents = v;
            return this;
        }

        public Builder maxLagBytes(long v) {
            require("streams.max-lag-bytes", v, v >= 1024, "a size >= 1KiB");
            this.maxLagBytes = v;
            return this;
        }

        public Builder maxSubscribers(int v) {
            require("streams.max-subscribers", v, v >= 1, "an integer >= 1");
            this.maxSubscribers = v;
            return this;
        }

        public Builder maxSubscribersPerConnection(int v) {
            require("streams.max-subscribers-per-connection", v, v >= 1, "an integer >= 1");
            this.maxSubscribersPerConnection = v;
            return this;
        }

        public Builder maxEventBytes(int v) {
            require("streams.max-event-bytes", v, v >= 16, "a size >= 16 bytes");
            this.maxEventBytes = v;
            return this;
        }

        public Builder sseRetry(Duration v) {
            require("streams.sse-retry", v, v != null && !v.isNegative(), "a duration >= 0 such as 2s");
            this.sseRetry = v;
            return this;
        }

        public Builder publishToken(String v) {
            require("auth.publish-token", v, v != null, "a token, or empty for none");
            this.publishToken = v;
            return this;
        }

        public Builder subscribeToken(String v) {
            require("auth.subscribe-token", v, v != null, "a token, or empty for none");
            this.subscribeToken = v;
            return this;
        }

        public Builder privateTopics(String v) {
            require("auth.private-topics", v, v != null && validRegex(v), "a Java regular expression for topic names, or empty for none");
            this.privateTopics = v;
            return this;
        }

        public Builder pushEnabled(boolean on) {
            this.pushEnabled = on;
            return this;
        }

        public Builder pushMaxResources(int n) {
            require("push.max-resources", n, n >= 0 && n <= 100, "0..100 (0 hints only)");
            this.pushMaxResources = n;
            return this;
        }

        public Builder pushMaxBytes(long n) {
            require("push.max-bytes", n, n >= 0 || n == PUSH_BYTES_AUTO, "auto or a size >= 0");
            this.pushMaxBytes = n;
            return this;
        }

        public Builder pushEarlyHints(EarlyHints v) {
            require("push.early-hints", v, v != null, "off, h2 or all");
            this.pushEarlyHints = v;
            return this;
        }

        public Builder pushPriority(PushPriority v) {
            require("push.priority", v, v != null, "auto, before, interleaved or after");
            this.pushPriority = v;
            return this;
        }

        public Builder pushCacheDigest(boolean on) {
            this.pushCacheDigest = on;
            return this;
        }

        public Builder pushLearningWindow(Duration d) {
            require("push.learning-window", d, d != null && !d.isNegative() && d.compareTo(Duration.ofMinutes(1)) <= 0,
                    "a duration 0..1m, 0s to turn learning off");
            this.pushLearningWindow = d;
            return this;
        }

        public Builder pushLearnedFile(Path file) {
            this.pushLearnedFile = file;
            return this;
        }

        public Builder pushDebugHeader(boolean on) {
            this.pushDebugHeader = on;
            return this;
        }

        public Builder pushRules(List<PushRule> rules) {
            require("push.rules", rules, rules != null, "a list of rules");
            for (int i = 0; i < rules.size(); i++) {
                String problem = rules.get(i).problem();
                if (problem != null) {
                    throw new ConfigException("push.rules[" + i + "]." + problem);
                }
            }
            this.pushRules = List.copyOf(rules);
            return this;
        }

        public Builder maxConnections(int v) {
            require("limits.max-connections", v, v >= 1, "an integer >= 1");
            this.maxConnections = v;
            return this;
        }

        public Builder maxConnectionsPerIp(int v) {
            require("limits.max-connections-per-ip", v, v >= 1, "an integer >= 1");
            this.maxConnectionsPerIp = v;
            return this;
        }

        public Builder maxTopics(int v) {
            require("limits.max-topics", v, v >= 1, "an integer >= 1");
            this.maxTopics = v;
            return this;
        }

        public Builder limitLogInterval(Duration v) {
            require("limits.log-interval", v, v != null && !v.isNegative() && !v.isZero(),
                    "a duration > 0 such as 10s");
            this.limitLogInterval = v;
            return this;
        }

        public Builder tlsReloadInterval(Duration v) {
            require("tls.reload-interval", v, v != null && (v.isZero() || v.toMillis() >= 10),
                    "0 (off) or a duration >= 10ms such as 5s");
            this.tlsReloadInterval = v;
            return this;
        }

        public HeraldConfig build() {
            if (tlsPort == -1 && httpPort == -1) {
                throw new ConfigException("port: -1 and http-port: -1 (expected: at least one of them on)");
            }
            if (tlsPort == httpPort && tlsPort > 0) {
                throw new ConfigException("http-port: " + httpPort + " (expected: a port other than port, "
                        + tlsPort + ")");
            }
            if ((tlsCert == null) != (tlsKey == null)) {
                throw new ConfigException("tls.cert: " + tlsCert + " (expected: tls.cert and tls.key together)");
            }
            // Below max-request-body, a body the limit allows could never be taken whole.
            require(BUFFERED_PER_CONNECTION, maxBufferedBodyPerConnection, maxBufferedBodyPerConnection == SIZE_AUTO
                    || maxBufferedBodyPerConnection >= maxRequestBody, BUFFERED_EXPECTED + ", " + maxRequestBody);
            require(BUFFERED_TOTAL, maxBufferedBody, maxBufferedBody == SIZE_AUTO
                    || maxBufferedBody >= maxRequestBody, BUFFERED_EXPECTED + ", " + maxRequestBody);
            return new HeraldConfig(this);
        }

        private static final String BUFFERED_PER_CONNECTION = "http2.max-buffered-body-per-connection";
        private static final String BUFFERED_TOTAL = "http2.max-buffered-body";
        private static final String BUFFERED_EXPECTED = "auto or a size >= max-request-body";

        private static boolean validRegex(String regex) {
            try {
                java.util.regex.Pattern.compile(regex);
                return true;
            } catch (RuntimeException e) {
                return false;
            }
        }

        private static void require(String key, Object value, boolean ok, String expected) {
            if (!ok) {
                throw new ConfigException(key + ": " + Setting.oneLine(String.valueOf(value)) + " (expected: "
                        + expected + ")");
            }
        }
    }

    /**
     * Whether {@code v} can go out as a header field value (RFC 9110 section 5.5): not empty, visible ASCII and
     * obs-text with spaces or tabs between them, nothing at either end. A CR or LF would split the response's head
     * (Netty refuses to send it), and NUL and the other control characters are not allowed either.
     */
    static boolean isFieldValue(String v) {
        if (v == null || v.isEmpty() || isWhitespace(v.charAt(0)) || isWhitespace(v.charAt(v.length() - 1))) {
            return false;
        }
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7f || c > 0xff) {
                return false;
            }
        }
        return true;
    }

    private static boolean isWhitespace(char c) {
        return c == ' ' || c == '\t';
    }
}
