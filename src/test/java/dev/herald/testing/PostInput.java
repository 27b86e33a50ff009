package dev.herald.testing;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A fuzz input read as a POST: a content type, a NUL byte, then the body; without a NUL it is all body, sent as
 * {@code application/json}, so that a seed can be a plain JSON file.
 *
 * @param contentType the content type, its bytes read as ISO-8859-1 (as a header value arrives)
 * @param body        the body's bytes
 */
public record PostInput(String contentType, byte[] body) {
    /** Splits a fuzz input at its first NUL byte. */
    public static PostInput of(byte[] input) {
        for (int i = 0; i < input.length; i++) {
            if (input[i] == 0) {
                return new PostInput(new String(input, 0, i, StandardCharsets.ISO_8859_1),
                        Arrays.copyOfRange(input, i + 1, input.length));
            }
        }
        return new PostInput("application/json", input);
    }
}
