package dev.herald.server;

import dev.herald.config.ConfigException;
import dev.herald.config.HeraldConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * An address Herald cannot listen on is refused with one line naming the address, the port and which of the two
 * ports it is, on real sockets: a port another socket holds, a host that does not resolve, an address that is not
 * this machine's.
 */
class ListenErrorsTest {
    @TempDir
    Path dir;

    @Test
    void aPortInUseIsNamedWithWhichPortItIs() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            assertThat(refusal(config("127.0.0.1").tlsPort(-1).httpPort(port)))
                    .isEqualTo("cannot listen on 127.0.0.1:" + port + " (cleartext port): address already in use");
            assertThat(refusal(config("127.0.0.1").tlsPort(port).httpPort(-1)))
                    .isEqualTo("cannot listen on 127.0.0.1:" + port + " (TLS port): address already in use");
        }
    }

    @Test
    void aHostThatIsNoAddressIsNamed() {
        assertThat(refusal(config("999.1.1.1").tlsPort(-1).httpPort(0))).isEqualTo(
                "cannot listen on 999.1.1.1:0 (cleartext port): the host is neither an IP address nor a name that "
                        + "resolves");
    }

    @Test
    void anAddressOfAnotherMachineIsNamed() {
        // 192.0.2.0/24 is TEST-NET-1 (RFC 5737), never a real machine's address.
        assertThat(refusal(config("192.0.2.1").tlsPort(-1).httpPort(0)))
                .isEqualTo("cannot listen on 192.0.2.1:0 (cleartext port): the address is not one of this machine's");
    }

    private HeraldConfig.Builder config(String host) {
        return HeraldConfig.builder().host(host).dataDir(dir).accessLog(false);
    }

    private static String refusal(HeraldConfig.Builder config) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> HttpServer.start(config.build(),
                ex -> ex.respond(Response.status(204)), new ServerMetrics()).close());
        assertThat(e).as("the server does not start").isNotNull();
        return e.getMessage();
    }
}
