package dev.herald.chat;

import java.time.Duration;
import java.util.Objects;

/**
 * The chat's limits. Every value is validated here, with the message {@code name: value (expected: ...)}.
 *
 * @param heartbeat          how long a /msgs stream may stay silent before it gets a heartbeat; 20 s beats the
 *                           60 s idle timeout of nginx and AWS ALB with room to spare
 * @param heartbeatStyle     what a heartbeat is (see {@link HeartbeatStyle}); {@link HeartbeatStyle#STATE} by default
 *                           because the course's client parses every chunk as JSON
 * @param maxSubscribers     open /msgs streams in total; above it GET answers 503 with Retry-After. Each stream holds
 *                           at most one pending document, so this bounds the chat's memory
 * @param history            messages kept and sent in each state document (the course sends 50)
 * @param maxUserChars       longest {@code user}, in Unicode code points
 * @param maxTextChars       longest {@code text}, in Unicode code points
 * @param maxBodyBytes       largest POST body; 16 KiB per the issue (the largest valid message is about 8 KiB)
 */
public record ChatSettings(Duration heartbeat, HeartbeatStyle heartbeatStyle, int maxSubscribers, int history,
                           int maxUserChars, int maxTextChars, int maxBodyBytes) {

    /** What a heartbeat line on /msgs is. */
    public enum HeartbeatStyle {
        /**
         * The current state document again. The course's client runs {@code JSON.parse} on every chunk and would
         * throw on an empty line, so the safe heartbeat for it is a document it already understands (it just
         * renders the same list again).
         */
        STATE,
        /** An empty line, as NDJSON readers that skip blank lines (the Herald page) expect. Cheapest on the wire. */
        EMPTY_LINE
    }

    public ChatSettings {
        Objects.requireNonNull(heartbeat, "heartbeat");
        Objects.requireNonNull(heartbeatStyle, "heartbeatStyle");
        if (heartbeat.isNegative() || heartbeat.isZero()) {
            throw new IllegalArgumentException("heartbeat: " + heartbeat + " (expected: > 0)");
        }
        positive("maxSubscribers", maxSubscribers);
        positive("history", history);
        positive("maxUserChars", maxUserChars);
        positive("maxTextChars", maxTextChars);
        positive("maxBodyBytes", maxBodyBytes);
    }

    /** 20 s state heartbeats, 10,000 streams, 50 messages, user ≤ 64, text ≤ 2000, body ≤ 16 KiB. */
    public static ChatSettings defaults() {
        return new ChatSettings(Duration.ofSeconds(20), HeartbeatStyle.STATE, 10_000, 50, 64, 2000, 16 * 1024);
    }

    public ChatSettings withHeartbeat(Duration d, HeartbeatStyle style) {
        return new ChatSettings(d, style, maxSubscribers, history, maxUserChars, maxTextChars, maxBodyBytes);
    }

    public ChatSettings withMaxSubscribers(int n) {
        return new ChatSettings(heartbeat, heartbeatStyle, n, history, maxUserChars, maxTextChars, maxBodyBytes);
    }

    private static void positive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
        }
    }
}
