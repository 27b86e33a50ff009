package dev.herald.store.redis;

import dev.herald.testing.HeraldProcess;
import dev.herald.testing.HttpResult;
import dev.herald.testing.JdkClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two packaged Herald nodes on one real Redis: a subscriber on node A has half the events when A is killed with
 * SIGKILL; it reconnects to node B with Last-Event-ID and receives exactly the rest, in order.
 */
class HeraldNodeKillIT {
    private static final Pattern LINE = Pattern.compile("\\{\"id\":\"([0-9]+-[0-9]+)\".*\"data\":\\{\"n\":([0-9]+)}");

    @TempDir
    Path tmp;

    @Test
    void aKilledNodeLosesNothingAcknowledged() throws Exception {
        try (RedisServer redis = RedisServer.start(java.nio.file.Files.createDirectories(tmp.resolve("redis")), true);
             HeraldProcess a = node(redis, "a");
             HeraldProcess b = node(redis, "b")) {
            JdkClient nodeA = JdkClient.http11(a.awaitPort("http", 30));
            JdkClient nodeB = JdkClient.http11(b.awaitPort("http", 30));

            HttpResponse<InputStream> sub = nodeA.client().send(
                    HttpRequest.newBuilder(nodeA.uri("/topics/kill")).header("accept", "application/x-ndjson").build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertThat(sub.statusCode()).isEqualTo(200);
            BufferedReader lines = new BufferedReader(new InputStreamReader(sub.body(), StandardCharsets.UTF_8));
            for (int n = 1; n <= 50; n++) {
                publish(n % 2 == 0 ? nodeA : nodeB, n); // acknowledged by either node
            }
            List<Integer> seen = new ArrayList<>();
            String lastId = null;
            while (seen.size() < 50) {
                Matcher m = LINE.matcher(nextEvent(lines));
                assertThat(m.find()).isTrue();
                lastId = m.group(1);
                seen.add(Integer.parseInt(m.group(2)));
            }

            a.close(); // SIGKILL: no graceful shutdown
            assertThat(a.waitFor(10)).as("killed by SIGKILL").isEqualTo(137);
            for (int n = 51; n <= 100; n++) {
                publish(nodeB, n);
            }

            HttpResponse<InputStream> resumed = nodeB.client().send(
                    HttpRequest.newBuilder(nodeB.uri("/topics/kill")).header("accept", "application/x-ndjson")
                            .header("last-event-id", lastId).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            BufferedReader rest = new BufferedReader(new InputStreamReader(resumed.body(), StandardCharsets.UTF_8));
            while (seen.size() < 100) {
                Matcher m = LINE.matcher(nextEvent(rest));
                assertThat(m.find()).isTrue();
                seen.add(Integer.parseInt(m.group(2)));
            }
            resumed.body().close();
            List<Integer> expected = new ArrayList<>();
            for (int n = 1; n <= 100; n++) {
                expected.add(n);
            }
            assertThat(seen).as("no gap, no duplicate, in order").isEqualTo(expected);
        }
    }

    private HeraldProcess node(RedisServer redis, String name) throws Exception {
        return HeraldProcess.start(List.of(), "serve", tmp.toString(), "--host", "127.0.0.1", "--port", "-1",
                "--http-port", "0", "--data-dir", tmp.resolve(name).toString(), "--store", redis.url(),
                "--access-log", "false");
    }

    private static void publish(JdkClient node, int n) throws Exception {
        HttpResult r = node.send("POST", "/topics/kill", Map.of("content-type", "application/json"),
                ("{\"n\":" + n + "}").getBytes(StandardCharsets.UTF_8));
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
    }

    /** The next event line, skipping heartbeats (empty lines). */
    private static String nextEvent(BufferedReader lines) throws Exception {
        String line;
        do {
            line = lines.readLine();
            assertThat(line).as("stream ended early").isNotNull();
        } while (line.isBlank());
        return line;
    }
}
