package dev.herald.chat;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.store.EventLog;
import dev.herald.testing.HeraldExtension;
import dev.herald.testing.JdkClient;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** /msgs over real HTTP: the first document, POST then the new state, history, methods, other writers. */
class ChatApiTest {
    static final Duration WAIT = Duration.ofSeconds(10);
    static final ObjectMapper JSON = new ObjectMapper();
    static EventLog log;
    static ChatHandler chat;

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.site("basic").routes(b -> {
        log = ChatLogs.open(ChatApiTest.HERALD.dataDir());
        chat = new ChatHandler(log, ChatSettings.defaults());
        b.route("/msgs", chat);
    });

    @AfterAll
    static void closeLog() throws Exception {
        chat.close();
        log.close();
    }

    static JdkClient client(String name) throws Exception {
        return (JdkClient) HERALD.client(name);
    }

    static HttpResponse<String> post(JdkClient c, String json) throws Exception {
        return c.client().send(HttpRequest.newBuilder(c.uri("/msgs")).timeout(WAIT)
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static String message(String user, String text) {
        return JSON.createObjectNode().put("user", user).put("text", text).toString();
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2", "h2c-upgrade", "http/1.1", "https/1.1"})
    void firstDocumentIsTheStateThenEveryPostSendsTheNewState(String protocol) throws Exception {
        JdkClient c = client(protocol);
        try (NdjsonStream stream = NdjsonStream.open(c.client(), c.uri("/msgs"))) {
            assertThat(stream.status()).isEqualTo(200);
            assertThat(stream.headers().firstValue("content-type")).hasValue("application/x-ndjson; charset=utf-8");
            assertThat(stream.headers().firstValue("cache-control")).hasValue("no-store");
            assertThat(stream.headers().firstValue("x-accel-buffering")).hasValue("no");
            JsonNode first = stream.next(WAIT);
            assertThat(first.fieldNames()).toIterable().containsExactly("msg");
            assertThat(first.get("msg").isArray()).isTrue();
            assertThat(first.get("msg").size()).isLessThanOrEqualTo(50);

            String text = "hello over " + protocol + " " + UUID.randomUUID();
            HttpResponse<String> r = post(c, message("ann", text));
            assertThat(r.statusCode()).isEqualTo(201);
            JsonNode stored = JSON.readTree(r.body());

            JsonNode next = stream.until(d -> d.get("msg").size() > 0
                    && d.get("msg").get(0).get("id").asText().equals(stored.get("id").asText()), WAIT);
            assertThat(next.get("msg").get(0)).isEqualTo(stored);
            assertThat(next.get("msg").get(0).get("text").asText()).isEqualTo(text);
        }
    }

    @Test
    void postAnswers201WithTheStoredMessageAfterCommit() throws Exception {
        long before = System.currentTimeMillis();
        HttpResponse<String> r = post(client("h2"), message("bob", "line one\nline two, ünïcødé 😀"));
        assertThat(r.statusCode()).isEqualTo(201);
        assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
        JsonNode m = JSON.readTree(r.body());
        assertThat(m.fieldNames()).toIterable().containsExactly("id", "user", "text", "time");
        assertThat(m.get("id").asText()).matches("\\d+-\\d+");
        assertThat(m.get("user").asText()).isEqualTo("bob");
        assertThat(m.get("text").asText()).isEqualTo("line one\nline two, ünïcødé 😀");
        assertThat(m.get("time").asLong()).isBetween(before - 1000, System.currentTimeMillis() + 1000);
        // committed: the log has it now
        List<String> ids = log.latest(ChatHandler.TOPIC, 100).get().stream().map(e -> e.id().toString()).toList();
        assertThat(ids).contains(m.get("id").asText());
    }

    @Test
    void keepsTheNewest50NewestFirst() throws Exception {
        JdkClient c = client("h2");
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 55; i++) {
            HttpResponse<String> r = post(c, message("counter", "n" + i));
            assertThat(r.statusCode()).isEqualTo(201);
            ids.add(JSON.readTree(r.body()).get("id").asText());
        }
        try (NdjsonStream stream = NdjsonStream.open(c.client(), c.uri("/msgs"))) {
            JsonNode msgs = stream.next(WAIT).get("msg");
            assertThat(msgs.size()).isEqualTo(50);
            List<String> got = new ArrayList<>();
            msgs.forEach(m -> got.add(m.get("id").asText()));
            List<String> expected = new ArrayList<>(ids.subList(5, 55));
            java.util.Collections.reverse(expected);
            assertThat(got).containsExactlyElementsOf(expected);
        }
    }

    @Test
    void aMessageStoredByAnotherPathShowsAndForeignDataIsSkipped() throws Exception {
        JdkClient c = client("h2");
        try (NdjsonStream stream = NdjsonStream.open(c.client(), c.uri("/msgs"))) {
            stream.next(WAIT);
            log.append(ChatHandler.TOPIC, "[1,2,3]").get();
            log.append(ChatHandler.TOPIC, "{\"user\":\"\",\"text\":\"empty user\"}").get();
            log.append("other-topic", message("x", "not chat")).get();
            String text = "from node 2 " + UUID.randomUUID();
            String id = log.append(ChatHandler.TOPIC, message("node2", text)).get().id().toString();
            JsonNode doc = stream.until(d -> d.get("msg").size() > 0
                    && d.get("msg").get(0).get("id").asText().equals(id), WAIT);
            assertThat(doc.get("msg").get(0).get("text").asText()).isEqualTo(text);
            assertThat(doc.toString()).doesNotContain("empty user").doesNotContain("not chat");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"PUT", "DELETE", "PATCH", "TRACE"})
    void otherMethodsAnswer405WithAllow(String method) throws Exception {
        JdkClient c = client("h2");
        HttpResponse<String> r = c.client().send(HttpRequest.newBuilder(c.uri("/msgs")).timeout(WAIT)
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(405);
        assertThat(r.headers().firstValue("allow")).hasValue("GET, HEAD, POST, OPTIONS");
        assertThat(JSON.readTree(r.body()).get("error").asText()).isEqualTo("method not allowed");
    }

    @Test
    void headAndOptions() throws Exception {
        JdkClient c = client("h2");
        HttpResponse<String> head = c.client().send(HttpRequest.newBuilder(c.uri("/msgs")).timeout(WAIT)
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.headers().firstValue("content-type")).hasValue("application/x-ndjson; charset=utf-8");
        assertThat(head.body()).isEmpty();
        HttpResponse<String> options = c.client().send(HttpRequest.newBuilder(c.uri("/msgs")).timeout(WAIT)
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(options.statusCode()).isEqualTo(204);
        assertThat(options.headers().firstValue("allow")).hasValue("GET, HEAD, POST, OPTIONS");
    }

    /** RFC 9110 §9.3.2: the GET's headers; the GET is endless, so no content-length (the audit saw 0); no stream. */
    @ParameterizedTest
    @ValueSource(strings = {"h2", "h2c-upgrade", "http/1.1", "https/1.1"})
    void headAnswersTheStreamsHeadersWithoutALengthOrAStream(String protocol) throws Exception {
        JdkClient c = client(protocol);
        int before = chat.subscribers();
        HttpResponse<String> head = c.client().send(HttpRequest.newBuilder(c.uri("/msgs")).timeout(WAIT)
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.headers().firstValue("content-type")).hasValue("application/x-ndjson; charset=utf-8");
        assertThat(head.headers().firstValue("cache-control")).hasValue("no-store");
        assertThat(head.headers().firstValue("content-length")).as("the GET has none").isEmpty();
        assertThat(head.headers().firstValue("x-content-type-options")).hasValue("nosniff");
        assertThat(head.body()).isEmpty();
        assertThat(chat.subscribers()).isEqualTo(before);
    }

    @Test
    void manyStreamsOnOneConnectionAllGetTheNewState() throws Exception {
        JdkClient c = client("h2");
        List<NdjsonStream> streams = new ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) {
                NdjsonStream s = NdjsonStream.open(c.client(), c.uri("/msgs"));
                assertThat(s.version()).isEqualTo(HttpClient.Version.HTTP_2);
                s.next(WAIT);
                streams.add(s);
            }
            HttpResponse<String> r = post(c, message("fan", "out " + UUID.randomUUID()));
            String id = JSON.readTree(r.body()).get("id").asText();
            for (NdjsonStream s : streams) {
                JsonNode doc = s.until(d -> d.get("msg").get(0).get("id").asText().equals(id), WAIT);
                assertThat(doc.get("msg").get(0).get("user").asText()).isEqualTo("fan");
            }
        } finally {
            streams.forEach(NdjsonStream::close);
        }
    }
}
