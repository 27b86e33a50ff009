package dev.herald.attack;

import dev.herald.attack.H2AttackClient.StreamRecord;
import dev.herald.testing.HeraldExtension;
import dev.herald.testing.LogCapture;
import dev.herald.testing.RawHttp1;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import javax.net.SocketFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;

import static dev.herald.attack.H2AttackClient.SETTINGS_INITIAL_WINDOW_SIZE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A file truncated on disk while Herald sends it (what {@code cp new old}, {@code rsync --inplace} or a log rotation
 * do). Netty's chunked file reader returned empty chunks at the early end of file forever, spinning an event loop:
 * the client hung, every connection on that loop stalled and shutdown never finished. Now the response is cut (a
 * reset on HTTP/2, a closed connection on HTTP/1.1), a WARN names the file, and Herald goes on serving.
 */
class TruncatedFileTest {
    static final int SIZE = 8 << 20;
    static final int CUT = 8 * 1024;
    static final Duration ANSWER = Duration.ofSeconds(5);
    static final String FILE_CHUNKS = "dev.herald.server.FileChunks";

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.folder(dir -> {
        Files.write(dir.resolve("root/big.bin"), new byte[SIZE]);
        Files.writeString(dir.resolve("root/hello.txt"), "Hello, Herald\n");
    }).configure(b -> b.fileCacheMaxFile(64 * 1024)); // big.bin is read from disk as it is sent

    Path big;

    @BeforeEach
    void restoreTheFile() throws Exception {
        big = HERALD.scratch().resolve("root/big.bin");
        Files.write(big, new byte[SIZE]);
    }

    @Test
    void http2StreamIsResetAndTheLoopGoesOn() throws Exception {
        try (H2AttackClient c = H2AttackClient.connect(HERALD.httpPort(), SETTINGS_INITIAL_WINDOW_SIZE, 16 * 1024);
             LogCapture log = LogCapture.of(FILE_CHUNKS)) {
            c.headers(1, c.get("/big.bin"), true);
            c.flush();
            StreamRecord started = c.awaitStream(1, s -> s.data.size() >= 16 * 1024, ANSWER);
            assertThat(started.status).as("%s; %s", started, c.outcome()).isEqualTo("200");

            truncate(big, CUT); // the stream's window is spent: Herald waits, then reads on from byte 16384
            c.windowUpdate(0, 32 << 20);
            c.windowUpdate(1, 32 << 20);
            c.flush();

            StreamRecord cut = c.awaitStream(1, StreamRecord::ended, ANSWER);
            assertThat(cut.rstCode).as("%s; %s", cut, c.outcome()).isEqualTo(Http2Error.INTERNAL_ERROR.code());
            assertThat(cut.endStream).as("never a complete response: %s", cut).isFalse();
            assertThat(log.messages()).anySatisfy(m -> assertThat(m).contains("big.bin was truncated while being sent"));

            c.headers(3, c.get("/hello.txt"), true);
            c.flush();
            StreamRecord next = c.awaitStream(3, StreamRecord::ended, ANSWER);
            assertThat(next.body()).as("the same connection serves on: %s", next).isEqualTo("Hello, Herald\n");
        }
    }

    @Test
    void http1OverTlsClosesTheConnection() throws Exception {
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, InsecureTrustManagerFactory.INSTANCE.getTrustManagers(), null);
        assertCutAndClosed(tls.getSocketFactory(), HERALD.tlsPort());
    }

    @Test
    void http1CleartextClosesTheConnection() throws Exception {
        assertCutAndClosed(SocketFactory.getDefault(), HERALD.httpPort());
    }

    /**
     * Reads the head and a little of the body with a small receive buffer, so that most of the file is still unsent
     * when it is truncated, then reads on to the end of the connection.
     */
    private void assertCutAndClosed(SocketFactory factory, int port) throws Exception {
        try (Socket s = factory.createSocket();
             LogCapture log = LogCapture.of(FILE_CHUNKS)) {
            s.setReceiveBufferSize(16 * 1024);
            s.connect(new InetSocketAddress("127.0.0.1", port));
            s.setSoTimeout((int) ANSWER.toMillis());
            if (s instanceof SSLSocket ssl) {
                ssl.setEnabledProtocols(new String[] {"TLSv1.3"});
                ssl.startHandshake();
            }
            s.getOutputStream().write("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            byte[] first = in.readNBytes(4096);
            assertThat(RawHttp1.status(new String(first, StandardCharsets.ISO_8859_1))).isEqualTo(200);

            truncate(big, CUT);
            ByteArrayOutputStream rest = new ByteArrayOutputStream();
            long t0 = System.nanoTime();
            in.transferTo(rest); // to the close; a spinning server never closes (SocketTimeoutException)
            Duration took = Duration.ofNanos(System.nanoTime() - t0);

            assertThat(first.length + rest.size()).as("bytes before the close").isLessThan(SIZE);
            assertThat(took).isLessThan(ANSWER);
            assertThat(log.messages()).anySatisfy(m -> assertThat(m).contains("big.bin was truncated while being sent"));
            assertThat(RawHttp1.get(HERALD.httpPort(), "/hello.txt")).endsWith("Hello, Herald\n");
        }
    }

    private static void truncate(Path file, long size) throws Exception {
        try (FileChannel fc = FileChannel.open(file, StandardOpenOption.WRITE)) {
            fc.truncate(size);
        }
        assertThat(Files.size(file)).isEqualTo(size);
    }
}
