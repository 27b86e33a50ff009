package dev.herald.server;

import dev.herald.config.HeraldConfig;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** What every connection shares: the configuration, the application, the access log, the metrics and the limits. */
final class ServerContext {
    final HeraldConfig config;
    final Handler handler;
    final AccessLog accessLog;
    final ServerMetrics metrics;
    final LimitLog limitLog;
    final ConnectionLimits limits;
    /** Long-running responses still open; graceful shutdown ends them so their connections can close. */
    final Set<ResponseStream> openStreams = ConcurrentHashMap.newKeySet();
    volatile boolean shuttingDown;

    ServerContext(HeraldConfig config, Handler handler, ServerMetrics metrics, LimitLog limitLog) {
        this.config = config;
        this.limitLog = limitLog;
        this.limits = new ConnectionLimits(this);
        this.handler = handler;
        this.accessLog = new AccessLog(config.accessLog());
        this.metrics = metrics;
    }

    /**
     * The 431 for header fields over {@code http2.max-header-list-size}, on either protocol, once the limit is
     * logged; {@code what} names them for the log line, such as {@code HTTP/1.1 header}.
     */
    Response headersTooLarge(Object peer, String what) {
        int limit = config.maxHeaderListSize();
        limitLog.exceeded("http2.max-header-list-size", peer, what + " over " + limit + " bytes: 431");
        return Response.error(431, "header too large", "the header fields are over http2.max-header-list-size, "
                + limit + " bytes");
    }
}
