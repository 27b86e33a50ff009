package dev.herald.stream;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The topic hub's settings, validated here.
 *
 * @param heartbeat how long a subscriber stream may stay silent before a heartbeat is sent (an SSE comment
 *        {@code : hb}, an empty NDJSON line); keeps proxies from closing idle streams. Default 20 s.
 * @param maxLagEvents how many events a subscriber may have queued (not yet written because its stream is not
 *        writable) before it is ended as slow. Default 1,000.
 * @param maxLagBytes the same bound in bytes of encoded events; this, not the event count, is what bounds heap
 *        per subscriber. Default 1 MiB.
 * @param maxSubscribers subscriber streams in total; above it a subscribe gets 503 with Retry-After. Default
 *        16,384 (the benchmark runs 10,000).
 * @param maxSubscribersPerConnection subscriber streams per connection; default 256 (Herald's default
 *        {@code http2.max-concurrent-streams}).
 * @param maxEventBytes the largest accepted publish body; larger gets 413. Default 64 KiB.
 * @param sseRetry the {@code retry:} value sent first on every SSE stream (EventSource's reconnect delay).
 *        Default 3 s.
 * @param publishToken when present, publishing needs {@code Authorization: Bearer <token>}.
 * @param subscribeToken the bearer token that subscribing to a private topic needs.
 * @param privateTopics topics whose full name matches this pattern are private; needs {@code subscribeToken}.
 * @param maxTopics distinct live topics: with a subscriber, or published to within {@link TopicHub#TOPIC_LINGER};
 *        above it subscribing or publishing to a new topic gets 503 with Retry-After. Default 10,000.
 */
public record StreamSettings(Duration heartbeat, int maxLagEvents, long maxLagBytes, int maxSubscribers,
                             int maxSubscribersPerConnection, int maxEventBytes, Duration sseRetry,
                             Optional<String> publishToken, Optional<String> subscribeToken,
                             Optional<Pattern> privateTopics, int maxTopics) {

    public StreamSettings {
        Objects.requireNonNull(heartbeat, "heartbeat");
        Objects.requireNonNull(sseRetry, "sseRetry");
        Objects.requireNonNull(publishToken, "publishToken");
        Objects.requireNonNull(subscribeToken, "subscribeToken");
        Objects.requireNonNull(privateTopics, "privateTopics");
        if (heartbeat.toMillis() < 10) {
            throw new IllegalArgumentException("heartbeat: " + heartbeat + " (expected: >= 10ms)");
        }
        positive("maxLagEvents", maxLagEvents);
        positive("maxSubscribers", maxSubscribers);
        positive("maxSubscribersPerConnection", maxSubscribersPerConnection);
        positive("maxEventBytes", maxEventBytes);
        positive("maxTopics", maxTopics);
        if (maxLagBytes < maxEventBytes) {
            throw new IllegalArgumentException("maxLagBytes: " + maxLagBytes + " (expected: >= maxEventBytes "
                    + maxEventBytes + ")");
        }
        if (sseRetry.isNegative()) {
            throw new IllegalArgumentException("sseRetry: " + sseRetry + " (expected: >= 0)");
        }
        publishToken.ifPresent(t -> token("publishToken", t));
        subscribeToken.ifPresent(t -> token("subscribeToken", t));
        if (privateTopics.isPresent() && subscribeToken.isEmpty()) {
            throw new IllegalArgumentException("privateTopics: " + privateTopics.get()
                    + " (expected: a subscribeToken as well)");
        }
    }

    /** The defaults documented on each component. */
    public static StreamSettings defaults() {
        return new StreamSettings(Duration.ofSeconds(20), 1_000, 1L << 20, 16_384, 256, 64 * 1024,
                Duration.ofSeconds(3), Optional.empty(), Optional.empty(), Optional.empty(), 10_000);
    }

    public StreamSettings withHeartbeat(Duration d) {
        return new StreamSettings(d, maxLagEvents, maxLagBytes, maxSubscribers, maxSubscribersPerConnection,
                maxEventBytes, sseRetry, publishToken, subscribeToken, privateTopics, maxTopics);
    }

    public StreamSettings withLag(int events, long bytes) {
        return new StreamSettings(heartbeat, events, bytes, maxSubscribers, maxSubscribersPerConnection,
                maxEventBytes, sseRetry, publishToken, subscribeToken, privateTopics, maxTopics);
    }

    public StreamSettings withLimits(int total, int perConnection) {
        return new StreamSettings(heartbeat, maxLagEvents, maxLagBytes, total, perConnection,
                maxEventBytes, sseRetry, publishToken, subscribeToken, privateTopics, maxTopics);
    }

    public StreamSettings withMaxEventBytes(int n) {
        return new StreamSettings(heartbeat, maxLagEvents, Math.max(maxLagBytes, n), maxSubscribers,
                maxSubscribersPerConnection, n, sseRetry, publishToken, subscribeToken, privateTopics, maxTopics);
    }

    public StreamSettings withSseRetry(Duration d) {
        return new StreamSettings(heartbeat, maxLagEvents, maxLagBytes, maxSubscribers, maxSubscribersPerConnection,
                maxEventBytes, d, publishToken, subscribeToken, privateTopics, maxTopics);
    }

    public StreamSettings withTokens(Optional<String> publish, Optional<String> subscribe,
                                     Optional<Pattern> privateTopicPattern) {
        return new StreamSettings(heartbeat, maxLagEvents, maxLagBytes, maxSubscribers, maxSubscribersPerConnection,
                maxEventBytes, sseRetry, publish, subscribe, privateTopicPattern, maxTopics);
    }

    public StreamSettings withMaxTopics(int n) {
        return new StreamSettings(heartbeat, maxLagEvents, maxLagBytes, maxSubscribers, maxSubscribersPerConnection,
                maxEventBytes, sseRetry, publishToken, subscribeToken, privateTopics, n);
    }

    private static void positive(String name, long v) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + ": " + v + " (expected: > 0)");
        }
    }

    private static void token(String name, String t) {
        if (t.isBlank()) {
            throw new IllegalArgumentException(name + ": blank (expected: a non-empty token)");
        }
    }

    @Override
    public String toString() {
        // tokens never reach logs
        return "StreamSettings[heartbeat=" + heartbeat + ", maxLagEvents=" + maxLagEvents + ", maxLagBytes="
                + maxLagBytes + ", maxSubscribers=" + maxSubscribers + ", maxSubscribersPerConnection="
                + maxSubscribersPerConnection + ", maxEventBytes=" + maxEventBytes + ", sseRetry=" + sseRetry
                + ", publishToken=" + publishToken.map(t -> "***") + ", subscribeToken="
                + subscribeToken.map(t -> "***") + ", privateTopics=" + privateTopics + ", maxTopics=" + maxTopics + "]";
    }
}
