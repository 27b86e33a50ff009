package dev.herald.chat;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.herald.testing.PostInput;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/**
 * Fuzzes the /msgs publish body validator ({@link MessageInput#parseRequest}) with the default limits and with
 * tiny ones (user 4, text 8 characters, body 64 bytes) that short inputs can exceed. An input is a content type, a
 * NUL byte, then the body; without a NUL it is all body, sent as {@code application/json}. Seeds:
 * {@code src/test/resources/dev/herald/chat/MessageInputFuzzTestInputs/parseRequest/}.
 */
class MessageInputFuzzTest {
    private static final ChatSettings TINY = new ChatSettings(Duration.ofSeconds(20),
            ChatSettings.HeartbeatStyle.STATE, 10, 50, 4, 8, 64);

    @FuzzTest(maxDuration = "30s")
    void parseRequest(byte[] input) throws Exception {
        PostInput post = PostInput.of(input);
        String contentType = post.contentType();
        byte[] body = post.body();
        for (ChatSettings s : new ChatSettings[] {ChatSettings.defaults(), TINY}) {
            MessageInput.Valid valid;
            try {
                valid = MessageInput.parseRequest(contentType, body, s);
            } catch (MessageInput.Rejected r) {
                assertThat(r.status).as("status for %s", r.detail()).isIn(400, 413, 415);
                assertThat(r.error).isNotBlank();
                assertThat(r.detail()).isNotBlank();
                continue;
            }
            assertThat(body.length).isBetween(1, s.maxBodyBytes());
            check(valid.user(), s.maxUserChars(), false);
            check(valid.text(), s.maxTextChars(), true);
            // The same message, written out again, is accepted as is.
            byte[] again = MessageInput.JSON.writeValueAsBytes(Map.of("user", valid.user(), "text", valid.text()));
            if (again.length <= s.maxBodyBytes()) {
                assertThat(MessageInput.parseRequest("application/json", again, s)).isEqualTo(valid);
            }
        }
    }

    private static void check(String field, int maxChars, boolean newlines) {
        assertThat(field).isNotBlank();
        assertThat(field.codePointCount(0, field.length())).isLessThanOrEqualTo(maxChars);
        assertThat(field).doesNotContainPattern(newlines ? "[\\x00-\\x09\\x0b-\\x1f\\x7f-\\x9f]"
                : "[\\x00-\\x1f\\x7f-\\x9f]");
        // Every surrogate is half of a pair: the text survives a round trip through UTF-8.
        assertThat(new String(field.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8)).isEqualTo(field);
    }
}
