package dev.herald.stream;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.store.Event;
import dev.herald.store.Retention;
import dev.herald.store.SqliteEventLog;
import dev.herald.testing.HeraldExtension;
import dev.herald.testing.JdkClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** One subscriber that never reads (tiny HTTP/2 window) must not hold up the others nor grow the heap. */
class TopicsSlowSubscriberTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final long MAX_LAG_BYTES = 256 * 1024;
    static final Path DIR = TopicsHttpTest.tempDir();
    static final SqliteEventLog LOG = SqliteEventLog.open(DIR.resolve("events.db"),
            new Retention(100_000, Duration.ofHours(1)), false);
    static final SimpleMeterRegistry METRICS = new SimpleMeterRegistry();
    static final TopicsHandler TOPICS = new TopicsHandler(LOG,
            StreamSettings.defaults().withMaxEventBytes(4096).withLag(1000, MAX_LAG_BYTES), METRICS);

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.site("basic")
            .routes(b -> b.routePrefix("/topics/", TOPICS));

    @AfterAll
    static void close() throws Exception {
        TopicsHttpTest.closeAll(TOPICS, LOG, DIR);
    }

    @Test
    void stalledSubscriberIsEndedAsSlowWhileOthersGetTenThousandEvents() throws Exception {
        String t = "busy";
        JdkClient c = (JdkClient) HERALD.client("h2");
        List<Lines> fast = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            HttpResponse<Lines> r = Lines.open(c.client(), c.uri("/topics/" + t), Map.of(), 10_000);
            assertThat(r.statusCode()).isEqualTo(200);
            fast.add(r.body());
        }
        try (StalledH2cSubscriber slow = new StalledH2cSubscriber(HERALD.httpPort(), "/topics/" + t, 1024)) {
            Lines.await(() -> TOPICS.hub().subscribers(t).size() == 4, Duration.ofSeconds(10), "4 subscribers");
            String pad = "p".repeat(100);
            long start = System.nanoTime();
            List<String> ids = new ArrayList<>();
            // batches of 100 concurrent publishes; each batch must reach every fast subscriber within a second
            // while the stalled one sits on its full window
            Duration worst = Duration.ZERO;
            for (int chunk = 0; chunk < 100; chunk++) {
                long batchStart = System.nanoTime();
                List<CompletableFuture<Event>> fs = new ArrayList<>();
                for (int i = 0; i < 100; i++) {
                    fs.add(TOPICS.hub().publish(t, "{\"n\":" + (chunk * 100 + i) + ",\"pad\":\"" + pad + "\"}"));
                }
                for (CompletableFuture<Event> f : fs) {
                    ids.add(f.get(20, TimeUnit.SECONDS).id().toString());
                }
                int want = ids.size();
                for (Lines l : fast) {
                    Lines.await(() -> l.received() >= want, Duration.ofSeconds(10), want + " events");
                }
                Duration d = Duration.ofNanos(System.nanoTime() - batchStart);
                worst = d.compareTo(worst) > 0 ? d : worst;
            }
            assertThat(worst).as("slowest batch of 100, publish to receipt by all").isLessThan(Duration.ofSeconds(1));
            for (Lines l : fast) {
                assertThat(l.awaitExpected(Duration.ofSeconds(30))).as("10,000 events arrive").isTrue();
            }
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertThat(took).as("fast subscribers are not held up").isLessThan(Duration.ofSeconds(30));
            for (Lines l : fast) {
                List<String> got = new ArrayList<>();
                for (String line : l.drainNonBlank()) {
                    got.add(JSON.readTree(line).get("id").asText());
                }
                assertThat(got).containsExactlyElementsOf(ids);
            }
            // the stalled one was ended as slow, and its queue never passed the bound
            assertThat(METRICS.counter("herald.topics.slow.disconnects").count()).isEqualTo(1.0);
            assertThat(TOPICS.hub().subscribers(t)).hasSize(3);
            assertThat(TOPICS.hub().peakQueuedBytes()).isPositive().isLessThanOrEqualTo(MAX_LAG_BYTES);
            for (Subscriber s : TOPICS.hub().subscribers(t)) {
                assertThat(s.queuedBytes()).isLessThanOrEqualTo(MAX_LAG_BYTES);
            }

            // once it reads, it finds in-order events, then the reason, then the end of the stream
            slow.startReading();
            String body = slow.ended.get(20, TimeUnit.SECONDS);
            String[] lines = body.strip().split("\n");
            assertThat(lines.length).isGreaterThan(1);
            String last = lines[lines.length - 1];
            assertThat(JSON.readTree(last).get("type").asText()).isEqualTo("slow");
            String lastId = JSON.readTree(last).get("lastId").asText();
            List<String> received = new ArrayList<>();
            for (int i = 0; i < lines.length - 1; i++) {
                if (!lines[i].isEmpty()) {
                    received.add(JSON.readTree(lines[i]).get("id").asText());
                }
            }
            assertThat(received).containsExactlyElementsOf(ids.subList(0, received.size()));
            assertThat(received.get(received.size() - 1)).isEqualTo(lastId);
            assertThat(received.size()).isLessThan(10_000);
        }
        for (Lines l : fast) {
            l.cancel();
        }
        Lines.await(() -> TOPICS.hub().subscriberCount() == 0, Duration.ofSeconds(10), "all gone");
        assertThat(METRICS.get("herald.topics.subscribers").gauge().value()).isZero();
    }
}
