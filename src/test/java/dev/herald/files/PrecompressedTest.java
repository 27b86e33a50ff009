package dev.herald.files;

import dev.herald.config.HeraldConfig;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

/** Choosing {@code x.br} / {@code x.gz} siblings by Accept-Encoding, and what that does to validators and Vary. */
class PrecompressedTest {
    private static final String CSS = "body { color: #123456; }\n".repeat(20);

    @TempDir
    Path root;
    StaticFiles files;
    byte[] plain;
    byte[] gz;
    byte[] br;

    @BeforeEach
    void site() throws Exception {
        plain = CSS.getBytes(StandardCharsets.UTF_8);
        gz = gzip(plain);
        br = "pretend-brotli".getBytes(StandardCharsets.UTF_8); // the server never decodes it
        Files.createDirectories(root.resolve("css"));
        Files.write(root.resolve("css/site.css"), plain);
        Files.write(root.resolve("css/site.css.gz"), gz);
        Files.write(root.resolve("css/site.css.br"), br);
        Files.write(root.resolve("css/only-gz.js"), plain);
        Files.write(root.resolve("css/only-gz.js.gz"), gz);
        Files.write(root.resolve("css/none.css"), plain);
        Files.createDirectories(root.resolve("docs"));
        Files.writeString(root.resolve("docs/index.html"), "<p>docs</p>");
        Files.write(root.resolve("docs/index.html.gz"), gzip("<p>docs</p>".getBytes(StandardCharsets.UTF_8)));
        // Siblings only: the variant Herald makes of a file without one is CompressionTest's.
        files = StaticFiles.create(root, HeraldConfig.builder().filesCompress(false).build(), Runnable::run);
    }

    private static byte[] gzip(byte[] in) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(in);
        }
        return out.toByteArray();
    }

    private FakeExchange get(String target, String acceptEncoding, String... more) throws Exception {
        String[] headers = acceptEncoding == null ? more : concat(new String[] {"accept-encoding", acceptEncoding}, more);
        return FakeExchange.run(files, "GET", target, headers);
    }

    private static String[] concat(String[] a, String[] b) {
        String[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @ParameterizedTest(name = "[{0}] -> {1}")
    @CsvSource(delimiter = '|', nullValues = "-", value = {
        "gzip, deflate, br, zstd   | br",
        "gzip                      | gzip",
        "br;q=0, gzip              | gzip",
        "br;q=0.5, gzip;q=0.9      | gzip",
        "br;q=0.9, gzip;q=0.5      | br",
        "*                         | br",
        "gzip;q=0, br;q=0          | -",
        "identity                  | -",
        "-                         | -",
    })
    void chosenByAcceptEncoding(String acceptEncoding, String expected) throws Exception {
        FakeExchange ex = get("/css/site.css", acceptEncoding);

        assertThat(ex.status()).isEqualTo(200);
        assertThat(ex.header("content-encoding")).isEqualTo(expected);
        byte[] expectedBody = expected == null ? plain : expected.equals("br") ? br : gz;
        assertThat(ex.body()).isEqualTo(expectedBody);
        assertThat(ex.response().contentLength()).isEqualTo(expectedBody.length);
        assertThat(ex.header("content-type")).isEqualTo("text/css; charset=utf-8");
        assertThat(ex.header("vary")).isEqualTo("accept-encoding");
        assertThat(ex.header("etag")).isEqualTo(EntityTags.of(expectedBody));
    }

    @Test
    void eachVariantHasItsOwnTag() throws Exception {
        String brTag = get("/css/site.css", "br").header("etag");
        String gzTag = get("/css/site.css", "gzip").header("etag");
        String plainTag = get("/css/site.css", null).header("etag");

        assertThat(brTag).isNotEqualTo(gzTag).isNotEqualTo(plainTag);
        assertThat(gzTag).isNotEqualTo(plainTag);
    }

    @ParameterizedTest
    @CsvSource({"if-none-match, 304, 200", "if-match, 200, 412"})
    void conditionalRequestsUseTheChosenVariantsTag(String header, int sameStatus, int otherStatus) throws Exception {
        String gzTag = get("/css/site.css", "gzip").header("etag");

        FakeExchange same = get("/css/site.css", "gzip", header, gzTag);
        FakeExchange other = get("/css/site.css", "br", header, gzTag);

        assertThat(same.status()).isEqualTo(sameStatus);
        assertThat(same.header("etag")).isEqualTo(gzTag);
        assertThat(other.status()).isEqualTo(otherStatus);
        assertThat(same.header("vary")).as("a %d varies too", sameStatus).isEqualTo("accept-encoding");
        assertThat(other.header("vary")).as("a %d varies too", otherStatus).isEqualTo("accept-encoding");
    }

    @Test
    void rangesApplyToTheChosenVariant() throws Exception {
        FakeExchange ex = get("/css/site.css", "gzip", "range", "bytes=0-9");

        assertThat(ex.status()).isEqualTo(206);
        assertThat(ex.header("content-encoding")).isEqualTo("gzip");
        assertThat(ex.header("content-range")).isEqualTo("bytes 0-9/" + gz.length);
        assertThat(ex.body()).isEqualTo(Arrays.copyOf(gz, 10));
        assertThat(ex.header("vary")).isEqualTo("accept-encoding");
    }

    @Test
    void unsatisfiableRangeVariesToo() throws Exception {
        FakeExchange ex = get("/css/site.css", "br", "range", "bytes=9999-");

        assertThat(ex.status()).isEqualTo(416);
        assertThat(ex.header("content-range")).isEqualTo("bytes */" + br.length);
        assertThat(ex.header("vary")).isEqualTo("accept-encoding");
    }

    @Test
    void onlyExistingSiblingsAreOffered() throws Exception {
        FakeExchange ex = get("/css/only-gz.js", "br, gzip");

        assertThat(ex.header("content-encoding")).isEqualTo("gzip");
        assertThat(ex.header("content-type")).isEqualTo("text/javascript; charset=utf-8");
        assertThat(get("/css/only-gz.js", "br").header("content-encoding")).isNull();
        assertThat(get("/css/only-gz.js", "br").header("vary")).isEqualTo("accept-encoding");
    }

    @Test
    void aFileWithoutSiblingsHasNoVary() throws Exception {
        FakeExchange ex = get("/css/none.css", "br, gzip");

        assertThat(ex.header("content-encoding")).isNull();
        assertThat(ex.header("vary")).isNull();
    }

    @Test
    void siblingsAskedForDirectlyArePlainFiles() throws Exception {
        FakeExchange ex = get("/css/site.css.gz", "gzip, br");

        assertThat(ex.status()).isEqualTo(200);
        assertThat(ex.body()).isEqualTo(gz);
        assertThat(ex.header("content-encoding")).isNull();
        assertThat(ex.header("content-type")).isEqualTo("application/gzip");
        assertThat(ex.header("vary")).isNull();
    }

    @Test
    void folderIndexesHaveSiblingsToo() throws Exception {
        FakeExchange ex = get("/docs/", "gzip");

        assertThat(ex.header("content-encoding")).isEqualTo("gzip");
        assertThat(ex.header("content-type")).isEqualTo("text/html; charset=utf-8");
        assertThat(ex.header("vary")).isEqualTo("accept-encoding");
    }

    @Test
    void headOfASiblingHasItsLength() throws Exception {
        FakeExchange ex = FakeExchange.run(files, "HEAD", "/css/site.css", "accept-encoding", "br");

        assertThat(ex.response().contentLength()).isEqualTo(br.length);
        assertThat(ex.header("content-encoding")).isEqualTo("br");
    }
}
