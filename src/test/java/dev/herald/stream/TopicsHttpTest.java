package dev.herald.stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.store.Event;
import dev.herald.store.EventId;
import dev.herald.store.Retention;
import dev.herald.store.SqliteEventLog;
import dev.herald.testing.HeraldExtension;
import dev.herald.testing.JdkClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/** The topic hub over real HTTP with a real SQLite event log. */
class TopicsHttpTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path DIR = tempDir();
    static final SqliteEventLog LOG = SqliteEventLog.open(DIR.resolve("events.db"),
            new Retention(100_000, Duration.ofHours(1)), false);
    static final SimpleMeterRegistry METRICS = new SimpleMeterRegistry();
    static final TopicsHandler TOPICS = new TopicsHandler(LOG,
            StreamSettings.defaults().withHeartbeat(Duration.ofMillis(200)).withSseRetry(Duration.ofMillis(2500)),
            METRICS);
    static final AtomicInteger SEQ = new AtomicInteger();

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.site("basic")
            .routes(b -> b.routePrefix("/topics/", TOPICS));

    @AfterAll
    static void close() throws Exception {
        closeAll(TOPICS, LOG, DIR);
    }

    /** Ends the topics' streams, closes the log and deletes its folder: the end of every topics test class. */
    static void closeAll(TopicsHandler topics, SqliteEventLog log, Path dir) throws IOException {
        topics.close();
        log.close();
        try (var files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    static Path tempDir() {
        try {
            return Files.createTempDirectory("herald-topics-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String topic() {
        return "t" + SEQ.incrementAndGet();
    }

    static JdkClient client(String name) throws Exception {
        return (JdkClient) HERALD.client(name);
    }

    static HttpResponse<String> post(JdkClient c, String topic, String json) throws Exception {
        return c.client().send(HttpRequest.newBuilder(c.uri("/topics/" + topic))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static String idOf(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return JSON.readTree(r.body()).get("id").asText();
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2", "h2c-upgrade", "http/1.1", "https/1.1"})
    void subscribePublishReceive(String protocol) throws Exception {
        JdkClient c = client(protocol);
        String t = topic();
        HttpResponse<Lines> sub = Lines.open(c, "/topics/" + t, Map.of());
        assertThat(sub.statusCode()).isEqualTo(200);
        assertThat(sub.headers().firstValue("content-type")).hasValue("application/x-ndjson; charset=utf-8");
        assertThat(sub.headers().firstValue("cache-control")).hasValue("no-store");
        assertThat(sub.headers().firstValue("x-accel-buffering")).hasValue("no");
        assertThat(sub.version()).isEqualTo(protocol.startsWith("h2") ? HttpClient.Version.HTTP_2
                : HttpClient.Version.HTTP_1_1);

        String id = idOf(post(c, t, "{\"n\": 1, \"s\": \"\u00e4\\n\"}"));
        JsonNode line = JSON.readTree(sub.body().next());
        assertThat(line.get("id").asText()).isEqualTo(id);
        assertThat(line.get("topic").asText()).isEqualTo(t);
        assertThat(line.get("data").isObject()).isTrue();
        assertThat(line.get("data").get("s").asText()).isEqualTo("\u00e4\n");
        assertThat(line.get("time").asLong()).isPositive();

        sub.body().cancel();
        Lines.await(() -> TOPICS.hub().subscribers(t).isEmpty(), Duration.ofSeconds(10), "unsubscribe on cancel");
    }

    @Test
    void hundredSubscribersOnOneConnectionEachGetThousandEventsInOrder() throws Exception {
        JdkClient c = client("h2");
        String t = topic();
        List<CompletableFuture<HttpResponse<Lines>>> opening = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            opening.add(Lines.openAsync(c.client(), c.uri("/topics/" + t), Map.of(), 1000));
        }
        List<Lines> subs = new ArrayList<>();
        for (CompletableFuture<HttpResponse<Lines>> f : opening) {
            HttpResponse<Lines> r = f.get(20, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
            subs.add(r.body());
        }
        assertThat(TOPICS.hub().subscribers(t)).hasSize(100);
        double deliveredBefore = TOPICS.hub().delivered.count();

        List<CompletableFuture<Event>> published = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            published.add(TOPICS.hub().publish(t, "{\"n\":" + i + "}"));
        }
        List<String> ids = new ArrayList<>();
        for (CompletableFuture<Event> f : published) {
            ids.add(f.get(20, TimeUnit.SECONDS).id().toString());
        }
        for (Lines l : subs) {
            assertThat(l.awaitExpected(Duration.ofSeconds(30))).as("all 1000 events arrive").isTrue();
        }
        for (Lines l : subs) {
            List<String> got = new ArrayList<>();
            for (String line : l.drainNonBlank()) {
                got.add(JSON.readTree(line).get("id").asText());
            }
            assertThat(got).containsExactlyElementsOf(ids); // commit order, none missing, no duplicate
            l.cancel();
        }
        assertThat(TOPICS.hub().delivered.count() - deliveredBefore).isGreaterThanOrEqualTo(100_000);
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2", "http/1.1"})
    void resumeAfterDroppedConnectionReturnsExactlyTheMissedEvents(String protocol) throws Exception {
        JdkClient c = client(protocol);
        String t = topic();
        HttpResponse<Lines> first = Lines.open(c, "/topics/" + t, Map.of());
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.add(idOf(post(c, t, "{\"n\":" + i + "}")));
        }
        String last = null;
        for (int i = 0; i < 3; i++) {
            last = JSON.readTree(first.body().next()).get("id").asText();
        }
        assertThat(last).isEqualTo(ids.get(2));
        first.body().cancel();
        Lines.await(() -> TOPICS.hub().subscribers(t).isEmpty(), Duration.ofSeconds(10), "drop");

        List<String> missed = new ArrayList<>();
        for (int i = 3; i < 7; i++) {
            missed.add(idOf(post(c, t, "{\"n\":" + i + "}")));
        }
        // by header
        HttpResponse<Lines> byHeader = Lines.open(c, "/topics/" + t, Map.of("Last-Event-ID", last));
        // by query
        HttpResponse<Lines> byQuery = Lines.open(c, "/topics/" + t + "?since=" + last, Map.of());
        String live = idOf(post(c, t, "{\"n\":7}"));
        List<String> expected = new ArrayList<>(missed);
        expected.add(live);
        for (HttpResponse<Lines> r : List.of(byHeader, byQuery)) {
            assertThat(r.statusCode()).isEqualTo(200);
            List<String> got = new ArrayList<>();
            for (int i = 0; i < expected.size(); i++) {
                got.add(JSON.readTree(r.body().next()).get("id").asText());
            }
            assertThat(got).containsExactlyElementsOf(expected);
        }
        // nothing more: a further live event comes next, not a duplicate
        String after = idOf(post(c, t, "{\"n\":8}"));
        assertThat(JSON.readTree(byHeader.body().next()).get("id").asText()).isEqualTo(after);
        assertThat(JSON.readTree(byQuery.body().next()).get("id").asText()).isEqualTo(after);
        byHeader.body().cancel();
        byQuery.body().cancel();
    }

    @Test
    void resumeWhilePublishingHasNoGapAndNoDuplicate() throws Exception {
        JdkClient c = client("h2");
        String t = topic();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 1200; i++) {
            ids.add(TOPICS.hub().publish(t, "{\"n\":" + i + "}").get(10, TimeUnit.SECONDS).id().toString());
        }
        // the replay spans several pages (512) while 600 more are committed concurrently
        CompletableFuture<List<Event>> more = CompletableFuture.supplyAsync(() -> IntStream.range(1200, 1800)
                .mapToObj(i -> TOPICS.hub().publish(t, "{\"n\":" + i + "}")).collect(Collectors.toList())
                .stream().map(CompletableFuture::join).collect(Collectors.toList()));
        HttpResponse<Lines> r = Lines.open(c.client(), c.uri("/topics/" + t + "?since=" + ids.get(99)), Map.of(),
                1700);
        for (Event e : more.get(20, TimeUnit.SECONDS)) {
            ids.add(e.id().toString());
        }
        assertThat(receivedIds(r)).containsExactlyElementsOf(ids.subList(100, 1800));
    }

    @Test
    void aResumeOverLargeEventsReadsPagesBoundedBySizeWithoutAGap() throws Exception {
        // 160 events of 20,000 characters: max-lag-bytes (1 MiB) stops each replay read after about 52 of them.
        JdkClient c = client("h2");
        String t = topic();
        String filler = "x".repeat(20_000);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 160; i++) {
            ids.add(TOPICS.hub().publish(t, "{\"n\":" + i + ",\"f\":\"" + filler + "\"}").get(10, TimeUnit.SECONDS)
                    .id().toString());
        }
        assertThat(TOPICS.hub().mayHaveMore(LOG.readAfter(t, EventId.ZERO, 512, 1 << 20).get(10, TimeUnit.SECONDS)
                .events())).as("a page full by size").isTrue();
        HttpResponse<Lines> r = Lines.open(c.client(), c.uri("/topics/" + t + "?since=" + ids.get(9)), Map.of(),
                150);
        assertThat(receivedIds(r)).containsExactlyElementsOf(ids.subList(10, 160));
    }

    /** The ids of the events a stream expected to receive within 30 s; the stream is then cancelled. */
    private static List<String> receivedIds(HttpResponse<Lines> r) throws Exception {
        assertThat(r.body().awaitExpected(Duration.ofSeconds(30))).isTrue();
        List<String> got = new ArrayList<>();
        for (String line : r.body().drainNonBlank()) {
            got.add(JSON.readTree(line).get("id").asText());
        }
        r.body().cancel();
        return got;
    }

    @Test
    void malformedIdsGet400() throws Exception {
        JdkClient c = client("h2");
        String t = topic();
        idOf(post(c, t, "{}"));
        for (String bad : List.of("abc", "1-", "-1", "1-2-3", "1.5-0", "18446744073709551616-0", "%20x")) {
            HttpResponse<String> r = c.client().send(HttpRequest.newBuilder(c.uri("/topics/" + t + "?since=" + bad))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(bad).isEqualTo(400);
            assertThat(JSON.readTree(r.body()).get("error").asText()).isEqualTo("bad event id");
        }
        HttpResponse<String> header = c.client().send(HttpRequest.newBuilder(c.uri("/topics/" + t))
                .header("Last-Event-ID", "nope").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(header.statusCode()).isEqualTo(400);
        assertThat(TOPICS.hub().subscribers(t)).isEmpty();
    }

    /**
     * A well-formed id the store does not have (newer than the topic's last event: the store lost its tail, was
     * flushed or restored) is treated like one older than the retention: 200, a reset, the retained events from the
     * oldest, then live ones. A 400 would end an EventSource for good.
     */
    @Test
    void unknownWellFormedIdsGetAResetThenTheRetainedEvents() throws Exception {
        JdkClient c = client("h2");
        String t = topic();
        String first = idOf(post(c, t, "{\"n\":1}"));
        String second = idOf(post(c, t, "{\"n\":2}"));
        long ms = Long.parseLong(second.substring(0, second.indexOf('-')));
        for (String unknown : List.of((ms + 60_000) + "-0", ms + "-999999", "99999999999999-0")) {
            HttpResponse<Lines> r = Lines.open(c, "/topics/" + t + "?since=" + unknown, Map.of());
            assertThat(r.statusCode()).as(unknown).isEqualTo(200);
            JsonNode reset = JSON.readTree(r.body().next());
            assertThat(reset.get("type").asText()).as(unknown).isEqualTo("reset");
            assertThat(reset.get("reason").asText()).isEqualTo("event " + unknown + " is not in the store (newer than"
                    + " its last event, or lost with its data); replaying from the oldest retained event");
            assertThat(reset.get("oldest").asText()).isEqualTo(first);
            assertThat(JSON.readTree(r.body().next()).get("id").asText()).isEqualTo(first);
            assertThat(JSON.readTree(r.body().next()).get("id").asText()).isEqualTo(second);
            r.body().cancel();
        }

        // EventSource's reconnect: the same by Last-Event-ID over SSE, and live events follow
        HttpResponse<Lines> sse = Lines.open(c, "/topics/" + t,
                Map.of("Accept", "text/event-stream", "Last-Event-ID", (ms + 60_000) + "-0"));
        assertThat(sse.statusCode()).isEqualTo(200);
        assertThat(sse.body().nextSse()).containsExactly("retry: 2500");
        List<String> reset = sse.body().nextSse();
        assertThat(reset).hasSize(2);
        assertThat(reset.get(0)).isEqualTo("event: reset");
        assertThat(reset.get(1)).startsWith("data: {\"reason\":\"event " + (ms + 60_000) + "-0 is not in the store")
                .endsWith(",\"oldest\":\"" + first + "\"}");
        assertThat(sse.body().nextSse()).containsExactly("id: " + first, "event: message", "data: {\"n\":1}");
        assertThat(sse.body().nextSse()).containsExactly("id: " + second, "event: message", "data: {\"n\":2}");
        String live = idOf(post(c, t, "{\"n\":3}"));
        assertThat(sse.body().nextSse()).containsExactly("id: " + live, "event: message", "data: {\"n\":3}");
        sse.body().cancel();

        // a topic the store has no event of: the reset names no oldest, then the stream is live
        String empty = topic();
        HttpResponse<Lines> nd = Lines.open(c, "/topics/" + empty + "?since=" + (ms + 60_000) + "-0", Map.of());
        assertThat(nd.statusCode()).isEqualTo(200);
        JsonNode emptyReset = JSON.readTree(nd.body().next());
        assertThat(emptyReset.get("type").asText()).isEqualTo("reset");
        assertThat(emptyReset.get("oldest").isNull()).as(emptyReset.toString()).isTrue();
        String next = idOf(post(c, empty, "{\"n\":1}"));
        assertThat(JSON.readTree(nd.body().next()).get("id").asText()).isEqualTo(next);
        nd.body().cancel();
    }

    @Test
    void sseFieldsMultiLineDataRetryAndResumeByLastEventId() throws Exception {
        JdkClient c = client("h2");
        String t = topic();
        HttpResponse<Lines> sub = Lines.open(c, "/topics/" + t, Map.of("Accept", "text/event-stream"));
        assertThat(sub.headers().firstValue("content-type")).hasValue("text/event-stream; charset=utf-8");
        assertThat(sub.body().nextSse()).containsExactly("retry: 2500");
        String pretty = "{\n  \"a\": 1,\r\n  \"b\": [\"x\", \"y\"]\n}";
        String id = idOf(post(c, t, pretty));
        assertThat(sub.body().nextSse()).containsExactly("id: " + id, "event: message", "data: {",
                "data:   \"a\": 1,", "data:   \"b\": [\"x\", \"y\"]", "data: }");
        String id2 = idOf(post(c, t, "[1,2]"));
        assertThat(sub.body().nextSse()).containsExactly("id: " + id2, "event: message", "data: [1,2]");
        sub.body().cancel();

        String id3 = idOf(post(c, t, "\"three\""));
        HttpResponse<Lines> resumed = Lines.open(c, "/topics/" + t,
                Map.of("Accept", "text/event-stream", "Last-Event-ID", id));
        assertThat(resumed.body().nextSse()).containsExactly("retry: 2500");
        assertThat(resumed.body().nextSse()).containsExactly("id: " + id2, "event: message", "data: [1,2]");
        assertThat(resumed.body().nextSse()).containsExactly("id: " + id3, "event: message", "data: \"three\"");
        resumed.body().cancel();

        // NDJSON flattens the same multi-line document onto one line
        HttpResponse<Lines> nd = Lines.open(c, "/topics/" + t + "?since=" + id2, Map.of());
        assertThat(JSON.readTree(nd.body().next()).get("data").asText()).isEqualTo("three");
        nd.body().cancel();
        HttpResponse<Lines> nd2 = Lines.open(c, "/topics/" + t, Map.of("accept", "application/x-ndjson"));
        idOf(post(c, t, pretty));
        String line = nd2.body().next();
        assertThat(line).doesNotContain("\n", "\r");
        assertThat(JSON.readTree(line).get("data").get("b").get(1).asText()).isEqualTo("y");
        nd2.body().cancel();
    }

    @Test
    void heartbeatsKeepIdleStreamsAlive() throws Exception {
        JdkClient c = client("h2");
        String t = topic();
        HttpResponse<Lines> nd = Lines.open(c, "/topics/" + t, Map.of());
        HttpResponse<Lines> sse = Lines.open(c, "/topics/" + t, Map.of("Accept", "text/event-stream"));
        long start = System.nanoTime();
        assertThat(nd.body().nextRaw()).isEmpty();
        assertThat(nd.body().nextRaw()).isEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        assertThat(sse.body().nextRaw()).isEqualTo("retry: 2500");
        assertThat(sse.body().nextRaw()).isEmpty();
        assertThat(sse.body().nextRaw()).isEqualTo(": hb");
        assertThat(sse.body().nextRaw()).isEmpty();
        nd.body().cancel();
        sse.body().cancel();
    }

    @Test
    void otherMethodsGet405WithAllow() throws Exception {
        JdkClient c = client("h2");
        for (String m : List.of("PUT", "DELETE", "PATCH")) {
            HttpResponse<String> r = c.client().send(HttpRequest.newBuilder(c.uri("/topics/x"))
                    .method(m, HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(m).isEqualTo(405);
            assertThat(r.headers().firstValue("allow")).hasValue("GET, HEAD, POST, OPTIONS");
        }
    }

    /** As on /msgs: OPTIONS is 204 with Allow, and subscribes or stores nothing. */
    @Test
    void optionsGets204WithAllow() throws Exception {
        JdkClient c = client("h2");
        String t = topic();
        HttpResponse<String> r = c.client().send(HttpRequest.newBuilder(c.uri("/topics/" + t))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(204);
        assertThat(r.headers().firstValue("allow")).hasValue("GET, HEAD, POST, OPTIONS");
        assertThat(r.body()).isEmpty();
        assertThat(TOPICS.hub().subscribers(t)).isEmpty();
        assertThat(LOG.latest(t, 1).get(10, TimeUnit.SECONDS)).isEmpty();
    }

    /** RFC 9110 §9.1, §9.3.2: HEAD where GET is, with the GET's headers, no length, no body, no subscription. */
    @ParameterizedTest
    @ValueSource(strings = {"h2", "h2c-upgrade", "http/1.1", "https/1.1"})
    void headAnswersTheStreamsHeadersWithoutSubscribing(String protocol) throws Exception {
        JdkClient c = client(protocol);
        String t = topic();
        for (Map.Entry<String, String> accept : Map.of("application/x-ndjson", "application/x-ndjson; charset=utf-8",
                "text/event-stream", "text/event-stream; charset=utf-8").entrySet()) {
            HttpResponse<String> r = c.client().send(HttpRequest.newBuilder(c.uri("/topics/" + t))
                    .timeout(Duration.ofSeconds(10)).header("accept", accept.getKey())
                    .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(accept.getKey()).isEqualTo(200);
            assertThat(r.headers().firstValue("content-type")).hasValue(accept.getValue());
            assertThat(r.headers().firstValue("cache-control")).hasValue("no-store");
            assertThat(r.headers().firstValue("content-length")).as("the GET has none").isEmpty();
            assertThat(r.body()).isEmpty();
        }
        assertThat(TOPICS.hub().subscribers(t)).isEmpty();
        HttpResponse<String> bad = c.client().send(HttpRequest.newBuilder(c.uri("/topics/" + t + "?since=nope"))
                .timeout(Duration.ofSeconds(10)).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(bad.statusCode()).as("as the GET would").isEqualTo(400);
        // a well-formed id the store does not have: the GET answers 200 (with a reset), and so does the HEAD
        for (Map<String, String> unknown : List.of(Map.of("Last-Event-ID", "99999999999999-0"), Map.<String, String>of())) {
            HttpRequest.Builder rb = HttpRequest.newBuilder(c.uri("/topics/" + t
                            + (unknown.isEmpty() ? "?since=99999999999999-0" : "")))
                    .timeout(Duration.ofSeconds(10)).method("HEAD", HttpRequest.BodyPublishers.noBody());
            unknown.forEach(rb::header);
            HttpResponse<String> r = c.client().send(rb.build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as("unknown id, %s", unknown).isEqualTo(200);
        }
        assertThat(TOPICS.hub().subscribers(t)).isEmpty();
    }

    static byte[] bytes(int... b) {
        byte[] out = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = (byte) b[i];
        }
        return out;
    }

    record Bad(String name, String path, String contentType, byte[] body, int status) {
        static Bad of(String name, String body, int status) {
            return new Bad(name, "/topics/victim", "application/json", body.getBytes(StandardCharsets.UTF_8), status);
        }
    }

    @Test
    void badPublishesGetTheRight4xxAndNothingIsStored() throws Exception {
        JdkClient c = client("h2");
        String json = "application/json";
        List<Bad> cases = List.of(
                Bad.of("truncated object", "{", 400),
                Bad.of("trailing garbage", "{} x", 400),
                Bad.of("two values", "1 2", 400),
                Bad.of("empty body", "", 400),
                Bad.of("only whitespace", "  \n ", 400),
                Bad.of("single quotes", "{'a':1}", 400),
                Bad.of("NaN", "NaN", 400),
                Bad.of("comment", "/* x */ 1", 400),
                Bad.of("control character in string", "\"a\u0001b\"", 400),
                Bad.of("raw newline in string", "\"a\nb\"", 400),
                Bad.of("unterminated string", "\"abc", 400),
                Bad.of("duplicate key", "{\"a\":1,\"a\":2}", 400),
                Bad.of("leading zero", "012", 400),
                Bad.of("bare word", "hello", 400),
                Bad.of("too deep", "[".repeat(5000) + "]".repeat(5000), 400),
                Bad.of("number too long", "1".repeat(5000), 400),
                Bad.of("lone high surrogate escape", "{\"a\":\"\\ud800\"}", 400),
                Bad.of("lone low surrogate escape", "[\"x\\udc00y\"]", 400),
                Bad.of("reversed surrogate pair", "\"\\ude00\\ud83d\"", 400),
                Bad.of("lone surrogate in a name", "{\"\\ud83d\":1}", 400),
                new Bad("invalid UTF-8", "/topics/victim", json, bytes('"', 0xC3, 0x28, '"'), 400),
                new Bad("UTF-8 surrogate", "/topics/victim", json, bytes('"', 0xED, 0xA0, 0x80, '"'), 400),
                new Bad("overlong UTF-8", "/topics/victim", json, bytes('"', 0xC0, 0xAF, '"'), 400),
                new Bad("byte order mark", "/topics/victim", json, bytes(0xEF, 0xBB, 0xBF, '{', '}'), 400),
                new Bad("text/plain", "/topics/victim", "text/plain", "{}".getBytes(), 415),
                new Bad("no content type", "/topics/victim", null, "{}".getBytes(), 415),
                new Bad("latin-1 charset", "/topics/victim", "application/json; charset=iso-8859-1", "{}".getBytes(),
                        415),
                new Bad("form", "/topics/victim", "application/x-www-form-urlencoded", "a=1".getBytes(), 415),
                new Bad("over maxEventBytes", "/topics/victim", json,
                        ("\"" + "x".repeat(64 * 1024) + "\"").getBytes(), 413),
                new Bad("1 MiB", "/topics/victim", json, ("\"" + "x".repeat((1 << 20) - 2) + "\"").getBytes(), 413),
                new Bad("space in topic", "/topics/a%20b", json, "{}".getBytes(), 400),
                new Bad("slash in topic", "/topics/a/b", json, "{}".getBytes(), 400),
                new Bad("empty topic", "/topics/", json, "{}".getBytes(), 400),
                new Bad("huge topic name", "/topics/" + "a".repeat(129), json, "{}".getBytes(), 400),
                new Bad("non-ASCII topic", "/topics/%C3%A4", json, "{}".getBytes(), 400),
                new Bad("topic .", "/topics/.", json, "{}".getBytes(), 400),
                new Bad("topic ..", "/topics/..", json, "{}".getBytes(), 400));
        assertThat(cases).hasSizeGreaterThanOrEqualTo(20);
        HttpResponse<Lines> watcher = Lines.open(c, "/topics/victim", Map.of());
        for (Bad b : cases) {
            HttpRequest.Builder rb = HttpRequest.newBuilder(c.uri(b.path()))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(b.body()));
            if (b.contentType() != null) {
                rb.header("content-type", b.contentType());
            }
            HttpResponse<String> r = c.client().send(rb.build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(b.name() + ": " + r.body()).isEqualTo(b.status());
            JsonNode err = JSON.readTree(r.body());
            assertThat(err.has("error") && err.has("detail")).as(b.name() + ": " + r.body()).isTrue();
            if (b.name().contains("surrogate escape") || b.name().contains("surrogate pair")) {
                assertThat(err.get("detail").asText()).as(b.name()).contains("unpaired surrogate")
                        .endsWith("(expected: valid Unicode)");
            }
            if (b.name().startsWith("topic .")) {
                assertThat(err.get("detail").asText()).as(b.name()).endsWith("not . or ..)");
            }
        }
        assertThat(LOG.latest("victim", 10).get(10, TimeUnit.SECONDS)).isEmpty();
        for (String other : List.of("a", "b", "a%20b", "\u00e4", "a".repeat(128), ".", "..")) {
            assertThat(LOG.latest(other, 10).get(10, TimeUnit.SECONDS)).as(other).isEmpty();
        }
        // a good publish afterwards is the first thing the watcher sees
        String id = idOf(post(c, "victim", "{\"ok\":true}"));
        assertThat(JSON.readTree(watcher.body().next()).get("id").asText()).isEqualTo(id);
        watcher.body().cancel();
    }
}
