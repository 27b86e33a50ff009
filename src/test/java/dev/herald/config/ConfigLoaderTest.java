package dev.herald.config;

import dev.herald.store.redis.RedisEventLog;
import dev.herald.testing.LogCapture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    @Test
    void withoutSourcesTheBuilderDefaultsApply() {
        HeraldConfig config = loader().load();
        assertThat(config.tlsPort()).isEqualTo(8443);
        assertThat(config.root()).isEmpty();
        assertThat(config.maxConcurrentStreams()).isEqualTo(256);
    }

    @Test
    void nestedYamlKeysAreFlattenedWithDots() throws Exception {
        yaml("""
                port: 9443
                http2:
                  max-concurrent-streams: 64
                  initial-window-size: 64KiB
                files:
                  cache-max-bytes: 1MiB
                  cache-control: private, no-cache
                tls.handshake-timeout: 500ms
                access-log: false
                metrics:
                  path: ""
                """);
        HeraldConfig config = loader().load();
        assertThat(config.tlsPort()).isEqualTo(9443);
        assertThat(config.maxConcurrentStreams()).isEqualTo(64);
        assertThat(config.initialWindowSize()).isEqualTo(65_536);
        assertThat(config.fileCacheBytes()).isEqualTo(1L << 20);
        assertThat(config.cacheControl()).isEqualTo("private, no-cache");
        assertThat(config.handshakeTimeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(config.accessLog()).isFalse();
        assertThat(config.metricsPath()).isEmpty();
    }

    @Test
    void pushRulesAreAYamlListOfMapsAndTheOtherPushKeysNest() throws Exception {
        yaml("""
                push:
                  priority: before
                  early-hints: h2
                  max-bytes: 64KiB
                  rules:
                    - path: /index.html
                      resources: [/css/site.css, /js/app.js]
                    - path: /docs/**
                      limit: 1
                      discovery: false
                      link:
                        - "</fonts/doc.woff2>; rel=preload; as=font; crossorigin"
                    - path: /admin/*
                      enabled: false
                """);
        HeraldConfig config = loader().load();
        assertThat(config.pushPriority()).isEqualTo(HeraldConfig.PushPriority.BEFORE);
        assertThat(config.pushEarlyHints()).isEqualTo(HeraldConfig.EarlyHints.H2);
        assertThat(config.pushMaxBytes()).isEqualTo(64L << 10);
        assertThat(config.pushRules()).containsExactly(
                PushRule.of("/index.html", java.util.List.of("/css/site.css", "/js/app.js")),
                new PushRule("/docs/**", java.util.List.of(), true, 1, false,
                        java.util.List.of("</fonts/doc.woff2>; rel=preload; as=font; crossorigin")),
                new PushRule("/admin/*", java.util.List.of(), false, -1, true, java.util.List.of()));
    }

    @Test
    void pushRulesFromAnEnvironmentVariableAreJson() {
        HeraldConfig config = loader().env(Map.of("HERALD_PUSH_RULES",
                "[{\"path\": \"/\", \"resources\": [\"/a.css\"]}]")).load();
        assertThat(config.pushRules()).containsExactly(PushRule.of("/", java.util.List.of("/a.css")));
    }

    @Test
    void flagsWinOverEnvironmentWhichWinsOverYaml() throws Exception {
        yaml("""
                port: 1001
                http-port: 2001
                host: 127.0.0.1
                """);
        HeraldConfig config = loader()
                .env(Map.of("HERALD_PORT", "1002", "HERALD_HTTP_PORT", "2002", "HERALD_MAX_URI_LENGTH", "4096"))
                .flags(Map.of("port", "1003", "idle-timeout", "2m"))
                .load();
        assertThat(config.tlsPort()).as("flag over env over yaml").isEqualTo(1003);
        assertThat(config.httpPort()).as("env over yaml").isEqualTo(2002);
        assertThat(config.host()).as("yaml over default").isEqualTo("127.0.0.1");
        assertThat(config.maxUriLength()).as("env over default").isEqualTo(4096);
        assertThat(config.idleTimeout()).as("flag over default").isEqualTo(Duration.ofMinutes(2));
    }

    @Test
    void anExplicitConfigFileReplacesHeraldYaml() throws Exception {
        yaml("port: 1001\n");
        Files.writeString(dir.resolve("other.yaml"), "port: 1002\n");
        assertThat(loader().configFile(Path.of("other.yaml")).load().tlsPort()).isEqualTo(1002);
    }

    @Test
    void anExplicitConfigFileMustExist() {
        assertThatThrownBy(() -> loader().configFile(Path.of("missing.yaml")).load())
                .isInstanceOf(ConfigException.class)
                .hasMessage("config: missing.yaml (expected: an existing YAML file)");
    }

    @Test
    void unknownYamlKeyIsNamedWithTheFile() throws Exception {
        yaml("""
                http2:
                  max-streams: 10
                """);
        assertThatThrownBy(() -> loader().load())
                .isInstanceOf(ConfigException.class)
                .hasMessage("herald.yaml: http2.max-streams: 10 (expected: one of the keys herald --help lists)");
    }

    @Test
    void outOfRangeYamlValueGetsTheBuilderMessage() throws Exception {
        yaml("port: 99999\n");
        assertThatThrownBy(() -> loader().load())
                .hasMessage("herald.yaml: port: 99999 (expected: -1 (off), 0 (any) or 1..65535)");
    }

    @Test
    void wrongTypesInYamlSayWhatIsExpected() throws Exception {
        yaml("http2: {max-concurrent-streams: abc}\n");
        assertThatThrownBy(() -> loader().load())
                .hasMessage("herald.yaml: http2.max-concurrent-streams: abc (expected: an integer)");
        yaml("port: [1, 2]\n");
        assertThatThrownBy(() -> loader().load()).hasMessage("herald.yaml: port: [1,2] (expected: an integer)");
        yaml("shutdown-timeout: 10\n");
        assertThatThrownBy(() -> loader().load())
                .hasMessage("herald.yaml: shutdown-timeout: 10 (expected: a duration such as 500ms, 10s or 2m)");
        yaml("verbose: maybe\n");
        assertThatThrownBy(() -> loader().load()).hasMessage("herald.yaml: verbose: maybe (expected: true or false)");
        yaml("files:\n  cache-max-bytes: 12 parsecs\n");
        assertThatThrownBy(() -> loader().load()).hasMessage(
                "herald.yaml: files.cache-max-bytes: 12 parsecs (expected: a size such as 256KiB, 32MiB or 1GiB)");
    }

    @Test
    void aMultiLineValueStaysOnOneLineInTheMessage() throws Exception {
        yaml("port: |\n  1\n  2\n");
        assertThatThrownBy(() -> loader().load()).hasMessage("herald.yaml: port: 1\\n2\\n (expected: an integer)");
    }

    @Test
    void aMultiLineUnknownKeyStaysOnOneLineInTheMessage() throws Exception {
        // Found by ConfigLoaderFuzzTest: a quoted YAML key may hold a line break.
        yaml("\"a\\nb\": 1\n");
        assertThatThrownBy(() -> loader().load()).isInstanceOf(ConfigException.class)
                .hasMessage("herald.yaml: a\\nb: 1 (expected: one of the keys herald --help lists)");
    }

    @Test
    void badEnvironmentValueIsNamedWithTheVariable() {
        assertThatThrownBy(() -> loader().env(Map.of("HERALD_IDLE_TIMEOUT", "0s")).load())
                .hasMessage("HERALD_IDLE_TIMEOUT: idle-timeout: 0s (expected: a duration > 0 such as 120s)");
    }

    @Test
    void badFlagValueHasNoSourcePrefix() {
        assertThatThrownBy(() -> loader().flags(Map.of("max-request-body", "lots")).load())
                .hasMessage("max-request-body: lots (expected: a size below 2GiB such as 16KiB or 1MiB)");
    }

    @Test
    void aMaxUriLengthTooLargeForTheHttp1LineLimitIsRefused() {
        // 2147483647 passed once, and every HTTP/1.1 connection then failed (the line limit overflowed).
        assertThatThrownBy(() -> loader().flags(Map.of("max-uri-length", "2147483647")).load())
                .hasMessage("max-uri-length: 2147483647 (expected: an integer from 256 to 1048576)");
        assertThat(loader().flags(Map.of("max-uri-length", "1048576")).load().maxUriLength()).isEqualTo(1 << 20);
    }

    @Test
    void unknownFlagKeyIsAProgrammingError() {
        assertThatThrownBy(() -> loader().flags(Map.of("nope", "1")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown setting: nope");
    }

    @Test
    void malformedYamlIsOneLineWithItsPosition() throws Exception {
        yaml("port: 1\n  host: x\n");
        assertThatThrownBy(() -> loader().load())
                .isInstanceOf(ConfigException.class)
                .message().startsWith("herald.yaml: line 2, column ").doesNotContain("\n");
    }

    @Test
    void duplicateYamlKeysAreRejected() throws Exception {
        yaml("port: 1\nport: 2\n");
        assertThatThrownBy(() -> loader().load())
                .message().startsWith("herald.yaml: line 2").contains("port").doesNotContain("\n");
    }

    @Test
    void yamlMustBeAMap() throws Exception {
        yaml("- port\n");
        assertThatThrownBy(() -> loader().load())
                .hasMessage("herald.yaml: [\"port\"] (expected: a map of settings such as port: 8443)");
    }

    @Test
    void emptyFileAndEmptyValuesKeepTheDefaults() throws Exception {
        yaml("");
        assertThat(loader().load().tlsPort()).isEqualTo(8443);
        yaml("tls:\n  cert:\n  key:\nport:\n");
        HeraldConfig config = loader().load();
        assertThat(config.tlsCert()).isEmpty();
        assertThat(config.tlsPort()).isEqualTo(8443);
    }

    @Test
    void theLastProblemOfBuildIsReportedToo() throws Exception {
        Path cert = Files.writeString(dir.resolve("cert.pem"), "x");
        assertThatThrownBy(() -> loader().flags(Map.of("tls.cert", cert.toString())).load())
                .hasMessage("tls.cert: " + cert + " (expected: tls.cert and tls.key together)");
    }

    @Test
    void yamlAliasesAreRefusedInsteadOfReadAsTheAnchorsName() throws Exception {
        yaml("""
                files:
                  cache-control: &cc "max-age=60"
                  immutable-cache-control: *cc
                """);
        assertThatThrownBy(() -> loader().load()).isInstanceOf(ConfigException.class)
                .hasMessage("herald.yaml: line 3, column 28: YAML aliases (*name) are not supported (expected: the "
                        + "value written out)");
        yaml("&k a: 1\n*k : 2\n");
        assertThatThrownBy(() -> loader().load())
                .hasMessageStartingWith("herald.yaml: line 2, column 3: YAML aliases (*name) are not supported");
        Files.delete(dir.resolve("herald.yaml"));
        assertThatThrownBy(() -> loader().env(Map.of("HERALD_PUSH_RULES", "[{path: &p /}, {path: *p}]")).load())
                .hasMessage("HERALD_PUSH_RULES: push.rules: line 1, column 23: YAML aliases (*name) are not "
                        + "supported (expected: the value written out)");
    }

    @Test
    void aYamlAnchorAloneIsAllowed() throws Exception {
        yaml("files:\n  cache-control: &cc max-age=60\n");
        assertThat(loader().load().cacheControl()).isEqualTo("max-age=60");
    }

    @Test
    void aSecondYamlDocumentIsRefusedNotDropped() throws Exception {
        yaml("http-port: 17599\n---\nhttp-port: 17600\n");
        assertThatThrownBy(() -> loader().load())
                .hasMessage("herald.yaml: line 3, column 1: more than one YAML document (expected: one)");
        yaml("---\nhttp-port: 17599\n...\n");
        assertThat(loader().load().httpPort()).as("one document with its markers").isEqualTo(17599);
    }

    @Test
    void aSyntaxErrorSaysWhatWasExpectedAndWhere() throws Exception {
        yaml("push:\n  rules: [a, b\n");
        assertThatThrownBy(() -> loader().load())
                .hasMessage("herald.yaml: line 3, column 1: expected ',' or ']', but got <stream end> (while parsing "
                        + "a flow sequence started at line 2, column 10)");
        yaml("a: {b: 1\n");
        assertThatThrownBy(() -> loader().load())
                .hasMessage("herald.yaml: line 2, column 1: expected ',' or '}', but got <stream end> (while parsing "
                        + "a flow mapping started at line 1, column 4)");
    }

    @Test
    void aControlCharacterYamlCannotHoldIsNamedWithItsPosition() throws Exception {
        yaml("port: 1\nhost: a\u0000b\n");
        assertThatThrownBy(() -> loader().load())
                .hasMessage("herald.yaml: line 2, column 8: the character U+0000 is not allowed in YAML");
    }

    @Test
    void aFileThatIsNotUtf8IsNamedWithTheBadBytesPosition() throws Exception {
        Files.write(dir.resolve("latin.yaml"), "port: 1\nfiles:\n  cache-control: \"caf\u00e9 x\"\n"
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertThatThrownBy(() -> loader().configFile(Path.of("latin.yaml")).load())
                .hasMessage("latin.yaml: is not UTF-8 (byte 0xE9 at line 3, column 22)");
    }

    @Test
    void aFolderNamedHeraldYamlIsAnErrorLikeAFolderGivenAsConfig() throws Exception {
        Files.createDirectory(dir.resolve("herald.yaml"));
        assertThatThrownBy(() -> loader().load())
                .hasMessage("config: herald.yaml (expected: an existing YAML file)");
        assertThatThrownBy(() -> loader().configFile(Path.of("herald.yaml")).load())
                .hasMessage("config: herald.yaml (expected: an existing YAML file)");
    }

    @Test
    void aSectionWithAValueInsteadOfAMapSaysItMustBeAMap() throws Exception {
        yaml("http2: 5\n");
        assertThatThrownBy(() -> loader().load())
                .hasMessage("herald.yaml: http2: 5 (expected: a map of http2 settings, such as max-concurrent-streams)");
        yaml("http2:\n  latency-optimization: fast\n");
        assertThatThrownBy(() -> loader().load()).hasMessage("herald.yaml: http2.latency-optimization: fast "
                + "(expected: a map of http2.latency-optimization settings, such as min-rtt)");
        yaml("push:\n  rules: {path: /}\n");
        assertThatThrownBy(() -> loader().load())
                .hasMessageStartingWith("herald.yaml: push.rules: {\"path\":\"/\"} (expected: a list of rules");
    }

    @Test
    void aBadPushRuleInYamlNamesItsField() throws Exception {
        yaml("""
                push:
                  rules:
                    - path: /
                      limit: 0
                      enabled: maybe
                """);
        assertThatThrownBy(() -> loader().load())
                .hasMessage("herald.yaml: push.rules[0].enabled: maybe (expected: true or false)");
    }

    @Test
    void anIntegerTooLargeIsOutOfRange() throws Exception {
        yaml("http2:\n  max-concurrent-streams: 99999999999999999999\n");
        assertThatThrownBy(() -> loader().load()).hasMessage("herald.yaml: http2.max-concurrent-streams: "
                + "99999999999999999999 is out of range (expected: an integer from -2147483648 to 2147483647)");
    }

    @Test
    void aCacheControlWithALineBreakIsRefusedFromEverySource() throws Exception {
        yaml("files:\n  immutable-cache-control: \"max-age=1\\r\\nX-Injected: 1\"\n");
        assertThatThrownBy(() -> loader().load()).hasMessage("herald.yaml: files.immutable-cache-control: "
                + "max-age=1\\r\\nX-Injected: 1 (expected: a Cache-Control value such as no-cache, without line "
                + "breaks or other control characters)");
        Files.delete(dir.resolve("herald.yaml"));
        assertThatThrownBy(() -> loader().env(Map.of("HERALD_FILES_CACHE_CONTROL", "no-cache\r\nX: 1")).load())
                .hasMessageStartingWith("HERALD_FILES_CACHE_CONTROL: files.cache-control: no-cache\\r\\nX: 1 (");
        assertThatThrownBy(() -> loader().flags(Map.of("files.cache-control", "no-cache\nX: 1")).load())
                .hasMessageStartingWith("files.cache-control: no-cache\\nX: 1 (expected: ");
    }

    @Test
    void unknownHeraldVariablesAreLoggedWithTheClosestKnownName() {
        try (LogCapture log = LogCapture.of(ConfigLoader.class)) {
            HeraldConfig config = loader().env(Map.of(
                    "HERALD_HTTP2_MAX_CONCURENT_STREAMS", "1",
                    "HERALD_PROT", "1",
                    "HERALD_XYZZY", "1",
                    "HERALD_REDIS_PASSWORD", "secret",
                    "HERALD_HTTP_PORT", "17601",
                    "PATH", "/bin")).load();
            assertThat(config.httpPort()).isEqualTo(17601);
            assertThat(config.maxConcurrentStreams()).as("still a warning only").isEqualTo(256);
            assertThat(log.messages()).containsExactly(
                    "ignoring the environment variable HERALD_HTTP2_MAX_CONCURENT_STREAMS: no setting has that name "
                            + "(did you mean HERALD_HTTP2_MAX_CONCURRENT_STREAMS?)",
                    "ignoring the environment variable HERALD_PROT: no setting has that name (did you mean "
                            + "HERALD_PORT?)",
                    "ignoring the environment variable HERALD_XYZZY: no setting has that name");
        }
    }

    @Test
    void theOtherKnownVariablesAreTheOnesRedisReads() {
        assertThat(ConfigLoader.OTHER_VARIABLES)
                .isEqualTo(Set.of(RedisEventLog.PASSWORD_ENV, RedisEventLog.CA_FILE_ENV));
    }

    private ConfigLoader loader() {
        return ConfigLoader.create().workingDir(dir).env(Map.of());
    }

    private void yaml(String text) throws Exception {
        Files.writeString(dir.resolve("herald.yaml"), text);
    }
}
