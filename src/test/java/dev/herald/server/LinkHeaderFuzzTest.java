package dev.herald.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Fuzzes the Link header parser ({@link LinkHeader#preloads}) with any field value, for an https origin with a
 * port, an http origin without one, and no known authority. Seeds:
 * {@code src/test/resources/dev/herald/server/LinkHeaderFuzzTestInputs/preloads/}.
 */
class LinkHeaderFuzzTest {
    private static final String[][] ORIGINS = {{"https", "example.com:8443"}, {"http", "example.com"}, {"https", null}};

    @FuzzTest(maxDuration = "30s")
    void preloads(byte[] input) {
        String value = new String(input, StandardCharsets.UTF_8);
        for (String[] origin : ORIGINS) {
            List<Preload> preloads = LinkHeader.preloads(value, origin[0], origin[1]);
            assertThat(preloads).hasSizeLessThanOrEqualTo(LinkHeader.MAX_LINKS)
                    .extracting(Preload::path).doesNotHaveDuplicates();
            for (Preload p : preloads) {
                assertThat(p.path()).as("a preload of %s on %s://%s", value, origin[0], origin[1])
                        .startsWith("/").doesNotStartWith("//").doesNotContain("#")
                        .doesNotContainPattern("[\\x00-\\x20\\x7f-\\uffff<>\"]");
                // Taken from the value, never made up; the origin's host only through an absolute URL.
                assertThat(value).contains(p.path());
            }
        }
    }
}
