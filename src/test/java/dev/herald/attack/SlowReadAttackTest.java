package dev.herald.attack;

import dev.herald.attack.H2AttackClient.StreamRecord;
import dev.herald.server.LimitLog;
import dev.herald.testing.HeraldExtension;
import dev.herald.testing.LogCapture;
import dev.herald.testing.RawHttp1;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import javax.net.SocketFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static dev.herald.attack.H2AttackClient.SETTINGS_INITIAL_WINDOW_SIZE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Clients that stop reading a response (slow read, slowloris the other way round) are cut by {@code send-timeout}:
 * over HTTP/1.1 and HTTP/2 a connection whose client takes none of the bytes waiting for it is closed; over HTTP/2
 * a stream whose data waits for a flow-control window the client keeps shut is reset with CANCEL while its
 * connection goes on. Either way the file the response was read from is closed. What the timeout must leave alone:
 * a reader that is slow but takes something within each timeout.
 */
class SlowReadAttackTest {
    static final Duration TIMEOUT = Duration.ofSeconds(1);
    /** The cut comes within this after the client took its last byte: 1.25 timeouts, plus slack for a busy machine. */
    static final Duration CUT = TIMEOUT.plusSeconds(9);
    /** Far more than the kernel buffers of both ends hold, and sparse on disk. */
    static final long BIG = 32L << 20;
    static final int MEDIUM = 1 << 20;
    /** How long the slow readers read slowly: four timeouts. */
    static final Duration SLOW_PHASE = TIMEOUT.multipliedBy(4);
    static final long PACE_MILLIS = 300;

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.folder(dir -> {
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve("root/big.bin").toFile(), "rw")) {
            f.setLength(BIG);
        }
        Files.write(dir.resolve("root/medium.bin"), new byte[MEDIUM]);
        Files.writeString(dir.resolve("root/hello.txt"), "Hello, Herald\n");
    }).configure(b -> b.sendTimeout(TIMEOUT).limitLogInterval(Duration.ofNanos(1))); // every limit line logged

    @Test
    void http1ClientThatStopsReadingIsClosedAndItsFileWithIt() throws Exception {
        assertClosedWithItsFile(SocketFactory.getDefault(), HERALD.httpPort(), "http/1.1 connection");
    }

    /** Over TLS the file goes through the chunked writer and the TLS handler, not sendfile: the same cut. */
    @Test
    void http1OverTlsClientThatStopsReadingIsClosedAndItsFileWithIt() throws Exception {
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, InsecureTrustManagerFactory.INSTANCE.getTrustManagers(), null);
        assertClosedWithItsFile(tls.getSocketFactory(), HERALD.tlsPort(), "https/1.1 connection");
    }

    private static void assertClosedWithItsFile(SocketFactory factory, int port, String what) throws Exception {
        try (LogCapture log = LogCapture.of(LimitLog.class); Socket s = factory.createSocket()) {
            s.setReceiveBufferSize(4096);
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            if (s instanceof SSLSocket ssl) {
                ssl.startHandshake();
            }
            long t0 = System.nanoTime();
            s.getOutputStream().write("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));

            String peer = "127.0.0.1:" + s.getLocalPort();
            Optional<String> line = awaitLine(log, peer, CUT);
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            assertThat(line).as("a send-timeout line for %s within %s", peer, CUT).isPresent();
            assertThat(line.get()).contains("send-timeout", what, "none taken by the client", "closed");
            assertThat(took).as("cut after the send timeout, not before").isGreaterThanOrEqualTo(TIMEOUT);
            assertThat(await(() -> openDescriptors(big()) == 0, CUT)).as("big.bin closed").isTrue();

            s.setSoTimeout((int) CUT.toMillis());
            long received = drain(s.getInputStream());
            assertThat(received).as("what arrived before the close: not the whole file").isLessThan(BIG);
            assertThat(sendTimeouts("connection")).isPositive();
        }
    }

    @Test
    void h2StreamWhoseWindowStaysShutIsResetWhileTheConnectionGoesOn() throws Exception {
        try (LogCapture log = LogCapture.of(LimitLog.class);
             H2AttackClient c = H2AttackClient.connect(HERALD.httpPort(), SETTINGS_INITIAL_WINDOW_SIZE, 0)) {
            c.headers(1, c.get("/big.bin"), true);
            c.flush();
            long t0 = System.nanoTime();
            StreamRecord started = c.awaitStream(1, r -> r.status != null, CUT);
            assertThat(started.status).as("%s; %s", started, c.outcome()).isEqualTo("200");
            assertThat(openDescriptors(big())).as("big.bin open while its DATA waits").isPositive();

            StreamRecord r = c.awaitStream(1, StreamRecord::ended, CUT);
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            assertThat(r.rstCode).as("after %s ms: %s; %s", took.toMillis(), r, c.outcome())
                    .isEqualTo(Http2Error.CANCEL.code());
            assertThat(took).as("reset after the send timeout, not before").isGreaterThanOrEqualTo(TIMEOUT);
            assertThat(r.data.size()).as("no window, no DATA").isZero();
            assertThat(await(() -> openDescriptors(big()) == 0, CUT)).as("big.bin closed").isTrue();

            c.headers(3, c.get("/hello.txt"), true);
            c.windowUpdate(3, 1 << 16);
            c.flush();
            StreamRecord next = c.awaitStream(3, StreamRecord::ended, CUT);
            assertThat(next.body()).as("a new request on the same connection: %s; %s", next, c.outcome())
                    .isEqualTo("Hello, Herald\n");
            assertThat(c.isClosed()).as(c.outcome()).isFalse();
            assertThat(log.messages()).anySatisfy(m -> assertThat(m).contains("send-timeout", "stream 1",
                    "GET /big.bin", "RST_STREAM CANCEL"));
            assertThat(sendTimeouts("stream")).isPositive();
        }
    }

    /** A client that takes nothing at all, its windows wide open: the connection is closed, not only the stream. */
    @Test
    void h2ConnectionWhoseClientStopsReadingIsClosed() throws Exception {
        try (LogCapture log = LogCapture.of(LimitLog.class);
             H2AttackClient c = H2AttackClient.connect(HERALD.httpPort(), false,
                     SETTINGS_INITIAL_WINDOW_SIZE, Integer.MAX_VALUE)) {
            c.windowUpdate(0, Integer.MAX_VALUE - 65_535);
            c.headers(1, c.get("/big.bin"), true);
            c.flush();
            long t0 = System.nanoTime();

            Optional<String> line = awaitLine(log, "127.0.0.1:" + c.localPort(), CUT);
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            assertThat(line).as("a send-timeout line within %s", CUT).isPresent();
            assertThat(line.get()).contains("h2c connection", "none taken by the client", "closed");
            assertThat(took).as("cut after the send timeout, not before").isGreaterThanOrEqualTo(TIMEOUT);

            c.startReading(); // what was buffered, then the end
            assertThat(c.awaitClosed(CUT)).as(c.outcome()).isTrue();
            StreamRecord r = c.awaitStream(1, StreamRecord::ended, Duration.ZERO);
            assertThat(r.endStream).as("never the whole file: %s", r).isFalse();
            assertThat(await(() -> openDescriptors(big()) == 0, CUT)).as("big.bin closed").isTrue();
        }
    }

    @Test
    void slowButProgressingHttp1ReaderGetsTheWholeFile() throws Exception {
        try (LogCapture log = LogCapture.of(LimitLog.class); Socket s = new Socket()) {
            s.setReceiveBufferSize(4096);
            s.connect(new InetSocketAddress("127.0.0.1", HERALD.httpPort()), 5000);
            s.setSoTimeout((int) CUT.toMillis());
            s.getOutputStream().write("GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            byte[] buf = new byte[16 * 1024];
            long received = 0;
            long slowUntil = System.nanoTime() + SLOW_PHASE.toNanos();
            while (System.nanoTime() < slowUntil) {
                received += Math.max(0, in.read(buf)); // whatever the socket holds, a few KB
                Thread.sleep(PACE_MILLIS); // the pace is the test: a read every 0.3 timeouts
            }
            assertThat(received).as("still reading slowly: far from the end").isLessThan(BIG / 2);
            received += drain(in);

            String head = "HTTP/1.1 200 OK\r\n";
            assertThat(received).as("the whole response, %s bytes of body", BIG).isGreaterThan(BIG + head.length());
            assertThat(log.messages()).as("no send-timeout for %s", s.getLocalPort())
                    .noneMatch(m -> m.contains("127.0.0.1:" + s.getLocalPort()));
        }
    }

    /** Over HTTP/2, 4 KiB of window every 0.3 timeouts: less than a DATA frame each time, and never cut. */
    @Test
    void slowButProgressingH2ReaderGetsTheWholeFile() throws Exception {
        try (LogCapture log = LogCapture.of(LimitLog.class);
             H2AttackClient c = H2AttackClient.connect(HERALD.httpPort(), SETTINGS_INITIAL_WINDOW_SIZE, 4096)) {
            c.windowUpdate(0, 1 << 24);
            c.headers(1, c.get("/medium.bin"), true);
            c.flush();
            long slowUntil = System.nanoTime() + SLOW_PHASE.toNanos();
            int granted = 4096;
            while (System.nanoTime() < slowUntil) {
                Thread.sleep(PACE_MILLIS); // the pace is the test
                c.windowUpdate(1, 4096);
                c.flush();
                granted += 4096;
            }
            StreamRecord slow = c.awaitStream(1, StreamRecord::ended, Duration.ZERO); // as it stands now
            assertThat(slow.rstCode).as("%s; %s", slow, c.outcome()).isNull();
            assertThat(slow.data.size()).as("what the window let through").isPositive()
                    .isLessThanOrEqualTo(granted);

            c.windowUpdate(1, MEDIUM);
            c.flush();
            StreamRecord r = c.awaitStream(1, StreamRecord::ended, CUT);
            assertThat(r.endStream).as("%s; %s", r, c.outcome()).isTrue();
            assertThat(r.rstCode).isNull();
            assertThat(r.data.size()).isEqualTo(MEDIUM);
            assertThat(log.messages()).noneMatch(m -> m.contains("send-timeout"));
        }
    }

    private static Path big() {
        return HERALD.scratch().resolve("root/big.bin");
    }

    /** The first send-timeout line naming {@code peer}, waiting up to {@code timeout} for it. */
    private static Optional<String> awaitLine(LogCapture log, String peer, Duration timeout) throws Exception {
        java.util.function.Supplier<Optional<String>> line = () -> log.messages().stream()
                .filter(m -> m.contains("send-timeout") && m.contains(peer)).findFirst();
        await(() -> line.get().isPresent(), timeout);
        return line.get();
    }

    /** Whether {@code condition} holds within {@code timeout}, looked at every 20 ms. */
    private static boolean await(BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    /** Reads to the end of the stream (or a reset) and returns how many bytes came. */
    private static long drain(InputStream in) {
        byte[] buf = new byte[64 * 1024];
        long n = 0;
        try {
            for (int r; (r = in.read(buf)) >= 0; ) {
                n += r;
            }
        } catch (IOException e) {
            // reset after the close: what came before it counts
        }
        return n;
    }

    /** How many of this JVM's file descriptors, Herald's among them, are open on {@code file} (Linux). */
    private static long openDescriptors(Path file) {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            Path real = file.toRealPath();
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).equals(real);
                } catch (IOException e) {
                    return false; // closed meanwhile
                }
            }).count();
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc/self/fd", e);
        }
    }

    /** {@code herald_send_timeouts_total{scope=...}} as the metrics endpoint shows it. */
    private static double sendTimeouts(String scope) throws Exception {
        String metrics = RawHttp1.get(HERALD.httpPort(), "/metrics");
        Matcher m = Pattern.compile("(?m)^herald_send_timeouts_total\\{scope=\"" + scope + "\"\\S* (\\S+)$")
                .matcher(metrics);
        assertThat(m.find()).as(metrics).isTrue();
        return Double.parseDouble(m.group(1));
    }
}
