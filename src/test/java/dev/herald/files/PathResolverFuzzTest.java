package dev.herald.files;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzzes request path decoding ({@link PathResolver#resolve}) with raw request targets, read as the bytes a client
 * sent (ISO-8859-1, as Netty hands them over). Whatever the input: either a 400/404 refusal, or segments that stay
 * under a root folder when resolved against it, with no dot segment, separator, NUL or control character, a path
 * that is exactly the joined segments, and an {@link PathResolver#encode encoding} that resolves to the same path.
 * Seeds: {@code src/test/resources/dev/herald/files/PathResolverFuzzTestInputs/resolve/}.
 */
class PathResolverFuzzTest {
    @TempDir
    static Path base;
    static Path root;

    @BeforeAll
    static void folders() throws IOException {
        // base/secret.txt lies next to the root: a path reaching it has escaped.
        root = Files.createDirectories(base.resolve("www").resolve("site")).toRealPath();
        Files.createDirectories(root.resolve("docs"));
        Files.writeString(root.resolve("docs").resolve("a.txt"), "a");
        Files.writeString(base.resolve("secret.txt"), "secret");
        Files.writeString(base.resolve("www").resolve("site-old.txt"), "old");
    }

    @FuzzTest(maxDuration = "30s")
    void resolve(byte[] input) throws IOException {
        String raw = new String(input, StandardCharsets.ISO_8859_1);
        PathResolver.Outcome outcome = PathResolver.resolve(raw);
        if (outcome instanceof PathResolver.Rejected rejected) {
            assertThat(rejected.status()).as("status for %s", raw).isIn(400, 404);
            assertThat(rejected.reason()).isNotBlank();
            return;
        }
        PathResolver.Accepted ok = (PathResolver.Accepted) outcome;
        Path resolved = root;
        for (int i = 0; i < ok.segments().size(); i++) {
            String segment = ok.segments().get(i);
            assertThat(segment).as("segment of %s", raw)
                    .isNotEmpty().isNotEqualTo(".").isNotEqualTo("..")
                    .doesNotContain("/").doesNotContain("\\").doesNotContain("\0");
            if (segment.startsWith(".")) {
                assertThat(i).as("hidden segment %s of %s", segment, raw).isZero();
                assertThat(segment).isEqualTo(".well-known");
            }
            assertThat(segment).as("segment of %s", raw).doesNotContainPattern("[\\x00-\\x1f\\x7f-\\x9f]");
            resolved = resolved.resolve(segment);
        }
        assertThat(resolved.normalize()).as("%s resolved", raw).isEqualTo(resolved).startsWithRaw(root);
        if (Files.exists(resolved)) {
            assertThat(resolved.toRealPath()).startsWithRaw(root);
        }
        String joined = "/" + String.join("/", ok.segments());
        assertThat(ok.path()).isEqualTo(ok.trailingSlash() && !ok.segments().isEmpty() ? joined + "/" : joined);
        // What a redirect would send must come back as the same path.
        PathResolver.Outcome again = PathResolver.resolve(PathResolver.encode(ok.path()));
        assertThat(again).isInstanceOf(PathResolver.Accepted.class);
        assertThat(((PathResolver.Accepted) again).path()).isEqualTo(ok.path());
    }
}
