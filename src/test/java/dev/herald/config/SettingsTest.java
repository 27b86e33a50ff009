package dev.herald.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SettingsTest {
    private static final HeraldConfig DEFAULTS = HeraldConfig.builder().build();

    @Test
    void keysAreTheOnesTheBuilderValidates() {
        assertThat(Settings.all()).extracting(Setting::key).containsExactly(
                "host", "port", "http-port", "data-dir", "root",
                "tls.cert", "tls.key", "tls.handshake-timeout",
                "http2.max-concurrent-streams", "http2.initial-window-size", "http2.connection-window-size",
                "http2.send-buffer", "http2.latency-optimization.min-rtt", "http2.latency-optimization.max-cwnd",
                "http2.max-frame-size", "http2.max-header-list-size",
                "http2.max-rst-frames-per-window",
                "http2.rst-window-seconds", "http2.max-queued-control-frames",
                "http2.max-consecutive-empty-data-frames",
                "http2.max-buffered-body-per-connection", "http2.max-buffered-body",
                "max-uri-length", "max-request-body", "idle-timeout", "send-timeout", "shutdown-timeout",
                "limits.max-connections", "limits.max-connections-per-ip", "limits.max-topics",
                "limits.log-interval", "tls.reload-interval",
                "files.cache-control", "files.immutable-pattern", "files.immutable-cache-control",
                "files.cache-max-bytes", "files.cache-max-file-size", "files.compress",
                "metrics.path", "access-log", "verbose",
                "store", "sqlite.full-sync", "retention.max-events", "retention.max-age",
                "streams.heartbeat", "streams.max-lag-events", "streams.max-lag-bytes", "streams.max-subscribers",
                "streams.max-subscribers-per-connection", "streams.max-event-bytes", "streams.sse-retry",
                "auth.publish-token", "auth.subscribe-token", "auth.private-topics",
                "push.enabled", "push.max-resources", "push.max-bytes", "push.early-hints", "push.priority",
                "push.cache-digest", "push.learning-window", "push.learned-file", "push.debug-header",
                "push.rules");
    }

    @Test
    void flagsAndEnvironmentVariablesDeriveFromTheKey() {
        Setting streams = Settings.byKey("http2.max-concurrent-streams").orElseThrow();
        assertThat(streams.flags()).containsExactly("--http2-max-concurrent-streams");
        assertThat(streams.envVar()).isEqualTo("HERALD_HTTP2_MAX_CONCURRENT_STREAMS");
        assertThat(Settings.byKey("tls.cert").orElseThrow().flags()).containsExactly("--tls-cert", "--cert");
        assertThat(Settings.byKey("tls.key").orElseThrow().flags()).containsExactly("--tls-key", "--key");
        assertThat(Settings.byKey("http-port").orElseThrow().envVar()).isEqualTo("HERALD_HTTP_PORT");
        assertThat(Settings.byKey("nope")).isEmpty();
    }

    @Test
    void everySettingHasADescriptionAndDistinctFlags() {
        List<String> flags = Settings.all().stream().flatMap(s -> s.flags().stream()).toList();
        assertThat(flags).doesNotHaveDuplicates();
        assertThat(Settings.all()).allSatisfy(s -> assertThat(s.description()).endsWith("."));
    }

    @Test
    void defaultsShownAsTextParseBackToTheBuilderDefaults() throws Exception {
        assertThat(Settings.byKey("http2.initial-window-size").orElseThrow().defaultValue()).contains("1MiB");
        assertThat(Settings.byKey("idle-timeout").orElseThrow().defaultValue()).contains("120s");
        assertThat(Settings.byKey("root").orElseThrow().defaultValue()).isEmpty();

        HeraldConfig.Builder builder = HeraldConfig.builder();
        Settings.all().forEach(s -> s.defaultValue().ifPresent(text -> s.apply(builder, text)));
        assertThat(changedAccessors(builder.build())).isEmpty();
    }

    /** Each setting changes exactly one accessor, and together they cover every accessor: nothing is miswired. */
    @Test
    void eachSettingCallsItsOwnSetter(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("cert.pem"), "x");
        Map<String, String> samples = new LinkedHashMap<>();
        samples.put("host", "127.0.0.1");
        samples.put("port", "9443");
        samples.put("http-port", "9080");
        samples.put("data-dir", "elsewhere");
        samples.put("root", tmp.toString());
        samples.put("tls.cert", file.toString());
        samples.put("tls.key", file.toString());
        samples.put("tls.handshake-timeout", "3s");
        samples.put("http2.max-concurrent-streams", "64");
        samples.put("http2.initial-window-size", "64KiB");
        samples.put("http2.connection-window-size", "8MiB");
        samples.put("http2.send-buffer", "64KiB");
        samples.put("http2.latency-optimization.min-rtt", "20ms");
        samples.put("http2.latency-optimization.max-cwnd", "128KiB");
        samples.put("http2.max-frame-size", "32KiB");
        samples.put("http2.max-header-list-size", "16KiB");
        samples.put("http2.max-rst-frames-per-window", "100");
        samples.put("http2.rst-window-seconds", "10");
        samples.put("http2.max-queued-control-frames", "500");
        samples.put("http2.max-consecutive-empty-data-frames", "5");
        samples.put("http2.max-buffered-body-per-connection", "8MiB");
        samples.put("http2.max-buffered-body", "64MiB");
        samples.put("max-uri-length", "4096");
        samples.put("max-request-body", "10k");
        samples.put("idle-timeout", "1m");
        samples.put("send-timeout", "5s");
        samples.put("shutdown-timeout", "500ms");
        samples.put("limits.max-connections", "100");
        samples.put("limits.max-connections-per-ip", "8");
        samples.put("limits.max-topics", "50");
        samples.put("limits.log-interval", "1m");
        samples.put("tls.reload-interval", "0s");
        samples.put("files.cache-control", "private");
        samples.put("files.immutable-pattern", ".*\\.v\\d+\\..*");
        samples.put("files.immutable-cache-control", "public, max-age=60");
        samples.put("files.cache-max-bytes", "1g");
        samples.put("files.cache-max-file-size", "1m");
        samples.put("files.compress", "false");
        samples.put("metrics.path", "");
        samples.put("access-log", "false");
        samples.put("verbose", "true");
        samples.put("store", "redis://127.0.0.1:6379");
        samples.put("sqlite.full-sync", "false");
        samples.put("retention.max-events", "50");
        samples.put("retention.max-age", "2h");
        samples.put("streams.heartbeat", "5s");
        samples.put("streams.max-lag-events", "10");
        samples.put("streams.max-lag-bytes", "64KiB");
        samples.put("streams.max-subscribers", "10");
        samples.put("streams.max-subscribers-per-connection", "3");
        samples.put("streams.max-event-bytes", "1KiB");
        samples.put("streams.sse-retry", "5s");
        samples.put("auth.publish-token", "p");
        samples.put("auth.subscribe-token", "s");
        samples.put("auth.private-topics", "private-.*");
        samples.put("push.enabled", "false");
        samples.put("push.max-resources", "3");
        samples.put("push.max-bytes", "100KiB");
        samples.put("push.early-hints", "h2");
        samples.put("push.priority", "after");
        samples.put("push.cache-digest", "false");
        samples.put("push.learning-window", "0s");
        samples.put("push.learned-file", "learned.tsv");
        samples.put("push.debug-header", "true");
        samples.put("push.rules", "[{path: /index.html, resources: [/a.css], limit: 1}]");
        assertThat(samples.keySet()).containsExactlyElementsOf(
                Settings.all().stream().map(Setting::key).toList());

        Set<String> covered = new HashSet<>();
        for (Setting s : Settings.all()) {
            HeraldConfig.Builder builder = HeraldConfig.builder();
            s.apply(builder, samples.get(s.key()));
            if (s.key().equals("tls.cert") || s.key().equals("tls.key")) { // build() wants both
                Settings.byKey("tls.cert").orElseThrow().apply(builder, file.toString());
                Settings.byKey("tls.key").orElseThrow().apply(builder, file.toString());
                covered.addAll(changedAccessors(builder.build()));
                continue;
            }
            Set<String> changed = changedAccessors(builder.build());
            assertThat(changed).as(s.key()).hasSize(1);
            covered.addAll(changed);
        }
        assertThat(covered).containsExactlyInAnyOrderElementsOf(accessors().stream().map(Method::getName).toList());
    }

    @Test
    void applyNamesTheKeyTheTextAndWhatIsExpected() {
        Setting streams = Settings.byKey("http2.max-concurrent-streams").orElseThrow();
        assertThatThrownBy(() -> streams.apply(HeraldConfig.builder(), "abc"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("http2.max-concurrent-streams: abc (expected: an integer)");
        assertThatThrownBy(() -> streams.apply(HeraldConfig.builder(), "0"))
                .hasMessage("http2.max-concurrent-streams: 0 (expected: an integer >= 1)");
    }

    @Test
    void builderRejectionsShowTheTextAsWritten() {
        assertThatThrownBy(() -> Settings.byKey("http2.max-frame-size").orElseThrow()
                .apply(HeraldConfig.builder(), "8KiB"))
                .hasMessage("http2.max-frame-size: 8KiB (expected: 16384..16777215 bytes)");
        assertThatThrownBy(() -> Settings.byKey("http2.send-buffer").orElseThrow()
                .apply(HeraldConfig.builder(), "1KiB"))
                .hasMessage("http2.send-buffer: 1KiB (expected: 0 (off) or an integer >= 2048 bytes)");
        assertThatThrownBy(() -> Settings.byKey("http2.latency-optimization.max-cwnd").orElseThrow()
                .apply(HeraldConfig.builder(), "0"))
                .hasMessage("http2.latency-optimization.max-cwnd: 0 (expected: an integer > 0 bytes)");
        assertThat(HeraldConfig.builder().latencyOptimizationMinRtt(java.time.Duration.ZERO).build()
                .latencyOptimizationMinRtt()).as("0s turns it off").isZero();
        assertThat(DEFAULTS.latencyOptimizationMinRtt()).isEqualTo(java.time.Duration.ofMillis(50));
        assertThat(DEFAULTS.latencyOptimizationMaxCwnd()).isEqualTo(65_535);
        assertThatThrownBy(() -> Settings.byKey("idle-timeout").orElseThrow().apply(HeraldConfig.builder(), "0s"))
                .hasMessage("idle-timeout: 0s (expected: a duration > 0 such as 120s)");
        assertThatThrownBy(() -> Settings.byKey("send-timeout").orElseThrow().apply(HeraldConfig.builder(), "0s"))
                .hasMessage("send-timeout: 0s (expected: a duration > 0 such as 60s)");
        assertThat(DEFAULTS.sendTimeout()).as("nginx's send_timeout").isEqualTo(java.time.Duration.ofSeconds(60));
        assertThatThrownBy(() -> Settings.byKey("files.immutable-pattern").orElseThrow()
                .apply(HeraldConfig.builder(), "(["))
                .hasMessage("files.immutable-pattern: ([ (expected: a Java regular expression matched against "
                        + "the path)");
    }

    /** Both default to auto; a value below max-request-body is refused, since such a body could never be taken. */
    @Test
    void bufferedBodyLimitsAreAutoByDefaultAndNeverBelowMaxRequestBody() {
        assertThat(Settings.byKey("http2.max-buffered-body-per-connection").orElseThrow().defaultValue())
                .contains("auto");
        assertThat(Settings.byKey("http2.max-buffered-body").orElseThrow().defaultValue()).contains("auto");
        assertThat(DEFAULTS.maxBufferedBodyPerConnection()).isEqualTo(HeraldConfig.SIZE_AUTO);
        assertThat(DEFAULTS.maxBufferedBody()).isEqualTo(HeraldConfig.SIZE_AUTO);

        assertThatThrownBy(() -> HeraldConfig.builder().maxBufferedBodyPerConnection(512L << 10).build())
                .isInstanceOf(ConfigException.class)
                .hasMessage("http2.max-buffered-body-per-connection: 524288 (expected: auto or a size >= "
                        + "max-request-body, 1048576)");
        assertThatThrownBy(() -> HeraldConfig.builder().maxRequestBody(2 << 20).maxBufferedBody(1L << 20).build())
                .hasMessage("http2.max-buffered-body: 1048576 (expected: auto or a size >= max-request-body, "
                        + "2097152)");
        assertThatThrownBy(() -> Settings.byKey("http2.max-buffered-body").orElseThrow()
                .apply(HeraldConfig.builder(), "-2"))
                .isInstanceOf(ConfigException.class);
        HeraldConfig equal = HeraldConfig.builder().maxRequestBody(64 << 10).maxBufferedBodyPerConnection(64 << 10)
                .maxBufferedBody(64 << 10).build();
        assertThat(equal.maxBufferedBodyPerConnection()).isEqualTo(64 << 10);
        assertThat(equal.maxBufferedBody()).isEqualTo(64 << 10);
    }

    @Test
    void pushRulesParseFromYamlAndJsonAndRejectBadEntriesByName() {
        Setting rules = Settings.byKey("push.rules").orElseThrow();
        HeraldConfig.Builder b = HeraldConfig.builder();
        rules.apply(b, "[{\"path\": \"/docs/**\", \"resources\": [\"/a.css\", \"/b.js\"], \"enabled\": false, "
                + "\"limit\": 2, \"discovery\": false, \"link\": [\"</f.woff2>; rel=preload; as=font\"]}]");
        assertThat(b.build().pushRules()).containsExactly(new PushRule("/docs/**", List.of("/a.css", "/b.js"),
                false, 2, false, List.of("</f.woff2>; rel=preload; as=font")));
        assertThat(rules.defaultValue()).contains("[]");

        assertThatThrownBy(() -> rules.apply(HeraldConfig.builder(), "{path: /}"))
                .hasMessageStartingWith("push.rules: {path: /} (expected: a list of rules");
        assertThatThrownBy(() -> rules.apply(HeraldConfig.builder(), "[{path: /, resource: [/a.css]}]"))
                .hasMessage("push.rules[0].resource: [\"/a.css\"] (expected: one of the rule keys path, resources, "
                        + "enabled, limit, discovery, link)");
        assertThatThrownBy(() -> rules.apply(HeraldConfig.builder(), "[{path: /}, {path: /, limit: many}]"))
                .hasMessage("push.rules[1].limit: many (expected: an integer from 0 (hint only) to 2147483647)");
        assertThatThrownBy(() -> rules.apply(HeraldConfig.builder(), "[{path: /, limit: 0, enabled: maybe}]"))
                .hasMessage("push.rules[0].enabled: maybe (expected: true or false)");
        assertThatThrownBy(() -> rules.apply(HeraldConfig.builder(), "[{path: /, link: [1]}]"))
                .hasMessageStartingWith("push.rules[0].link: [1] (expected: a Link field value");
        assertThatThrownBy(() -> rules.apply(HeraldConfig.builder(), "[{resources: [/a.css]}]"))
                .hasMessage("push.rules[0]: {\"resources\":[\"/a.css\"]} (expected: a rule with a path such as "
                        + "{path: /index.html, resources: [/css/site.css]})");
        assertThatThrownBy(() -> rules.apply(HeraldConfig.builder(), "[{path: index.html}]"))
                .hasMessage("push.rules[0].path: index.html (expected: an absolute path such as /index.html or "
                        + "/docs/**, with * or ** but no ***)");
        assertThatThrownBy(() -> rules.apply(HeraldConfig.builder(),
                "[{path: /}, {path: /a, resources: [\"https://cdn.example/x.js\"]}]"))
                .hasMessage("push.rules[1].resources: https://cdn.example/x.js (expected: an absolute same-origin "
                        + "path such as /css/site.css)");
        assertThatThrownBy(() -> Settings.byKey("push.priority").orElseThrow().apply(HeraldConfig.builder(), "first"))
                .hasMessage("push.priority: first (expected: one of auto, before, interleaved, after)");
    }

    @Test
    void aNegativePushRuleLimitIsRefusedNotTakenAsNoLimit() {
        Setting rules = Settings.byKey("push.rules").orElseThrow();
        assertThatThrownBy(() -> rules.apply(HeraldConfig.builder(), "[{path: /, limit: -1}]"))
                .hasMessage("push.rules[0].limit: -1 (expected: an integer from 0 (hint only) to 2147483647)");
        assertThatThrownBy(() -> rules.apply(HeraldConfig.builder(), "[{path: /, limit: 99999999999}]"))
                .hasMessage("push.rules[0].limit: 99999999999 (expected: an integer from 0 (hint only) to "
                        + "2147483647)");
        HeraldConfig.Builder b = HeraldConfig.builder();
        rules.apply(b, "[{path: /a, limit: 0}, {path: /b}]");
        assertThat(b.build().pushRules()).extracting(PushRule::limit).as("0 hints only; none keeps max-resources")
                .containsExactly(0, -1);
    }

    @Test
    void pushRuleLinksMustBePreloadsTheLinkParserReads() {
        Setting rules = Settings.byKey("push.rules").orElseThrow();
        for (String link : List.of("garbage;;;<", "</a.css>; rel=stylesheet", "</a.css>; rel=preload, garbage",
                "</a.css>; rel=preload; =x", "<a.css>; rel=preload", "</a.css>; rel=preload\u0000")) {
            String json = "[{\"path\": \"/\", \"link\": [" + jsonString(link) + "]}]";
            assertThatThrownBy(() -> rules.apply(HeraldConfig.builder(), json)).as(link)
                    .hasMessage("push.rules[0].link: " + Setting.oneLine(link) + " (expected: a Link field value "
                            + "of preloads such as </a.css>; rel=preload; as=style)");
        }
        HeraldConfig.Builder b = HeraldConfig.builder();
        rules.apply(b, "[{path: /, link: [\"</a.css>; rel=preload; as=style, </m.js>; rel=modulepreload\", "
                + "\"<https://cdn.example/f.woff2>; rel=preload; as=font; crossorigin; nopush\"]}]");
        assertThat(b.build().pushRules().get(0).links()).hasSize(2);
    }

    @Test
    void cacheControlValuesMustBeHeaderFieldValues() {
        for (String key : List.of("files.cache-control", "files.immutable-cache-control")) {
            Setting setting = Settings.byKey(key).orElseThrow();
            for (String bad : List.of("no-cache\r\nX-Injected: 1", "no-cache\nx", "a\u0000b", "a\u001bb", "a\u007fb",
                    "max-age=\u4e00")) {
                assertThatThrownBy(() -> setting.apply(HeraldConfig.builder(), bad)).as(key + " " + bad)
                        .isInstanceOf(ConfigException.class)
                        .hasMessage(key + ": " + Setting.oneLine(bad) + " (expected: a Cache-Control value such as "
                                + "no-cache, without line breaks or other control characters)");
            }
        }
        assertThatThrownBy(() -> HeraldConfig.builder().cacheControl(" no-cache"))
                .hasMessageStartingWith("files.cache-control:  no-cache (expected: a Cache-Control value");
        HeraldConfig ok = HeraldConfig.builder().cacheControl("private,\tmax-age=60")
                .immutableCacheControl("max-age=60, caf\u00e9").build();
        assertThat(ok.cacheControl()).as("tabs and obs-text are allowed").isEqualTo("private,\tmax-age=60");
        assertThat(ok.immutableCacheControl()).isEqualTo("max-age=60, caf\u00e9");
    }

    @Test
    void anIntegerTooLargeForItsTypeIsOutOfRangeNotMistyped() {
        assertThatThrownBy(() -> Settings.byKey("http2.max-concurrent-streams").orElseThrow()
                .apply(HeraldConfig.builder(), "99999999999999999999"))
                .hasMessage("http2.max-concurrent-streams: 99999999999999999999 is out of range (expected: an "
                        + "integer from -2147483648 to 2147483647)");
        // A setting with a narrower range than int's names its own.
        assertThatThrownBy(() -> Settings.byKey("port").orElseThrow().apply(HeraldConfig.builder(), "-3000000000"))
                .hasMessage("port: -3000000000 (expected: -1 (off), 0 (any) or 1..65535)");
        assertThatThrownBy(() -> Settings.byKey("push.max-resources").orElseThrow()
                .apply(HeraldConfig.builder(), "99999999999"))
                .hasMessage("push.max-resources: 99999999999 (expected: 0..100 (0 hints only))");
        assertThatThrownBy(() -> Settings.byKey("port").orElseThrow().apply(HeraldConfig.builder(), "12ab"))
                .hasMessage("port: 12ab (expected: an integer)");
    }

    /** {@code text} as a JSON string, control characters escaped: YAML refuses them raw. */
    private static String jsonString(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            out.append(c < 0x20 || c == '"' || c == '\\' ? String.format("\\u%04x", (int) c) : String.valueOf(c));
        }
        return out.append('"').toString();
    }

    private static Set<String> changedAccessors(HeraldConfig config) throws Exception {
        Set<String> changed = new HashSet<>();
        for (Method m : accessors()) {
            if (!Objects.equals(m.invoke(config), m.invoke(DEFAULTS))) {
                changed.add(m.getName());
            }
        }
        return changed;
    }

    private static List<Method> accessors() {
        return Arrays.stream(HeraldConfig.class.getDeclaredMethods())
                .filter(m -> Modifier.isPublic(m.getModifiers()) && !Modifier.isStatic(m.getModifiers()))
                .filter(m -> m.getParameterCount() == 0 && m.getReturnType() != HeraldConfig.Builder.class)
                .collect(Collectors.toList());
    }
}
