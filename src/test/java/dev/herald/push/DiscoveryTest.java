package dev.herald.push;

import dev.herald.server.Preload;
import dev.herald.testing.HeraldExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class DiscoveryTest {
    @TempDir
    Path dir;

    private Path copySite() throws Exception {
        Path src = HeraldExtension.sitePath("push");
        try (var files = Files.walk(src)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path to = dir.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(p, to);
                }
            }
        }
        return dir.toRealPath();
    }

    @Test
    void htmlToCssToFontAndModuleScriptInPushOrder() throws Exception {
        Path root = copySite();

        Discovery.Manifest m = Discovery.scan(root, root.resolve("index.html"), "/", 10, 1 << 20);

        assertThat(m.resources()).extracting(Preload::path).containsExactly("/css/site.css", "/css/base.css",
                "/fonts/test.woff2", "/js/app.js", "/data.json");
        assertThat(m.resources()).extracting(Preload::type).containsExactly(Preload.Type.STYLE,
                Preload.Type.STYLE, Preload.Type.FONT, Preload.Type.MODULE, Preload.Type.FETCH);
        assertThat(m.resources()).allMatch(Preload::push);
    }

    @Test
    void editingTheCssUpdatesTheManifest() throws Exception {
        Path root = copySite();
        Discovery.Manifest m = Discovery.scan(root, root.resolve("index.html"), "/", 10, 1 << 20);
        assertThat(m.fresh()).isTrue();

        Files.createDirectories(root.resolve("fonts"));
        Files.write(root.resolve("fonts/extra.woff2"), new byte[] {1, 2, 3});
        Path css = root.resolve("css/base.css");
        Files.writeString(css, "@font-face { font-family: X; src: url(../fonts/extra.woff2); }\n");
        Files.setLastModifiedTime(css, FileTime.fromMillis(System.currentTimeMillis() + 5_000));

        assertThat(m.fresh()).isFalse();
        Discovery.Manifest rebuilt = Discovery.scan(root, root.resolve("index.html"), "/", 10, 1 << 20);
        assertThat(rebuilt.resources()).extracting(Preload::path).containsExactly("/css/site.css",
                "/css/base.css", "/fonts/extra.woff2", "/fonts/test.woff2", "/js/app.js", "/data.json");
    }

    @Test
    void theBudgetLeavesTheRestHintOnly() throws Exception {
        Path root = copySite();
        long css = Files.size(root.resolve("css/site.css"));

        List<Preload> byBytes = Discovery.scan(root, root.resolve("index.html"), "/", 10, css).resources();
        assertThat(byBytes.get(0).push()).isTrue();
        assertThat(byBytes.subList(1, byBytes.size())).noneMatch(p -> p.push() && p.size() > 0
                && p.type() == Preload.Type.FONT);

        List<Preload> byCount = Discovery.scan(root, root.resolve("index.html"), "/", 2, 1 << 20).resources();
        assertThat(byCount).extracting(Preload::push).containsExactly(true, true, false, false, false);
    }

    @Test
    void anElementsCrossoriginGoesOnItsLinkLineAndNoscriptIsSkipped(@TempDir Path root) throws Exception {
        for (String f : List.of("a.css", "b.css", "c.js", "d.js", "e.js", "nos.css", "f.woff2")) {
            Files.writeString(root.resolve(f), "/* " + f + " */");
        }
        Files.writeString(root.resolve("index.html"), """
                <!doctype html><html><head>
                <link rel="stylesheet" href="a.css" crossorigin>
                <link rel="stylesheet" href="b.css">
                <script src="c.js" crossorigin="use-credentials" defer></script>
                <script src="d.js" crossorigin="bogus" defer></script>
                <script type="module" src="e.js"></script>
                <link rel="preload" href="f.woff2" as="font" crossorigin="USE-CREDENTIALS">
                <noscript><link rel="stylesheet" href="nos.css"></noscript>
                </head><body></body></html>
                """);

        Discovery.Manifest m = Discovery.scan(root, root.resolve("index.html"), "/", 10, 1 << 20);

        assertThat(m.resources()).extracting(Preload::linkValue).containsExactly(
                "</a.css>; rel=preload; as=style; crossorigin",
                "</b.css>; rel=preload; as=style",
                "</f.woff2>; rel=preload; as=font; crossorigin=use-credentials",
                "</c.js>; rel=preload; as=script; crossorigin=use-credentials",
                "</d.js>; rel=preload; as=script; crossorigin",
                "</e.js>; rel=modulepreload");
    }

    @Test
    void onlySameOriginPathsCount() {
        assertThat(Discovery.sameOriginPath("/a/page.html", "x.css")).isEqualTo("/a/x.css");
        assertThat(Discovery.sameOriginPath("/a/", "../b.js?v=2#frag")).isEqualTo("/b.js?v=2");
        assertThat(Discovery.sameOriginPath("/", "https://cdn.example.com/x.js")).isNull();
        assertThat(Discovery.sameOriginPath("/", "//cdn.example.com/x.js")).isNull();
        assertThat(Discovery.sameOriginPath("/", "data:font/woff2;base64,AAAA")).isNull();
        // Non-ASCII as a browser requests it: percent-encoded UTF-8 (java.net.URI would keep it raw).
        assertThat(Discovery.sameOriginPath("/", "/\u00fc.css?q=\u00e9")).isEqualTo("/%C3%BC.css?q=%C3%A9");
        assertThat(Discovery.sameOriginPath("/d/", "caf\u00e9 x.js")).isNull(); // a space: no URL
    }

    @Test
    void aNonAsciiReferenceIsAnnouncedEncodedAndTheRestOfThePageStill() throws Exception {
        Path root = copySite();
        Files.writeString(root.resolve("\u00fc.css"), "body{}");
        Files.writeString(root.resolve("u.html"), "<!doctype html><link rel=stylesheet href=\"/\u00fc.css\">"
                + "<link rel=stylesheet href=\"/css/base.css\">");

        Discovery.Manifest m = Discovery.scan(root, root.resolve("u.html"), "/u.html", 10, 1 << 20);

        assertThat(m.resources()).extracting(Preload::path).containsExactly("/%C3%BC.css", "/css/base.css");
    }

    @Test
    void linkValuesPerType() {
        assertThat(Preload.of("/a.css").linkValue()).isEqualTo("</a.css>; rel=preload; as=style");
        assertThat(Preload.of("/a.js").linkValue()).isEqualTo("</a.js>; rel=preload; as=script");
        assertThat(Preload.of("/f.woff2").linkValue()).isEqualTo("</f.woff2>; rel=preload; as=font; crossorigin");
        assertThat(Preload.of("/i.png").linkValue()).isEqualTo("</i.png>; rel=preload; as=image");
        assertThat(Preload.of("/d.json").linkValue()).isEqualTo("</d.json>; rel=preload; as=fetch; crossorigin");
    }
}
