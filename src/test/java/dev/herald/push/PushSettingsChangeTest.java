package dev.herald.push;

import dev.herald.config.HeraldConfig;
import dev.herald.files.StaticFiles;
import dev.herald.server.Handler;
import dev.herald.testing.HeraldExtension;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Settings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The client changes its settings while pushes are under way (RFC 9113 §6.5.2 lets it at any time). Here the
 * pushed responses come 500 ms after their promises, as from an application or a file read on the blocking
 * executor, so the client's lower MAX_CONCURRENT_STREAMS arrives between a push's start and its HEADERS.
 */
class PushSettingsChangeTest {
    private static final ScheduledExecutorService DELAY = Executors.newSingleThreadScheduledExecutor();

    @RegisterExtension
    static final HeraldExtension SLOW = HeraldExtension.site("push").routes(b -> {
        Path site = HeraldExtension.sitePath("push");
        StaticFiles files = StaticFiles.create(site, HeraldConfig.builder().build(), ForkJoinPool.commonPool());
        Handler slowAssets = ex -> {
            if (ex.request().path().endsWith(".html") || ex.request().path().equals("/")) {
                files.handle(ex);
                return;
            }
            DELAY.schedule(() -> {
                try {
                    files.handle(ex);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, 500, TimeUnit.MILLISECONDS);
        };
        b.routePrefix("/", PushingFiles.wrap(slowAssets, site, ForkJoinPool.commonPool(), 10, 1 << 20));
    });

    @AfterAll
    static void stopDelay() {
        DELAY.shutdownNow();
    }

    @Test
    void aLowerMaxConcurrentStreamsMidPushCancelsWhatNoLongerFitsAndKeepsTheConnection() throws Exception {
        // A 100-byte stream window: the first push that opens stays open, so the limit of one stays used.
        try (H2FrameClient c = new H2FrameClient(SLOW.httpPort(), H2FrameClient.pushAllowed().initialWindowSize(100))) {
            c.consumeData = true;
            c.consumeStreams = id -> id % 2 == 1; // the page's window only
            int page = c.get("/", Map.of());
            List<H2FrameClient.Frame> frames = new ArrayList<>();
            List<Integer> promised = new ArrayList<>();
            boolean pageEnded = false;
            while (!pageEnded || frames.stream().filter(f -> promised.contains(f.stream())
                    && (f.type().equals("HEADERS") || f.type().equals("RST_STREAM"))).count() < promised.size()) {
                H2FrameClient.Frame f;
                try {
                    f = c.next();
                } catch (AssertionError e) {
                    throw new AssertionError(e.getMessage() + " after " + frames, e);
                }
                frames.add(f);
                assertThat(f.type()).as("frames %s", frames).isNotIn("GOAWAY", "CLOSED");
                if (f.type().equals("PUSH_PROMISE")) {
                    if (promised.isEmpty()) {
                        c.settings(new Http2Settings().maxConcurrentStreams(1));
                    }
                    promised.add(f.promised());
                }
                pageEnded |= f.stream() == page && f.endStream();
            }
            assertThat(promised).as("the page promises several assets").hasSizeGreaterThan(1);
            List<Integer> opened = frames.stream().filter(f -> f.type().equals("HEADERS") && f.stream() % 2 == 0)
                    .map(H2FrameClient.Frame::stream).toList();
            List<Integer> cancelled = frames.stream().filter(f -> f.type().equals("RST_STREAM"))
                    .peek(f -> assertThat(f.errorCode()).isEqualTo(Http2Error.CANCEL.code()))
                    .map(H2FrameClient.Frame::stream).toList();
            assertThat(opened).as("one pushed stream opened within the new limit; frames %s", frames).hasSize(1);
            assertThat(cancelled).as("the others cancelled, not answered").hasSize(promised.size() - 1)
                    .doesNotContainAnyElementsOf(opened);
            // The connection is fine: a new request is answered.
            int again = c.get("/css/base.css?again", Map.of());
            H2FrameClient.Frame f;
            do {
                f = c.next();
                assertThat(f.type()).isNotIn("GOAWAY", "CLOSED");
            } while (!(f.stream() == again && f.type().equals("HEADERS")));
            assertThat(f.header(":status")).isEqualTo("200");
        }
    }
}
