package dev.herald.store.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.testing.HeraldExtension;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /healthz} of a node whose store is a real redis-server: 503 with the reason while Redis is gone, so that a
 * load balancer takes the node out, and 200 again by itself once Redis is back (the reader's loop notices both).
 */
class RedisHealthHttpTest {
    @TempDir
    Path dir;
    RedisServer redis;
    HeraldExtension herald;
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void stop() throws Exception {
        if (herald != null) {
            herald.afterAll(null);
        }
        if (redis != null) {
            redis.close();
        }
    }

    private HttpResponse<String> health() throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + herald.httpPort() + "/healthz"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Polls /healthz until {@code wanted} holds (the store notices an outage within its read loop's period). */
    private HttpResponse<String> healthUntil(Predicate<HttpResponse<String>> wanted) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        HttpResponse<String> r = health();
        while (!wanted.test(r) && System.nanoTime() < deadline) {
            Thread.sleep(100);
            r = health();
        }
        return r;
    }

    @Test
    void healthzIs503WhileRedisIsGoneAndOkAgainOnceItIsBack() throws Exception {
        redis = RedisServer.start(dir, false);
        herald = HeraldExtension.site("basic").configure(b -> b.store(redis.url()));
        herald.start();
        HttpResponse<String> ok = health();
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
        assertThat(ok.body()).isEqualTo("{\"status\":\"ok\"}");

        redis.kill();
        HttpResponse<String> down = healthUntil(r -> r.statusCode() != 200);
        assertThat(down.statusCode()).as(down.body()).isEqualTo(503);
        assertThat(down.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(down.headers().firstValue("cache-control")).hasValue("no-store");
        assertThat(down.headers().firstValue("retry-after")).hasValue("5");
        // No host or port: the endpoint needs no token; the store's log line names them.
        assertThat(down.body()).isEqualTo("{\"status\":\"unavailable\",\"store\":\"redis unreachable\"}");

        redis.start();
        HttpResponse<String> back = healthUntil(r -> r.statusCode() == 200);
        assertThat(back.statusCode()).as(back.body()).isEqualTo(200);
        assertThat(back.body()).isEqualTo("{\"status\":\"ok\"}");
    }

    @Test
    void healthzIs503WhileRedisRefusesWritesButStillAnswersReadsAndOkOnceAnAppendSucceeds() throws Exception {
        redis = RedisServer.start(dir, false);
        herald = HeraldExtension.site("basic").configure(b -> b.store(redis.url()));
        herald.start();
        RedisClient client = RedisClient.create(redis.url());
        try (StatefulRedisConnection<String, String> admin = client.connect()) {
            admin.sync().configSet("maxmemory", "1"); // noeviction (the default): every write is refused with OOM
            HttpResponse<String> refused = publish("{\"n\":1}");
            assertThat(refused.statusCode()).as(refused.body()).isGreaterThanOrEqualTo(500);
            HttpResponse<String> down = health(); // the connections are fine: only the failed append says so
            assertThat(down.statusCode()).as(down.body()).isEqualTo(503);
            assertThat(down.body()).isEqualTo(
                    "{\"status\":\"unavailable\",\"store\":\"redis refuses writes (OOM)\"}");

            admin.sync().configSet("maxmemory", "0");
            HttpResponse<String> stored = publish("{\"n\":2}");
            assertThat(stored.statusCode()).as(stored.body()).isEqualTo(201);
            HttpResponse<String> ok = health();
            assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
        } finally {
            client.shutdown();
        }
    }

    private HttpResponse<String> publish(String json) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + herald.httpPort() + "/topics/health"))
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
