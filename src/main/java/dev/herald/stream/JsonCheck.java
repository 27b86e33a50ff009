package dev.herald.stream;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;

import dev.herald.store.StoredData;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Strict validation of one JSON document (RFC 8259) by streaming over it, without building a tree, and the two
 * checks the chat's validation shares with it: unpaired surrogates and a parser error told without the parser's
 * internals.
 */
public final class JsonCheck {
    private static final JsonFactory FACTORY = JsonFactory.builder()
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();
    /** Jackson's "(start marker at [Source: REDACTED (...); line: 1, column: 1])": where the open bracket was. */
    private static final Pattern START_MARKER =
            Pattern.compile("\\s*\\(start marker at \\[Source:[^\\]]*?line: (\\d+), column: (\\d+)\\]\\)");
    /** Jackson's advice to turn on a feature or where a limit comes from: ": enable `X` to allow", ", from `X`". */
    private static final Pattern INTERNALS = Pattern.compile(":? ?(?:enable|use) `[^`]*`[^;:]*|,? from `[^`]*`");

    private JsonCheck() {
    }

    /** {@code null} when {@code body} is exactly one valid JSON value in UTF-8; otherwise what is wrong. */
    static String problem(byte[] body) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body));
        } catch (CharacterCodingException e) {
            return "the body is not valid UTF-8";
        }
        for (byte b : body) {
            // Never valid in JSON (a control character outside a string), yet Jackson's streaming parser ends the
            // document at a NUL after a root value ("2\0" passed), and the NUL was stored and sent on.
            if (b == 0) {
                return "a NUL byte is not allowed in JSON";
            }
        }
        if (body.length >= 3 && (body[0] & 0xff) == 0xEF && (body[1] & 0xff) == 0xBB && (body[2] & 0xff) == 0xBF) {
            return "a byte order mark is not allowed";
        }
        try (JsonParser p = FACTORY.createParser(body)) {
            return StoredData.oneValue(p, s -> {
                // An escape such as \ud800 is well-formed JSON but no Unicode: strict consumers refuse the event
                // (Rust's serde_json) or silently change it (Go: U+FFFD), so it is never stored. (In a name,
                // Jackson refuses it itself.)
                int at = unpairedSurrogate(CharBuffer.wrap(s.getTextCharacters(), s.getTextOffset(),
                        s.getTextLength()));
                if (at < 0) {
                    return null;
                }
                JsonLocation l = s.currentTokenLocation();
                return String.format(Locale.ROOT, "the string at line %d column %d contains an unpaired"
                                + " surrogate U+%04X at %d (expected: valid Unicode)", l.getLineNr(),
                        l.getColumnNr(), (int) s.getTextCharacters()[s.getTextOffset() + at], at);
            });
        } catch (JsonProcessingException e) {
            return describe(e);
        } catch (IOException e) {
            return "the body is not valid JSON: " + e.getMessage();
        }
    }

    /**
     * The index in {@code s} of the first surrogate that is not half of a high-low pair, or -1 when there is none
     * (the text is valid Unicode and survives a round trip through UTF-8).
     */
    public static int unpairedSurrogate(CharSequence s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * What a JSON parser refused, for a client: Jackson's message without its internals (the redacted source,
     * feature and constraint names), "at line L column C", for example "the body is not valid JSON: unexpected
     * end of input: expected close marker for Object (opened at line 1 column 1) at line 1 column 12".
     */
    public static String describe(JsonProcessingException e) {
        String m = e.getOriginalMessage();
        m = START_MARKER.matcher(m == null ? "" : m).replaceAll(" (opened at line $1 column $2)");
        m = INTERNALS.matcher(m).replaceAll("").replace("end-of-input", "end of input").strip();
        if (!m.isEmpty()) {
            m = Character.toLowerCase(m.charAt(0)) + m.substring(1);
        }
        JsonLocation l = e.getLocation();
        String at = l == null || l.getLineNr() < 1 ? "" : " at line " + l.getLineNr() + " column " + l.getColumnNr();
        return "the body is not valid JSON: " + m + at;
    }
}
