package dev.herald.server;

import dev.herald.testing.ExternalTool;
import dev.herald.testing.HeraldExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;

/** Drives Debian's {@code nghttp} (nghttp2-client) against Herald over h2c and TLS. */
class NghttpTest {
    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.site("basic");

    @Test
    void h2cPriorKnowledgeFramesAndBody() throws Exception {
        String nghttp = ExternalTool.require("nghttp", "nghttp2-client").toString();

        ExternalTool.Result r = ExternalTool.run(20, nghttp, "-nv",
                "http://127.0.0.1:" + HERALD.httpPort() + "/hello.txt");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout())
                .contains("recv SETTINGS frame")
                .contains("[SETTINGS_MAX_CONCURRENT_STREAMS(0x03):256]")
                .contains("recv (stream_id=13) :status: 200")
                .contains("recv (stream_id=13) content-type: text/plain; charset=utf-8")
                .contains("recv DATA frame <length=14, flags=0x01, stream_id=13>");
    }

    @Test
    void tlsWithAlpnDownloadsTheBody() throws Exception {
        String nghttp = ExternalTool.require("nghttp", "nghttp2-client").toString();

        ExternalTool.Result r = ExternalTool.run(20, nghttp, "-y", "-v",
                "https://127.0.0.1:" + HERALD.tlsPort() + "/hello.txt");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout())
                .contains("The negotiated protocol: h2")
                .contains("recv (stream_id=13) :status: 200")
                .contains("hello, herald");
    }

    @Test
    void fetchesAPageAndItsAssets() throws Exception {
        String nghttp = ExternalTool.require("nghttp", "nghttp2-client").toString();

        ExternalTool.Result r = ExternalTool.run(20, nghttp, "-ans",
                "http://127.0.0.1:" + HERALD.httpPort() + "/");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("/css/site.css").contains("/js/app.js");
        assertThat(r.stdout()).doesNotContain(" 404 ");
    }
}
