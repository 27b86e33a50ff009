package dev.herald.attack;

import dev.herald.testing.HeraldExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Slowloris: connections that hold server resources by doing nothing, or as little as possible. With a 1 s idle
 * timeout and a 1 s TLS handshake timeout, Herald must close them within {@link #CLOSED_WITHIN}.
 */
class SlowlorisAttackTest {
    static final Duration TIMEOUT = Duration.ofSeconds(1);
    static final Duration CLOSED_WITHIN = Duration.ofSeconds(4);
    static final int CONNECTIONS = 200;

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.site("basic")
            .configure(b -> b.idleTimeout(TIMEOUT).handshakeTimeout(TIMEOUT));

    /** Many connections that never send a byte, on both ports (no TLS ClientHello on the TLS port). */
    @Test
    void silentConnectionsAreClosed() throws Exception {
        try (AttackScenario s = AttackScenario.start(HERALD, "slowloris: " + CONNECTIONS + " silent connections")) {
            List<Socket> sockets = new ArrayList<>();
            for (int i = 0; i < CONNECTIONS; i++) {
                sockets.add(s.keep(open(i % 2 == 0 ? HERALD.httpPort() : HERALD.tlsPort())));
            }
            long t0 = System.nanoTime();
            int closed = 0;
            for (Socket so : sockets) {
                closed += awaitClosed(so, t0) ? 1 : 0;
            }
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertThat(closed).as("silent connections closed within %s", CLOSED_WITHIN).isEqualTo(CONNECTIONS);
            s.answered("all " + CONNECTIONS + " closed (h2c idle timeout, TLS handshake timeout) after " + ms + " ms");
            s.finish();
        }
    }

    /** Many h2c connections that send the preface and SETTINGS, then open no stream. */
    @Test
    void idleHttp2ConnectionsAreClosed() throws Exception {
        try (AttackScenario s = AttackScenario.start(HERALD, "slowloris: idle h2c connections")) {
            List<H2AttackClient> clients = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                clients.add(s.keep(H2AttackClient.connect(HERALD.httpPort())));
            }
            for (H2AttackClient c : clients) {
                assertThat(c.awaitClosed(CLOSED_WITHIN)).as(c.outcome()).isTrue();
            }
            s.answered("100 closed: " + clients.get(0).outcome());
            s.finish();
        }
    }

    static Socket open(int port) throws IOException {
        Socket so = new Socket();
        so.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        return so;
    }

    /** True if the server closed {@code so} before {@code t0 + CLOSED_WITHIN}. Reads and discards anything sent. */
    static boolean awaitClosed(Socket so, long t0) throws IOException {
        InputStream in = so.getInputStream();
        byte[] buf = new byte[4096];
        while (true) {
            long left = CLOSED_WITHIN.toMillis() - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            if (left <= 0) {
                return false;
            }
            so.setSoTimeout((int) left);
            try {
                if (in.read(buf) < 0) {
                    return true;
                }
            } catch (SocketTimeoutException e) {
                return false;
            } catch (IOException e) {
                return true; // reset
            }
        }
    }
}
