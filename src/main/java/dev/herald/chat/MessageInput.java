package dev.herald.chat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import dev.herald.stream.JsonCheck;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Validates what a client posts to /msgs (and what arrives on the "chat" topic by other paths), so that nothing
 * malformed is ever stored or shown. Each failure is a {@link Rejected} with the HTTP status and a message that
 * says what to fix.
 */
final class MessageInput {
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private MessageInput() {
    }

    /** A valid message: user and text, checked. */
    record Valid(String user, String text) {
    }

    /** Why input was refused: the status and the JSON error document's two fields. */
    static final class Rejected extends Exception {
        private static final long serialVersionUID = 1L;
        final int status;
        final String error;

        Rejected(int status, String error, String detail) {
            super(detail, null, false, false);
            this.status = status;
            this.error = error;
        }

        String detail() {
            return getMessage();
        }
    }

    /** Checks a POST: content type, size, UTF-8, JSON object, then the fields. */
    static Valid parseRequest(String contentType, byte[] body, ChatSettings s) throws Rejected {
        checkContentType(contentType);
        if (body.length > s.maxBodyBytes()) {
            throw new Rejected(413, "payload too large",
                    "the body has " + body.length + " bytes (expected: at most " + s.maxBodyBytes() + ")");
        }
        if (body.length == 0) {
            throw new Rejected(400, "invalid message", "the body is empty (expected: a JSON object {\"user\",\"text\"})");
        }
        String json;
        try {
            json = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            throw new Rejected(400, "invalid message", "the body is not valid UTF-8");
        }
        JsonNode node;
        try {
            node = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new Rejected(400, "invalid JSON", JsonCheck.describe(e));
        }
        if (node == null || !node.isObject()) {
            throw new Rejected(400, "invalid message",
                    "the body is " + (node == null ? "empty" : "a JSON " + node.getNodeType().name().toLowerCase(Locale.ROOT))
                            + " (expected: a JSON object {\"user\",\"text\"})");
        }
        return fields(node, s);
    }

    /** Checks the two fields of a parsed object. */
    static Valid fields(JsonNode node, ChatSettings s) throws Rejected {
        String user = string(node, "user", s.maxUserChars(), false);
        String text = string(node, "text", s.maxTextChars(), true);
        return new Valid(user, text);
    }

    private static String string(JsonNode node, String name, int max, boolean newlines) throws Rejected {
        JsonNode v = node.get(name);
        if (v == null || v.isNull()) {
            throw new Rejected(400, "invalid message", "\"" + name + "\" is missing (expected: a non-empty string)");
        }
        if (!v.isTextual()) {
            throw new Rejected(400, "invalid message", "\"" + name + "\" is " + withArticle(v.getNodeType())
                    + " (expected: a non-empty string)");
        }
        String s = v.textValue();
        if (blank(s)) {
            throw new Rejected(400, "invalid message", "\"" + name + "\" is empty (expected: a non-empty string)");
        }
        int unpaired = JsonCheck.unpairedSurrogate(s);
        if (unpaired >= 0) {
            throw new Rejected(400, "invalid message", "\"" + name + "\" contains an unpaired surrogate at "
                    + unpaired + " (expected: valid Unicode)");
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i); // every control character is in the BMP, and a surrogate half is none
            if (Character.getType(c) == Character.CONTROL && !(newlines && c == '\n')) {
                throw new Rejected(400, "invalid message", String.format(Locale.ROOT,
                        "\"%s\" contains the control character U+%04X at %d (expected: none%s)", name, (int) c, i,
                        newlines ? " except \\n" : ""));
            }
        }
        int codePoints = s.codePointCount(0, s.length());
        if (codePoints > max) {
            throw new Rejected(400, "invalid message", "\"" + name + "\" has " + codePoints
                    + " characters (expected: at most " + max + ")");
        }
        return s;
    }

    /**
     * Whether {@code s} shows nothing: only Unicode white space and format characters. {@link String#isBlank}
     * misses the no-break spaces (U+00A0, U+2007, U+202F), which {@link Character#isSpaceChar} counts, and the
     * invisible format characters (category Cf: U+200B zero width space, U+200C/U+200D zero width (non-)joiner,
     * U+2060 word joiner, U+FEFF), so a user of only U+00A0 or only U+200B is blank.
     */
    static boolean blank(String s) {
        return s.codePoints().allMatch(c -> Character.isWhitespace(c) || Character.isSpaceChar(c)
                || Character.getType(c) == Character.FORMAT);
    }

    /** "an array", "an object", "a number": a JSON value's type with its article, for messages. */
    static String withArticle(JsonNodeType type) {
        String name = type.name().toLowerCase(Locale.ROOT);
        return (type == JsonNodeType.ARRAY || type == JsonNodeType.OBJECT ? "an " : "a ") + name;
    }

    /** application/json or any +json type; a charset other than UTF-8 is refused. */
    static void checkContentType(String contentType) throws Rejected {
        if (contentType == null || contentType.isBlank()) {
            throw new Rejected(415, "unsupported media type", "no content-type (expected: application/json)");
        }
        String[] parts = contentType.split(";", -1); // -1: ";" alone is one empty type, not no parts
        String type = parts[0].trim().toLowerCase(Locale.ROOT);
        if (!type.equals("application/json") && !(type.startsWith("application/") && type.endsWith("+json"))) {
            throw new Rejected(415, "unsupported media type",
                    "content-type " + type + " (expected: application/json)");
        }
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i].trim();
            int eq = p.indexOf('=');
            if (eq > 0 && p.substring(0, eq).trim().equalsIgnoreCase("charset")) {
                String cs = p.substring(eq + 1).trim().replace("\"", "");
                if (!cs.equalsIgnoreCase("utf-8") && !cs.equalsIgnoreCase("utf8")) {
                    throw new Rejected(415, "unsupported media type", "charset " + cs + " (expected: utf-8)");
                }
            }
        }
    }
}
