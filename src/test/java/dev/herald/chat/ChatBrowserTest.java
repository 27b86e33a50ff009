package dev.herald.chat;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.store.EventLog;
import dev.herald.testing.Chromium;
import dev.herald.testing.HeraldExtension;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/** The chat page (and the course's own client) in a real Chromium over h2/TLS against a real Herald. */
class ChatBrowserTest {
    static final Duration WAIT = Duration.ofSeconds(30);
    static EventLog log;
    static ChatHandler chat;
    /** 0 at first; the restart test pins the port so the open page can find the server again. */
    static volatile int tlsPort;

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.folder(dir -> {
        // the page served at /, as the default app will be, plus the course's client next to it
        for (String f : List.of("index.html", "styles.css", "chat.js")) {
            try (InputStream in = ChatHandler.class.getResourceAsStream("/dev/herald/app/" + f)) {
                Files.copy(in, dir.resolve("root").resolve(f));
            }
        }
        try (InputStream in = ChatBrowserTest.class.getResourceAsStream("/chat/course-client.html")) {
            Files.copy(in, dir.resolve("root").resolve("course.html"));
        }
    }).configure(b -> b.tlsPort(tlsPort)).routes(b -> {
        log = ChatLogs.open(ChatBrowserTest.HERALD.dataDir());
        chat = new ChatHandler(log, ChatSettings.defaults());
        b.route("/msgs", chat);
    });

    @AfterAll
    static void closeLog() throws Exception {
        chat.close();
        log.close();
    }

    static String base() {
        return "https://127.0.0.1:" + HERALD.tlsPort() + "/";
    }

    static Chromium browser() throws Exception {
        return Chromium.launch(HERALD.herald().spkiSha256().orElseThrow());
    }

    static WebDriverWait waiting(WebDriver d) {
        return new WebDriverWait(d, WAIT);
    }

    static void openLive(WebDriver d) {
        d.get(base());
        waiting(d).until(ExpectedConditions.attributeToBe(By.id("status"), "data-state", "live"));
    }

    static void send(WebDriver d, String user, String text) {
        WebElement u = d.findElement(By.id("user"));
        u.clear();
        u.sendKeys(user);
        d.findElement(By.id("text")).sendKeys(text);
        d.findElement(By.id("send")).click();
    }

    /** The texts of the rendered messages, top to bottom. */
    @SuppressWarnings("unchecked")
    static List<String> texts(WebDriver d) {
        return (List<String>) ((org.openqa.selenium.JavascriptExecutor) d).executeScript(
                "return [...document.querySelectorAll('#messages li .text')].map(e => e.textContent)");
    }

    static void waitForText(WebDriver d, String text) {
        waiting(d).until(x -> texts(x).contains(text));
    }

    @Test
    void aMessageTypedInOnePageAppearsInTheOther() throws Exception {
        try (Chromium a = browser(); Chromium b = browser()) {
            openLive(a.driver);
            openLive(b.driver);
            String text = "hello from A " + UUID.randomUUID();
            send(a.driver, "alice", text);
            waitForText(b.driver, text);
            waitForText(a.driver, text);
            assertThat(texts(b.driver)).contains(text);
            assertThat(a.driver.findElement(By.id("text")).getAttribute("value")).isEmpty();
            assertThat(a.driver.findElement(By.id("error")).isDisplayed()).isFalse();
        }
    }

    @Test
    void markupIsShownAsText() throws Exception {
        try (Chromium a = browser()) {
            openLive(a.driver);
            String evil = "<img src=x onerror=\"window.__pwned=1\"> " + UUID.randomUUID();
            send(a.driver, "<b>mallory</b>", evil);
            waitForText(a.driver, evil);
            assertThat(a.driver.findElements(By.cssSelector("#messages img"))).isEmpty();
            assertThat(a.driver.findElements(By.cssSelector("#messages b"))).isEmpty();
            assertThat(((org.openqa.selenium.JavascriptExecutor) a.driver).executeScript("return window.__pwned"))
                    .isNull();
            assertThat(a.driver.findElements(By.cssSelector("#messages .user")))
                    .extracting(WebElement::getText).contains("<b>mallory</b>");
        }
    }

    @Test
    void aClientErrorIsShownOnThePage() throws Exception {
        try (Chromium a = browser()) {
            openLive(a.driver);
            // maxlength on the textarea stops typing at 2000: lift it to send a message the server refuses
            ((org.openqa.selenium.JavascriptExecutor) a.driver).executeScript(
                    "document.getElementById('user').value = 'ann';"
                            + "document.getElementById('text').removeAttribute('maxlength');"
                            + "document.getElementById('text').value = 'y'.repeat(2001);"
                            + "document.getElementById('compose').requestSubmit();");
            waiting(a.driver).until(ExpectedConditions.textToBePresentInElementLocated(By.id("error"),
                    "has 2001 characters"));
        }
    }

    @Test
    void afterARestartThePageReconnectsAndShowsWhatItMissed() throws Exception {
        try (Chromium a = browser()) {
            tlsPort = HERALD.tlsPort();
            openLive(a.driver);
            String before = "before restart " + UUID.randomUUID();
            send(a.driver, "ann", before);
            waitForText(a.driver, before);

            HERALD.stop();
            chat.close();
            log.close();
            waiting(a.driver).until(ExpectedConditions.attributeToBe(By.id("status"), "data-state", "offline"));
            // while Herald is down, another writer (another node, a script) adds to the same store
            String missed = "missed while down " + UUID.randomUUID();
            try (EventLog other = ChatLogs.open(HERALD.dataDir())) {
                other.append(ChatHandler.TOPIC, "{\"user\":\"node2\",\"text\":\"" + missed + "\"}").get();
            }
            HERALD.start();
            assertThat(HERALD.tlsPort()).isEqualTo(tlsPort);

            waiting(a.driver).until(ExpectedConditions.attributeToBe(By.id("status"), "data-state", "live"));
            waitForText(a.driver, missed);
            List<String> shown = texts(a.driver);
            assertThat(shown).contains(before, missed);
            assertThat(shown).doesNotHaveDuplicates();
            assertThat(shown.indexOf(before)).isLessThan(shown.indexOf(missed));
        } finally {
            tlsPort = 0;
        }
    }

    @Test
    void theCourseClientWorksUnchanged() throws Exception {
        try (Chromium a = browser(); Chromium b = browser()) {
            a.driver.get(base() + "course.html");
            b.driver.get(base() + "course.html");
            for (WebDriver d : List.of(a.driver, b.driver)) {
                waiting(d).until(ExpectedConditions.textToBe(By.id("presence-indicator"), "🟢"));
            }
            String text = "course client " + UUID.randomUUID();
            a.driver.findElement(By.id("user")).sendKeys("brian");
            a.driver.findElement(By.id("text")).sendKeys(text);
            a.driver.findElement(By.cssSelector("#chat button")).click();
            for (WebDriver d : List.of(a.driver, b.driver)) {
                waiting(d).until(ExpectedConditions.textToBePresentInElementLocated(By.id("msgs"), text));
                assertThat(d.findElement(By.cssSelector("#msgs li")).getText()).contains("brian").contains(text);
                assertThat(d.findElement(By.id("presence-indicator")).getText()).isEqualTo("🟢");
            }
        }
    }
}
