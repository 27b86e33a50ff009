package dev.herald.store.redis;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.chat.ChatHandler;
import dev.herald.chat.ChatSettings;
import dev.herald.store.Retention;
import dev.herald.stream.StreamSettings;
import dev.herald.stream.TopicsHandler;
import dev.herald.testing.HeraldExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two real Herald nodes whose topics run on one real redis-server, driven over HTTP/1.1. */
class RedisCrossNodeHttpTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Retention RETENTION = new Retention(100_000, Duration.ofHours(1));

    @TempDir
    static Path dir;
    static RedisServer redis;
    static final List<Node> nodes = new ArrayList<>();
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    /** One Herald whose /topics/ run on its own RedisEventLog. */
    record Node(RedisEventLog log, TopicsHandler topics, ChatHandler chat, HeraldExtension herald) {
        static Node start() throws Exception {
            RedisEventLog log = RedisEventLog.open(redis.url(), RETENTION, Optional.empty());
            TopicsHandler topics = new TopicsHandler(log,
                    StreamSettings.defaults().withHeartbeat(Duration.ofMillis(200)), new SimpleMeterRegistry());
            ChatHandler chat = new ChatHandler(log, ChatSettings.defaults());
            HeraldExtension herald = HeraldExtension.site("basic")
                    .routes(b -> b.routePrefix("/topics/", topics).route("/msgs", chat));
            herald.start();
            Node n = new Node(log, topics, chat, herald);
            nodes.add(n);
            return n;
        }

        URI uri(String path) {
            return URI.create("http://127.0.0.1:" + herald.httpPort() + path);
        }

        void stop() throws Exception {
            herald.stop();
            topics.close();
            chat.close();
            log.close();
        }
    }

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start(dir, false);
    }

    @AfterAll
    static void stopAll() throws Exception {
        for (Node n : nodes) {
            n.stop();
            n.herald().afterAll(null);
        }
        if (redis != null) {
            redis.close();
        }
    }

    /** An NDJSON subscription whose lines a daemon thread hands to the test thread. */
    static final class Subscription implements AutoCloseable {
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        final HttpResponse<Stream<String>> response;

        Subscription(Node node, String topic, Map<String, String> headers) throws Exception {
            HttpRequest.Builder b = HttpRequest.newBuilder(node.uri("/topics/" + topic));
            headers.forEach(b::header);
            response = http.send(b.build(), HttpResponse.BodyHandlers.ofLines());
            assertThat(response.statusCode()).isEqualTo(200);
            Thread t = new Thread(() -> {
                try {
                    response.body().forEach(lines::add);
                } catch (RuntimeException e) {
                    // closed
                }
                lines.add("<end>");
            }, "subscription-" + topic);
            t.setDaemon(true);
            t.start();
        }

        /** The next {@code n} events (id, data.n), skipping heartbeats. */
        List<String> next(int n) throws Exception {
            List<String> out = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (out.size() < n) {
                String line = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                assertThat(line).as("event %s of %s (got %s)", out.size() + 1, n, out.size()).isNotNull()
                        .isNotEqualTo("<end>");
                if (line.isBlank()) {
                    continue;
                }
                JsonNode node = JSON.readTree(line);
                if (node.has("id") && node.has("data")) {
                    out.add(node.get("id").asText() + " " + node.get("data"));
                }
            }
            return out;
        }

        @Override
        public void close() {
            response.body().close();
        }
    }

    static String publish(Node node, String topic, String json) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(node.uri("/topics/" + topic))
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return JSON.readTree(r.body()).get("id").asText() + " " + JSON.readTree(json);
    }

    @Test
    void publishesOnEitherNodeReachSubscribersOnBothInOneOrderAndResumeOnTheOther() throws Exception {
        Node a = Node.start();
        Node b = Node.start();
        String topic = "cross";
        try (Subscription onA = new Subscription(a, topic, Map.of());
                Subscription onB = new Subscription(b, topic, Map.of())) {
            List<String> published = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                published.add(publish(i % 2 == 0 ? a : b, topic, "{\"n\":" + i + "}"));
            }
            List<String> seenOnB = onB.next(2000);
            assertThat(seenOnB).isEqualTo(published);
            List<String> firstHalfOnA = onA.next(1000);
            assertThat(firstHalfOnA).isEqualTo(published.subList(0, 1000));

            // Node A goes away after its subscriber got half; the subscriber resumes on B with its last id.
            a.stop();
            String lastId = firstHalfOnA.get(999).split(" ")[0];
            try (Subscription resumed = new Subscription(b, topic, Map.of("Last-Event-ID", lastId))) {
                assertThat(resumed.next(1000)).isEqualTo(published.subList(1000, 2000));
                String live = publish(b, topic, "{\"live\":true}");
                assertThat(resumed.next(1)).containsExactly(live);
            }
        }
    }

    @Test
    void aSubscriberArrivingWhilePublishesRunGetsReplayThenLiveWithNoGapOrDuplicate() throws Exception {
        Node a = Node.start();
        Node b = Node.start();
        String topic = "late";
        List<String> published = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.CompletableFuture<Void> publisher = java.util.concurrent.CompletableFuture.runAsync(() -> {
            try {
                for (int i = 0; i < 600; i++) {
                    published.add(publish(i % 2 == 0 ? a : b, topic, "{\"n\":" + i + "}"));
                }
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (published.size() < 100 && System.nanoTime() < deadline) {
            java.util.concurrent.CompletableFuture.runAsync(() -> { },
                    java.util.concurrent.CompletableFuture.delayedExecutor(5, TimeUnit.MILLISECONDS)).get();
        }
        // Nobody on node B has subscribed to the topic: its reader does not follow it yet.
        assertThat(b.log().following().get(5, TimeUnit.SECONDS)).doesNotContain(topic);
        String resumeAfter = published.get(49);
        try (Subscription resumed = new Subscription(b, topic, Map.of("Last-Event-ID", resumeAfter.split(" ")[0]));
                Subscription live = new Subscription(b, topic, Map.of())) {
            int seenAtLiveStart = published.size();
            assertThat(publisher).succeedsWithin(Duration.ofSeconds(60));
            assertThat(resumed.next(550)).isEqualTo(published.subList(50, 600));
            String after = publish(a, topic, "{\"after\":true}");
            assertThat(resumed.next(1)).containsExactly(after);
            // The live one starts at some event published while it subscribed (at the latest the first one sent
            // after its headers came), then gets every later one in order.
            List<String> onLive = new ArrayList<>();
            while (onLive.isEmpty() || !onLive.get(onLive.size() - 1).equals(after)) {
                onLive.addAll(live.next(1));
            }
            int from = onLive.size() == 1 ? 600 : published.indexOf(onLive.get(0));
            assertThat(from).as("index of the first live event %s", onLive.get(0))
                    .isBetween(0, Math.min(seenAtLiveStart + 1, 600));
            List<String> expected = new ArrayList<>(published.subList(from, 600));
            expected.add(after);
            assertThat(onLive).isEqualTo(expected);
        }
    }

    @Test
    void publishDuringARedisOutageAnswers503AndSubscribersKeepTheirStream() throws Exception {
        Node c = Node.start();
        String topic = "outage";
        try (Subscription sub = new Subscription(c, topic, Map.of())) {
            String before = publish(c, topic, "{\"n\":1}");
            assertThat(sub.next(1)).containsExactly(before);
            redis.killNoticedBy(c.log());
            HttpResponse<String> refused = http.send(HttpRequest.newBuilder(c.uri("/topics/" + topic))
                    .header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"n\":2}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(JSON.readTree(refused.body()).has("error")).as(refused.body()).isTrue();
            // Heartbeats keep coming while Redis is down.
            int heartbeats = 0;
            while (heartbeats < 2) {
                String line = sub.lines.poll(10, TimeUnit.SECONDS);
                assertThat(line).as("a heartbeat").isNotNull().isNotEqualTo("<end>");
                heartbeats++;
            }
            redis.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            String after = null;
            while (after == null && System.nanoTime() < deadline) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(c.uri("/topics/" + topic))
                        .header("content-type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"n\":3}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 201) {
                    after = JSON.readTree(r.body()).get("id").asText() + " {\"n\":3}";
                } else {
                    assertThat(r.statusCode()).isEqualTo(503);
                    java.util.concurrent.CompletableFuture.runAsync(() -> { },
                            java.util.concurrent.CompletableFuture.delayedExecutor(100, TimeUnit.MILLISECONDS)).get();
                }
            }
            assertThat(after).as("a publish accepted once Redis is back").isNotNull();
            assertThat(sub.next(1)).containsExactly(after);
        }
    }

    @Test
    void chatMessagePostedOnOneNodeAppearsOnTheOthersStream() throws Exception {
        Node a = Node.start();
        Node b = Node.start();
        HttpRequest.Builder get = HttpRequest.newBuilder(b.uri("/msgs"));
        HttpResponse<Stream<String>> stream = http.send(get.build(), HttpResponse.BodyHandlers.ofLines());
        assertThat(stream.statusCode()).isEqualTo(200);
        BlockingQueue<String> docs = new LinkedBlockingQueue<>();
        Thread t = new Thread(() -> {
            try {
                stream.body().forEach(docs::add);
            } catch (RuntimeException e) {
                // closed
            }
        }, "msgs-b");
        t.setDaemon(true);
        t.start();
        try {
            String text = "from node A " + System.nanoTime();
            HttpResponse<String> posted = http.send(HttpRequest.newBuilder(a.uri("/msgs"))
                    .header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(
                            JSON.createObjectNode().put("user", "ann").put("text", text).toString())).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(posted.statusCode()).as(posted.body()).isEqualTo(201);
            JsonNode stored = JSON.readTree(posted.body());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            JsonNode newest = null;
            while (newest == null || !newest.get("id").equals(stored.get("id"))) {
                String line = docs.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                assertThat(line).as("a /msgs document on node B with %s", stored).isNotNull();
                if (line.isBlank()) {
                    continue;
                }
                JsonNode msg = JSON.readTree(line).get("msg");
                newest = msg != null && msg.size() > 0 ? msg.get(0) : null;
            }
            assertThat(newest).isEqualTo(stored);
        } finally {
            stream.body().close();
        }
    }

    /**
     * Events trimmed from Redis before a node's reader got to them (a partition longer than the retention, or a
     * reader lagging by more than max-events): the node's subscribers must not skip them silently. Here the gap is
     * made by hand: the topic's append count jumps by 4 and the stream is trimmed, as retention would have.
     */
    @Test
    void eventsTrimmedBeforeTheNodeReadThemEndItsSubscribersWhoResumeWithAReset() throws Exception {
        trimmedBeforeRead("trimmed-gap", true);
    }

    /** The same on a topic whose stream was empty when the node began to follow it: its count is the hash's. */
    @Test
    void aGapOnATopicFollowedWhileItsStreamWasEmptyIsSeenToo() throws Exception {
        String topic = "trimmed-empty";
        io.lettuce.core.RedisClient client = io.lettuce.core.RedisClient.create(redis.url());
        try (io.lettuce.core.api.StatefulRedisConnection<String, String> other = client.connect()) {
            other.sync().hset(RedisEventLog.COUNTS, topic, "40"); // 40 appends, all since trimmed (max-age)
        } finally {
            client.shutdown();
        }
        trimmedBeforeRead(topic, false);
    }

    /**
     * A live subscriber of {@code topic} gets the events published first (two, or none), then four appends are made
     * to have happened and been trimmed, then one more is published: the subscriber must be ended with the reason,
     * and resuming from its last id gets a reset.
     */
    private void trimmedBeforeRead(String topic, boolean twoFirst) throws Exception {
        Node a = Node.start();
        io.lettuce.core.RedisClient client = io.lettuce.core.RedisClient.create(redis.url());
        try (Subscription live = new Subscription(a, topic, Map.of());
                io.lettuce.core.api.StatefulRedisConnection<String, String> other = client.connect()) {
            List<String> before = twoFirst ? List.of(publish(a, topic, "{\"n\":1}"), publish(a, topic, "{\"n\":2}"))
                    : List.of();
            assertThat(live.next(before.size())).isEqualTo(before);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!a.log().following().get(5, TimeUnit.SECONDS).contains(topic)) { // its end and count are read
                assertThat(System.nanoTime()).as("node follows %s", topic).isLessThan(deadline);
                java.util.concurrent.CompletableFuture.runAsync(() -> { }, java.util.concurrent.CompletableFuture
                        .delayedExecutor(10, TimeUnit.MILLISECONDS)).get();
            }
            other.sync().hincrby(RedisEventLog.COUNTS, topic, 4); // four appends this node never read...
            other.sync().xtrim(RedisEventLog.TOPIC_PREFIX + topic, 0); // ...trimmed with the older ones
            String after = publish(a, topic, "{\"n\":7}");

            String control = live.lines.poll(20, TimeUnit.SECONDS);
            while (control != null && control.isBlank()) {
                control = live.lines.poll(20, TimeUnit.SECONDS);
            }
            String lastId = before.isEmpty() ? null : before.get(before.size() - 1).split(" ")[0];
            assertThat(control).as("the subscriber is told, not given n=7 as if nothing was missing")
                    .contains("\"type\":\"slow\"").contains("trimmed from the store")
                    .contains("\"lastId\":" + (lastId == null ? "null" : "\"" + lastId + "\""));
            String end = live.lines.poll(20, TimeUnit.SECONDS);
            while (end != null && end.isBlank()) {
                end = live.lines.poll(20, TimeUnit.SECONDS);
            }
            assertThat(end).isEqualTo("<end>");
            if (lastId == null) {
                return; // nothing to resume from
            }
            try (Subscription resumed = new Subscription(a, topic, Map.of("Last-Event-ID", lastId))) {
                String reset = resumed.lines.poll(20, TimeUnit.SECONDS);
                assertThat(reset).contains("\"type\":\"reset\"");
                assertThat(resumed.next(1)).containsExactly(after);
            }
        } finally {
            client.shutdown();
        }
    }
}
