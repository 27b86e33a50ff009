package dev.herald.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import dev.herald.config.HeraldConfig;
import dev.herald.config.Setting;
import dev.herald.config.Settings;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.BindException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class MainTest {
    private static final String SPKI = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

    @TempDir
    Path dir;

    private final FakeLauncher launcher = new FakeLauncher();
    private final Map<String, String> env = new HashMap<>();

    @Test
    void withoutArgumentsItServesTheBuiltInAppAndSaysWhere() {
        Run run = run();
        assertThat(run.code).isZero();
        assertThat(run.err).isEmpty();
        assertThat(launcher.config.root()).isEmpty();
        assertThat(launcher.config.tlsPort()).isEqualTo(8443);
        assertThat(run.out.lines()).containsExactly(
                "Herald listening on https://localhost:8443/",
                "Herald listening on http://localhost:8080/",
                "TLS certificate SPKI sha256 (for chromium --ignore-certificate-errors-spki-list): " + SPKI);
        assertThat(launcher.awaited).as("waits for the server to close").isTrue();
    }

    @Test
    void withoutTlsThereIsNoSpkiLine() {
        launcher.spki = Optional.empty();
        assertThat(run("--port", "-1").out).doesNotContain("SPKI");
    }

    @Test
    void serveSetsTheRootAndTakesOptionsBeforeAndAfterIt() {
        Run run = run("--port", "0", "serve", dir.toString(), "--http-port=-1", "--verbose=false");
        assertThat(run.code).as(run.err).isZero();
        assertThat(launcher.config.root()).contains(dir);
        assertThat(launcher.config.tlsPort()).isZero();
        assertThat(launcher.config.httpPort()).isEqualTo(-1);
        assertThat(launcher.config.verbose()).isFalse();
    }

    @Test
    void serveAndRootTogetherAreAUsageError(@TempDir Path other) {
        for (String[] args : List.of(new String[] {"--root", other.toString(), "serve", dir.toString()},
                new String[] {"serve", dir.toString(), "--root", other.toString()})) {
            Run run = run(args);
            assertThat(run.code).isEqualTo(2);
            assertThat(run.err).isEqualTo("herald: root: --root " + other + " and serve " + dir
                    + " both name the folder to serve (expected: one of them)\n");
            assertThat(launcher.config).as("no server started").isNull();
        }
    }

    @Test
    void aCacheControlWithALineBreakExitsWith2() {
        Run run = run("--files-cache-control", "no-cache\r\nX-Injected: 1");
        assertThat(run.code).isEqualTo(2);
        assertThat(run.err).isEqualTo("herald: files.cache-control: no-cache\\r\\nX-Injected: 1 (expected: a "
                + "Cache-Control value such as no-cache, without line breaks or other control characters)\n");
        assertThat(launcher.config).as("no server started").isNull();
    }

    @Test
    void serveAMissingFolderExitsWith2() {
        Path missing = dir.resolve("missing");
        Run run = run("serve", missing.toString());
        assertThat(run.code).isEqualTo(2);
        assertThat(run.err).isEqualTo("herald: root: " + missing + " (expected: an existing folder)\n");
        assertThat(launcher.config).as("no server started").isNull();
    }

    @Test
    void serveAFileExitsWith2() throws IOException {
        Path file = Files.writeString(dir.resolve("index.html"), "x");
        Run run = run("serve", file.toString());
        assertThat(run.code).isEqualTo(2);
        assertThat(run.err).isEqualTo("herald: root: " + file + " (expected: an existing folder)\n");
    }

    @Test
    void serveWithoutAFolderIsAUsageError() {
        Run run = run("serve");
        assertThat(run.code).isEqualTo(2);
        assertThat(run.err).isEqualTo("herald: Missing required parameter: 'DIR' (see herald --help)\n");
    }

    @Test
    void anUnparsableValueExitsWith2AndOneLine() {
        Run run = run("--http2-max-concurrent-streams", "abc");
        assertThat(run.code).isEqualTo(2);
        assertThat(run.err).isEqualTo("herald: http2.max-concurrent-streams: abc (expected: an integer)\n");
        assertThat(run.out).isEmpty();
        assertThat(launcher.config).isNull();
    }

    @Test
    void anOutOfRangeValueExitsWith2AndOneLine() {
        Run run = run("--http2-max-concurrent-streams", "0");
        assertThat(run.code).isEqualTo(2);
        assertThat(run.err).isEqualTo("herald: http2.max-concurrent-streams: 0 (expected: an integer >= 1)\n");
    }

    @Test
    void aBadEnvironmentVariableExitsWith2() {
        env.put("HERALD_PORT", "99999");
        Run run = run();
        assertThat(run.code).isEqualTo(2);
        assertThat(run.err).isEqualTo("herald: HERALD_PORT: port: 99999 (expected: -1 (off), 0 (any) or 1..65535)\n");
    }

    @Test
    void bothPortsOffExitsWith2() {
        Run run = run("--port", "-1", "--http-port", "-1");
        assertThat(run.code).isEqualTo(2);
        assertThat(run.err).isEqualTo("herald: port: -1 and http-port: -1 (expected: at least one of them on)\n");
        assertThat(launcher.config).as("no server started").isNull();
    }

    @Test
    void theSamePortForTlsAndCleartextExitsWith2BeforeBinding() {
        Run run = run("--port", "18444", "--http-port", "18444");
        assertThat(run.code).isEqualTo(2);
        assertThat(run.err).isEqualTo("herald: http-port: 18444 (expected: a port other than port, 18444)\n");
        assertThat(launcher.config).as("no server started").isNull();
        assertThat(run("--port", "0", "--http-port", "0").code).as("two ports the system picks").isZero();
    }

    @Test
    void aBadHeraldYamlExitsWith2() throws IOException {
        Files.writeString(dir.resolve("herald.yaml"), "http2:\n  max-streams: 10\n");
        Run run = run();
        assertThat(run.code).isEqualTo(2);
        assertThat(run.err).isEqualTo(
                "herald: herald.yaml: http2.max-streams: 10 (expected: one of the keys herald --help lists)\n");
    }

    @Test
    void aMissingConfigFileExitsWith2() {
        Run run = run("--config", "nope.yaml");
        assertThat(run.code).isEqualTo(2);
        assertThat(run.err).isEqualTo("herald: config: nope.yaml (expected: an existing YAML file)\n");
    }

    @Test
    void anUnknownFlagExitsWith2AndAShortMessage() {
        Run run = run("--bogus");
        assertThat(run.code).isEqualTo(2);
        assertThat(run.err).isEqualTo("herald: Unknown option: '--bogus' (see herald --help)\n");
        assertThat(run.out).isEmpty();
    }

    @Test
    void aBadSwitchValueExitsWith2() {
        Run run = run("--access-log=maybe");
        assertThat(run.code).isEqualTo(2);
        assertThat(run.err).startsWith("herald: ").endsWith("\n").hasLineCount(1);
    }

    @Test
    void flagsWinOverEnvironmentWhichWinsOverHeraldYaml() throws IOException {
        Files.writeString(dir.resolve("herald.yaml"), """
                port: 1001
                http-port: 2001
                idle-timeout: 5s
                """);
        env.put("HERALD_PORT", "1002");
        env.put("HERALD_HTTP_PORT", "2002");
        assertThat(run("--port", "1003").code).isZero();
        assertThat(launcher.config.tlsPort()).isEqualTo(1003);
        assertThat(launcher.config.httpPort()).isEqualTo(2002);
        assertThat(launcher.config.idleTimeout()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void configFlagNamesTheYamlFile() throws IOException {
        Files.writeString(dir.resolve("herald.yaml"), "port: 1001\n");
        Path other = Files.writeString(dir.resolve("other.yaml"), "files:\n  cache-max-file-size: 1m\n");
        assertThat(run("serve", dir.toString(), "--config", other.toString()).code).isZero();
        assertThat(launcher.config.tlsPort()).as("herald.yaml is not read").isEqualTo(8443);
        assertThat(launcher.config.fileCacheMaxFile()).isEqualTo(1L << 20);
    }

    /** What {@code --verbose} sets, put back after each test: later tests in this JVM must not log at DEBUG. */
    private final Logger heraldLogger = (Logger) LoggerFactory.getLogger("dev.herald");
    private final Level heraldLevel = heraldLogger.getLevel();

    @AfterEach
    void restoreTheLogLevel() {
        heraldLogger.setLevel(heraldLevel);
    }

    @Test
    void everyValueTypeIsAcceptedAsAFlag() throws IOException {
        Path cert = Files.writeString(dir.resolve("cert.pem"), "x");
        Path key = Files.writeString(dir.resolve("key.pem"), "x");
        Run run = run("--max-request-body", "64KiB", "--files-cache-max-bytes", "16k",
                "--shutdown-timeout", "500ms", "--idle-timeout", "2m", "--send-timeout", "30s", "--data-dir", "d",
                "--cert", cert.toString(), "--tls-key", key.toString(), "--files-cache-control", "no-store",
                "--access-log=false", "--verbose", "--http-port", "-1");
        assertThat(run.code).as(run.err).isZero();
        HeraldConfig c = launcher.config;
        assertThat(c.maxRequestBody()).isEqualTo(65_536);
        assertThat(c.fileCacheBytes()).isEqualTo(16_384);
        assertThat(c.shutdownTimeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(c.idleTimeout()).isEqualTo(Duration.ofMinutes(2));
        assertThat(c.sendTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.dataDir()).isEqualTo(Path.of("d"));
        assertThat(c.tlsCert()).contains(cert);
        assertThat(c.tlsKey()).contains(key);
        assertThat(c.cacheControl()).isEqualTo("no-store");
        assertThat(c.accessLog()).isFalse();
        assertThat(c.verbose()).isTrue();
        assertThat(c.httpPort()).isEqualTo(-1);
    }

    @Test
    void verboseTurnsOnDebugLoggingForHerald() {
        assertThat(run("--verbose").code).isZero();
        assertThat(heraldLogger.getLevel()).isEqualTo(Level.DEBUG);
    }

    @Test
    void aServerThatCannotStartExitsWith1() {
        launcher.failure = new BindException("Address already in use: 0.0.0.0:8443");
        Run run = run();
        assertThat(run.code).isEqualTo(1);
        assertThat(run.err).isEqualTo("herald: Address already in use: 0.0.0.0:8443\n");
        assertThat(run.out).isEmpty();
    }

    @Test
    void helpListsEveryOptionWithItsDefaultDescriptionAndVariable() {
        // picocli's own warnings (a description it cannot format, such as a bare "%") go to System.err, not to
        // the command line's error writer.
        PrintStream systemErr = System.err;
        ByteArrayOutputStream picocliWarnings = new ByteArrayOutputStream();
        Run run;
        System.setErr(new PrintStream(picocliWarnings, true, StandardCharsets.UTF_8));
        try {
            run = run("--help");
        } finally {
            System.setErr(systemErr);
        }
        assertThat(picocliWarnings.toString(StandardCharsets.UTF_8)).isEmpty();
        assertThat(run.err).isEmpty();
        assertThat(run.code).isZero();
        assertThat(run.out).startsWith("Usage: herald [OPTIONS] [COMMAND]").contains("serve");

        Matcher flag = Pattern.compile("(?m)^\\s+(?:-\\w, )?(--[a-z0-9-]+)(?:, (--[a-z0-9-]+))?").matcher(run.out);
        List<String> listed = flag.results().flatMap(m -> Stream.of(m.group(1), m.group(2)))
                .filter(Objects::nonNull).toList();
        String compact = run.out.replaceAll("\\s+", "");
        for (Setting s : Settings.all()) {
            assertThat(listed).as(s.key()).containsAll(s.flags());
            assertThat(compact).as(s.key()).contains(squeeze(s.description()))
                    .contains(squeeze("Default: " + s.defaultValue().orElse("unset") + "; env " + s.envVar()));
        }
        assertThat(listed).contains("--config", "--help", "--version").doesNotHaveDuplicates();
        assertThat(compact).contains(squeeze("Default: 8443; env HERALD_PORT"))
                .contains(squeeze("Default: 1MiB; env HERALD_HTTP2_INITIAL_WINDOW_SIZE"));
    }

    @Test
    void serveHelpListsTheInheritedOptions() {
        Run run = run("serve", "--help");
        assertThat(run.code).isZero();
        assertThat(run.out).startsWith("Usage: herald serve [OPTIONS] DIR").contains("--http2-max-frame-size");
        assertThat(launcher.config).isNull();
    }

    @Test
    void versionPrintsTheMavenVersion() {
        Run run = run("--version");
        assertThat(run.code).isZero();
        assertThat(Main.version()).matches("\\d+\\.\\d+\\.\\d+.*");
        assertThat(run.out).isEqualTo("herald " + Main.version() + "\n");
        assertThat(launcher.config).isNull();
    }

    private static String squeeze(String s) {
        return s.replaceAll("\\s+", "");
    }

    private Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.execute(args, env, dir, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), launcher);
        return new Run(code, out.toString(StandardCharsets.UTF_8).replace(System.lineSeparator(), "\n"),
                err.toString(StandardCharsets.UTF_8).replace(System.lineSeparator(), "\n"));
    }

    private record Run(int code, String out, String err) {
    }

    /** Records the configuration instead of starting a server. */
    private static final class FakeLauncher implements ServerLauncher {
        HeraldConfig config;
        Exception failure;
        Optional<String> spki = Optional.of(SPKI);
        boolean awaited;

        @Override
        public Running start(HeraldConfig config) throws Exception {
            if (failure != null) {
                throw failure;
            }
            this.config = config;
            return new Running() {
                @Override
                public List<String> urls() {
                    return List.of("https://localhost:" + config.tlsPort() + "/",
                            "http://localhost:" + config.httpPort() + "/");
                }

                @Override
                public Optional<String> spkiSha256() {
                    return spki;
                }

                @Override
                public void awaitClosed() {
                    awaited = true;
                }
            };
        }
    }
}
