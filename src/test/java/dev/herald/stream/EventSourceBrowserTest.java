package dev.herald.stream;

import dev.herald.testing.Chromium;
import dev.herald.testing.HeraldExtension;
import dev.herald.testing.HttpResult;
import dev.herald.testing.JdkClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The browser's own EventSource against Herald's SSE: it opens, and every event arrives with its id. */
class EventSourceBrowserTest {
    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.folder(dir -> Files.writeString(
            dir.resolve("root/index.html"), """
                    <!doctype html><meta charset="utf-8"><title>sse</title>
                    <script>
                      window.got = []; window.opens = 0;
                      const es = new EventSource('/topics/browser');
                      es.onopen = () => window.opens++;
                      es.onmessage = e => window.got.push(e.lastEventId + ' ' + JSON.parse(e.data).n);
                    </script>
                    """)).configure(b -> b.sseRetry(Duration.ofMillis(200)));

    @Test
    void eventSourceReceivesEventsWithTheirIds() throws Exception {
        JdkClient publisher = JdkClient.h2(HERALD.tlsPort(), HERALD.certificate());
        try (Chromium browser = Chromium.launch(HERALD.herald().spkiSha256().orElseThrow())) {
            JavascriptExecutor js = browser.driver;
            browser.driver.get("https://127.0.0.1:" + HERALD.tlsPort() + "/");
            WebDriverWait wait = new WebDriverWait(browser.driver, Duration.ofSeconds(20));
            wait.until(d -> ((Number) js.executeScript("return window.opens")).intValue() >= 1);

            String first = publish(publisher, 1);
            String second = publish(publisher, 2);
            wait.until(d -> ((java.util.List<?>) js.executeScript("return window.got")).size() >= 2);

            assertThat(js.executeScript("return window.got")).asList()
                    .containsExactly(first + " 1", second + " 2");
        }
    }

    private static String publish(JdkClient client, int n) throws Exception {
        HttpResult r = client.send("POST", "/topics/browser", Map.of("content-type", "application/json"),
                ("{\"n\":" + n + "}").getBytes(StandardCharsets.UTF_8));
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        String body = r.bodyText();
        return body.substring(body.indexOf(":\"") + 2, body.lastIndexOf('"'));
    }
}
