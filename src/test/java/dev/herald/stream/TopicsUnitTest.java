package dev.herald.stream;

import dev.herald.store.Event;
import dev.herald.store.EventId;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Wire encoding, JSON validation, content types and settings validation, without a server. */
class TopicsUnitTest {
    static String s(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    @Test
    void ndjsonEmbedsDataAsJsonOnOneLine() {
        Event e = new Event(EventId.of(5, 2), "t", "{\n \"a\": [1,\r\n2]\n}", 99);
        assertThat(s(Format.NDJSON.event(e))).isEqualTo("{\"id\":\"5-2\",\"topic\":\"t\",\"data\":{  \"a\": [1,  2] },\"time\":99}\n");
        assertThat(s(Format.NDJSON.heartbeat())).isEqualTo("\n");
        assertThat(s(Format.NDJSON.control("slow", "{\"lastId\":\"1-0\"}"))).isEqualTo("{\"type\":\"slow\",\"lastId\":\"1-0\"}\n");
        assertThat(Format.NDJSON.preamble(3000)).isNull();
    }

    @Test
    void sseSplitsEveryLineIntoItsOwnDataField() {
        Event e = new Event(EventId.of(5, 2), "t", "{\n\"a\": 1\r\n}", 99);
        assertThat(s(Format.SSE.event(e))).isEqualTo("id: 5-2\nevent: message\ndata: {\ndata: \"a\": 1\ndata: }\n\n");
        assertThat(s(Format.SSE.heartbeat())).isEqualTo(": hb\n\n");
        assertThat(s(Format.SSE.control("reset", "{\"reason\":\"x\"}"))).isEqualTo("event: reset\ndata: {\"reason\":\"x\"}\n\n");
        assertThat(s(Format.SSE.preamble(1500))).isEqualTo("retry: 1500\n\n");
    }

    @Test
    void acceptNegotiation() {
        assertThat(Format.negotiate("text/event-stream")).isEqualTo(Format.SSE);
        assertThat(Format.negotiate("text/html, text/event-stream;q=0.9")).isEqualTo(Format.SSE);
        assertThat(Format.negotiate("application/x-ndjson")).isEqualTo(Format.NDJSON);
        assertThat(Format.negotiate(null)).isEqualTo(Format.NDJSON);
        assertThat(Format.negotiate("*/*")).isEqualTo(Format.NDJSON);
    }

    @Test
    void jsonCheck() {
        assertThat(JsonCheck.problem("{\"a\":[1,2,{\"b\":null}]}".getBytes())).isNull();
        assertThat(JsonCheck.problem(" 42 ".getBytes())).isNull();
        assertThat(JsonCheck.problem("\"\u00e4\\u0000\"".getBytes(StandardCharsets.UTF_8))).isNull();
        assertThat(JsonCheck.problem("{} {}".getBytes())).contains("after the JSON value");
        // Found by TopicsPublishFuzzTest: a NUL after the value ended the document for the streaming parser.
        assertThat(JsonCheck.problem(new byte[] {'2', 0})).contains("NUL");
        assertThat(JsonCheck.problem(new byte[] {'{', '}', 0, ' '})).contains("NUL");
        assertThat(JsonCheck.problem("".getBytes())).contains("empty");
        assertThat(JsonCheck.problem(new byte[] {'"', (byte) 0xff, '"'})).contains("UTF-8");
        assertThat(JsonCheck.problem("{\"a\":1,\"a\":1}".getBytes()))
                .isEqualTo("the body is not valid JSON: duplicate field 'a' at line 1 column 11");
        // Escaped surrogates: a pair is one character, half of one is no Unicode (the chat refuses it too).
        assertThat(JsonCheck.problem("[\"\\ud83d\\ude00\", \"\ud83d\ude00\"]".getBytes(StandardCharsets.UTF_8)))
                .isNull();
        assertThat(JsonCheck.problem("{\"k\": [1, \"ab\\ud800\"]}".getBytes())).isEqualTo("the string at line 1"
                + " column 11 contains an unpaired surrogate U+D800 at 2 (expected: valid Unicode)");
        // in a name, Jackson's own check refuses it
        assertThat(JsonCheck.problem("{\"a\\udc00\": 1}".getBytes())).contains("surrogate");
        assertThat(JsonCheck.problem("[{\"a\\ud800b\": 1}]".getBytes())).contains("surrogate");
    }

    /** A parser's refusal told without Jackson's internals (redacted source, feature and constraint names). */
    @Test
    void jsonErrorsAreToldWithoutTheParsersInternals() {
        assertThat(JsonCheck.problem("{\"user\":\"ann\",".getBytes())).isEqualTo("the body is not valid JSON:"
                + " unexpected end of input within/between Object entries at line 1 column 15");
        assertThat(JsonCheck.problem("{\"a\":\n [1".getBytes())).isEqualTo("the body is not valid JSON:"
                + " unexpected end of input: expected close marker for Array (opened at line 2 column 2)"
                + " at line 2 column 4");
        assertThat(JsonCheck.problem("NaN".getBytes())).isEqualTo("the body is not valid JSON:"
                + " non-standard token 'NaN' at line 1 column 4");
        assertThat(JsonCheck.problem("[".repeat(1001).getBytes())).isEqualTo("the body is not valid JSON:"
                + " document nesting depth (1001) exceeds the maximum allowed (1000)"); // a limit: no location
        for (String bad : List.of("{\"a\":", "{'a':1}", "[1,]", "\"a\nb\"", "tru", "{\"a\" 1}")) {
            assertThat(JsonCheck.problem(bad.getBytes())).as(bad).startsWith("the body is not valid JSON: ")
                    .doesNotContain("Source", "REDACTED", "`", "Feature", "Constraints").containsPattern(
                            " at line \\d+ column \\d+$");
        }
    }

    @Test
    void contentTypes() {
        assertThat(TopicsHandler.isJson("application/json")).isTrue();
        assertThat(TopicsHandler.isJson("Application/JSON; charset=UTF-8")).isTrue();
        assertThat(TopicsHandler.isJson("application/merge-patch+json")).isTrue();
        assertThat(TopicsHandler.isJson("application/json; charset=latin1")).isFalse();
        assertThat(TopicsHandler.isJson("text/json")).isFalse();
        assertThat(TopicsHandler.isJson(null)).isFalse();
        // Found by MessageInputFuzzTest (the same split in the chat): ";" used to throw instead of answering false.
        assertThat(TopicsHandler.isJson(";")).isFalse();
        assertThat(TopicsHandler.isJson(";;;")).isFalse();
        assertThat(TopicsHandler.refusal(";", "{}".getBytes(), 64)).extracting(TopicsHandler.Refusal::status)
                .isEqualTo(415);
    }

    @Test
    void queryParameters() {
        assertThat(TopicsHandler.queryParam("a=1&since=5-0", "since")).isEqualTo("5-0");
        assertThat(TopicsHandler.queryParam("since=5%2D0", "since")).isEqualTo("5-0");
        assertThat(TopicsHandler.queryParam("sincere=1", "since")).isNull();
        assertThat(TopicsHandler.queryParam(null, "since")).isNull();
    }

    @Test
    void topicNames() {
        assertThat(TopicHub.validTopic("a.b_c-D9")).isTrue();
        assertThat(TopicHub.validTopic("x".repeat(128))).isTrue();
        assertThat(TopicHub.validTopic("x".repeat(129))).isFalse();
        assertThat(TopicHub.validTopic("")).isFalse();
        assertThat(TopicHub.validTopic("a/b")).isFalse();
        assertThat(TopicHub.validTopic("a b")).isFalse();
        // dot segments: clients remove them from the path (RFC 3986 §5.2.4), so no browser could reach the topic
        assertThat(TopicHub.validTopic(".")).isFalse();
        assertThat(TopicHub.validTopic("..")).isFalse();
        assertThat(TopicHub.validTopic("...")).isTrue();
        assertThat(TopicHub.validTopic(".a")).isTrue();
        assertThat(TopicHub.validTopic("..a")).isTrue();
    }

    @Test
    void settingsAreValidatedWithTheirNames() {
        StreamSettings d = StreamSettings.defaults();
        assertThat(d.heartbeat()).isEqualTo(Duration.ofSeconds(20));
        assertThatThrownBy(() -> d.withLag(0, 1 << 20)).hasMessage("maxLagEvents: 0 (expected: > 0)");
        assertThatThrownBy(() -> d.withLag(10, 10)).hasMessageStartingWith("maxLagBytes: 10 (expected: >= maxEventBytes");
        assertThatThrownBy(() -> d.withLimits(0, 1)).hasMessage("maxSubscribers: 0 (expected: > 0)");
        assertThatThrownBy(() -> d.withHeartbeat(Duration.ZERO)).hasMessageStartingWith("heartbeat: PT0S");
        assertThatThrownBy(() -> d.withTokens(Optional.empty(), Optional.empty(), Optional.of(Pattern.compile("p.*"))))
                .hasMessageContaining("subscribeToken");
        assertThat(d.withTokens(Optional.of("secret"), Optional.empty(), Optional.empty()).toString())
                .doesNotContain("secret");
    }
}
