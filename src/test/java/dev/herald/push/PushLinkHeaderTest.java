package dev.herald.push;

import dev.herald.server.Response;
import dev.herald.testing.HeraldExtension;
import io.netty.handler.codec.http2.Http2Settings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** An application handler's {@code Link: <...>; rel=preload} response headers become pushes, same origin only. */
class PushLinkHeaderTest {
    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.site("push").routes(b -> b
            .route("/app/page", ex -> ex.respond(Response.status(200)
                    .header("content-type", "text/html; charset=utf-8")
                    .header("link", "</css/site.css>; rel=preload; as=style, </js/app.js>; rel=preload; "
                            + "as=script; nopush")
                    .header("link", "<https://cdn.example.com/x.js>; rel=preload; as=script")
                    .header("link", "<http://" + ex.request().authority() + "/data.json>; rel=preload; as=fetch")
                    .body("<!doctype html><p>app</p>".getBytes(StandardCharsets.UTF_8))))
            .route("/app/nopush", ex -> ex.respond(Response.status(200)
                    .header("link", "</css/site.css>; rel=preload; as=style; nopush")
                    .body("x".getBytes(StandardCharsets.UTF_8))))
            .route("/app/elsewhere", ex -> ex.respond(Response.status(200)
                    .header("link", "<https://cdn.example.com/site.css>; rel=preload; as=style, "
                            + "<//cdn.example.com/a.css>; rel=preload; as=style, "
                            + "<http://other.example:1/b.css>; rel=preload; as=style")
                    .body("x".getBytes(StandardCharsets.UTF_8))))
            .route("/app/missing", ex -> ex.respond(Response.error(404, "not found", "no such page")
                    .header("link", "</css/site.css>; rel=preload; as=style")))
            .route("/app/dynamic", ex -> ex.respond(Response.status(200)
                    .header("link", "</app/private>; rel=preload; as=fetch, </app/gone>; rel=preload; as=fetch, "
                            + "</css/site.css>; rel=preload; as=style")
                    .body("x".getBytes(StandardCharsets.UTF_8))))
            .route("/app/private", ex -> ex.respond(Response.status(200).header("cache-control", "no-store")
                    .body("secret".getBytes(StandardCharsets.UTF_8))))
            .route("/app/gone", ex -> ex.respond(Response.error(410, "gone", "removed"))));

    private static List<H2FrameClient.Frame> promises(List<H2FrameClient.Frame> frames) {
        return frames.stream().filter(f -> f.type().equals("PUSH_PROMISE")).toList();
    }

    private static H2FrameClient.Frame finalHeaders(List<H2FrameClient.Frame> frames) {
        return frames.stream().filter(f -> f.type().equals("HEADERS") && f.stream() % 2 == 1 && !f.informational())
                .findFirst().orElseThrow(() -> new AssertionError("no final HEADERS: " + frames));
    }

    @Test
    void aHandlersPreloadLinksArePromisedBeforeItsHeadersAndServed() throws Exception {
        try (H2FrameClient c = new H2FrameClient(HERALD.httpPort(), H2FrameClient.pushAllowed())) {
            List<H2FrameClient.Frame> frames = c.load("/app/page", Map.of());

            assertThat(promises(frames)).extracting(f -> f.header(":path"))
                    .containsExactly("/css/site.css", "/data.json");
            assertThat(promises(frames)).allSatisfy(p ->
                    assertThat(p.header(":authority")).isEqualTo(c.authority()));
            int page = finalHeaders(frames).stream();
            int headersAt = frames.indexOf(finalHeaders(frames));
            assertThat(frames.subList(headersAt, frames.size())).as("frames: %s", frames)
                    .noneMatch(f -> f.type().equals("PUSH_PROMISE"));
            // The Link lines stay on the response, untouched: hints for the nopush one and for other clients.
            assertThat(finalHeaders(frames).all("link")).hasSize(3);
            for (H2FrameClient.Frame p : promises(frames)) {
                assertThat(p.stream()).isEqualTo(page);
                assertThat(frames).anySatisfy(f -> {
                    assertThat(f.stream()).isEqualTo(p.promised());
                    assertThat(f.type()).isEqualTo("DATA");
                    assertThat(f.endStream()).isTrue();
                });
            }
        }
    }

    @Test
    void nopushGivesNoPromiseButTheLinkStays() throws Exception {
        try (H2FrameClient c = new H2FrameClient(HERALD.httpPort(), H2FrameClient.pushAllowed())) {
            List<H2FrameClient.Frame> frames = c.load("/app/nopush", Map.of());

            assertThat(promises(frames)).isEmpty();
            assertThat(finalHeaders(frames).all("link")).containsExactly("</css/site.css>; rel=preload; as=style; "
                    + "nopush");
        }
    }

    @Test
    void otherOriginsAndErrorResponsesGiveNoPromise() throws Exception {
        try (H2FrameClient c = new H2FrameClient(HERALD.httpPort(), H2FrameClient.pushAllowed())) {
            assertThat(promises(c.load("/app/elsewhere", Map.of()))).isEmpty();
            List<H2FrameClient.Frame> missing = c.load("/app/missing", Map.of());
            assertThat(promises(missing)).isEmpty();
            assertThat(finalHeaders(missing).header(":status")).isEqualTo("404");
        }
    }

    @Test
    void aClientRefusingPushGetsTheLinksOnTheResponseAndNoPromise() throws Exception {
        try (H2FrameClient c = new H2FrameClient(HERALD.httpPort(),
                Http2Settings.defaultSettings().pushEnabled(false))) {
            List<H2FrameClient.Frame> frames = c.load("/app/page", Map.of());

            assertThat(promises(frames)).isEmpty();
            assertThat(frames).noneMatch(f -> f.type().equals("GOAWAY"));
            assertThat(finalHeaders(frames).all("link")).hasSize(3);
        }
    }

    @Test
    void aLinkToAnotherRouteIsHintedNeverPushed() throws Exception {
        // A route may answer anything (no-store, an error): only static files are known cacheable before the
        // answer exists, and a push must be cacheable (RFC 9113 §8.4).
        try (H2FrameClient c = new H2FrameClient(HERALD.httpPort(), H2FrameClient.pushAllowed())) {
            List<H2FrameClient.Frame> frames = c.load("/app/dynamic", Map.of());

            assertThat(promises(frames)).extracting(f -> f.header(":path")).containsExactly("/css/site.css");
            assertThat(finalHeaders(frames).all("link")).hasSize(1);
            assertThat(frames).noneMatch(f -> f.type().equals("GOAWAY"));
        }
    }
}
