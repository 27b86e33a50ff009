package dev.herald.push;

import dev.herald.config.HeraldConfig;
import dev.herald.testing.Chromium;
import dev.herald.testing.HeraldExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real Chromium (which refuses push) over h2/TLS: the page's dependencies arrive through 103 Early Hints, and
 * the browser uses the hinted responses instead of fetching them again.
 */
class PushEarlyHintsBrowserTest {
    /** What the page needs, as the 103 lists it. */
    static final List<String> HINTED = List.of("/css/site.css", "/css/base.css", "/fonts/test.woff2", "/js/app.js");
    /** Think time of the page, after its early hints. */
    static final long THINK_MILLIS = 300;
    /** Requests per path, as the server saw them. */
    static final Map<String, Integer> REQUESTS = new ConcurrentHashMap<>();

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.folder(dir -> {
        Path root = dir.resolve("root");
        PushDigestTest.copy(HeraldExtension.sitePath("push"), root);
        // The fixture page without its foreign script (no network here) and without an unused preload.
        Files.writeString(root.resolve("index.html"), """
                <!doctype html>
                <html lang="en">
                <head>
                <meta charset="utf-8">
                <title>Early hints</title>
                <link rel="stylesheet" href="css/site.css">
                <script type="module" src="/js/app.js"></script>
                </head>
                <body><h1>Early hints</h1><p>text in the test font</p></body>
                </html>
                """);
    }).routes(b -> {
        Path root = PushEarlyHintsBrowserTest.HERALD.scratch().resolve("root");
        // The default files.cache-control (max-age=60): Chromium keeps what early hints fetched in its HTTP cache
        // and uses it only while fresh; with no-cache it revalidated every hinted file (200, then 304).
        PushingFiles files = PushingFiles.create(root, HeraldConfig.builder().build(), ForkJoinPool.commonPool());
        b.routePrefix("/", exchange -> {
            REQUESTS.merge(exchange.request().path(), 1, Integer::sum);
            if (!exchange.request().path().equals("/")) {
                files.handle(exchange);
                return;
            }
            // Server think time after the hints, as on a real page: the browser starts on the hints meanwhile.
            files.handle(new ForwardingExchange(exchange) {
                @Override
                public void respond(dev.herald.server.Response response) {
                    java.util.concurrent.CompletableFuture.delayedExecutor(THINK_MILLIS,
                            java.util.concurrent.TimeUnit.MILLISECONDS).execute(() -> super.respond(response));
                }
            });
        });
    });

    @Test
    @SuppressWarnings("unchecked")
    void hintedResourcesComeFromEarlyHintsAndAreFetchedOnce() throws Exception {
        try (Chromium chromium = Chromium.launch(HERALD.herald().spkiSha256().orElseThrow())) {
            chromium.driver.get("https://127.0.0.1:" + HERALD.tlsPort() + "/");
            new WebDriverWait(chromium.driver, Duration.ofSeconds(30)).until(d -> "complete".equals(
                    chromium.driver.executeScript("return document.readyState")));
            // The font loads when text uses it; wait for it too.
            chromium.driver.executeAsyncScript("const done = arguments[0]; document.fonts.ready.then(() => done());");

            List<Map<String, Object>> entries = (List<Map<String, Object>>) chromium.driver.executeScript(
                    "return performance.getEntriesByType('resource').map(e => ({name: new URL(e.name).pathname,"
                            + " initiatorType: e.initiatorType}));");
            Map<String, Object> types = new java.util.HashMap<>();
            for (Map<String, Object> e : entries) {
                types.put((String) e.get("name"), e.get("initiatorType"));
            }
            for (String path : HINTED) {
                assertThat(types).as("resource timing: %s", entries).containsEntry(path, "early-hints");
                assertThat(entries.stream().filter(e -> path.equals(e.get("name")))).as(path).hasSize(1);
                assertThat(REQUESTS.get(path)).as("requests for %s: %s", path, REQUESTS).isEqualTo(1);
            }
        }
    }
}
