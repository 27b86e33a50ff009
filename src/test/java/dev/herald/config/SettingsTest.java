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
                "max-uri-length", "max-request-body", "idle-timeout", "shutdown-timeout",
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
        samples.put("max-uri-length", "4096");
        samples.put("max-request-body", "10k");
        samples.put("idle-timeout", "1m");
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
        assertThatThrownBy(() -> Settings.byKey("files.immutable-pattern").orElseThrow()
                .apply(HeraldConfig.builder(), "(["))
                .hasMessage("files.immutable-pattern: ([ (expected: a Java regular expression matched against "
                        + "the path)");
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

        assertThatThrownBy(() -> rules.apply(HeraldConfig.builder(), "[{path: /, resource: [/a.css]}]"))
                .hasMessageStartingWith("push.rules: [{path: /, resource: [/a.css]}] (expected: a list of rules");
        assertThatThrownBy(() -> rules.apply(HeraldConfig.builder(), "[{path: /, limit: many}]"))
                .hasMessageStartingWith("push.rules: [{path: /, limit: many}] (expected: a list of rules");
        assertThatThrownBy(() -> rules.apply(HeraldConfig.builder(), "[{path: index.html}]"))
                .hasMessage("push.rules[0].path: index.html (expected: an absolute path such as /index.html or "
                        + "/docs/**)");
        assertThatThrownBy(() -> rules.apply(HeraldConfig.builder(),
                "[{path: /}, {path: /a, resources: [\"https://cdn.example/x.js\"]}]"))
                .hasMessage("push.rules[1].resources: https://cdn.example/x.js (expected: an absolute same-origin "
                        + "path such as /css/site.css)");
        assertThatThrownBy(() -> Settings.byKey("push.priority").orElseThrow().apply(HeraldConfig.builder(), "first"))
                .hasMessage("push.priority: first (expected: one of auto, before, interleaved, after)");
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
