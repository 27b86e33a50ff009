package dev.herald.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import dev.herald.testing.ExternalTool;
import dev.herald.testing.HeraldExtension;
import dev.herald.testing.LogCapture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * curl aborting an HTTP/2 download (its --max-time) while Herald still writes: the connection is reset under
 * Herald's write. That is the client's doing and an everyday one (a closed tab), so it is a DEBUG line, never a
 * WARN with a stack trace; a connection error Herald itself causes while writing is (see
 * {@code PushOverTlsPastRecordBoostTest}).
 */
class ClientResetWhileWritingTest {
    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.folder(dir -> {
        byte[] big = new byte[24 << 20];
        new Random(7).nextBytes(big);
        Files.write(dir.resolve("root/big.bin"), big);
    });

    @Test
    void aDownloadTheClientResetsIsNoWarning() throws Exception {
        String curl = ExternalTool.require("curl", "curl").toString();
        Logger logger = (Logger) LoggerFactory.getLogger(Pipelines.class);
        Level before = logger.getLevel();
        logger.setLevel(Level.DEBUG);
        try (LogCapture log = LogCapture.of(Pipelines.class)) {
            // Up to six aborts until one resets the connection in the middle of a write (the first, nearly always;
            // otherwise the reset finds the socket full and the write waiting, and the close comes from the read).
            for (int i = 0; i < 6 && log.messages(Level.DEBUG).isEmpty(); i++) {
                ExternalTool.Result r = ExternalTool.run(20, curl, "-s", "--http2-prior-knowledge", "--limit-rate",
                        "1M", "--max-time", "1", "-o", "/dev/null",
                        "http://127.0.0.1:" + HERALD.httpPort() + "/big.bin");
                assertThat(r.exitCode()).as("curl stopped by --max-time: %s", r).isEqualTo(28);
                awaitDebugLine(log);
            }

            assertThat(log.messages(Level.DEBUG)).as("the reset reached a write: %s", log.messages())
                    .anyMatch(m -> m.contains("failed while writing"));
            assertThat(log.messages(Level.WARN)).isEmpty();
        } finally {
            logger.setLevel(before);
        }
    }

    @Test
    void onlyAnErrorWithoutAnIoCauseIsHeraldsOwn() {
        assertThat(Pipelines.FrameCodec.causedByIo(new java.io.IOException("Connection reset by peer"))).isTrue();
        assertThat(Pipelines.FrameCodec.causedByIo(io.netty.handler.codec.http2.Http2Exception.connectionError(
                io.netty.handler.codec.http2.Http2Error.INTERNAL_ERROR,
                new java.nio.channels.ClosedChannelException(), "Error flushing"))).isTrue();
        assertThat(Pipelines.FrameCodec.causedByIo(io.netty.handler.codec.http2.Http2Exception.connectionError(
                io.netty.handler.codec.http2.Http2Error.INTERNAL_ERROR,
                new IllegalArgumentException("e.priorityQueueIndex(): 0 (expected: -1)"), "Error flushing")))
                .isFalse();
    }

    /** The failed write comes after curl is gone: wait for it a little (not an error if it does not come). */
    private static void awaitDebugLine(LogCapture log) throws Exception {
        long deadline = System.nanoTime() + 3_000_000_000L;
        while (log.messages(Level.DEBUG).isEmpty() && System.nanoTime() < deadline) {
            java.util.concurrent.CompletableFuture.runAsync(() -> { },
                    java.util.concurrent.CompletableFuture.delayedExecutor(20,
                            java.util.concurrent.TimeUnit.MILLISECONDS)).get();
        }
    }
}
