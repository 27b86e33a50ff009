package dev.herald.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

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

    private ConfigLoader loader() {
        return ConfigLoader.create().workingDir(dir).env(Map.of());
    }

    private void yaml(String text) throws Exception {
        Files.writeString(dir.resolve("herald.yaml"), text);
    }
}
