package dev.herald.store;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StoredDataTest {
    @Test
    void oneJsonValueOfAnyKindPasses() {
        for (String ok : new String[] {"{}", "{\"a\":[1,2,{\"b\":null}]}", "[]", "1", "-2.5e3", "\"x\"", "true",
                "null", " {\"a\" :\n 1 } ", "{\"a\":\"\\u00e9\\n\"}"}) {
            assertThat(StoredData.problem(ok)).as(ok).isNull();
        }
    }

    @Test
    void whatIsNoJsonValueIsNamed() {
        assertThat(StoredData.problem("")).isEqualTo("empty");
        assertThat(StoredData.problem("   ")).isEqualTo("empty");
        assertThat(StoredData.problem("{\"a\":1}x")).isEqualTo("unexpected content after the JSON value at offset 7");
        assertThat(StoredData.problem("{\"a\":1} {\"b\":2}")).isEqualTo("unexpected content after the JSON value at offset 7");
        assertThat(StoredData.problem("[1] ]")).isEqualTo("unexpected content after the JSON value at offset 3");
        assertThat(StoredData.problem("{\"a\":1}\0")).isEqualTo("a NUL character");
        assertThat(StoredData.problem("2\0")).isEqualTo("a NUL character");
        assertThat(StoredData.problem("{\"a\":")).startsWith("not JSON");
        assertThat(StoredData.problem("{\"a\":\"b\u0001\"}")).startsWith("not JSON"); // a raw control character
        assertThat(StoredData.problem("{\"a\":\"b\nc\"}")).startsWith("not JSON"); // would split an NDJSON line
        assertThat(StoredData.problem("{\"a\":\"\\q\"}")).startsWith("not JSON");
        assertThat(StoredData.problem("[1,2")).startsWith("not JSON");
        assertThat(StoredData.problem("{'a':1}")).startsWith("not JSON");
        assertThat(StoredData.problem("NaN")).startsWith("not JSON");
    }

    @Test
    void eachDamagedEventIsLoggedOnceWhileRemembered() {
        StoredData data = new StoredData();
        org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger("stored-data-test");
        try (dev.herald.testing.LogCapture lines = dev.herald.testing.LogCapture.of("stored-data-test")) {
            assertThat(data.usable(log, "here", "t", EventId.of(5, 0), "{}")).isTrue();
            for (int i = 0; i < 3; i++) {
                assertThat(data.usable(log, "here", "t", EventId.of(5, 1), "{")).isFalse();
            }
            assertThat(lines.messages()).hasSize(1).first().asString()
                    .startsWith("here: event 5-1 of topic t is damaged (not JSON: ").endsWith("; 1 characters): skipped");
            for (int i = 0; i < StoredData.REPORTED_MAX; i++) {
                data.usable(log, "here", "u", EventId.of(6, i), "x");
            }
            // The memory is bounded: once full it starts again, so an old event is told once more.
            assertThat(data.usable(log, "here", "t", EventId.of(5, 1), "{")).isFalse();
            assertThat(lines.messages()).hasSize(2 + StoredData.REPORTED_MAX);
        }
    }
}
