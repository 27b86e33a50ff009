package dev.herald.stream;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Strict validation of one JSON document (RFC 8259) by streaming over it, without building a tree. */
final class JsonCheck {
    private static final JsonFactory FACTORY = JsonFactory.builder()
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

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
            JsonToken t = p.nextToken();
            if (t == null) {
                return "the body is empty (expected: a JSON value)";
            }
            p.skipChildren();
            if (p.nextToken() != null) {
                return "unexpected content after the JSON value at offset " + p.currentTokenLocation().getByteOffset();
            }
            return null;
        } catch (JsonProcessingException e) {
            return "invalid JSON: " + e.getOriginalMessage();
        } catch (IOException e) {
            return "invalid JSON: " + e.getMessage();
        }
    }
}
