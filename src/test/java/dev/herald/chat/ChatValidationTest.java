package dev.herald.chat;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.store.EventLog;
import dev.herald.testing.HeraldExtension;
import dev.herald.testing.JdkClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Bad POSTs to /msgs: each gets the right 4xx with {"error","detail"}, and nothing is stored. */
class ChatValidationTest {
    static final Duration WAIT = Duration.ofSeconds(10);
    static final ObjectMapper JSON = new ObjectMapper();
    static final String JSON_TYPE = "application/json";
    static EventLog log;
    static ChatHandler chat;

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.site("basic").routes(b -> {
        log = ChatLogs.open(ChatValidationTest.HERALD.dataDir());
        chat = new ChatHandler(log, ChatSettings.defaults());
        b.route("/msgs", chat);
    });

    @AfterAll
    static void closeLog() throws Exception {
        chat.close();
        log.close();
    }

    static Arguments bad(String name, String contentType, byte[] body, int status) {
        return Arguments.of(name, contentType, body, status);
    }

    static Arguments bad(String name, String body, int status) {
        return bad(name, JSON_TYPE, body.getBytes(UTF_8), status);
    }

    static byte[] bytes(int... b) {
        byte[] r = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            r[i] = (byte) b[i];
        }
        return r;
    }

    static byte[] concat(String a, byte[] mid, String b) {
        byte[] x = a.getBytes(UTF_8);
        byte[] z = b.getBytes(UTF_8);
        byte[] r = Arrays.copyOf(x, x.length + mid.length + z.length);
        System.arraycopy(mid, 0, r, x.length, mid.length);
        System.arraycopy(z, 0, r, x.length + mid.length, z.length);
        return r;
    }

    static Stream<Arguments> badInputs() {
        String ok = "{\"user\":\"ann\",\"text\":\"hi\"}";
        byte[] oneMiB = new byte[1 << 20];
        Arrays.fill(oneMiB, (byte) ' ');
        byte[] mib = concat("{\"user\":\"ann\",\"text\":\"hi\"", Arrays.copyOf(oneMiB, (1 << 20) - 27), "}");
        return Stream.of(
                bad("truncated JSON", "{\"user\":\"ann\",\"text\":", 400),
                bad("not JSON at all", "hello", 400),
                bad("single quotes", "{'user':'ann','text':'hi'}", 400),
                bad("JSON array", "[\"ann\",\"hi\"]", 400),
                bad("JSON string", "\"ann: hi\"", 400),
                bad("JSON number", "42", 400),
                bad("JSON null", "null", 400),
                bad("empty body", "", 400),
                bad("only whitespace", "   \n", 400),
                bad("user missing", "{\"text\":\"hi\"}", 400),
                bad("text missing", "{\"user\":\"ann\"}", 400),
                bad("user is a number", "{\"user\":7,\"text\":\"hi\"}", 400),
                bad("user is null", "{\"user\":null,\"text\":\"hi\"}", 400),
                bad("text is an object", "{\"user\":\"ann\",\"text\":{\"a\":1}}", 400),
                bad("text is an array", "{\"user\":\"ann\",\"text\":[\"hi\"]}", 400),
                bad("text is a boolean", "{\"user\":\"ann\",\"text\":true}", 400),
                bad("user empty", "{\"user\":\"\",\"text\":\"hi\"}", 400),
                bad("text empty", "{\"user\":\"ann\",\"text\":\"\"}", 400),
                bad("text only spaces", "{\"user\":\"ann\",\"text\":\"   \"}", 400),
                bad("user only no-break spaces", "{\"user\":\"\\u00a0\\u00a0\",\"text\":\"hi\"}", 400),
                bad("user only U+00A0 as raw UTF-8", "{\"user\":\"\u00a0\",\"text\":\"hi\"}", 400),
                bad("text only NBSP and ideographic space", "{\"user\":\"ann\",\"text\":\"\u00a0\u3000\u202f\"}", 400),
                // invisible format characters (Unicode category Cf) count as white space for emptiness
                bad("user only a zero width space", "{\"user\":\"\\u200b\",\"text\":\"hi\"}", 400),
                bad("user only format characters", "{\"user\":\"\u200c\u200d\u2060\ufeff\",\"text\":\"hi\"}", 400),
                bad("text only zero width spaces and blanks", "{\"user\":\"ann\",\"text\":\"\u200b \u200b\"}", 400),
                bad("user too long", "{\"user\":\"" + "u".repeat(65) + "\",\"text\":\"hi\"}", 400),
                bad("text too long", "{\"user\":\"ann\",\"text\":\"" + "t".repeat(2001) + "\"}", 400),
                bad("newline in user", "{\"user\":\"a\\nb\",\"text\":\"hi\"}", 400),
                bad("NUL in text", "{\"user\":\"ann\",\"text\":\"a\\u0000b\"}", 400),
                bad("BEL in text", "{\"user\":\"ann\",\"text\":\"a\\u0007b\"}", 400),
                bad("CR in text", "{\"user\":\"ann\",\"text\":\"a\\r\\nb\"}", 400),
                bad("ESC in user", "{\"user\":\"\\u001b[31mann\",\"text\":\"hi\"}", 400),
                bad("DEL in text", "{\"user\":\"ann\",\"text\":\"a\\u007fb\"}", 400),
                bad("C1 control in text", "{\"user\":\"ann\",\"text\":\"a\\u009bb\"}", 400),
                bad("tab in user", "{\"user\":\"a\\tb\",\"text\":\"hi\"}", 400),
                bad("unpaired surrogate", "{\"user\":\"ann\",\"text\":\"a\\ud800b\"}", 400),
                bad("invalid UTF-8 byte", JSON_TYPE, concat("{\"user\":\"ann\",\"text\":\"a", bytes(0xC3, 0x28), "\"}"), 400),
                bad("overlong UTF-8", JSON_TYPE, concat("{\"user\":\"ann\",\"text\":\"a", bytes(0xC0, 0xAF), "\"}"), 400),
                bad("UTF-8 surrogate bytes", JSON_TYPE, concat("{\"user\":\"ann\",\"text\":\"a", bytes(0xED, 0xA0, 0x80), "\"}"), 400),
                bad("trailing garbage", ok + " x", 400),
                bad("two documents", ok + ok, 400),
                bad("duplicate key", "{\"user\":\"ann\",\"user\":\"bob\",\"text\":\"hi\"}", 400),
                bad("17 KiB body", "{\"user\":\"ann\",\"text\":\"hi\",\"pad\":\"" + "p".repeat(17 * 1024) + "\"}", 413),
                bad("1 MiB body", JSON_TYPE, mib, 413),
                bad("text/plain", "text/plain; charset=utf-8", ok.getBytes(UTF_8), 415),
                bad("no content type", null, ok.getBytes(UTF_8), 415),
                bad("form encoded", "application/x-www-form-urlencoded", "user=ann&text=hi".getBytes(UTF_8), 415),
                bad("JSON in Latin-1", "application/json; charset=iso-8859-1", ok.getBytes(UTF_8), 415),
                // Found by MessageInputFuzzTest: split(";") of ";;" has no parts, and reading parts[0] threw.
                bad("only semicolons", ";;", ok.getBytes(UTF_8), 415),
                bad("xml", "application/xml", "<m user='ann'>hi</m>".getBytes(UTF_8), 415));
    }

    @ParameterizedTest(name = "{0} -> {3}")
    @MethodSource("badInputs")
    void isRefusedAndNothingIsStored(String name, String contentType, byte[] body, int status) throws Exception {
        int before = stored();
        JdkClient c = (JdkClient) HERALD.client("h2");
        HttpRequest.Builder rb = HttpRequest.newBuilder(c.uri("/msgs")).timeout(WAIT)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            rb.header("content-type", contentType);
        }
        HttpResponse<String> r = c.client().send(rb.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("%s: %s", name, r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
        JsonNode err = JSON.readTree(r.body());
        assertThat(err.get("error").asText()).isNotBlank();
        assertThat(err.get("detail").asText()).isNotBlank();
        assertThat(stored()).isEqualTo(before);
        assertThat(chat.messages()).hasSize(before);
    }

    @Test
    void theLimitsThemselvesAreAccepted() throws Exception {
        JdkClient c = (JdkClient) HERALD.client("h2");
        String body = JSON.createObjectNode().put("user", "😀".repeat(64)).put("text", "t\n".repeat(1000)).toString();
        HttpResponse<String> r = c.client().send(HttpRequest.newBuilder(c.uri("/msgs")).timeout(WAIT)
                .header("content-type", "application/merge-patch+json; charset=UTF-8")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        assertThat(JSON.readTree(r.body()).get("user").asText()).isEqualTo("😀".repeat(64));
    }

    /** The details say what is wrong in plain words: no parser internals, articles right. */
    @Test
    void detailsAreClean() throws Exception {
        assertThat(detail("{\"user\":\"ann\",\"text\":")).isEqualTo("the body is not valid JSON: unexpected end of"
                + " input within/between Object entries at line 1 column 22");
        assertThat(detail("{\"user\":\"ann\",\"text\":[")).isEqualTo("the body is not valid JSON: unexpected end of"
                + " input: expected close marker for Array (opened at line 1 column 22) at line 1 column 23");
        assertThat(detail("{\"user\":\"ann\" \"text\":\"hi\"}")).startsWith("the body is not valid JSON: ")
                .doesNotContain("Source", "REDACTED", "`").endsWith(" at line 1 column 15");
        assertThat(detail("{\"user\":[\"ann\"],\"text\":\"hi\"}"))
                .isEqualTo("\"user\" is an array (expected: a non-empty string)");
        assertThat(detail("{\"user\":\"ann\",\"text\":{\"a\":1}}"))
                .isEqualTo("\"text\" is an object (expected: a non-empty string)");
        assertThat(detail("{\"user\":7,\"text\":\"hi\"}"))
                .isEqualTo("\"user\" is a number (expected: a non-empty string)");
        assertThat(detail("{\"user\":\"\\u200b\",\"text\":\"hi\"}"))
                .isEqualTo("\"user\" is empty (expected: a non-empty string)");
        assertThat(detail("{\"user\":\"ann\",\"text\":\"a\\ud800b\"}"))
                .isEqualTo("\"text\" contains an unpaired surrogate at 1 (expected: valid Unicode)");
    }

    /** Format characters inside visible text stay: an emoji's zero width joiner, a word joiner between words. */
    @Test
    void formatCharactersNextToVisibleOnesAreAccepted() throws Exception {
        JdkClient c = (JdkClient) HERALD.client("h2");
        String user = "\ud83d\udc69\u200d\ud83d\udcbb"; // woman technologist: two emoji and a ZWJ
        String body = JSON.createObjectNode().put("user", user).put("text", "a\u2060b\u200b").toString();
        HttpResponse<String> r = c.client().send(HttpRequest.newBuilder(c.uri("/msgs")).timeout(WAIT)
                .header("content-type", JSON_TYPE).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        assertThat(JSON.readTree(r.body()).get("user").asText()).isEqualTo(user);
    }

    static String detail(String body) throws Exception {
        JdkClient c = (JdkClient) HERALD.client("h2");
        HttpResponse<String> r = c.client().send(HttpRequest.newBuilder(c.uri("/msgs")).timeout(WAIT)
                .header("content-type", JSON_TYPE).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        return JSON.readTree(r.body()).get("detail").asText();
    }

    static int stored() throws Exception {
        return log.latest(ChatHandler.TOPIC, 1000).get().size();
    }
}
