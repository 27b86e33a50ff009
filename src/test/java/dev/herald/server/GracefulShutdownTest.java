package dev.herald.server;

import dev.herald.testing.HeraldExtension;
import dev.herald.testing.HttpResult;
import dev.herald.testing.JdkClient;
import dev.herald.testing.NettyH2cClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.ConnectException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A request in flight when shutdown starts still gets its whole response; new connections are refused. */
class GracefulShutdownTest {
    private static final CountDownLatch ARRIVED = new CountDownLatch(1);
    private static final ScheduledExecutorService LATER = Executors.newSingleThreadScheduledExecutor();

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.site("basic")
            .routes(r -> r.route("/slow", ex -> {
                ARRIVED.countDown();
                LATER.schedule(() -> ex.respond(Response.status(200).header("content-type", "text/plain")
                        .body("finished\n".getBytes())), 1500, TimeUnit.MILLISECONDS);
            }));

    @Test
    void inFlightRequestCompletesOverH2() throws Exception {
        // Netty's client: JDK 17's HttpClient fails every open stream on any GOAWAY, even NO_ERROR with a last
        // stream id that covers them (fixed in later JDKs), so it cannot show a graceful shutdown.
        NettyH2cClient client = new NettyH2cClient(HERALD.httpPort());
        int port = HERALD.httpPort();
        CompletableFuture<HttpResult> response = CompletableFuture.supplyAsync(() -> {
            try {
                return client.get("/slow");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(ARRIVED.await(10, TimeUnit.SECONDS)).as("request reached the handler").isTrue();

        long start = System.nanoTime();
        HERALD.stop();
        long stopMs = (System.nanoTime() - start) / 1_000_000;

        HttpResult r = response.get(10, TimeUnit.SECONDS);
        client.close();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.bodyText()).isEqualTo("finished\n");
        assertThat(stopMs).as("shutdown waited for the request, within the 3 s shutdown-timeout").isBetween(1000L, 5000L);
        assertThatThrownBy(() -> JdkClient.http11(port).get("/hello.txt"))
                .as("the listener is closed").isInstanceOf(ConnectException.class);
        LATER.shutdownNow();
    }
}
