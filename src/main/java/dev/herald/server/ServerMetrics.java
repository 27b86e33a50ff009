package dev.herald.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/** Herald's Prometheus metrics: requests by status, bytes sent, open connections and streams. */
public final class ServerMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final AtomicReferenceArray<Counter> byStatus = new AtomicReferenceArray<>(600);
    private final Counter bytes;
    final AtomicLong openConnections = new AtomicLong();
    final AtomicLong openStreams = new AtomicLong();

    public ServerMetrics() {
        bytes = Counter.builder("herald.response.bytes").description("Response body bytes sent")
                .baseUnit("bytes").register(registry);
        Gauge.builder("herald.connections.open", openConnections, AtomicLong::get)
                .description("Open client connections").register(registry);
        Gauge.builder("herald.streams.open", openStreams, AtomicLong::get)
                .description("Open HTTP/2 streams and in-flight HTTP/1.1 requests").register(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
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
