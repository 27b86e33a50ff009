package dev.herald.it;

import dev.herald.testing.ExternalTool;
import dev.herald.testing.HeraldProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The default push budget ({@code push.max-bytes: auto}) follows the connection's congestion window, which the
 * route's {@code initcwnd} sets: the jar runs in a network namespace of its own, whose loopback has an Ethernet MTU
 * (MSS 1448) and an initial window the test picks, and nghttp loads the page there. The page needs 12,000 + 28,000
 * + 48,000 bytes (about 9,000 + 28,000 + 36,000 gzipped, as nghttp gets them): from the kernel's 10 segments
 * (3 x 10 x 1448 = 43,440 bytes, a segment or two more once the connection's first bytes are acknowledged) the
 * stylesheet and font are pushed and the script is requested; from 40 segments (173,760 bytes) all three are
 * pushed.
 */
class PushBudgetIT {
    private static final String NETNS = "herald-it-" + ProcessHandle.current().pid();
    private static Path dir;
    private static Path site;

    @BeforeAll
    static void namespaceAndSite() throws Exception {
        assertThat(Files.getAttribute(Path.of("/proc/self"), "unix:uid"))
                .as("this test makes a network namespace (ip netns), which needs root: run the tests as root, as "
                        + "CI does").isEqualTo(0);
        String ip = ExternalTool.require("ip", "iproute2").toString();
        ExternalTool.run(10, ip, "netns", "del", NETNS); // a leftover of a killed run
        ok(ip, "netns", "add", NETNS);
        ok(ip, "-n", NETNS, "link", "set", "lo", "mtu", "1500", "up");
        dir = Files.createTempDirectory("herald-budget");
        site = Files.createDirectories(dir.resolve("site"));
        Files.writeString(site.resolve("index.html"), """
                <!doctype html>
                <html><head><link rel="stylesheet" href="/style.css"><script type="module" src="/app.js"></script>
                </head><body><p>budget</p></body></html>
                """);
        // Random text, so gzip (nghttp accepts it, and the budget counts what goes on the wire) saves only a fourth.
        java.util.Random random = new java.util.Random(42);
        Files.writeString(site.resolve("style.css"), "@font-face{font-family:f;src:url(/font.woff2)}\n"
                + "/*" + text(random, 12_000 - 52) + "*/\n");
        byte[] font = new byte[28_000];
        random.nextBytes(font);
        Files.write(site.resolve("font.woff2"), font);
        Files.writeString(site.resolve("app.js"), "//" + text(random, 48_000 - 3) + "\n");
    }

    @AfterAll
    static void cleanUp() throws Exception {
        ExternalTool.run(10, "ip", "netns", "del", NETNS);
        if (dir != null) {
            try (var walk = Files.walk(dir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    @Test
    void theKernelsInitialWindowPushesWhatFitsThreeWindows() throws Exception {
        assertThat(pushedWithInitcwnd(10)).containsExactlyInAnyOrder("/style.css", "/font.woff2");
    }

    @Test
    void aLargerInitialWindowPushesTheWholePage() throws Exception {
        assertThat(pushedWithInitcwnd(40)).containsExactlyInAnyOrder("/style.css", "/font.woff2", "/app.js");
    }

    /** Sets the namespace's loopback initcwnd, loads the page once with nghttp -a, and returns the pushed paths. */
    private static List<String> pushedWithInitcwnd(int segments) throws Exception {
        ok("ip", "-n", NETNS, "route", "change", "local", "127.0.0.1", "dev", "lo", "table", "local", "proto",
                "kernel", "scope", "host", "src", "127.0.0.1", "initcwnd", Integer.toString(segments));
        String nghttp = ExternalTool.require("nghttp", "nghttp2-client").toString();
        try (HeraldProcess p = HeraldProcess.startWith(List.of("ip", "netns", "exec", NETNS), "serve",
                site.toString(), "--host", "127.0.0.1", "--port", "-1", "--http-port", "0", "--data-dir",
                Files.createDirectories(dir.resolve("data-" + segments)).toString())) {
            int port = p.awaitPort("http", 60);
            ExternalTool.Result r = ExternalTool.run(30, "ip", "netns", "exec", NETNS, nghttp, "-ans",
                    "http://127.0.0.1:" + port + "/index.html");
            assertThat(r.exitCode()).as(r.toString()).isZero();
            assertThat(r.stdout()).as("every resource loaded").contains("/style.css", "/font.woff2", "/app.js");
            assertThat(p.terminate(30)).isZero();
            return r.stdout().lines().filter(l -> l.contains(" * ") || l.matches(".*\\d \\*.*"))
                    .map(l -> l.substring(l.lastIndexOf(' ') + 1)).toList();
        }
    }

    private static String text(java.util.Random random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return java.util.Base64.getEncoder().encodeToString(bytes).substring(0, length);
    }

    private static void ok(String... command) throws IOException, InterruptedException {
        ExternalTool.Result r = ExternalTool.run(10, command);
        assertThat(r.exitCode()).as(String.join(" ", command) + ": " + r).isZero();
    }
}
