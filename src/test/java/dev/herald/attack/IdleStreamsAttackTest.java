package dev.herald.attack;

import dev.herald.testing.HeraldExtension;
import dev.herald.testing.HttpResult;
import dev.herald.testing.NettyH2cClient;
import io.netty.handler.codec.http2.Http2Headers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Slowloris on long-running streams: attackers open as many topic subscriptions as they can and leave them idle.
 * Subscriptions are long-running by design (heartbeats keep them open), so what bounds them is the limits: per
 * connection ({@value #PER_CONNECTION}), in total ({@value #TOTAL}) and distinct topics ({@value #TOPICS}).
 * Beyond them every request is answered 503 at once; the admitted streams stay open and cheap, others are served,
 * and when the attackers leave every subscriber slot is given back.
 */
class IdleStreamsAttackTest {
    static final int PER_CONNECTION = 100;
    static final int TOTAL = 300;
    static final int TOPICS = 40;
    static final int CONNECTIONS = 4;
    static final int STREAMS_PER_CONNECTION = 150;
    /** Each of the 600 requests is answered (200 or 503) within this, from the first request. */
    static final Duration ANSWER = Duration.ofSeconds(5);
    static final Duration HOLD = AttackScenario.attackDuration(Duration.ofSeconds(2));
    static final Pattern SUBSCRIBERS = Pattern.compile("(?m)^herald_topics_subscribers (\\d+)");

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.folder(dir ->
                    Files.writeString(dir.resolve("root/hello.txt"), "Hello, Herald\n"))
            .configure(b -> b.maxSubscribers(TOTAL).maxSubscribersPerConnection(PER_CONNECTION).maxTopics(TOPICS)
                    .heartbeat(Duration.ofMillis(500)));

    @Test
    void idleSubscriptionsBeyondTheLimitsGet503AndTheRestStayBounded() throws Exception {
        try (AttackScenario s = AttackScenario.start(HERALD, "idle long-running streams")) {
            List<H2AttackClient> attackers = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int k = 0; k < CONNECTIONS; k++) {
                H2AttackClient a = s.keep(H2AttackClient.connect(HERALD.httpPort()));
                attackers.add(a);
                for (int j = 0; j < STREAMS_PER_CONNECTION; j++) {
                    // 50 topics: the first 40 are admitted, the last 10 would be one topic too many.
                    Http2Headers get = a.get("/topics/idle-" + (k * STREAMS_PER_CONNECTION + j) % 50);
                    a.headers(2 * j + 1, get, true);
                }
                a.flush();
            }
            int ok = 0;
            int refused = 0;
            H2AttackClient holder = null; // a connection with admitted streams: which ones fill the limits first
            long held = 0;                // is up to the event loops (all 150 on one connection may get 503)
            for (H2AttackClient a : attackers) {
                assertThat(a.awaitStatuses(STREAMS_PER_CONNECTION, ANSWER)).as(a.outcome()).isTrue();
                long admitted = a.statuses().values().stream().filter("200"::equals).count();
                assertThat(a.statuses().values()).as(a.outcome()).isSubsetOf("200", "503");
                assertThat(admitted).as("admitted on one connection").isLessThanOrEqualTo(PER_CONNECTION);
                ok += (int) admitted;
                if (admitted > held) {
                    holder = a;
                    held = admitted;
                }
                refused += STREAMS_PER_CONNECTION - (int) admitted;
            }
            long answeredMs = Duration.ofNanos(System.nanoTime() - t0).toMillis();
            assertThat(ok).as("streams admitted").isPositive().isLessThanOrEqualTo(TOTAL);
            assertThat(refused).as("streams refused").isGreaterThanOrEqualTo(CONNECTIONS * STREAMS_PER_CONNECTION - TOTAL);
            assertThat(subscribers()).as("Herald's subscriber gauge").isEqualTo(ok);

            // Idle: the admitted streams stay open (heartbeats flow), Herald holds them without growing.
            long before = holder.dataBytes();
            Thread.sleep(HOLD.toMillis()); // the attack is the passing time itself
            assertThat(holder.dataBytes()).as("heartbeats on the idle streams").isGreaterThan(before);
            assertThat(attackers).noneMatch(H2AttackClient::isClosed);
            s.checkpointMemory();
            s.answered(ok + " streams admitted and held idle for " + HOLD.toSeconds() + " s, " + refused
                    + " refused with 503, all answered within " + answeredMs + " ms");
            s.finish(); // closes the attackers

            long deadline = System.nanoTime() + ANSWER.toNanos();
            while (subscribers() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(subscribers()).as("subscriber slots given back after the attackers left").isZero();
        }
    }

    private static int subscribers() throws Exception {
        NettyH2cClient c = new NettyH2cClient(HERALD.httpPort());
        try {
            HttpResult r = c.send("GET", "/metrics", Map.of(), null);
            Matcher m = SUBSCRIBERS.matcher(r.bodyText());
            assertThat(m.find()).as(r.bodyText()).isTrue();
            return (int) Double.parseDouble(m.group(1));
        } finally {
            c.close();
        }
    }
}
