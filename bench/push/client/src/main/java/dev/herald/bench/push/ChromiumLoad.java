package dev.herald.bench.push;

import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Loads a page in Debian's headless Chromium (through chromedriver, like Herald's browser tests) and reports the
 * navigation timing: {@code loadEventEnd} from the navigation start, which includes the TCP and TLS setup. Every
 * load uses a fresh browser and profile (cold cache, new connection). The certificate is trusted by pinning its
 * SPKI hash, which Chromium requires before it uses 103 Early Hints.
 *
 * <pre>
 * java -cp push-client.jar dev.herald.bench.push.ChromiumLoad --url URL --spki BASE64 [--runs 10] [--warmup 1]
 *      [--label NAME] [--out FILE.jsonl] [--chromium /usr/bin/chromium] [--chromedriver /usr/bin/chromedriver]
 * </pre>
 */
public final class ChromiumLoad {
    private static final String TIMING = """
            const n = performance.getEntriesByType('navigation')[0];
            return JSON.stringify({
              loadEventEnd: n.loadEventEnd, connectEnd: n.connectEnd, responseStart: n.responseStart,
              responseEnd: n.responseEnd, protocol: n.nextHopProtocol,
              resources: performance.getEntriesByType('resource').map(r => ({
                name: new URL(r.name).pathname, initiatorType: r.initiatorType, startTime: r.startTime,
                responseEnd: r.responseEnd, transferSize: r.transferSize, protocol: r.nextHopProtocol}))
            });""";

    private ChromiumLoad() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = PageLoad.Args.parse(args);
        String url = PageLoad.Args.required(a, "url");
        String spki = PageLoad.Args.required(a, "spki");
        int runs = Integer.parseInt(a.getOrDefault("runs", "10"));
        int warmup = Integer.parseInt(a.getOrDefault("warmup", "1"));
        String label = a.getOrDefault("label", url);
        Path out = a.containsKey("out") ? Path.of(a.get("out")) : null;
        String chromium = a.getOrDefault("chromium", "/usr/bin/chromium");
        String chromedriver = a.getOrDefault("chromedriver", "/usr/bin/chromedriver");
        System.setProperty("webdriver.chrome.driver", chromedriver); // Selenium Manager must not download
        int failures = 0;
        for (int i = -warmup; i < runs; i++) {
            String line;
            try {
                String timing = load(url, spki, chromium, chromedriver);
                line = "{\"label\":" + PageLoad.Json.str(label) + ",\"run\":" + i + ",\"timing\":" + timing + "}";
                System.err.printf("[chromium] %s %s %s%n", label, i < 0 ? "warm-up" : "run " + i, timing);
            } catch (Exception e) {
                failures++;
                line = "{\"label\":" + PageLoad.Json.str(label) + ",\"run\":" + i + ",\"error\":"
                        + PageLoad.Json.str(e.toString()) + "}";
                System.err.printf("[chromium] %s run %d failed: %s%n", label, i, e);
            }
            if (i >= 0 && out != null) {
                Files.writeString(out, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
            }
        }
        System.exit(failures == 0 ? 0 : 1);
    }

    private static String load(String url, String spki, String chromium, String chromedriver) throws Exception {
        Path profile = Files.createTempDirectory("pushbench-chromium-");
        ChromeOptions o = new ChromeOptions();
        o.setBinary(chromium);
        o.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--user-data-dir=" + profile,
                "--ignore-certificate-errors-spki-list=" + spki);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File(chromedriver))
                .usingAnyFreePort().build();
        ChromeDriver d = new ChromeDriver(service, o);
        try {
            d.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30)).scriptTimeout(Duration.ofSeconds(30));
            d.get(url); // returns after the load event
            JavascriptExecutor js = d;
            for (int i = 0; i < 100; i++) { // loadEventEnd is set just after the load handlers ran
                Object end = js.executeScript("return performance.getEntriesByType('navigation')[0].loadEventEnd");
                if (end instanceof Number n && n.doubleValue() > 0) {
                    break;
                }
                Thread.sleep(20);
            }
            return (String) js.executeScript(TIMING);
        } finally {
            d.quit();
            try (Stream<Path> s = Files.walk(profile)) {
                List<Path> all = s.sorted(Comparator.reverseOrder()).toList();
                for (Path p : all) {
                    p.toFile().delete();
                }
            }
        }
    }
}
