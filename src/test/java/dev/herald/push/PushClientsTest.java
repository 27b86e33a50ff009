package dev.herald.push;

import dev.herald.config.HeraldConfig;
import dev.herald.testing.ExternalTool;
import dev.herald.testing.HeraldExtension;
import dev.herald.testing.JdkClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Push and early hints as real clients see them: Java's HttpClient, nghttp, a raw HTTP/1.1 socket. */
class PushClientsTest {
    static final Path SITE = HeraldExtension.sitePath("push");

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.site("push")
            .routes(b -> b.routePrefix("/", PushingFiles.create(SITE, HeraldConfig.builder().build(),
                    ForkJoinPool.commonPool())));

    @Test
    void javaHttpClientOverTlsReceivesEveryPromisedResource() throws Exception {
        HttpClient client = JdkClient.builder(HERALD.certificate()).version(HttpClient.Version.HTTP_2).build();
        Map<String, CompletableFuture<HttpResponse<byte[]>>> pushes = new ConcurrentHashMap<>();
        HttpResponse.PushPromiseHandler<byte[]> handler = (initiating, promised, acceptor) ->
                pushes.put(promised.uri().getPath(), acceptor.apply(HttpResponse.BodyHandlers.ofByteArray()));

        HttpResponse<byte[]> page = client.sendAsync(
                HttpRequest.newBuilder(java.net.URI.create("https://127.0.0.1:" + HERALD.tlsPort() + "/")).build(),
                HttpResponse.BodyHandlers.ofByteArray(), handler).get(20, TimeUnit.SECONDS);

        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(pushes.keySet()).containsExactlyInAnyOrderElementsOf(PushFramesTest.INDEX_ASSETS);
        for (Map.Entry<String, CompletableFuture<HttpResponse<byte[]>>> e : pushes.entrySet()) {
            HttpResponse<byte[]> r = e.getValue().get(20, TimeUnit.SECONDS);
            assertThat(r.statusCode()).as(e.getKey()).isEqualTo(200);
            assertThat(r.body()).as(e.getKey()).isEqualTo(Files.readAllBytes(SITE.resolve(e.getKey().substring(1))));
        }
    }

    @Test
    void javaHttpClientWithoutAHandlerGetsNoPushAndThePageWithLinks() throws Exception {
        HttpClient client = JdkClient.builder(HERALD.certificate()).version(HttpClient.Version.HTTP_2).build();

        HttpResponse<byte[]> page = client.send(
                HttpRequest.newBuilder(java.net.URI.create("https://127.0.0.1:" + HERALD.tlsPort() + "/")).build(),
                HttpResponse.BodyHandlers.ofByteArray());

        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).isEqualTo(Files.readAllBytes(SITE.resolve("index.html")));
        assertThat(page.headers().allValues("link")).hasSize(PushFramesTest.INDEX_ASSETS.size());
    }

    @Test
    void javaHttpClientOverHttp11SkipsTheEarlyHints() throws Exception {
        HttpClient client = JdkClient.builder(null).version(HttpClient.Version.HTTP_1_1).build();

        HttpResponse<byte[]> page = client.send(
                HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + HERALD.httpPort() + "/")).build(),
                HttpResponse.BodyHandlers.ofByteArray());

        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).isEqualTo(Files.readAllBytes(SITE.resolve("index.html")));
    }

    @Test
    void http11GetsA103WithLinkLinesBeforeThePage() throws Exception {
        try (Socket s = new Socket("127.0.0.1", HERALD.httpPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            in.transferTo(all);
            String text = all.toString(StandardCharsets.ISO_8859_1);

            assertThat(text).startsWith("HTTP/1.1 103 Early Hints\r\n");
            String hints = text.substring(0, text.indexOf("\r\n\r\n"));
            assertThat(hints.lines().filter(l -> l.startsWith("link: ")).toList()).containsExactly(
                    "link: </css/site.css>; rel=preload; as=style",
                    "link: </css/base.css>; rel=preload; as=style",
                    "link: </fonts/test.woff2>; rel=preload; as=font; crossorigin",
                    "link: </js/app.js>; rel=modulepreload",
                    "link: </data.json>; rel=preload; as=fetch; crossorigin");
            String rest = text.substring(text.indexOf("\r\n\r\n") + 4);
            assertThat(rest).startsWith("HTTP/1.1 200 OK\r\n");
            assertThat(rest).contains("link: </css/site.css>; rel=preload; as=style\r\n");
        }
    }

    @Test
    void nghttpMarksTheAssetsAsPushed() throws Exception {
        String nghttp = ExternalTool.require("nghttp", "nghttp2-client").toString();

        ExternalTool.Result r = ExternalTool.run(20, nghttp, "-ans", "http://127.0.0.1:" + HERALD.httpPort() + "/");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        List<String> pushed = r.stdout().lines().filter(l -> l.matches(".*\\d \\*.*") || l.contains(" * "))
                .toList();
        for (String asset : PushFramesTest.INDEX_ASSETS) {
            assertThat(pushed).as(r.stdout()).anyMatch(l -> l.trim().endsWith(asset));
        }
    }

    @Test
    void nghttpWithoutPushGetsNone() throws Exception {
        String nghttp = ExternalTool.require("nghttp", "nghttp2-client").toString();

        ExternalTool.Result r = ExternalTool.run(20, nghttp, "-ans", "--no-push",
                "http://127.0.0.1:" + HERALD.httpPort() + "/");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("/css/site.css").doesNotContain(" * ");
    }
}
