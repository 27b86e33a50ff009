package dev.herald.files;

import dev.herald.config.ConfigException;
import dev.herald.config.HeraldConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.InputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Serving a folder bundled on the classpath: the shared test site, the built-in app, and a folder in a jar. */
class ClasspathFilesTest {
    static StaticFiles basic;

    @BeforeAll
    static void load() {
        basic = StaticFiles.classpath("sites/basic", HeraldConfig.builder().build());
    }

    private static byte[] resource(String name) throws Exception {
        try (InputStream in = ClasspathFilesTest.class.getClassLoader().getResourceAsStream(name)) {
            assertThat(in).as(name).isNotNull();
            return in.readAllBytes();
        }
    }

    @Test
    void servesBundledFilesWithValidators() throws Exception {
        FakeExchange ex = FakeExchange.run(basic, "GET", "/hello.txt");

        assertThat(ex.status()).isEqualTo(200);
        assertThat(ex.body()).isEqualTo(resource("sites/basic/hello.txt"));
        assertThat(ex.header("content-type")).isEqualTo("text/plain; charset=utf-8");
        assertThat(ex.header("etag")).isEqualTo(EntityTags.of(resource("sites/basic/hello.txt")));
        assertThat(ex.header("last-modified")).endsWith(" GMT");
        assertThat(ex.header("cache-control")).isEqualTo("max-age=60");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', nullValues = "-", value = {
        "/          | 200 | -",
        "/docs/     | 200 | -",
        "/docs      | 301 | /docs/",
        "/css       | 301 | /css/",
        "/css/      | 404 | -",
        "/.env      | 404 | -",
        "/nope      | 404 | -",
        "/../x      | 400 | -",
        "/docs/%2e%2e/hello.txt | 400 | -",
    })
    void foldersRedirectsAndRefusals(String target, int status, String location) throws Exception {
        FakeExchange ex = FakeExchange.run(basic, "GET", target);

        assertThat(ex.status()).as(ex.toString()).isEqualTo(status);
        assertThat(ex.header("location")).isEqualTo(location);
    }

    @Test
    void precompressedSiblingsAndConditionals() throws Exception {
        FakeExchange br = FakeExchange.run(basic, "GET", "/css/site.css", "accept-encoding", "gzip, br");
        FakeExchange again = FakeExchange.run(basic, "GET", "/css/site.css", "accept-encoding", "gzip, br",
                "if-none-match", br.header("etag"));

        assertThat(br.header("content-encoding")).isEqualTo("br");
        assertThat(br.body()).isEqualTo(resource("sites/basic/css/site.css.br"));
        assertThat(br.header("vary")).isEqualTo("accept-encoding");
        assertThat(br.header("content-type")).isEqualTo("text/css; charset=utf-8");
        assertThat(again.status()).isEqualTo(304);
    }

    @Test
    void rangesAndMethods() throws Exception {
        FakeExchange range = FakeExchange.run(basic, "GET", "/hello.txt", "range", "bytes=0-4");
        FakeExchange post = FakeExchange.run(basic, "POST", "/hello.txt");

        assertThat(range.status()).isEqualTo(206);
        assertThat(range.bodyText()).isEqualTo("hello");
        assertThat(post.status()).isEqualTo(405);
    }

    @Test
    void fingerprintedBundledFilesAreImmutable() throws Exception {
        assertThat(FakeExchange.run(basic, "GET", "/app.0123abcd.js").header("cache-control"))
                .isEqualTo("public, max-age=31536000, immutable");
    }

    @Test
    void theBuiltInAppLoads() throws Exception {
        StaticFiles app = StaticFiles.classpath("dev/herald/app", HeraldConfig.builder().build());

        FakeExchange ex = FakeExchange.run(app, "GET", "/");

        assertThat(ex.status()).isEqualTo(200);
        assertThat(ex.header("content-type")).isEqualTo("text/html; charset=utf-8");
    }

    @Test
    void aMissingFolderFailsAtStart() {
        assertThatThrownBy(() -> StaticFiles.classpath("no/such/folder", HeraldConfig.builder().build()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("bundled folder: no/such/folder (expected:");
    }

    @Test
    void loadsAFolderFromAJar(@TempDir Path dir) throws Exception {
        Path jar = dir.resolve("app.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            put(out, "web/", null);
            put(out, "web/index.html", "<p>jar</p>");
            put(out, "web/js/", null);
            put(out, "web/js/app.js", "console.log(1)");
            put(out, "web/js/app.js.gz", "pretend-gzip");
            put(out, "web/.hidden", "secret");
            put(out, "other/file.txt", "not served");
        }
        CachePolicy policy = new CachePolicy(HeraldConfig.builder().build());
        ClasspathSource source;
        try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null)) {
            source = ClasspathSource.load(loader, "/web/", policy, 0, false);
        }

        assertThat(source.size()).as(".hidden is skipped").isEqualTo(3);
        assertThat(found(source, "/").identity().bytes()).asString(StandardCharsets.UTF_8).isEqualTo("<p>jar</p>");
        Resource js = found(source, "/js/app.js");
        assertThat(js.contentType()).isEqualTo("text/javascript; charset=utf-8");
        assertThat(js.gzip().bytes()).asString(StandardCharsets.UTF_8).isEqualTo("pretend-gzip");
        assertThat(js.br()).isNull();
        assertThat(source.lookup(accepted("/js"))).isEqualTo(new Lookup.Redirect("/js/"));
        assertThat(source.lookup(accepted("/file.txt"))).isInstanceOf(Lookup.Missing.class);
    }

    private static Resource found(ClasspathSource source, String path) {
        Lookup lookup = source.lookup(accepted(path));
        assertThat(lookup).as(path).isInstanceOf(Lookup.Found.class);
        return ((Lookup.Found) lookup).resource();
    }

    private static PathResolver.Accepted accepted(String path) {
        return (PathResolver.Accepted) PathResolver.resolve(path);
    }

    private static void put(JarOutputStream out, String name, String content) throws Exception {
        out.putNextEntry(new JarEntry(name));
        if (content != null) {
            out.write(content.getBytes(StandardCharsets.UTF_8));
        }
        out.closeEntry();
    }
}
