package dev.herald.stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.testing.HeraldExtension;
import dev.herald.testing.JdkClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** Retention resets, subscriber limits and bearer tokens, against a small in-memory log (10 events a topic). */
class TopicsGuardsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final MemoryEventLog LOG = new MemoryEventLog(10);
    static final TopicsHandler TOPICS = new TopicsHandler(LOG, StreamSettings.defaults().withLimits(3, 2)
            .withTokens(Optional.of("pub-secret"), Optional.of("sub-secret"), Optional.of(Pattern.compile("private\\..*"))),
            new SimpleMeterRegistry());

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.site("basic")
            .routes(b -> b.routePrefix("/topics/", TOPICS));

    @AfterAll
    static void close() {
        TOPICS.close();
        LOG.close();
    }

    @BeforeEach
    void noSubscribersLeft() {
        Lines.await(() -> TOPICS.hub().subscriberCount() == 0, Duration.ofSeconds(10), "no subscribers");
    }

    static JdkClient h2() throws Exception {
        return (JdkClient) HERALD.client("h2");
    }

    static HttpResponse<String> post(JdkClient c, String topic, String json, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(c.uri("/topics/" + topic)).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json));
        if (token != null) {
            b.header("authorization", "Bearer " + token);
        }
        return c.client().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static String publish(JdkClient c, String topic, String json) throws Exception {
        HttpResponse<String> r = post(c, topic, json, "pub-secret");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return JSON.readTree(r.body()).get("id").asText();
    }

    @Test
    void staleIdGetsResetThenTheRetainedEvents() throws Exception {
        JdkClient c = h2();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 15; i++) {
            ids.add(publish(c, "trimmed", "{\"n\":" + i + "}"));
        }
        HttpResponse<Lines> nd = Lines.open(c, "/topics/trimmed?since=" + ids.get(0), Map.of());
        JsonNode reset = JSON.readTree(nd.body().next());
        assertThat(reset.get("type").asText()).isEqualTo("reset");
        assertThat(reset.get("reason").asText()).contains("older than the retained history");
        assertThat(reset.get("oldest").asText()).isEqualTo(ids.get(5));
        List<String> got = new ArrayList<>();
        for (int i = 5; i < 15; i++) {
            got.add(JSON.readTree(nd.body().next()).get("id").asText());
        }
        assertThat(got).containsExactlyElementsOf(ids.subList(5, 15));
        nd.body().cancel();

        HttpResponse<Lines> sse = Lines.open(c, "/topics/trimmed",
                Map.of("Accept", "text/event-stream", "Last-Event-ID", ids.get(1)));
        assertThat(sse.body().nextSse()).containsExactly("retry: 3000");
        List<String> block = sse.body().nextSse();
        assertThat(block).hasSize(2);
        assertThat(block.get(0)).isEqualTo("event: reset");
        assertThat(block.get(1)).startsWith("data: {\"reason\":");
        assertThat(sse.body().nextSse()).containsExactly("id: " + ids.get(5), "event: message", "data: {\"n\":5}");
        sse.body().cancel();
    }

    @Test
    void eventsTheReplayWroteAreNotWrittenAgainWhenTheTailDeliversThemLate() throws Exception {
        JdkClient c = h2();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.add(publish(c, "late", "{\"n\":" + i + "}"));
        }
        // Committed, so the replay reads them, but not yet handed to the hub (Redis's reader connection lags the
        // command connection the replay reads on the same way).
        LOG.holdDeliveries();
        try {
            for (int i = 3; i < 5; i++) {
                ids.add(publish(c, "late", "{\"n\":" + i + "}"));
            }
            HttpResponse<Lines> r = Lines.open(c, "/topics/late?since=" + ids.get(0), Map.of());
            try {
                List<String> got = new ArrayList<>();
                for (int i = 1; i < 5; i++) {
                    got.add(JSON.readTree(r.body().next()).get("id").asText());
                }
                assertThat(got).as("the replay").containsExactlyElementsOf(ids.subList(1, 5));
                LOG.releaseDeliveries();
                ids.add(publish(c, "late", "{\"n\":5}"));
                assertThat(JSON.readTree(r.body().next()).get("id").asText()).as("the first live event")
                        .isEqualTo(ids.get(5));
            } finally {
                r.body().cancel();
            }
        } finally {
            LOG.releaseDeliveries();
        }
    }

    @Test
    void subscriberLimitsAnswer503WithRetryAfter() throws Exception {
        JdkClient c = h2();
        HttpResponse<Lines> a = Lines.open(c, "/topics/lim", Map.of());
        HttpResponse<Lines> b = Lines.open(c, "/topics/lim", Map.of());
        assertThat(a.statusCode()).isEqualTo(200);
        assertThat(b.statusCode()).isEqualTo(200);
        HttpResponse<String> third = c.client().send(HttpRequest.newBuilder(c.uri("/topics/lim")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(third.statusCode()).isEqualTo(503);
        assertThat(third.headers().firstValue("retry-after")).hasValue("5");
        assertThat(JSON.readTree(third.body()).get("detail").asText()).contains("this connection");
        HttpResponse<String> head = c.client().send(HttpRequest.newBuilder(c.uri("/topics/lim"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(head.statusCode()).as("HEAD: as the GET").isEqualTo(503);
        assertThat(head.headers().firstValue("retry-after")).hasValue("5");
        assertThat(TOPICS.hub().subscriberCount()).as("the HEAD reserved nothing").isEqualTo(2);

        HttpClient other = JdkClient.builder(HERALD.certificate()).version(HttpClient.Version.HTTP_2).build();
        HttpResponse<Lines> c1 = Lines.open(other, c.uri("/topics/lim"), Map.of(), 0);
        assertThat(c1.statusCode()).isEqualTo(200);
        HttpResponse<String> total = other.send(HttpRequest.newBuilder(c.uri("/topics/lim")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(total.statusCode()).isEqualTo(503);
        assertThat(total.headers().firstValue("retry-after")).hasValue("5");
        assertThat(JSON.readTree(total.body()).get("detail").asText()).contains("limit 3");

        // a reset stream gives its slot back at once
        a.body().cancel();
        Lines.await(() -> TOPICS.hub().subscriberCount() == 2, Duration.ofSeconds(10), "slot released");
        HttpResponse<Lines> again = Lines.open(c, "/topics/lim", Map.of());
        assertThat(again.statusCode()).isEqualTo(200);
        for (HttpResponse<Lines> r : List.of(b, c1, again)) {
            r.body().cancel();
        }
    }

    @Test
    void publishNeedsTheBearerToken() throws Exception {
        JdkClient c = h2();
        HttpResponse<String> none = post(c, "open", "{}", null);
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.headers().firstValue("www-authenticate")).hasValue("Bearer");
        assertThat(post(c, "open", "{}", "pub-secreT").statusCode()).isEqualTo(403);
        assertThat(post(c, "open", "{}", "sub-secret").statusCode()).isEqualTo(403);
        assertThat(post(c, "open", "{}", "").statusCode()).as("an empty token is a missing one").isEqualTo(401);
        assertThat(LOG.latest("open", 10).get()).isEmpty();
        publish(c, "open", "{}");
        assertThat(LOG.latest("open", 10).get()).hasSize(1);
    }

    @Test
    void privateTopicsNeedTheSubscribeToken() throws Exception {
        JdkClient c = h2();
        HttpResponse<String> none = c.client().send(HttpRequest.newBuilder(c.uri("/topics/private.x")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(none.statusCode()).isEqualTo(401);
        HttpResponse<String> wrong = c.client().send(HttpRequest.newBuilder(c.uri("/topics/private.x"))
                .header("authorization", "Bearer pub-secret").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(wrong.statusCode()).isEqualTo(403);
        HttpResponse<Lines> ok = Lines.open(c, "/topics/private.x", Map.of("Authorization", "Bearer sub-secret"));
        assertThat(ok.statusCode()).isEqualTo(200);
        HttpResponse<Lines> open = Lines.open(c, "/topics/public.x", Map.of());
        assertThat(open.statusCode()).isEqualTo(200);
        String id = publish(c, "private.x", "{\"secret\":1}");
        assertThat(JSON.readTree(ok.body().next()).get("id").asText()).isEqualTo(id);
        ok.body().cancel();
        open.body().cancel();
    }
}
