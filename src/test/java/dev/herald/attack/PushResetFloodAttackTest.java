package dev.herald.attack;

import dev.herald.testing.HeraldExtension;
import io.netty.handler.codec.http2.Http2Error;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.herald.attack.H2AttackClient.SETTINGS_ENABLE_PUSH;
import static dev.herald.attack.H2AttackClient.SETTINGS_INITIAL_WINDOW_SIZE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client that lets Herald push and resets every pushed stream at once, page after page, as fast as it can: the
 * resets are RST_STREAM frames like rapid reset's, counted by {@code http2.max-rst-frames-per-window} (200 per 30 s),
 * so the connection gets GOAWAY(ENHANCE_YOUR_CALM).
 *
 * <p>The site has {@value #PAGES} pages with {@value #ASSETS_PER_PAGE} stylesheets each; cycling through them
 * outruns the push diary ({@code Http2Pusher.DIARY_ENTRIES}, 256 paths per connection), so every page is pushed
 * again and the attacker always has promises to reset.
 */
class PushResetFloodAttackTest {
    static final int PAGES = 40;
    static final int ASSETS_PER_PAGE = 8;
    /** Each stylesheet: 8 of them stay within the default push budget (43,800 bytes a page). */
    static final int ASSET_BYTES = 4096;
    /**
     * The attacker's stream window: the page (under 1 KiB) arrives whole, each push stops after its first KiB, so
     * every reset meets an open stream. (Netty counts only resets of streams that still exist; resets of pushes
     * already finished cost Herald a map lookup.)
     */
    static final int WINDOW = 1024;
    static final Duration FLOOD = AttackScenario.attackDuration(Duration.ofSeconds(3));
    /** From the first request to GOAWAY: 200 resets (25 pages) at the attacker's pace, measured ~0.3 s. */
    static final Duration ANSWER = Duration.ofSeconds(3);

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.folder(dir -> {
        Path root = dir.resolve("root");
        Files.writeString(root.resolve("hello.txt"), "Hello, Herald\n");
        for (int p = 0; p < PAGES; p++) {
            StringBuilder page = new StringBuilder("<!doctype html><title>p").append(p).append("</title>");
            for (int a = 0; a < ASSETS_PER_PAGE; a++) {
                String css = "s" + p + "-" + a + ".css";
                Files.writeString(root.resolve(css), ("p { margin: " + a + "px }\n").repeat(ASSET_BYTES / 16));
                page.append("<link rel=stylesheet href=/").append(css).append('>');
            }
            Files.writeString(root.resolve("p" + p + ".html"), page.append("<p>page</p>\n").toString());
        }
    });

    @Test
    void resettingEveryPushedStreamGetsEnhanceYourCalm() throws Exception {
        try (AttackScenario s = AttackScenario.start(HERALD, "reset every pushed stream")) {
            H2AttackClient a = s.keep(H2AttackClient.connect(HERALD.httpPort(), SETTINGS_ENABLE_PUSH, 1,
                    SETTINGS_INITIAL_WINDOW_SIZE, WINDOW));
            AtomicInteger resets = new AtomicInteger();
            long t0 = System.nanoTime();
            s.flood(FLOOD, i -> {
                a.headers(2 * i + 1, a.get("/p" + (i % PAGES) + ".html"), true);
                a.flush();
                // Reset each promise as it arrives: the first within 50 ms, then whatever has come in.
                Integer promised = a.promised().poll(50, TimeUnit.MILLISECONDS);
                while (promised != null) {
                    a.rst(promised, Http2Error.CANCEL);
                    resets.incrementAndGet();
                    promised = a.promised().poll();
                }
                a.flush();
            });
            assertThat(a.awaitGoAwayOrClose(ANSWER)).as(a.outcome()).isTrue();
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertThat(a.pushPromises()).as("Herald pushed: %s", a.outcome()).isPositive();
            assertThat(resets.get()).as("pushed streams reset").isPositive();
            assertThat(a.sentAwayWith(Http2Error.ENHANCE_YOUR_CALM)).as(a.outcome()).isTrue();
            s.answered(a.outcome() + ", " + a.pushPromises() + " PUSH_PROMISE, " + resets.get()
                    + " reset, GOAWAY after " + ms + " ms");
            s.finish();
        }
    }
}
