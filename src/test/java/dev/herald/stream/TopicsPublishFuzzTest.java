package dev.herald.stream;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.herald.testing.PostInput;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.nio.charset.StandardCharsets;

/**
 * Fuzzes the topics publish validator ({@link TopicsHandler#refusal}) with a limit of 64 bytes, so short inputs
 * reach the 413. An input is a content type, a NUL byte, then the body; without a NUL it is all body, sent as
 * {@code application/json}. Seeds: {@code src/test/resources/dev/herald/stream/TopicsPublishFuzzTestInputs/refusal/}.
 */
class TopicsPublishFuzzTest {
    private static final int MAX_EVENT_BYTES = 64;
    /** A second opinion: Jackson's tree parser, as strict as the streaming check. */
    private static final ObjectMapper TREE = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    @FuzzTest(maxDuration = "30s")
    void refusal(byte[] input) throws Exception {
        PostInput post = PostInput.of(input);
        String contentType = post.contentType();
        byte[] body = post.body();

        TopicsHandler.Refusal refusal = TopicsHandler.refusal(contentType, body, MAX_EVENT_BYTES);
        if (refusal != null) {
            assertThat(refusal.status()).as("status for %s", refusal.detail()).isIn(400, 413, 415);
            assertThat(refusal.error()).isNotBlank();
            assertThat(refusal.detail()).isNotBlank();
            return;
        }
        assertThat(TopicsHandler.isJson(contentType)).as("content type %s accepted", contentType).isTrue();
        assertThat(body.length).isLessThanOrEqualTo(MAX_EVENT_BYTES);
        // What is stored (the stripped text) is one JSON value, and stays the same value once NDJSON framing has
        // turned its line breaks (whitespace between tokens, never inside a string) into spaces.
        String stored = new String(body, StandardCharsets.UTF_8).strip();
        JsonNode value = TREE.readTree(stored);
        assertThat(value).as("stored %s", stored).isNotNull();
        assertThat(value.isMissingNode()).as("stored %s", stored).isFalse();
        assertThat(TREE.readTree(stored.replace('\n', ' ').replace('\r', ' '))).isEqualTo(value);
    }
}
