package dev.herald.stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.testing.HeraldExtension;
import dev.herald.testing.JdkClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link StreamSettings#maxTopics()}: with 3 live topics allowed, a subscribe or a publish to a fourth gets 503
 * with Retry-After and the JSON error body, while the live topics keep working; a topic stops counting once it has
 * no subscriber and {@link TopicHub#TOPIC_LINGER} has passed.
 */
class TopicsLimitTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final MemoryEventLog LOG = new MemoryEventLog(10);
    static final TopicsHandler TOPICS = new TopicsHandler(LOG, StreamSettings.defaults().withMaxTopics(3),
            new SimpleMeterRegistry());

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.site("basic")
            .routes(b -> b.routePrefix("/topics/", TOPICS));

    @AfterAll
    static void close() {
        TOPICS.close();
        LOG.close();
    }

    @Test
    void aTopicBeyondTheLimitGets503UntilOneIsNoLongerLive() throws Exception {
        JdkClient c = (JdkClient) HERALD.client("h2");
        HttpResponse<Lines> a = Lines.open(c, "/topics/a", Map.of());
        HttpResponse<Lines> b = Lines.open(c, "/topics/b", Map.of());
        assertThat(post(c, "c", "{\"n\":1}").statusCode()).isEqualTo(201); // c is live by its publish
        assertThat(TOPICS.hub().liveTopics()).isEqualTo(3);

        HttpResponse<String> subscribe = c.client().send(HttpRequest.newBuilder(c.uri("/topics/d")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertRefused(subscribe, "d");
        assertRefused(post(c, "d", "{\"n\":1}"), "d");
        assertThat(LOG.latest("d", 10).get()).as("nothing stored for a refused topic").isEmpty();
        // HEAD answers what the GET would, and counts nothing either way
        HttpResponse<String> headD = head(c, "d");
        assertThat(headD.statusCode()).as("HEAD: the GET's status").isEqualTo(503);
        assertThat(headD.headers().firstValue("retry-after")).hasValue("5");
        assertThat(head(c, "a").statusCode()).as("a live topic").isEqualTo(200);
        assertThat(TOPICS.hub().liveTopics()).isEqualTo(3);

        // Live topics keep working: a second subscriber and more publishes.
        HttpResponse<Lines> a2 = Lines.open(c, "/topics/a", Map.of());
        assertThat(a2.statusCode()).isEqualTo(200);
        assertThat(post(c, "a", "{\"n\":2}").statusCode()).isEqualTo(201);
        assertThat(JSON.readTree(a.body().next()).get("data").get("n").asInt()).isEqualTo(2);

        // b loses its subscriber: it lingers, then stops counting and d gets its place.
        b.body().cancel();
        Lines.await(() -> TOPICS.hub().subscriberCount() == 2, Duration.ofSeconds(10), "b's subscriber gone");
        TOPICS.hub().sweepTopics(System.nanoTime());
        assertThat(TOPICS.hub().liveTopics()).as("b lingers").isEqualTo(3);
        assertRefused(post(c, "d", "{\"n\":1}"), "d");
        TOPICS.hub().sweepTopics(System.nanoTime() + TopicHub.TOPIC_LINGER.toNanos() + 1);
        assertThat(TOPICS.hub().liveTopics()).as("a stays: it has subscribers").isEqualTo(1);
        assertThat(post(c, "d", "{\"n\":1}").statusCode()).isEqualTo(201);
        a.body().cancel();
        a2.body().cancel();
    }

    private static void assertRefused(HttpResponse<String> r, String topic) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
        assertThat(r.headers().firstValue("retry-after")).hasValue("5");
        JsonNode body = JSON.readTree(r.body());
        assertThat(body.get("error").asText()).isEqualTo("too many topics");
        assertThat(body.get("detail").asText()).isEqualTo("topic " + topic
                + " would be one more than the 3 live topics");
    }

    private static HttpResponse<String> head(JdkClient c, String topic) throws Exception {
        return c.client().send(HttpRequest.newBuilder(c.uri("/topics/" + topic))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(JdkClient c, String topic, String json) throws Exception {
        return c.client().send(HttpRequest.newBuilder(c.uri("/topics/" + topic))
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
