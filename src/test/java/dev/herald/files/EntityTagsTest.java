package dev.herald.files;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class EntityTagsTest {
    private static final String TAG = EntityTags.of("hello".getBytes(StandardCharsets.UTF_8));

    @Test
    void tagIsAQuotedBase64UrlOfHalfTheSha256() {
        // SHA-256("hello") = 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824
        assertThat(TAG).isEqualTo("\"LPJNul-wow4m6Dsqxbning\"");
    }

    @Test
    void fileTagEqualsBytesTag(@TempDir Path dir) throws Exception {
        byte[] content = new byte[200_000];
        for (int i = 0; i < content.length; i++) {
            content[i] = (byte) (i * 31);
        }
        Path file = Files.write(dir.resolve("f.bin"), content);

        assertThat(EntityTags.of(file)).isEqualTo(EntityTags.of(content));
    }

    @Test
    void fileTagStreamsInsteadOfLoading(@TempDir Path dir) throws Exception {
        Path big = dir.resolve("big.bin");
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(64L << 20);
        }
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        EntityTags.of(Files.write(dir.resolve("warm-up.bin"), new byte[1])); // loads the classes involved

        long before = threads.getCurrentThreadAllocatedBytes();
        String tag = EntityTags.of(big);
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;

        assertThat(tag).matches("\"[A-Za-z0-9_-]{22}\"");
        assertThat(allocated).as("bytes allocated hashing a 64 MiB file").isLessThan(4L << 20);
    }

    @ParameterizedTest
    @ValueSource(strings = {"*", " * ", "W/\"x\", %s", "%s", "\"a\",%s", "\"a\" , W/%s", "W/%s", "\"a,b\", %s"})
    void ifNoneMatchUsesWeakComparison(String template) {
        assertThat(EntityTags.noneMatchHits(template.replace("%s", TAG), TAG)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"x\"", "W/\"x\"", "", "x", "%s-", "\"%s", "garbage %s", "\"a,%s", "**"})
    void ifNoneMatchMisses(String template) {
        String inner = TAG.substring(1, TAG.length() - 1);
        assertThat(EntityTags.noneMatchHits(template.replace("%s", inner), TAG)).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"*", " * ", "%s", "\"a\",%s", "W/\"x\", %s", "\"a,b\", %s"})
    void ifMatchUsesStrongComparison(String template) {
        assertThat(EntityTags.matchHits(template.replace("%s", TAG), TAG)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"W/%s", "\"a\", W/%s", "\"x\"", "", "garbage %s", "**"})
    void ifMatchMisses(String template) {
        assertThat(EntityTags.matchHits(template.replace("%s", TAG), TAG)).isFalse();
    }

    @Test
    void aWeakCurrentTagNeverMatchesIfMatch() {
        assertThat(EntityTags.matchHits(TAG, "W/" + TAG)).isFalse();
        assertThat(EntityTags.matchHits("W/" + TAG, "W/" + TAG)).isFalse();
        assertThat(EntityTags.matchHits("*", "W/" + TAG)).isTrue();
    }

    @Test
    void ifRangeUsesStrongComparison() {
        assertThat(EntityTags.strongMatch(TAG, TAG)).isTrue();
        assertThat(EntityTags.strongMatch(" " + TAG + " ", TAG)).isTrue();
        assertThat(EntityTags.strongMatch("W/" + TAG, TAG)).isFalse();
        assertThat(EntityTags.strongMatch("\"other\"", TAG)).isFalse();
        assertThat(EntityTags.looksLikeTag("W/\"x\"")).isTrue();
        assertThat(EntityTags.looksLikeTag("\"x\"")).isTrue();
        assertThat(EntityTags.looksLikeTag("Sun, 06 Nov 1994 08:49:37 GMT")).isFalse();
    }
}
