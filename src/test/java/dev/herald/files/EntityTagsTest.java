package dev.herald.files;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class EntityTagsTest {
    private static final String TAG = EntityTags.of("hello".getBytes(StandardCharsets.UTF_8));

    @Test
    void tagIsAQuotedBase64UrlOfHalfTheSha256() {
        // SHA-256("hello") = 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824
        assertThat(TAG).isEqualTo("\"LPJNul-wow4m6Dsqxbning\"");
    }

    @Test
    void aStreamedFilesTagIsItsModificationTimeInNanosecondsAndItsSizeInHex() {
        FileStamp stamp = new FileStamp(Path.of("/srv/a.mp4"), 0x7d000000L,
                FileTime.from(1_700_000_000_123_456_789L, TimeUnit.NANOSECONDS), 42L);

        assertThat(EntityTags.of(stamp, null)).isEqualTo("\"17979cfe3d85cd15-7d000000\"");
        assertThat(EntityTags.of(stamp, "br")).as("a sibling's tag names its encoding")
                .isEqualTo("\"17979cfe3d85cd15-7d000000-br\"");
    }

    @Test
    void aStreamedFilesTagChangesWithItsSizeOrTimeButNotWithWhereItIs() {
        FileTime t = FileTime.from(1_700_000_000_123_456_789L, TimeUnit.NANOSECONDS);
        String tag = EntityTags.of(new FileStamp(Path.of("/srv/a.bin"), 1000, t, 42L), null);

        assertThat(EntityTags.of(new FileStamp(Path.of("/srv/a.bin"), 1001, t, 42L), null)).isNotEqualTo(tag);
        assertThat(EntityTags.of(new FileStamp(Path.of("/srv/a.bin"), 1000,
                FileTime.from(1_700_000_000_123_456_790L, TimeUnit.NANOSECONDS), 42L), null))
                .as("a nanosecond later").isNotEqualTo(tag);
        assertThat(EntityTags.of(new FileStamp(Path.of("/other/server/a.bin"), 1000, t, 7L), null))
                .as("the same copy on another server (another inode) has the same tag").isEqualTo(tag);
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
