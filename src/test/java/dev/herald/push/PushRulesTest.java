package dev.herald.push;

import dev.herald.config.PushRule;
import dev.herald.testing.HeraldExtension;
import io.netty.handler.codec.http2.Http2Settings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Declarative push rules from the config, on the wire: order, limit, on/off, discovery off, per-path Link. */
class PushRulesTest {
    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.folder(dir -> {
        Path root = dir.resolve("root");
        PushDigestTest.copy(HeraldExtension.sitePath("push"), root);
        Path rules = Files.createDirectories(root.resolve("rules"));
        Files.writeString(rules.resolve("a.html"), "<!doctype html><title>a</title>"
                + "<link rel=stylesheet href=/css/base.css><script src=/js/other.js></script>\n");
        for (String page : List.of("b", "c", "d", "e")) {
            Files.writeString(rules.resolve(page + ".html"), "<!doctype html><title>" + page + "</title>"
                    + "<link rel=stylesheet href=/css/site.css>\n");
        }
    }).configure(b -> b.pushRules(List.of(
            new PushRule("/rules/a.html", List.of("/img/logo.svg", "/css/base.css", "/missing.css"), true, -1, true,
                    List.of("</data.json>; rel=preload; as=fetch; crossorigin",
                            "</js/app.js>; rel=modulepreload; nopush")),
            new PushRule("/rules/b*", List.of(), true, 1, true, List.of()),
            new PushRule("/rules/c.html", List.of("/js/app.js"), false, -1, true, List.of()),
            new PushRule("/rules/d.html", List.of("/js/app.js"), true, -1, false, List.of()),
            PushRule.of("/rules/*", List.of("/img/logo.svg")),
            PushRule.of("/data.json", List.of("/js/other.js")))));

    private static List<String> promisedPaths(List<H2FrameClient.Frame> frames) {
        return frames.stream().filter(f -> f.type().equals("PUSH_PROMISE")).map(f -> f.header(":path")).toList();
    }

    private static H2FrameClient.Frame finalHeaders(List<H2FrameClient.Frame> frames) {
        return frames.stream().filter(f -> f.type().equals("HEADERS") && f.stream() % 2 == 1 && !f.informational())
                .findFirst().orElseThrow(() -> new AssertionError("no final HEADERS: " + frames));
    }

    private static H2FrameClient client(Http2Settings settings) throws Exception {
        return new H2FrameClient(HERALD.httpPort(), settings);
    }

    @Test
    void theSourcesCombineEachPathOnceCssFirstThenScriptsThenTheRest() throws Exception {
        try (H2FrameClient c = client(H2FrameClient.pushAllowed())) {
            List<H2FrameClient.Frame> frames = c.load("/rules/a.html", Map.of());

            // /missing.css is no file: never announced. /js/app.js is nopush: hinted only. The rule names
            // /img/logo.svg first, but an image goes after the page's CSS and scripts.
            assertThat(promisedPaths(frames)).containsExactly("/css/base.css", "/js/other.js", "/img/logo.svg",
                    "/data.json");
            assertThat(finalHeaders(frames).all("link")).containsExactly(
                    "</data.json>; rel=preload; as=fetch; crossorigin", "</js/app.js>; rel=modulepreload; nopush");
        }
    }

    @Test
    void withoutPushTheSameOrderIsHinted() throws Exception {
        try (H2FrameClient c = client(Http2Settings.defaultSettings().pushEnabled(false))) {
            List<H2FrameClient.Frame> frames = c.load("/rules/a.html", Map.of());

            H2FrameClient.Frame hints = frames.stream().filter(H2FrameClient.Frame::informational).findFirst()
                    .orElseThrow(() -> new AssertionError("no 103: " + frames));
            assertThat(hints.all("link")).containsExactly("</css/base.css>; rel=preload; as=style",
                    "</js/other.js>; rel=preload; as=script", "</js/app.js>; rel=modulepreload",
                    "</img/logo.svg>; rel=preload; as=image", "</data.json>; rel=preload; as=fetch; crossorigin");
        }
    }

    @Test
    void aRuleLimitPushesThatManyAndHintsTheRest() throws Exception {
        try (H2FrameClient c = client(H2FrameClient.pushAllowed())) {
            List<H2FrameClient.Frame> frames = c.load("/rules/b.html", Map.of());

            assertThat(promisedPaths(frames)).containsExactly("/css/site.css");
            assertThat(finalHeaders(frames).all("link")).containsExactly("</css/base.css>; rel=preload; as=style",
                    "</fonts/test.woff2>; rel=preload; as=font; crossorigin");
        }
    }

    @Test
    void aDisabledRuleAnnouncesNothingAndWinsAsTheFirstMatch() throws Exception {
        try (H2FrameClient c = client(H2FrameClient.pushAllowed())) {
            List<H2FrameClient.Frame> frames = c.load("/rules/c.html", Map.of());

            assertThat(promisedPaths(frames)).isEmpty();
            assertThat(frames).noneMatch(H2FrameClient.Frame::informational);
            assertThat(finalHeaders(frames).all("link")).isEmpty();
            assertThat(finalHeaders(frames).header(":status")).isEqualTo("200");
        }
    }

    @Test
    void discoveryOffPushesOnlyTheRulesResources() throws Exception {
        try (H2FrameClient c = client(H2FrameClient.pushAllowed())) {
            assertThat(promisedPaths(c.load("/rules/d.html", Map.of()))).containsExactly("/js/app.js");
        }
    }

    @Test
    void aGlobRuleAddsToDiscoveryAndARuleMayNameANonPagePath() throws Exception {
        try (H2FrameClient c = client(H2FrameClient.pushAllowed())) {
            // CSS and fonts first, whichever source named them: the rule's image goes last.
            assertThat(promisedPaths(c.load("/rules/e.html", Map.of()))).containsExactly("/css/site.css",
                    "/css/base.css", "/fonts/test.woff2", "/img/logo.svg");
            assertThat(promisedPaths(c.load("/rules/f.html", Map.of()))).as("404").isEmpty();
            assertThat(promisedPaths(c.load("/data.json", Map.of()))).containsExactly("/js/other.js");
        }
    }

    @Test
    void mergeKeepsEachPathAtItsFirstPlaceAndTheBudgetCountsPushableKnownSizes() {
        List<dev.herald.server.Preload> merged = PushingFiles.merge(
                List.of(pre("/r.css", 10), pre("/shared.js", 10)),
                List.of(pre("/d.css", 10), pre("/shared.js", 10)),
                List.of(pre("/l.js", 10).noPush(), pre("/d.css", 10)),
                List.of(pre("/learned.png", 10), pre("/r.css", 10)));
        assertThat(merged).as("first places, then CSS, scripts, the rest").extracting(dev.herald.server.Preload::path)
                .containsExactly("/r.css", "/d.css", "/shared.js", "/l.js", "/learned.png");

        List<dev.herald.server.Preload> budgeted = PushingFiles.budget(List.of(pre("/a.css", 100),
                pre("/b.js", 10).noPush(), dev.herald.server.Preload.of("/unknown.js"), pre("/c.css", 200),
                pre("/d.css", 50), pre("/e.css", 1)), 2, 160, true);
        // Round 0 is first fit within 2 resources and 160 bytes; what is left goes to later rounds of one budget
        // each (at least one resource: /c.css is over the budget alone); nopush and unknown sizes are hint-only.
        assertThat(budgeted).extracting(dev.herald.server.Preload::push)
                .containsExactly(true, false, false, true, true, true);
        assertThat(budgeted).extracting(dev.herald.server.Preload::round)
                .containsExactly(0, 0, 0, 1, 0, 2);
        assertThat(PushingFiles.budget(List.of(pre("/a.css", 100), pre("/b.css", 10), pre("/c.css", 10)), 1, 160,
                false)).as("a rule's limit: no later rounds").extracting(dev.herald.server.Preload::push)
                .containsExactly(true, false, false);
        assertThat(PushingFiles.budget(List.of(pre("/a.css", 100), pre("/b.css", 10)), 0, 160, true))
                .as("a resource cap of 0 hints only").extracting(dev.herald.server.Preload::push)
                .containsExactly(false, false);
    }

    @Test
    void theAutomaticBudgetIsThreeCongestionWindowsUpTo1MiB() {
        assertThat(PushingFiles.autoBudget(-1)).as("unknown window: IW10 x 1460 x 3").isEqualTo(43_800);
        assertThat(PushingFiles.autoBudget(10 * 1448)).as("IW10, MSS 1448").isEqualTo(43_440);
        assertThat(PushingFiles.autoBudget(100 * 1448)).as("initcwnd 100").isEqualTo(434_400);
        assertThat(PushingFiles.autoBudget(2 * 1448)).as("a window cut by loss").isEqualTo(8_688);
        assertThat(PushingFiles.autoBudget(10 * 65_483)).as("loopback's 64 KiB MSS").isEqualTo(1L << 20);
    }

    private static dev.herald.server.Preload pre(String path, long size) {
        return dev.herald.server.Preload.of(path).size(size);
    }
}
