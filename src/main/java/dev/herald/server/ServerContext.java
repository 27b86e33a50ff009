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
}
