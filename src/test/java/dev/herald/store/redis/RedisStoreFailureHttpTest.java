package dev.herald.store.redis;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.herald.chat.ChatHandler;
import dev.herald.chat.ChatSettings;
import dev.herald.server.LimitLog;
import dev.herald.store.Retention;
import dev.herald.stream.StreamSettings;
import dev.herald.stream.TopicsHandler;
import dev.herald.testing.HeraldExtension;
import dev.herald.testing.LogCapture;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a publisher is told when Redis fails under a running node, over HTTP: a frozen Redis (the command was sent and
 * may still run) is not the same answer as a Redis that is gone (nothing was stored), and an outage logs one line per
 * interval, not one stack trace per request.
 */
class RedisStoreFailureHttpTest {
    private static final Retention RETENTION = new Retention(10_000, Duration.ofHours(1));

    @TempDir
    Path dir;
    RedisServer redis;
    ReplyDroppingProxy proxy;
    RedisEventLog log;
    TopicsHandler topics;
    ChatHandler chat;
    HeraldExtension herald;
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    void start() throws Exception {
        start(false);
    }

    /** With {@code viaProxy}, the node reaches Redis through a {@link ReplyDroppingProxy}. */
    void start(boolean viaProxy) throws Exception {
        redis = RedisServer.start(dir, false);
        if (viaProxy) {
            proxy = ReplyDroppingProxy.start(redis.port());
        }
        log = RedisEventLog.open(viaProxy ? proxy.url() : redis.url(), RETENTION, Optional.empty());
        LimitLog limitLog = LimitLog.create(Duration.ofSeconds(10));
        topics = new TopicsHandler(log, StreamSettings.defaults(), new SimpleMeterRegistry(), limitLog);
        chat = new ChatHandler(log, ChatSettings.defaults(), limitLog);
        herald = HeraldExtension.site("basic").routes(b -> b.routePrefix("/topics/", topics).route("/msgs", chat));
        herald.start();
    }

    @AfterEach
    void stop() throws Exception {
        if (herald != null) {
            herald.stop();
            topics.close();
            chat.close();
            log.close();
            herald.afterAll(null);
        }
        if (proxy != null) {
            proxy.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    private CompletableFuture<HttpResponse<String>> post(String path, String json) {
        return http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + herald.httpPort() + path))
                        .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json))
                        .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private String get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + herald.httpPort() + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    void aFrozenRedisGets504MayHaveBeenStoredAndTheEventIsThereOnceItResumes() throws Exception {
        start();
        redis.signal("STOP");
        HttpResponse<String> topic;
        HttpResponse<String> msg;
        try {
            CompletableFuture<HttpResponse<String>> t = post("/topics/frozen", "{\"k\":\"sent-while-frozen\"}");
            CompletableFuture<HttpResponse<String>> m = post("/msgs", "{\"user\":\"dup\",\"text\":\"frozen\"}");
            topic = t.get(20, TimeUnit.SECONDS);
            msg = m.get(20, TimeUnit.SECONDS);
        } finally {
            redis.signal("CONT");
        }
        assertThat(topic.statusCode()).as(topic.body()).isEqualTo(504);
        assertThat(topic.body()).contains("\"error\":\"store timeout\"").contains("may have been stored")
                .contains("resume from your last id");
        assertThat(msg.statusCode()).as(msg.body()).isEqualTo(504);
        assertThat(msg.body()).contains("may have been stored");
        assertThat(msg.headers().firstValue("cache-control")).hasValue("no-store");

        // The answer was right to hedge: Redis ran the commands once it was thawed.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        String replay = "";
        while (!replay.contains("sent-while-frozen") && System.nanoTime() < deadline) {
            replay = log.readAfter("frozen", dev.herald.store.EventId.ZERO, 10).handle((r, e) -> e == null
                    ? r.events().toString() : "").get(10, TimeUnit.SECONDS);
        }
        assertThat(replay).contains("sent-while-frozen");
        assertThat(log.latest(ChatHandler.TOPIC, 10).get(10, TimeUnit.SECONDS).toString()).contains("frozen");
    }

    @Test
    void aPublishWhoseReplyIsLostGets504MayHaveBeenStoredAndTheEventIsStoredOnce() throws Exception {
        start(true);
        CompletableFuture<Void> dropped = proxy.dropReplyToNextEval();
        HttpResponse<String> topic = post("/topics/lost", "{\"k\":\"reply-lost\"}").get(20, TimeUnit.SECONDS);
        assertThat(dropped).as("the proxy dropped the reply").isCompleted();
        assertThat(topic.statusCode()).as(topic.body()).isEqualTo(504);
        assertThat(topic.body()).contains("\"error\":\"store timeout\"").contains("may have been stored")
                .contains("resume from your last id").doesNotContain("retry");
        assertThat(topic.headers().firstValue("retry-after")).isEmpty();

        RedisServer.awaitConnected(log, true);
        dropped = proxy.dropReplyToNextEval();
        HttpResponse<String> msg = post("/msgs", "{\"user\":\"dup\",\"text\":\"reply-lost\"}")
                .get(20, TimeUnit.SECONDS);
        assertThat(dropped).as("the proxy dropped the reply").isCompleted();
        assertThat(msg.statusCode()).as(msg.body()).isEqualTo(504);
        assertThat(msg.body()).contains("may have been stored").contains("GET /msgs");

        // Both were stored, once each: a client told 503 "retry" would have published them twice.
        RedisServer.awaitConnected(log, true);
        assertThat(log.readAfter("lost", dev.herald.store.EventId.ZERO, 10).get(10, TimeUnit.SECONDS).events())
                .extracting(dev.herald.store.Event::data).containsExactly("{\"k\":\"reply-lost\"}");
        assertThat(log.latest(ChatHandler.TOPIC, 10).get(10, TimeUnit.SECONDS))
                .extracting(dev.herald.store.Event::data).singleElement().asString().contains("reply-lost");
    }

    @Test
    void aRedisThatIsGoneGets503WithRetryAfterAndTheOutageLogsOneLinePerInterval() throws Exception {
        start();
        redis.killNoticedBy(log);
        try (LogCapture lines = LogCapture.of(LimitLog.class)) {
            List<HttpResponse<String>> answers = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                answers.add(post("/topics/down", "{\"i\":" + i + "}").get(20, TimeUnit.SECONDS));
                answers.add(post("/msgs", "{\"user\":\"u\",\"text\":\"t" + i + "\"}").get(20, TimeUnit.SECONDS));
            }
            for (HttpResponse<String> r : answers) {
                assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
                assertThat(r.headers().firstValue("retry-after")).as(r.body()).hasValue("5");
            }
            assertThat(answers.get(0).body()).contains("\"error\":\"store unavailable\"")
                    .contains("could not be stored");
            // One WARN line per kind of request for the whole burst, with the cause and no stack trace (each
            // failure's stack goes to DEBUG, on when another test or --verbose turned debug logging on).
            List<String> warnings = lines.messages(Level.WARN);
            assertThat(warnings).hasSize(2);
            assertThat(warnings.get(0)).startsWith("topics publish failed: POST /topics/down from ")
                    .contains("is unreachable").doesNotContain("\n");
            assertThat(warnings.get(1)).startsWith("chat post failed: POST /msgs from ")
                    .doesNotContain("\n");
        }
    }
}
