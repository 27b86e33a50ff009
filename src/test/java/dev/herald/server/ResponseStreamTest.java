package dev.herald.server;

import dev.herald.testing.HeraldExtension;
import dev.herald.testing.JdkClient;
import dev.herald.testing.NettyH2cClient;
import dev.herald.testing.HttpResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Long-running responses over HTTP/2 and HTTP/1.1: chunks arrive as written, end and client cancel close them. */
class ResponseStreamTest {
    private static final LinkedBlockingQueue<ResponseStream> OPENED = new LinkedBlockingQueue<>();
    private static final CountDownLatch CLOSED = new CountDownLatch(1);

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.site("basic")
            .routes(r -> r
                    .route("/three", ex -> {
                        ResponseStream s = ex.stream(200, new Headers().add("content-type", "text/plain"));
                        for (int i = 1; i <= 3; i++) {
                            s.write(("line " + i + "\n").getBytes(StandardCharsets.UTF_8));
                        }
                        s.end();
                    })
                    .route("/open", ex -> {
                        ResponseStream s = ex.stream(200, new Headers().add("content-type", "text/plain"));
                        s.onClose(CLOSED::countDown);
                        s.write("hello\n".getBytes(StandardCharsets.UTF_8));
                        OPENED.add(s);
                    }));

    @Test
    void chunksThenEndOverEveryProtocol() throws Exception {
        for (var client : List.of(JdkClient.h2(HERALD.tlsPort(), HERALD.certificate()),
                JdkClient.http11(HERALD.httpPort()), JdkClient.h2cUpgrade(HERALD.httpPort()))) {
            HttpResult r = client.get("/three");
            assertThat(r.status()).as(client.name()).isEqualTo(200);
            assertThat(r.bodyText()).as(client.name()).isEqualTo("line 1\nline 2\nline 3\n");
        }
        HttpResult r = new NettyH2cClient(HERALD.httpPort()).get("/three");
        assertThat(r.bodyText()).isEqualTo("line 1\nline 2\nline 3\n");
    }

    @Test
    void streamStaysOpenAndWritesFromAnotherThreadThenClientCancelClosesIt() throws Exception {
        JdkClient client = JdkClient.h2(HERALD.tlsPort(), HERALD.certificate());
        HttpResponse<InputStream> r = client.client().send(HttpRequest.newBuilder(client.uri("/open")).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        BufferedReader lines = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
        assertThat(lines.readLine()).isEqualTo("hello");
        ResponseStream stream = OPENED.poll(10, TimeUnit.SECONDS);
        assertThat(stream).isNotNull();

        stream.write("from another thread\n".getBytes(StandardCharsets.UTF_8));
        assertThat(lines.readLine()).isEqualTo("from another thread");
        assertThat(stream.isOpen()).isTrue();

        r.body().close(); // the JDK client resets the stream (RST_STREAM CANCEL)
        assertThat(CLOSED.await(10, TimeUnit.SECONDS)).as("server saw the cancel").isTrue();
        assertThat(stream.isOpen()).isFalse();
        assertThat(stream.write("late".getBytes(StandardCharsets.UTF_8))).isFalse();
    }
}
