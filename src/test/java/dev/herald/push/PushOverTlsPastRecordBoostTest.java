package dev.herald.push;

import ch.qos.logback.classic.Level;
import dev.herald.config.HeraldConfig;
import dev.herald.testing.ExternalTool;
import dev.herald.testing.HeraldExtension;
import dev.herald.testing.JdkClient;
import dev.herald.testing.LogCapture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * nghttp over TLS loading a page whose pushes take the connection past the small-record threshold
 * ({@code TlsRecordSizer.BOOST_AFTER}, 32 KiB) while earlier streams finish: the bench page (HTML -> CSS -> font,
 * HTML -> module script, about 100 KB). The sizer once flushed from inside a write, in the middle of the flow
 * controller's walk of the priority tree; the flush closed the page's and the first push's streams under the walk,
 * and Netty ended the connection with INTERNAL_ERROR ("Error flushing") before the script's DATA: 17 loads of 20
 * lost it. nghttp sends its request after the handshake, in a read of its own, so the flushes are not held.
 */
class PushOverTlsPastRecordBoostTest {
    private static final String[] ASSETS = {"/style.css", "/font.woff2", "/app.js"};

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.folder(dir -> {
        Path root = dir.resolve("root");
        Random r = new Random(20261208);
        StringBuilder html = new StringBuilder("<!doctype html><html><head><link rel=stylesheet href=/style.css>"
                + "<script type=module src=/app.js></script></head><body>\n");
        while (html.length() < 10_000) {
            html.append("<p>").append(words(r, 400)).append("</p>\n");
        }
        Files.writeString(root.resolve("index.html"), html.append("</body></html>\n"));
        StringBuilder css = new StringBuilder("@font-face { font-family: B; src: url(/font.woff2) format(\"woff2\"); }\n");
        for (int i = 0; css.length() < 12_000; i++) {
            css.append(".c").append(i).append(" { color: #").append(Integer.toHexString(r.nextInt(1 << 24)))
                    .append("; }\n");
        }
        Files.writeString(root.resolve("style.css"), css);
        byte[] font = new byte[28_000]; // incompressible, as a woff2 is: past the threshold with gzip too
        r.nextBytes(font);
        Files.write(root.resolve("font.woff2"), font);
        StringBuilder js = new StringBuilder("const rows = [\n");
        while (js.length() < 48_000) {
            js.append("  '").append(words(r, 70)).append("',\n");
        }
        Files.writeString(root.resolve("app.js"), js.append("];\n"), StandardCharsets.UTF_8);
    }).routes(b -> b.routePrefix("/", PushingFiles.create(PushOverTlsPastRecordBoostTest.HERALD.scratch().resolve("root"),
            HeraldConfig.builder().build(), ForkJoinPool.commonPool())));

    @Test
    void nghttpGetsThePageAndEveryPushOnEveryLoad() throws Exception {
        String nghttp = ExternalTool.require("nghttp", "nghttp2-client").toString();
        try (LogCapture log = LogCapture.of("dev.herald.server.Pipelines")) {
            for (int load = 0; load < 10; load++) {
                // -a: the page's assets too; -s: the summary with pushed streams marked; -n: bodies discarded
                ExternalTool.Result run = ExternalTool.run(20, nghttp, "-ans",
                        "https://127.0.0.1:" + HERALD.tlsPort() + "/index.html");

                assertThat(run.exitCode()).as(run.toString()).isZero();
                assertThat(run.stdout() + run.stderr()).as("load %d", load)
                        .doesNotContain("not processed").doesNotContain("GOAWAY");
                List<String> lines = run.stdout().lines().toList();
                assertThat(lines).as("load %d: the page", load)
                        .anyMatch(l -> l.matches(".* 200 +\\S+ /index\\.html"));
                for (String asset : ASSETS) {
                    assertThat(lines).as("load %d: %s pushed and complete", load, asset)
                            .anyMatch(l -> l.matches(".* \\* .* 200 +\\S+ " + asset.replace(".", "\\.")));
                }
            }
            assertThat(log.messages(Level.WARN)).isEmpty();
        }
    }

    @Test
    void javaHttpClientGetsEveryPushWithItsBytesOnEveryNewConnection() throws Exception {
        Path root = HERALD.scratch().resolve("root");
        for (int load = 0; load < 10; load++) {
            HttpClient client = JdkClient.builder(HERALD.certificate()).version(HttpClient.Version.HTTP_2).build();
            Map<String, CompletableFuture<HttpResponse<byte[]>>> pushes = new ConcurrentHashMap<>();
            HttpResponse.PushPromiseHandler<byte[]> handler = (initiating, promised, acceptor) ->
                    pushes.put(promised.uri().getPath(), acceptor.apply(HttpResponse.BodyHandlers.ofByteArray()));

            HttpResponse<byte[]> page = client.sendAsync(HttpRequest.newBuilder(
                            URI.create("https://127.0.0.1:" + HERALD.tlsPort() + "/index.html")).build(),
                    HttpResponse.BodyHandlers.ofByteArray(), handler).get(20, TimeUnit.SECONDS);

            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.body()).isEqualTo(Files.readAllBytes(root.resolve("index.html")));
            assertThat(pushes.keySet()).as("load %d", load).containsExactlyInAnyOrder(ASSETS);
            for (Map.Entry<String, CompletableFuture<HttpResponse<byte[]>>> e : pushes.entrySet()) {
                HttpResponse<byte[]> r = e.getValue().get(20, TimeUnit.SECONDS);
                assertThat(r.statusCode()).as("load %d: %s", load, e.getKey()).isEqualTo(200);
                assertThat(r.body()).as("load %d: %s", load, e.getKey())
                        .isEqualTo(Files.readAllBytes(root.resolve(e.getKey().substring(1))));
            }
        }
    }

    private static String words(Random r, int chars) {
        String[] w = {"push", "promise", "stream", "frame", "window", "header", "priority", "latency", "cache"};
        StringBuilder b = new StringBuilder();
        while (b.length() < chars) {
            b.append(w[r.nextInt(w.length)]).append(' ');
        }
        return b.toString();
    }
}
