package dev.herald.files;

import dev.herald.config.ConfigException;
import dev.herald.config.HeraldConfig;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Methods, headers, folders, conditional requests and ranges, with disk work on the calling thread. */
class StaticFilesTest {
    private static final String HELLO = "hello, herald\n";
    private static final Instant MODIFIED = Instant.parse("2024-05-06T07:08:09.500Z");
    private static final String MODIFIED_HTTP = "Mon, 06 May 2024 07:08:09 GMT";

    @TempDir
    Path root;
    StaticFiles files;

    @BeforeEach
    void site() throws Exception {
        Files.writeString(root.resolve("hello.txt"), HELLO);
        Files.setLastModifiedTime(root.resolve("hello.txt"), FileTime.from(MODIFIED));
        Files.writeString(root.resolve("index.html"), "<h1>home</h1>");
        Files.createDirectories(root.resolve("docs"));
        Files.writeString(root.resolve("docs/index.html"), "<h1>docs</h1>");
        Files.createDirectories(root.resolve("empty"));
        Files.createDirectories(root.resolve("my dir"));
        Files.writeString(root.resolve("my dir/index.html"), "spaced");
        Files.writeString(root.resolve("app.0123abcd.js"), "export const x = 1;");
        files = StaticFiles.create(root, HeraldConfig.builder().maxUriLength(256).build(), Runnable::run);
    }

    private FakeExchange get(String target, String... headers) throws Exception {
        FakeExchange ex = FakeExchange.run(files, "GET", target, headers);
        assertThat(ex.responses()).as(ex.toString()).isEqualTo(1);
        return ex;
    }

    @Test
    void servesAFileWithItsHeaders() throws Exception {
        FakeExchange ex = get("/hello.txt");

        assertThat(ex.status()).isEqualTo(200);
        assertThat(ex.bodyText()).isEqualTo(HELLO);
        assertThat(ex.response().contentLength()).isEqualTo(14);
        assertThat(ex.header("content-type")).isEqualTo("text/plain; charset=utf-8");
        assertThat(ex.header("etag")).isEqualTo(EntityTags.of(HELLO.getBytes(StandardCharsets.UTF_8)));
        assertThat(ex.header("last-modified")).isEqualTo(MODIFIED_HTTP);
        assertThat(ex.header("cache-control")).isEqualTo("max-age=60");
        assertThat(ex.header("accept-ranges")).isEqualTo("bytes");
        assertThat(ex.header("vary")).isNull();
        assertThat(ex.header("content-encoding")).isNull();
        assertThat(ex.header("content-length")).as("the protocol layer sets it").isNull();
    }

    @Test
    void headGetsTheSameHeadersAsGet() throws Exception {
        FakeExchange get = get("/hello.txt");
        FakeExchange head = FakeExchange.run(files, "HEAD", "/hello.txt");

        assertThat(head.status()).isEqualTo(200);
        assertThat(head.response().contentLength()).isEqualTo(14);
        assertThat(head.response().headers().toString()).isEqualTo(get.response().headers().toString());
    }

    @Test
    void headIgnoresRange() throws Exception {
        FakeExchange head = FakeExchange.run(files, "HEAD", "/hello.txt", "range", "bytes=0-1");

        assertThat(head.status()).isEqualTo(200);
        assertThat(head.response().contentLength()).isEqualTo(14);
    }

    @ParameterizedTest
    @ValueSource(strings = {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "get", "PROPFIND"})
    void otherMethodsGet405(String method) throws Exception {
        FakeExchange ex = FakeExchange.run(files, method, "/hello.txt");

        assertThat(ex.status()).isEqualTo(405);
        assertThat(ex.header("allow")).isEqualTo("GET, HEAD");
        assertThat(ex.bodyText()).isEqualTo("{\"error\":\"method not allowed\",\"detail\":\"" + method
                + " is not allowed on files: GET or HEAD\"}");
    }

    @Test
    void tooLongTargetsGet414() throws Exception {
        String longPath = "/" + "a".repeat(255);
        String fits = "/" + "a".repeat(254);

        assertThat(get(longPath + "?").status()).as("length 257 with the '?'").isEqualTo(414);
        assertThat(get(longPath + "x").status()).isEqualTo(414);
        assertThat(get("/hello.txt?" + "q".repeat(250)).status()).isEqualTo(414);
        assertThat(get(fits).status()).as("length 255 is within the limit").isEqualTo(404);
        assertThat(get(longPath).status()).as("length 256 is within the limit").isEqualTo(404);
        assertThat(get(longPath + "x").bodyText()).isEqualTo("{\"error\":\"uri too long\",\"detail\":\"the request "
                + "target has 257 characters, more than max-uri-length 256\"}");
    }

    @Test
    void missingFilesAre404WithAJsonBody() throws Exception {
        FakeExchange ex = get("/no-such-file.txt");

        assertThat(ex.status()).isEqualTo(404);
        assertThat(ex.bodyText()).isEqualTo("{\"error\":\"not found\",\"detail\":\"no file at /no-such-file.txt\"}");
        assertThat(ex.header("content-type")).isEqualTo("application/json");
    }

    @Test
    void badPathsAre400WithTheReason() throws Exception {
        FakeExchange ex = get("/%2e%2e/x");

        assertThat(ex.status()).isEqualTo(400);
        assertThat(ex.bodyText()).startsWith("{\"error\":\"bad path\",\"detail\":\"").contains("..");
    }

    @Test
    void theQueryDoesNotChangeTheFile() throws Exception {
        assertThat(get("/hello.txt?v=3&x=%2e%2e").bodyText()).isEqualTo(HELLO);
    }

    // --- folders

    @Test
    void folderWithSlashServesItsIndex() throws Exception {
        FakeExchange docs = get("/docs/");
        FakeExchange home = get("/");

        assertThat(docs.status()).isEqualTo(200);
        assertThat(docs.bodyText()).isEqualTo("<h1>docs</h1>");
        assertThat(docs.header("content-type")).isEqualTo("text/html; charset=utf-8");
        assertThat(home.bodyText()).isEqualTo("<h1>home</h1>");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "/docs            | /docs/",
        "/docs?x=1&y      | /docs/?x=1&y",
        "//docs           | /docs/",
        "/%64ocs          | /docs/",
        "/my%20dir        | /my%20dir/",
        "/empty           | /empty/",
    })
    void folderWithoutSlashIsRedirected(String target, String location) throws Exception {
        FakeExchange ex = get(target);

        assertThat(ex.status()).isEqualTo(301);
        assertThat(ex.header("location")).isEqualTo(location);
        assertThat(ex.bodyText()).isEqualTo("301 Moved Permanently\n");
    }

    @Test
    void redirectFollowedServesTheIndex() throws Exception {
        String location = get("/my%20dir").header("location");

        assertThat(get(location).bodyText()).isEqualTo("spaced");
    }

    @Test
    void folderWithoutIndexIs404NotAListing() throws Exception {
        assertThat(get("/empty/").status()).isEqualTo(404);
    }

    @Test
    void fileAskedForAsAFolderIs404() throws Exception {
        assertThat(get("/hello.txt/").status()).isEqualTo(404);
        assertThat(get("/hello.txt/more").status()).isEqualTo(404);
    }

    @Test
    void nonRegularFilesAre404() throws Exception {
        Path fifo = root.resolve("pipe");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertThat(mkfifo.waitFor()).isZero();

        assertThat(get("/pipe").status()).isEqualTo(404);
    }

    // --- headers by path

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "style.css       | text/css; charset=utf-8",
        "app.mjs         | text/javascript; charset=utf-8",
        "data.json       | application/json; charset=utf-8",
        "logo.svg        | image/svg+xml; charset=utf-8",
        "pic.webp        | image/webp",
        "font.woff2      | font/woff2",
        "mod.wasm        | application/wasm",
        "blob            | application/octet-stream",
        "strange.qqq     | application/octet-stream",
    })
    void contentTypeFollowsTheExtension(String name, String type) throws Exception {
        Files.writeString(root.resolve(name), "x");

        assertThat(get("/" + name).header("content-type")).isEqualTo(type);
    }

    @Test
    void fingerprintedFilesAreImmutable() throws Exception {
        assertThat(get("/app.0123abcd.js").header("cache-control")).isEqualTo("public, max-age=31536000, immutable");
        assertThat(get("/hello.txt").header("cache-control")).isEqualTo("max-age=60");
    }

    @Test
    void cacheControlComesFromTheConfig() throws Exception {
        StaticFiles custom = StaticFiles.create(root, HeraldConfig.builder()
                .cacheControl("max-age=60").immutablePattern("/docs/.*").immutableCacheControl("max-age=999")
                .build(), Runnable::run);

        assertThat(FakeExchange.run(custom, "GET", "/hello.txt").header("cache-control")).isEqualTo("max-age=60");
        assertThat(FakeExchange.run(custom, "GET", "/docs/").header("cache-control"))
                .as("an index matches by its file path").isEqualTo("max-age=999");
        assertThat(FakeExchange.run(custom, "GET", "/app.0123abcd.js").header("cache-control"))
                .isEqualTo("max-age=60");
    }

    // --- conditional requests

    @Test
    void ifNoneMatchGives304WithValidatorsAndNoBody() throws Exception {
        String etag = get("/hello.txt").header("etag");

        FakeExchange ex = get("/hello.txt", "if-none-match", etag);

        assertThat(ex.status()).isEqualTo(304);
        assertThat(ex.response().bytes()).isNull();
        assertThat(ex.response().file()).isNull();
        assertThat(ex.header("etag")).isEqualTo(etag);
        assertThat(ex.header("last-modified")).isEqualTo(MODIFIED_HTTP);
        assertThat(ex.header("cache-control")).isEqualTo("max-age=60");
    }

    @ParameterizedTest
    @ValueSource(strings = {"%s", "W/%s", "\"other\", %s", "*", "\"a\", W/%s, \"b\""})
    void ifNoneMatchComparesWeakly(String template) throws Exception {
        String etag = get("/hello.txt").header("etag");

        assertThat(get("/hello.txt", "if-none-match", template.replace("%s", etag)).status()).isEqualTo(304);
    }

    @Test
    void ifNoneMatchAcrossSeveralHeaderLines() throws Exception {
        String etag = get("/hello.txt").header("etag");

        assertThat(get("/hello.txt", "if-none-match", "\"a\"", "if-none-match", etag).status()).isEqualTo(304);
    }

    @Test
    void ifNoneMatchMissGives200AndOverridesIfModifiedSince() throws Exception {
        FakeExchange ex = get("/hello.txt", "if-none-match", "\"stale\"", "if-modified-since", MODIFIED_HTTP);

        assertThat(ex.status()).isEqualTo(200);
        assertThat(ex.bodyText()).isEqualTo(HELLO);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "if-modified-since   | Mon, 06 May 2024 07:08:09 GMT    | 304",
        "if-modified-since   | Mon, 06 May 2024 07:08:10 GMT    | 304",
        "if-modified-since   | Monday, 06-May-24 07:08:09 GMT   | 304",
        "if-modified-since   | Mon May  6 07:08:09 2024         | 304",
        "if-modified-since   | Mon, 06 May 2024 07:08:08 GMT    | 200",
        "if-modified-since   | Sun, 06 Nov 1994 08:49:37 GMT    | 200",
        "if-modified-since   | not a date                       | 200",
        "if-modified-since   | Mon, 06 May 2024 07:08:09 CEST   | 200",
        "if-unmodified-since | Mon, 06 May 2024 07:08:08 GMT    | 412",
        "if-unmodified-since | Sun, 06 Nov 1994 08:49:37 GMT    | 412",
        "if-unmodified-since | Monday, 06-May-24 07:08:08 GMT   | 412",
        "if-unmodified-since | Mon, 06 May 2024 07:08:09 GMT    | 200",
        "if-unmodified-since | Thu, 01 Jan 2037 00:00:00 GMT    | 200",
        "if-unmodified-since | not a date                       | 200",
        "if-unmodified-since | Mon, 06 May 2024 07:08:08 CEST   | 200",
    })
    void dateConditionsCompareToTheSecondAndIgnoreInvalidDates(String header, String date, int status)
            throws Exception {
        assertThat(get("/hello.txt", header, date).status()).isEqualTo(status);
        assertThat(get("/hello.txt", header, date, "range", "bytes=0-4").status())
                .as("preconditions come before Range").isEqualTo(status == 200 ? 206 : status);
    }

    @Test
    void headHonoursConditionals() throws Exception {
        String etag = get("/hello.txt").header("etag");

        assertThat(FakeExchange.run(files, "HEAD", "/hello.txt", "if-none-match", etag).status()).isEqualTo(304);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "%s                 | 200",
        "*                  | 200",
        "\"other\", %s      | 200",
        "W/\"other\", %s    | 200",
        "\"nope\"           | 412",
        "W/%s               | 412",
        "\"a\", W/%s        | 412",
        "garbage %s         | 412",
    })
    void ifMatchComparesStrongly(String template, int status) throws Exception {
        String etag = get("/hello.txt").header("etag");

        FakeExchange ex = get("/hello.txt", "if-match", template.replace("%s", etag));

        assertThat(ex.status()).isEqualTo(status);
        assertThat(ex.bodyText()).isEqualTo(status == 200 ? HELLO : "{\"error\":\"precondition failed\",\"detail\":\"If-Match or "
                + "If-Unmodified-Since does not hold for the current representation\"}");
    }

    @Test
    void ifMatchIsEvaluatedBeforeRangeAndForHead() throws Exception {
        FakeExchange range = get("/hello.txt", "if-match", "\"nope\"", "range", "bytes=0-9");
        FakeExchange head = FakeExchange.run(files, "HEAD", "/hello.txt", "if-match", "\"nope\"");

        assertThat(range.status()).isEqualTo(412);
        assertThat(range.header("content-range")).isNull();
        assertThat(head.status()).isEqualTo(412);
    }

    @Test
    void ifMatchIsEvaluatedBeforeIfNoneMatch() throws Exception {
        String etag = get("/hello.txt").header("etag");

        assertThat(get("/hello.txt", "if-match", "\"nope\"", "if-none-match", etag).status()).isEqualTo(412);
        assertThat(get("/hello.txt", "if-match", etag, "if-none-match", etag).status()).isEqualTo(304);
    }

    @Test
    void ifMatchMakesIfUnmodifiedSinceIgnored() throws Exception {
        String etag = get("/hello.txt").header("etag");
        String past = "Sun, 06 Nov 1994 08:49:37 GMT";

        assertThat(get("/hello.txt", "if-unmodified-since", past).status()).isEqualTo(412);
        assertThat(get("/hello.txt", "if-match", etag, "if-unmodified-since", past).status()).isEqualTo(200);
        assertThat(get("/hello.txt", "if-match", "\"nope\"", "if-unmodified-since", "Thu, 01 Jan 2037 00:00:00 GMT")
                .status()).isEqualTo(412);
    }

    // --- ranges

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "bytes=7-12     | herald  | bytes 7-12/14",
        "bytes=0-0      | h       | bytes 0-0/14",
        "bytes=7-       | herald\\n        | bytes 7-13/14",
        "bytes=-7       | herald\\n        | bytes 7-13/14",
        "bytes=7-999    | herald\\n        | bytes 7-13/14",
        "bytes=-999     | 'hello, herald\\n' | bytes 0-13/14",
    })
    void singleRangeGives206(String range, String escapedBody, String contentRange) throws Exception {
        String body = escapedBody.replace("\\n", "\n");
        FakeExchange ex = get("/hello.txt", "range", range);

        assertThat(ex.status()).isEqualTo(206);
        assertThat(ex.bodyText()).isEqualTo(body);
        assertThat(ex.response().contentLength()).isEqualTo(body.length());
        assertThat(ex.header("content-range")).isEqualTo(contentRange);
        assertThat(ex.header("etag")).isNotNull();
        assertThat(ex.header("content-type")).isEqualTo("text/plain; charset=utf-8");
    }

    @ParameterizedTest
    @ValueSource(strings = {"bytes=14-", "bytes=100-200", "bytes=-0"})
    void unsatisfiableRangeGives416(String range) throws Exception {
        FakeExchange ex = get("/hello.txt", "range", range);

        assertThat(ex.status()).isEqualTo(416);
        assertThat(ex.header("content-range")).isEqualTo("bytes */14");
        assertThat(ex.bodyText()).isEqualTo("{\"error\":\"range not satisfiable\",\"detail\":\"no byte of the range is "
                + "within the 14 bytes of the representation\"}");
    }

    @ParameterizedTest
    @ValueSource(strings = {"bytes=0-1,5-6", "bytes=0-1, 3-4, 5-6", "bytes=x-y", "bytes=5-2", "lines=1-2", "bytes"})
    void severalOrMalformedRangesGiveTheWholeFile(String range) throws Exception {
        FakeExchange ex = get("/hello.txt", "range", range);

        assertThat(ex.status()).isEqualTo(200);
        assertThat(ex.bodyText()).isEqualTo(HELLO);
        assertThat(ex.header("content-range")).isNull();
    }

    @Test
    void ifRangeWithTheCurrentTagOrDateAppliesTheRange() throws Exception {
        String etag = get("/hello.txt").header("etag");

        assertThat(get("/hello.txt", "range", "bytes=0-4", "if-range", etag).status()).isEqualTo(206);
        assertThat(get("/hello.txt", "range", "bytes=0-4", "if-range", MODIFIED_HTTP).status()).isEqualTo(206);
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"old\"", "W/%s", "Mon, 06 May 2024 07:08:10 GMT", "Mon, 06 May 2024 07:08:08 GMT",
        "garbage"})
    void ifRangeThatDoesNotMatchGivesTheWholeFile(String template) throws Exception {
        String etag = get("/hello.txt").header("etag");

        FakeExchange ex = get("/hello.txt", "range", "bytes=0-4", "if-range", template.replace("%s", etag));

        assertThat(ex.status()).isEqualTo(200);
        assertThat(ex.bodyText()).isEqualTo(HELLO);
    }

    @Test
    void ifNoneMatchIsEvaluatedBeforeRange() throws Exception {
        String etag = get("/hello.txt").header("etag");

        assertThat(get("/hello.txt", "range", "bytes=0-4", "if-none-match", etag).status()).isEqualTo(304);
    }

    @Test
    void emptyFile() throws Exception {
        Files.createFile(root.resolve("empty.txt"));

        FakeExchange whole = get("/empty.txt");
        FakeExchange range = get("/empty.txt", "range", "bytes=0-");

        assertThat(whole.status()).isEqualTo(200);
        assertThat(whole.response().contentLength()).isZero();
        assertThat(range.status()).isEqualTo(416);
        assertThat(range.header("content-range")).isEqualTo("bytes */0");
    }

    // --- construction

    @Test
    void rootMustBeAnExistingFolder() {
        HeraldConfig config = HeraldConfig.builder().build();

        assertThatThrownBy(() -> StaticFiles.create(root.resolve("nope"), config, Runnable::run))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("root: ").hasMessageContaining("(expected: an existing folder)");
        assertThatThrownBy(() -> StaticFiles.create(root.resolve("hello.txt"), config, Runnable::run))
                .isInstanceOf(ConfigException.class);
    }
}
