package dev.herald.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Herald's Prometheus metrics: requests by status, bytes sent, open connections and streams, HTTP/2 request body
 * bytes buffered, responses cut by {@code send-timeout}, server push (promised, completed, cancelled, refused,
 * bytes pushed and wasted) and early hints sent.
 */
public final class ServerMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final AtomicReferenceArray<Counter> byStatus = new AtomicReferenceArray<>(600);
    private final Counter bytes;
    final AtomicLong openConnections = new AtomicLong();
    final AtomicLong openStreams = new AtomicLong();
    /** HTTP/2 request body bytes held for requests not yet complete, on every connection ({@link BodyBudget}). */
    final AtomicLong bufferedRequestBodies = new AtomicLong();
    /** {@code herald_send_timeouts_total{scope="connection"}} and {@code {scope="stream"}} (HTTP/2) in Prometheus. */
    final Counter sendTimeoutConnections;
    final Counter sendTimeoutStreams;
    // Server push and early hints (herald_push_*_total, herald_early_hints_sent_total in Prometheus)
    final Counter pushPromised;
    final Counter pushCompleted;
    final Counter pushCancelled;
    final Counter pushRefused;
    final Counter pushBytes;
    final Counter pushWastedBytes;
    final Counter earlyHintsSent;

    public ServerMetrics() {
        bytes = Counter.builder("herald.response.bytes").description("Response body bytes sent")
                .baseUnit("bytes").register(registry);
        Gauge.builder("herald.connections.open", openConnections, AtomicLong::get)
                .description("Open client connections").register(registry);
        Gauge.builder("herald.streams.open", openStreams, AtomicLong::get)
                .description("Open HTTP/2 streams and in-flight HTTP/1.1 requests").register(registry);
        Gauge.builder("herald.request.body.buffered", bufferedRequestBodies, AtomicLong::get)
                .description("HTTP/2 request body bytes held for requests not yet complete").baseUnit("bytes")
                .register(registry);
        sendTimeoutConnections = sendTimeouts("connection");
        sendTimeoutStreams = sendTimeouts("stream");
        pushPromised = Counter.builder("herald.push.promised").description("PUSH_PROMISE frames sent")
                .register(registry);
        pushCompleted = Counter.builder("herald.push.completed")
                .description("Pushed responses sent in full").register(registry);
        pushCancelled = Counter.builder("herald.push.cancelled")
                .description("Pushed streams the client reset (other than REFUSED_STREAM)").register(registry);
        pushRefused = Counter.builder("herald.push.refused")
                .description("Pushes refused: the client reset them with REFUSED_STREAM, or its settings "
                        + "disable push (counted per resource that would have been pushed)").register(registry);
        pushBytes = Counter.builder("herald.push.bytes").description("DATA bytes written on pushed streams")
                .baseUnit("bytes").register(registry);
        pushWastedBytes = Counter.builder("herald.push.wasted")
                .description("DATA bytes written on pushed streams the client then reset").baseUnit("bytes")
                .register(registry);
        earlyHintsSent = Counter.builder("herald.early.hints.sent").description("103 Early Hints responses sent")
                .register(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
    }

    private Counter sendTimeouts(String scope) {
        return Counter.builder("herald.send.timeouts")
                .description("Connections closed, and HTTP/2 streams reset, because the client took none of their "
                        + "bytes for send-timeout")
                .tag("scope", scope).register(registry);
    }

    /** The registry, for features that add their own meters. */
    public io.micrometer.core.instrument.MeterRegistry registry() {
        return registry;
    }

    /** The Prometheus text exposition of every meter. */
    public String scrape() {
        return registry.scrape();
    }

    void request(int status, long bodyBytes) {
        int s = status >= 100 && status < 600 ? status : 599;
        Counter c = byStatus.get(s);
        if (c == null) {
            c = Counter.builder("herald.requests").description("Requests answered, by status")
                    .tag("status", Integer.toString(s)).register(registry);
            byStatus.set(s, c);
        }
        c.increment();
        if (bodyBytes > 0) {
            bytes.increment(bodyBytes);
        }
    }
}
