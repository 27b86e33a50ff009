package dev.herald.push;

import dev.herald.config.HeraldConfig.EarlyHints;
import dev.herald.testing.HeraldExtension;
import io.netty.handler.codec.http2.Http2Settings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code push.enabled} and {@code push.early-hints}: who gets a push, who gets a 103, who only Link lines. */
class PushSwitchesTest {
    @RegisterExtension
    static final HeraldExtension NO_PUSH = HeraldExtension.site("push").configure(b -> b.pushEnabled(false));
    @RegisterExtension
    static final HeraldExtension H2_HINTS = HeraldExtension.site("push")
            .configure(b -> b.pushEarlyHints(EarlyHints.H2));
    @RegisterExtension
    static final HeraldExtension NO_HINTS = HeraldExtension.site("push")
            .configure(b -> b.pushEarlyHints(EarlyHints.OFF));

    static final List<String> INDEX_LINKS = List.of(
            "</css/site.css>; rel=preload; as=style",
            "</css/base.css>; rel=preload; as=style",
            "</fonts/test.woff2>; rel=preload; as=font; crossorigin",
            "</js/app.js>; rel=modulepreload",
            "</data.json>; rel=preload; as=fetch; crossorigin");

    private static List<H2FrameClient.Frame> load(HeraldExtension herald, Http2Settings settings) throws Exception {
        try (H2FrameClient c = new H2FrameClient(herald.httpPort(), settings)) {
            return c.load("/", Map.of());
        }
    }

    private static List<H2FrameClient.Frame> heads(List<H2FrameClient.Frame> frames) {
        return frames.stream().filter(f -> f.type().equals("HEADERS")).toList();
    }

    /** The raw HTTP/1.1 response to {@code GET /}, 103 included. */
    private static String http11(HeraldExtension herald) throws Exception {
        try (Socket s = new Socket("127.0.0.1", herald.httpPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            in.transferTo(all);
            return all.toString(StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void pushOffPromisesNothingToAClientThatAllowsPushAndHintsEverything() throws Exception {
        List<H2FrameClient.Frame> frames = load(NO_PUSH, H2FrameClient.pushAllowed());

        assertThat(frames).noneMatch(f -> f.type().equals("PUSH_PROMISE"));
        assertThat(heads(frames)).extracting(f -> f.header(":status")).containsExactly("103", "200");
        assertThat(heads(frames).get(0).all("link")).containsExactlyElementsOf(INDEX_LINKS);
        assertThat(heads(frames).get(1).all("link")).containsExactlyElementsOf(INDEX_LINKS);
    }

    @Test
    void hintsForH2OnlySkipTheHttp11EarlyHintsButKeepTheLinks() throws Exception {
        List<H2FrameClient.Frame> frames = load(H2_HINTS, Http2Settings.defaultSettings().pushEnabled(false));
        assertThat(heads(frames)).extracting(f -> f.header(":status")).containsExactly("103", "200");

        String text = http11(H2_HINTS);
        assertThat(text).startsWith("HTTP/1.1 200 OK\r\n").doesNotContain(" 103 ");
        assertThat(text.lines().filter(l -> l.startsWith("link: ")).toList())
                .containsExactlyElementsOf(INDEX_LINKS.stream().map(l -> "link: " + l).toList());
    }

    @Test
    void hintsOffSendNo103AnywhereButTheFinalResponseKeepsTheLinks() throws Exception {
        List<H2FrameClient.Frame> frames = load(NO_HINTS, Http2Settings.defaultSettings().pushEnabled(false));
        assertThat(heads(frames)).extracting(f -> f.header(":status")).containsExactly("200");
        assertThat(heads(frames).get(0).all("link")).containsExactlyElementsOf(INDEX_LINKS);
        assertThat(http11(NO_HINTS)).startsWith("HTTP/1.1 200 OK\r\n");

        // Push is still on: the same server pushes to a client that allows it.
        assertThat(load(NO_HINTS, H2FrameClient.pushAllowed())).filteredOn(f -> f.type().equals("PUSH_PROMISE"))
                .hasSize(INDEX_LINKS.size());
    }
}
