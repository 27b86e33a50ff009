package dev.herald.attack;

import dev.herald.testing.HeraldExtension;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code limits.max-connections-per-ip} and {@code limits.max-connections}: with 3 per address and 5 in total,
 * connections from 127.0.0.1, 127.0.0.2 and 127.0.0.3 (all loopback on Linux) are admitted or refused with each
 * protocol's own answer, and a freed place is available again.
 */
class ConnectionLimitsTest {
    static final int PER_IP = 3;
    static final int TOTAL = 5;
    /** A refusal is answered at once; this is ample on a busy 2-core machine. */
    static final Duration ANSWER = Duration.ofSeconds(3);

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.folder(dir ->
                    Files.writeString(dir.resolve("root/hello.txt"), "Hello, Herald\n"))
            .configure(b -> b.maxConnectionsPerIp(PER_IP).maxConnections(TOTAL));

    private final List<Socket> held = new ArrayList<>();

    @AfterEach
    void closeHeld() throws Exception {
        for (Socket s : held) {
            s.close();
        }
        // The next test starts with every place free again.
        awaitServedFrom("127.0.0.1");
    }

    @Test
    void http1BeyondThePerIpLimitGets503WithRetryAfterAndClose() throws Exception {
        hold("127.0.0.1", PER_IP);
        String response = exchange("127.0.0.1", "GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 503 ");
        assertThat(header(response, "retry-after")).isEqualTo("5");
        assertThat(header(response, "connection")).isEqualTo("close");
        assertThat(header(response, "content-type")).isEqualTo("application/json");
        assertThat(response).endsWith("{\"error\":\"too many connections\",\"detail\":\"more than 3 connections "
                + "from 127.0.0.1\"}");
        // Another address still has its places.
        assertThat(exchange("127.0.0.2", "GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
                .startsWith("HTTP/1.1 200 ");
    }

    @Test
    void h2cBeyondThePerIpLimitGetsGoAwayEnhanceYourCalmNamingNoStream() throws Exception {
        hold("127.0.0.1", PER_IP);
        try (H2AttackClient a = H2AttackClient.connectFrom("127.0.0.1", HERALD.httpPort(), true)) {
            a.headers(1, a.get("/hello.txt"), true);
            a.flush();
            assertThat(a.awaitClosed(ANSWER)).as(a.outcome()).isTrue();
            assertThat(a.goAwayCode()).as(a.outcome()).isEqualTo(Http2Error.ENHANCE_YOUR_CALM.code());
            assertThat(a.statuses()).as("stream 1 was not processed: %s", a.outcome()).isEmpty();
        }
    }

    @Test
    void h2cUpgradeBeyondTheLimitIsNotUpgradedButGets503() throws Exception {
        hold("127.0.0.1", PER_IP);
        String response = exchange("127.0.0.1", "GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, "
                + "HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 503 ").doesNotContain("101 Switching");
    }

    @Test
    void tlsBeyondTheLimitIsClosedBeforeTheHandshake() throws Exception {
        hold("127.0.0.1", PER_IP);
        long t0 = System.nanoTime();
        try (SSLSocket tls = tlsSocket("127.0.0.1")) {
            assertThatThrownBy(tls::startHandshake).isInstanceOf(IOException.class);
        }
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(ANSWER);
        try (SSLSocket tls = tlsSocket("127.0.0.2")) {
            tls.startHandshake();
            assertThat(tls.getSession().getProtocol()).isEqualTo("TLSv1.3");
        }
    }

    @Test
    void beyondTheTotalLimitEveryAddressIsRefused() throws Exception {
        hold("127.0.0.1", PER_IP);
        hold("127.0.0.2", TOTAL - PER_IP);
        String response = exchange("127.0.0.3", "GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 503 ").endsWith("\"detail\":\"more than 5 connections\"}");
        held.remove(0).close();
        assertThat(awaitServedFrom("127.0.0.3")).startsWith("HTTP/1.1 200 ");
    }

    /** Opens {@code n} keep-alive connections from {@code ip}, each served once, so Herald has counted them. */
    private void hold(String ip, int n) throws Exception {
        for (int i = 0; i < n; i++) {
            Socket s = socket(ip, HERALD.httpPort());
            held.add(s);
            s.getOutputStream().write("GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            String head = readUntil(s.getInputStream(), "Hello, Herald\n");
            assertThat(head).startsWith("HTTP/1.1 200 ");
        }
    }

    /** Places are given back when a connection closes, asynchronously: retries for a few seconds. */
    private static String awaitServedFrom(String ip) throws Exception {
        long deadline = System.nanoTime() + ANSWER.toNanos();
        String r;
        do {
            r = exchange(ip, "GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        } while (!r.startsWith("HTTP/1.1 200 ") && System.nanoTime() < deadline);
        return r;
    }

    private static String exchange(String ip, String request) throws Exception {
        try (Socket s = socket(ip, HERALD.httpPort())) {
            s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            s.getInputStream().transferTo(buf); // until Herald closes: a refusal must close
            return buf.toString(StandardCharsets.ISO_8859_1);
        }
    }

    private static Socket socket(String ip, int port) throws IOException {
        Socket s = new Socket();
        s.setSoTimeout((int) ANSWER.toMillis());
        s.bind(new InetSocketAddress(ip, 0));
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        return s;
    }

    private static String readUntil(InputStream in, String end) throws IOException {
        StringBuilder sb = new StringBuilder();
        while (!sb.toString().endsWith(end)) {
            int c = in.read();
            if (c < 0) {
                break;
            }
            sb.append((char) c);
        }
        return sb.toString();
    }

    static String header(String response, String name) {
        for (String line : response.substring(0, response.indexOf("\r\n\r\n")).split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name)) {
                return line.substring(colon + 1).strip();
            }
        }
        return null;
    }

    private static SSLSocket tlsSocket(String ip) throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, InsecureTrustManagerFactory.INSTANCE.getTrustManagers(), null);
        Socket plain = socket(ip, HERALD.tlsPort());
        return (SSLSocket) ctx.getSocketFactory().createSocket(plain, "localhost", HERALD.tlsPort(), true);
    }
}
