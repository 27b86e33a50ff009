package dev.herald.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.testing.HeraldExtension;
import dev.herald.testing.HttpResult;
import dev.herald.testing.JdkClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Herald's own chat (the default wiring, SQLite in the data directory) keeps its history across a restart, and
 * other JSON published to {@code /topics/chat} never takes a message's place in it.
 */
class ChatRestartTest {
    static final Duration WAIT = Duration.ofSeconds(10);
    static final ObjectMapper JSON = new ObjectMapper();
    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.site("basic");

    @Test
    void historySurvivesARestart() throws Exception {
        String text = "before the restart " + UUID.randomUUID();
        HttpResult posted = JdkClient.h2(HERALD.tlsPort(), HERALD.certificate()).send("POST", "/msgs",
                Map.of("content-type", "application/json"),
                ("{\"user\":\"ada\",\"text\":\"" + text + "\"}").getBytes(StandardCharsets.UTF_8));
        assertThat(posted.status()).as(posted.toString()).isEqualTo(201);

        HERALD.stop();
        HERALD.start();

        JdkClient client = JdkClient.h2(HERALD.tlsPort(), HERALD.certificate());
        HttpResponse<InputStream> r = client.client().send(HttpRequest.newBuilder(client.uri("/msgs")).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            String first = lines.readLine();
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(first).startsWith("{\"msg\":[").contains(text).contains("\"user\":\"ada\"");
        }
    }

    /** The audit's case: junk on the topic filled the newest 50 events, and the restarted chat showed none. */
    @Test
    void junkOnTheChatTopicDoesNotHideTheHistoryAfterARestart() throws Exception {
        JdkClient c = JdkClient.h2(HERALD.tlsPort(), HERALD.certificate());
        List<String> ids = new ArrayList<>();
        postMessages(c, 30, ids);
        postJunk(c, 300); // more than one page of older events
        postMessages(c, 25, ids);
        postJunk(c, 300);

        HERALD.stop();
        HERALD.start();

        c = JdkClient.h2(HERALD.tlsPort(), HERALD.certificate());
        try (NdjsonStream stream = NdjsonStream.open(c.client(), c.uri("/msgs"))) {
            List<String> expected = new ArrayList<>(ids.subList(ids.size() - 50, ids.size()));
            Collections.reverse(expected);
            assertThat(idsOf(stream.next(WAIT))).containsExactlyElementsOf(expected);
        }
    }

    /** The live path: junk published while a stream is open leaves the 50 messages it shows in place. */
    @Test
    void junkPublishedLiveDropsNoMessageFromTheState() throws Exception {
        JdkClient c = JdkClient.h2(HERALD.tlsPort(), HERALD.certificate());
        List<String> ids = new ArrayList<>();
        postMessages(c, 50, ids);
        try (NdjsonStream stream = NdjsonStream.open(c.client(), c.uri("/msgs"))) {
            stream.next(WAIT);
            postJunk(c, 60);
            postMessages(c, 1, ids);
            String newest = ids.get(ids.size() - 1);
            JsonNode doc = stream.until(d -> d.get("msg").get(0).get("id").asText().equals(newest), WAIT);
            List<String> expected = new ArrayList<>(ids.subList(ids.size() - 50, ids.size()));
            Collections.reverse(expected);
            assertThat(idsOf(doc)).containsExactlyElementsOf(expected);
        }
    }

    static void postMessages(JdkClient c, int count, List<String> ids) throws Exception {
        for (int i = 0; i < count; i++) {
            String body = JSON.createObjectNode().put("user", "ada").put("text", "m" + ids.size()).toString();
            HttpResult r = c.send("POST", "/msgs", Map.of("content-type", "application/json"),
                    body.getBytes(StandardCharsets.UTF_8));
            assertThat(r.status()).as(r.toString()).isEqualTo(201);
            ids.add(JSON.readTree(r.body()).get("id").asText());
        }
    }

    /** Publishes {@code {"junk":i}} to the chat's topic through the topics API, 50 at a time. */
    static void postJunk(JdkClient c, int count) {
        for (int from = 0; from < count; from += 50) {
            List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
            for (int i = from; i < Math.min(count, from + 50); i++) {
                sent.add(c.client().sendAsync(HttpRequest.newBuilder(c.uri("/topics/chat")).timeout(WAIT)
                        .header("content-type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"junk\":" + i + "}")).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            for (CompletableFuture<HttpResponse<String>> f : sent) {
                HttpResponse<String> r = f.join();
                assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
            }
        }
    }

    static List<String> idsOf(JsonNode doc) {
        List<String> ids = new ArrayList<>();
        doc.get("msg").forEach(m -> ids.add(m.get("id").asText()));
        return ids;
    }
}
