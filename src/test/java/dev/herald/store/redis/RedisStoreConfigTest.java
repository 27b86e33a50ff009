package dev.herald.store.redis;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.testing.HeraldExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code store: redis://...} in the config: two Herald nodes with their own /topics/ share one Redis. */
class RedisStoreConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void twoConfiguredNodesShareTopics() throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        try (RedisServer redis = RedisServer.start(dir, false)) {
            HeraldExtension a = HeraldExtension.site("basic").configure(b -> b.store(redis.url()));
            HeraldExtension b = HeraldExtension.site("basic").configure(c -> c.store(redis.url()));
            a.start();
            try {
                b.start();
                try {
                    HttpResponse<Stream<String>> sub = http.send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + b.httpPort() + "/topics/configured")).build(),
                            HttpResponse.BodyHandlers.ofLines());
                    assertThat(sub.statusCode()).isEqualTo(200);
                    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
                    Thread t = new Thread(() -> {
                        try {
                            sub.body().forEach(lines::add);
                        } catch (RuntimeException e) {
                            // closed
                        }
                    }, "configured-sub");
                    t.setDaemon(true);
                    t.start();
                    List<String> ids = new ArrayList<>();
                    for (int i = 0; i < 10; i++) {
                        HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + a.httpPort() + "/topics/configured"))
                                .header("content-type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString("{\"n\":" + i + "}")).build(),
                                HttpResponse.BodyHandlers.ofString());
                        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
                        ids.add(JSON.readTree(r.body()).get("id").asText());
                    }
                    List<String> got = new ArrayList<>();
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                    while (got.size() < ids.size()) {
                        String line = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                        assertThat(line).as("event %s on node B", got.size() + 1).isNotNull();
                        if (!line.isBlank()) {
                            JsonNode n = JSON.readTree(line);
                            if (n.has("id")) {
                                got.add(n.get("id").asText());
                            }
                        }
                    }
                    assertThat(got).isEqualTo(ids);
                    sub.body().close();
                } finally {
                    b.stop();
                    b.afterAll(null);
                }
            } finally {
                a.stop();
                a.afterAll(null);
            }
        }
    }
}
