package dev.herald.files;

import dev.herald.config.HeraldConfig;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;

/** The gzip variant Herald makes of text files ({@code files.compress}): when, what it carries, and its life. */
class CompressionTest {
    private static final String CSS = ".a { color: #123456; padding: 4px; }\n".repeat(60);
    private static final String BROWSER = "gzip, deflate, br, zstd";

    @TempDir
    Path root;
    DiskSite site;

    @BeforeEach
    void site() throws Exception {
        site = new DiskSite(root);
        Files.writeString(root.resolve("site.css"), CSS);
        Files.writeString(root.resolve("app.js"), "const rows = [];\n".repeat(40));
        Files.writeString(root.resolve("tiny.css"), "b { color: red }\n".repeat(10)); // 170 B
        Random random = new Random(7);
        byte[] noise = new byte[4096];
        random.nextBytes(noise);
        Files.write(root.resolve("font.woff2"), CSS.getBytes(StandardCharsets.UTF_8)); // compressible, but woff2
        Files.write(root.resolve("noise.txt"), noise); // text by name, but nothing to gain
    }

    private static byte[] gunzip(byte[] body) throws Exception {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
            return in.readAllBytes();
        }
    }

    @Test
    void aTextFileIsGzippedForAClientThatAcceptsIt() throws Exception {
        StaticFiles files = site.files();
        FakeExchange gz = site.get(files, "/site.css", "accept-encoding", BROWSER);
        FakeExchange plain = site.get(files, "/site.css");

        assertThat(gz.status()).isEqualTo(200);
        assertThat(gz.header("content-encoding")).isEqualTo("gzip");
        assertThat(gz.header("content-type")).isEqualTo("text/css; charset=utf-8");
        assertThat(gz.header("vary")).isEqualTo("accept-encoding");
        assertThat(gunzip(gz.body())).asString(StandardCharsets.UTF_8).isEqualTo(CSS);
        assertThat(gz.body().length).isLessThan(CSS.length() / 10);
        assertThat(gz.header("etag")).as("a tag of exactly the gzip bytes").isEqualTo(EntityTags.of(gz.body()));

        assertThat(plain.header("content-encoding")).isNull();
        assertThat(plain.header("vary")).as("caches must key on accept-encoding").isEqualTo("accept-encoding");
        assertThat(plain.bodyText()).isEqualTo(CSS);
        assertThat(plain.header("etag")).isNotEqualTo(gz.header("etag"));
        assertThat(plain.header("last-modified")).isEqualTo(gz.header("last-modified"));
    }

    @Test
    void theGzipVariantIsMadeOnceAndServedFromTheCacheOnTheCallingThread() throws Exception {
        StaticFiles files = site.files();
        byte[] first = site.get(files, "/app.js", "accept-encoding", "gzip").body();

        FakeExchange hit = FakeExchange.run(files, "GET", "/app.js", "accept-encoding", "gzip");
        site.clock.addAndGet(DiskSource.RESOLVE_INTERVAL_NANOS);
        FakeExchange resolvedAgain = FakeExchange.run(files, "GET", "/app.js", "accept-encoding", "gzip");

        assertThat(site.blocking.pending()).as("no file read, no compression: nothing for the blocking executor").isZero();
        assertThat(hit.respondedOn()).isSameAs(Thread.currentThread());
        assertThat(hit.body()).isSameAs(first);
        assertThat(resolvedAgain.respondedOn()).as("resolved again after a second, inline")
                .isSameAs(Thread.currentThread());
        assertThat(resolvedAgain.body()).isSameAs(first);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "/tiny.css,   smaller than " + Compression.MIN_SIZE + " bytes",
        "/font.woff2, a type that is compressed already",
        "/noise.txt,  saves less than an eighth",
    })
    void notMadeWhenNotWorthIt(String path, String why) throws Exception {
        FakeExchange ex = site.get(site.files(), path, "accept-encoding", BROWSER);

        assertThat(ex.header("content-encoding")).as(why).isNull();
        assertThat(ex.header("vary")).as("one representation only").isNull();
        assertThat(ex.body()).isEqualTo(Files.readAllBytes(root.resolve(path.substring(1))));
    }

    @Test
    void offWithTheSetting() throws Exception {
        FakeExchange ex = site.get(site.files(HeraldConfig.builder().filesCompress(false).build()), "/site.css",
                "accept-encoding", BROWSER);

        assertThat(ex.header("content-encoding")).isNull();
        assertThat(ex.header("vary")).isNull();
        assertThat(ex.bodyText()).isEqualTo(CSS);
    }

    @Test
    void aFileStreamedFromDiskIsGzippedWhenItsGzipFitsInMemory() throws Exception {
        StaticFiles files = site.files(HeraldConfig.builder().fileCacheMaxFile(1024).build());
        FakeExchange gz = site.get(files, "/site.css", "accept-encoding", BROWSER);
        FakeExchange plain = site.get(files, "/site.css");

        assertThat(gz.header("content-encoding")).isEqualTo("gzip");
        assertThat(gz.response().bytes()).as("the gzip bytes are held in memory").isNotNull();
        assertThat(gunzip(gz.body())).asString(StandardCharsets.UTF_8).isEqualTo(CSS);
        assertThat(plain.response().file()).as("larger than files.cache-max-file-size: a region of the file")
                .isNotNull();
        assertThat(plain.header("content-encoding")).isNull();
        assertThat(plain.bodyText()).isEqualTo(CSS);
        assertThat(plain.header("etag")).isNotEqualTo(gz.header("etag"));
    }

    @Test
    void aStreamedFileWhoseGzipIsOverTheBoundStreamsAsItIs() throws Exception {
        byte[] random = new byte[4500];
        new Random(11).nextBytes(random);
        String text = java.util.Base64.getEncoder().encodeToString(random); // 6000 chars, gzip saves about a fifth
        Files.writeString(root.resolve("big.txt"), text);

        FakeExchange ex = site.get(site.files(HeraldConfig.builder().fileCacheMaxFile(1024).build()), "/big.txt",
                "accept-encoding", BROWSER);

        assertThat(Compression.gzip(text.getBytes(StandardCharsets.US_ASCII)).length)
                .as("worth it but over the bound").isBetween(1025, 6000 - 6000 / 8);
        assertThat(ex.header("content-encoding")).isNull();
        assertThat(ex.response().file()).isNotNull();
        assertThat(ex.bodyText()).isEqualTo(text);
    }

    @Test
    void aStreamedFileOverEightTimesTheBoundIsNotCompressed() throws Exception {
        String text = "a".repeat(8 * 1024 + 1);
        Files.writeString(root.resolve("long.txt"), text);
        StaticFiles files = site.files(HeraldConfig.builder().fileCacheMaxFile(1024).build());

        FakeExchange ex = site.get(files, "/long.txt", "accept-encoding", BROWSER);

        assertThat(ex.header("content-encoding")).isNull();
        assertThat(ex.bodyText()).isEqualTo(text);
        Files.writeString(root.resolve("long.txt"), text.substring(1)); // at the bound: compressed
        site.clock.addAndGet(DiskSource.RESOLVE_INTERVAL_NANOS);
        assertThat(site.get(files, "/long.txt", "accept-encoding", BROWSER).header("content-encoding"))
                .isEqualTo("gzip");
    }

    @Test
    void aBrOnlyClientGetsTheIdentity() throws Exception {
        FakeExchange ex = site.get(site.files(), "/site.css", "accept-encoding", "br");

        assertThat(ex.header("content-encoding")).isNull();
        assertThat(ex.header("vary")).isEqualTo("accept-encoding");
        assertThat(ex.bodyText()).isEqualTo(CSS);
    }

    @Test
    void aGzSiblingWinsAndIsNoticedWhenItAppears() throws Exception {
        StaticFiles files = site.files();
        assertThat(gunzip(site.get(files, "/site.css", "accept-encoding", "gzip").body()))
                .asString(StandardCharsets.UTF_8).isEqualTo(CSS);

        Files.writeString(root.resolve("site.css.gz"), "pretend-gzip");
        site.clock.addAndGet(DiskSource.RESOLVE_INTERVAL_NANOS);
        FakeExchange after = site.get(files, "/site.css", "accept-encoding", "gzip");

        assertThat(after.header("content-encoding")).isEqualTo("gzip");
        assertThat(after.bodyText()).as("the sibling on disk, not the variant Herald made").isEqualTo("pretend-gzip");
    }

    @Test
    void anEditedFileGetsANewVariant() throws Exception {
        StaticFiles files = site.files();
        FakeExchange before = site.get(files, "/site.css", "accept-encoding", "gzip");

        String edited = CSS + ".b { margin: 0 }\n".repeat(30);
        Files.writeString(root.resolve("site.css"), edited);
        FakeExchange after = site.get(files, "/site.css", "accept-encoding", "gzip");

        assertThat(gunzip(after.body())).asString(StandardCharsets.UTF_8).isEqualTo(edited);
        assertThat(after.header("etag")).isNotEqualTo(before.header("etag"));
    }

    @Test
    void validatorsAndRangesApplyToTheGzipBytes() throws Exception {
        StaticFiles files = site.files();
        FakeExchange gz = site.get(files, "/site.css", "accept-encoding", "gzip");
        String tag = gz.header("etag");

        FakeExchange revalidated = site.get(files, "/site.css", "accept-encoding", "gzip", "if-none-match", tag);
        FakeExchange identityAsked = site.get(files, "/site.css", "if-none-match", tag);
        FakeExchange range = site.get(files, "/site.css", "accept-encoding", "gzip", "range", "bytes=0-9");

        assertThat(revalidated.status()).isEqualTo(304);
        assertThat(revalidated.header("vary")).isEqualTo("accept-encoding");
        assertThat(identityAsked.status()).as("the gzip tag does not validate the identity").isEqualTo(200);
        assertThat(range.status()).isEqualTo(206);
        assertThat(range.header("content-range")).isEqualTo("bytes 0-9/" + gz.body().length);
        assertThat(range.body()).containsExactly(java.util.Arrays.copyOf(gz.body(), 10));
    }

    @Test
    void bundledFilesAreCompressedAtLoad() throws Exception {
        StaticFiles app = StaticFiles.classpath("dev/herald/app", HeraldConfig.builder().build());
        byte[] identity;
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("dev/herald/app/index.html")) {
            identity = in.readAllBytes();
        }

        FakeExchange ex = FakeExchange.run(app, "GET", "/", "accept-encoding", BROWSER);

        assertThat(ex.header("content-encoding")).isEqualTo("gzip");
        assertThat(gunzip(ex.body())).isEqualTo(identity);
    }
}
