package dev.herald.server;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class LimitLogTest {
    private final AtomicLong now = new AtomicLong(1_000);
    private final List<String> lines = new ArrayList<>();
    private final LimitLog log = new LimitLog(Duration.ofSeconds(10), now::get, lines::add);
    private final InetSocketAddress peer = new InetSocketAddress("192.0.2.7", 51000);

    @Test
    void firstExcessIsLoggedWithPeerAndLimit() {
        log.exceeded("limits.max-connections", peer, "10001 connections (limit 10000)");
        assertThat(lines).containsExactly(
                "limit limits.max-connections exceeded by 192.0.2.7:51000: 10001 connections (limit 10000)");
    }

    @Test
    void repeatsWithinTheIntervalAreCountedAndReportedOnTheNextLine() {
        for (int i = 0; i < 5; i++) {
            log.exceeded("limits.max-topics", peer, "topic t" + i);
            now.addAndGet(Duration.ofSeconds(1).toNanos());
        }
        assertThat(lines).hasSize(1);
        now.addAndGet(Duration.ofSeconds(10).toNanos());
        log.exceeded("limits.max-topics", "198.51.100.1", "topic t9");
        assertThat(lines).hasSize(2);
        assertThat(lines.get(1)).isEqualTo("limit limits.max-topics exceeded by 198.51.100.1: topic t9 "
                + "(4 similar suppressed before this one)");
        now.addAndGet(Duration.ofSeconds(10).toNanos());
        log.exceeded("limits.max-topics", peer, "topic t10");
        assertThat(lines.get(2)).doesNotContain("suppressed");
    }

    @Test
    void eachLimitHasItsOwnWindow() {
        log.exceeded("limits.max-connections", peer, "a");
        log.exceeded("limits.max-connections-per-ip", peer, "b");
        log.exceeded("limits.max-connections", peer, "c");
        assertThat(lines).hasSize(2).allSatisfy(l -> assertThat(l).doesNotEndWith(": c"));
    }

    @Test
    void aNullPeerIsShownAsNull() {
        log.exceeded("max-request-body", null, "2 MiB");
        assertThat(lines).containsExactly("limit max-request-body exceeded by null: 2 MiB");
    }

    @Test
    void failuresAreOneLineWithTheCausesAndCountedLikeLimits() {
        Exception cause = new IllegalStateException("redis at 127.0.0.1:6379 is unreachable; retry later",
                new java.io.IOException("Connection refused"));
        log.failed("topics publish", "POST /topics/a from 192.0.2.7:51000", cause);
        log.failed("topics publish", "POST /topics/b from 192.0.2.7:51001", cause);
        now.addAndGet(Duration.ofSeconds(10).toNanos());
        log.failed("topics publish", "POST /topics/c from 192.0.2.7:51002", cause);
        assertThat(lines).containsExactly(
                "topics publish failed: POST /topics/a from 192.0.2.7:51000: redis at 127.0.0.1:6379 is unreachable;"
                        + " retry later; caused by Connection refused",
                "topics publish failed: POST /topics/c from 192.0.2.7:51002: redis at 127.0.0.1:6379 is unreachable;"
                        + " retry later; caused by Connection refused (1 similar suppressed before this one)");
    }
}
