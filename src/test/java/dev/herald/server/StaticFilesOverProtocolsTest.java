package dev.herald.server;

import dev.herald.testing.HeraldExtension;
import dev.herald.testing.HttpResult;
import dev.herald.testing.NettyH2cClient;
import dev.herald.testing.TestClient;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;

/** The same static-file semantics over h2 (TLS), h2c by Upgrade, h2c prior knowledge, HTTP/1.1 and HTTPS/1.1. */
class StaticFilesOverProtocolsTest {
    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.site("basic");

    static List<TestClient> clients() throws Exception {
        return HERALD.clients();
    }

    /**
     * The clients that send a header block over the server's SETTINGS_MAX_HEADER_LIST_SIZE when asked to: all but
     * the Netty one, whose encoder refuses to (and closes the stream before sending anything).
     */
    static List<TestClient> clientsSendingAnyHeaders() throws Exception {
        return HERALD.clients().stream().filter(c -> !(c instanceof NettyH2cClient)).toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clients")
    void servesAFileWithItsValidators(TestClient client) throws Exception {
        HttpResult r = client.get("/hello.txt");

        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        assertThat(r.bodyText()).isEqualTo("hello, herald\n");
        assertThat(r.header("content-type")).isEqualTo("text/plain; charset=utf-8");
        assertThat(r.header("content-length")).isEqualTo("14");
        assertThat(r.header("etag")).matches("\"[^\"]+\"");
        assertThat(r.header("last-modified")).endsWith("GMT");
        assertThat(r.header("cache-control")).isEqualTo("max-age=60");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clients")
    void speaksTheProtocolItWasAskedFor(TestClient client) throws Exception {
        HttpResult r = client.get("/hello.txt");

        String expected = client.name().startsWith("h2") ? "HTTP/2" : "HTTP/1.1";
        assertThat(r.protocol()).as(client.name()).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clients")
    void ifNoneMatchGives304(TestClient client) throws Exception {
        String etag = client.get("/hello.txt").header("etag");

        HttpResult r = client.get("/hello.txt", Map.of("If-None-Match", etag));

        assertThat(r.status()).as(r.toString()).isEqualTo(304);
        assertThat(r.body()).isEmpty();
        assertThat(r.header("etag")).isEqualTo(etag);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clients")
    void ifModifiedSinceGives304(TestClient client) throws Exception {
        String lastModified = client.get("/hello.txt").header("last-modified");

        HttpResult r = client.get("/hello.txt", Map.of("If-Modified-Since", lastModified));

        assertThat(r.status()).as(r.toString()).isEqualTo(304);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clients")
    void failedIfMatchGives412EvenWithRange(TestClient client) throws Exception {
        String etag = client.get("/hello.txt").header("etag");

        HttpResult matching = client.get("/hello.txt", Map.of("If-Match", etag));
        HttpResult failed = client.get("/hello.txt", Map.of("If-Match", "\"nope\"", "Range", "bytes=0-9"));

        assertThat(matching.status()).as(matching.toString()).isEqualTo(200);
        assertThat(failed.status()).as(failed.toString()).isEqualTo(412);
        assertThat(failed.bodyText()).contains("\"error\":\"precondition failed\"");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clients")
    void ifUnmodifiedSinceBeforeTheFileGives412(TestClient client) throws Exception {
        HttpResult r = client.get("/hello.txt", Map.of("If-Unmodified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"));

        assertThat(r.status()).as(r.toString()).isEqualTo(412);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clients")
    void headHasHeadersAndNoBody(TestClient client) throws Exception {
        HttpResult r = client.send("HEAD", "/hello.txt", Map.of(), null);

        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        assertThat(r.body()).isEmpty();
        assertThat(r.header("content-length")).isEqualTo("14");
        assertThat(r.header("content-type")).isEqualTo("text/plain; charset=utf-8");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clients")
    void rangeGives206(TestClient client) throws Exception {
        HttpResult r = client.get("/hello.txt", Map.of("Range", "bytes=7-12"));

        assertThat(r.status()).as(r.toString()).isEqualTo(206);
        assertThat(r.bodyText()).isEqualTo("herald");
        assertThat(r.header("content-range")).isEqualTo("bytes 7-12/14");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clients")
    void unsatisfiableRangeGives416(TestClient client) throws Exception {
        HttpResult r = client.get("/hello.txt", Map.of("Range", "bytes=100-200"));

        assertThat(r.status()).as(r.toString()).isEqualTo(416);
        assertThat(r.header("content-range")).isEqualTo("bytes */14");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clients")
    void precompressedSiblingsFollowAcceptEncoding(TestClient client) throws Exception {
        byte[] br = Files.readAllBytes(HeraldExtension.sitePath("basic").resolve("css/site.css.br"));
        byte[] gz = Files.readAllBytes(HeraldExtension.sitePath("basic").resolve("css/site.css.gz"));
        byte[] plain = Files.readAllBytes(HeraldExtension.sitePath("basic").resolve("css/site.css"));

        HttpResult brotli = client.get("/css/site.css", Map.of("Accept-Encoding", "gzip, br"));
        HttpResult gzip = client.get("/css/site.css", Map.of("Accept-Encoding", "gzip"));
        HttpResult identity = client.get("/css/site.css", Map.of("Accept-Encoding", "identity"));

        assertThat(brotli.header("content-encoding")).as(brotli.toString()).isEqualTo("br");
        assertThat(brotli.body()).isEqualTo(br);
        assertThat(gzip.header("content-encoding")).isEqualTo("gzip");
        assertThat(gzip.body()).isEqualTo(gz);
        assertThat(identity.header("content-encoding")).isNull();
        assertThat(identity.body()).isEqualTo(plain);
        for (HttpResult r : List.of(brotli, gzip, identity)) {
            assertThat(r.header("vary")).as(r.toString()).containsIgnoringCase("accept-encoding");
            assertThat(r.header("content-type")).isEqualTo("text/css; charset=utf-8");
        }
        assertThat(brotli.header("etag")).isNotEqualTo(identity.header("etag"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clients")
    void aTextFileWithoutSiblingsIsGzippedByHerald(TestClient client) throws Exception {
        byte[] index = Files.readAllBytes(HeraldExtension.sitePath("basic").resolve("index.html"));

        HttpResult gzip = client.get("/", Map.of("Accept-Encoding", "gzip, deflate, br, zstd"));
        HttpResult head = client.send("HEAD", "/", Map.of("Accept-Encoding", "gzip"), null);
        HttpResult identity = client.get("/");

        assertThat(gzip.header("content-encoding")).as(gzip.toString()).isEqualTo("gzip");
        assertThat(gzip.header("content-length")).isEqualTo(String.valueOf(gzip.body().length));
        assertThat(gzip.body().length).isLessThan(index.length);
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(gzip.body()))) {
            assertThat(in.readAllBytes()).isEqualTo(index);
        }
        assertThat(head.header("content-length")).isEqualTo(gzip.header("content-length"));
        assertThat(identity.header("content-encoding")).isNull();
        assertThat(identity.body()).isEqualTo(index);
        assertThat(identity.header("vary")).containsIgnoringCase("accept-encoding");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clients")
    void contentTypesByExtension(TestClient client) throws Exception {
        assertThat(client.get("/js/app.js").header("content-type")).isEqualTo("text/javascript; charset=utf-8");
        assertThat(client.get("/img/logo.svg").header("content-type")).isEqualTo("image/svg+xml; charset=utf-8");
        assertThat(client.get("/fonts/test.woff2").header("content-type")).isEqualTo("font/woff2");
        assertThat(client.get("/data.json").header("content-type")).isEqualTo("application/json; charset=utf-8");
        assertThat(client.get("/").header("content-type")).isEqualTo("text/html; charset=utf-8");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clients")
    void folderServesItsIndex(TestClient client) throws Exception {
        byte[] index = Files.readAllBytes(HeraldExtension.sitePath("basic").resolve("docs/index.html"));

        HttpResult r = client.get("/docs/");

        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(index);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clients")
    void fingerprintedAssetsAreImmutable(TestClient client) throws Exception {
        HttpResult r = client.get("/app.0123abcd.js");

        assertThat(r.header("cache-control")).isEqualTo("public, max-age=31536000, immutable");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clients")
    void errorsHaveJsonBodies(TestClient client) throws Exception {
        HttpResult missing = client.get("/no-such-file.txt");
        HttpResult dotfile = client.get("/.env");
        HttpResult post = client.send("POST", "/hello.txt", Map.of("Content-Type", "text/plain"),
                "x".getBytes(StandardCharsets.UTF_8));

        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.bodyText()).isEqualTo("{\"error\":\"not found\",\"detail\":\"no file at /no-such-file.txt\"}");
        assertThat(missing.header("content-type")).isEqualTo("application/json");
        assertThat(dotfile.status()).isEqualTo(404);
        assertThat(dotfile.bodyText()).doesNotContain("SECRET");
        assertThat(post.status()).isEqualTo(405);
        assertThat(post.header("allow")).isEqualTo("GET, HEAD");
        assertThat(post.bodyText()).contains("\"error\":\"method not allowed\"");
    }

    /**
     * Header fields over {@code http2.max-header-list-size} get a 431 like every other error, on every protocol:
     * over HTTP/2 it is answered by the frame codec before any stream handler exists, and the JSON body goes out
     * ahead of the stream reset that follows it.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("clientsSendingAnyHeaders")
    void headersOverTheLimitGetA431WithJson(TestClient client) throws Exception {
        int limit = HERALD.herald().config().maxHeaderListSize();
        HttpResult r = client.get("/hello.txt", Map.of("x-big", "b".repeat(limit + 1024)));

        assertThat(r.status()).as(r.toString()).isEqualTo(431);
        assertThat(r.header("content-type")).as(r.toString()).isEqualTo("application/json");
        assertThat(r.header("date")).as(r.toString()).endsWith("GMT");
        assertThat(r.bodyText()).isEqualTo("{\"error\":\"header too large\",\"detail\":\"the header fields are "
                + "over http2.max-header-list-size, " + limit + " bytes\"}");
        assertThat(client.get("/hello.txt").status()).as("the connection still serves").isEqualTo(200);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clients")
    void healthAndMetrics(TestClient client) throws Exception {
        HttpResult health = client.get("/healthz");
        HttpResult metrics = client.get("/metrics");

        assertThat(health.status()).isEqualTo(200);
        assertThat(health.bodyText()).isEqualTo("{\"status\":\"ok\"}");
        assertThat(metrics.status()).isEqualTo(200);
        assertThat(metrics.bodyText())
                .contains("herald_requests_total{status=\"200\"}")
                .contains("herald_response_bytes_total")
                .contains("herald_connections_open")
                .contains("herald_streams_open");
    }
}
