package dev.herald.server;

import dev.herald.config.HeraldConfig;
import dev.herald.testing.ExternalTool;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The TLS defaults the hardening issue asks for: TLS 1.2 and 1.3 only, 1.3 chosen when offered, and no weak
 * cipher suite (RFC 9113 §9.2.2 and Appendix A: no CBC, RC4, 3DES, NULL, export, anonymous or static-RSA suites).
 * Checked on the server's own engine and with real handshakes from the JDK and from openssl.
 */
class TlsDefaultsTest {
    @TempDir
    static Path dir;
    static HttpServer server;
    static int port;

    @BeforeAll
    static void start() throws Exception {
        HeraldConfig config = HeraldConfig.builder().host("127.0.0.1").tlsPort(0).httpPort(-1).dataDir(dir)
                .accessLog(false).build();
        server = HttpServer.start(config, ex -> ex.respond(Response.status(204)), new ServerMetrics());
        port = server.tlsPort().orElseThrow();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void theEngineEnablesTls12And13AndStrongSuitesOnly() {
        SSLEngine engine = server.tls().orElseThrow().current().newEngine(ByteBufAllocator.DEFAULT);
        try {
            // Netty's OpenSSL engine always lists SSLv2Hello, a ClientHello format and not a protocol version
            // ("no way to disable it in openssl"); SSLv2 itself is absent, and tls11And10AreRefusedByTheServer
            // shows the floor on the wire.
            assertThat(engine.getEnabledProtocols()).filteredOn(p -> !p.equals("SSLv2Hello"))
                    .containsExactlyInAnyOrder("TLSv1.2", "TLSv1.3");
            List<String> suites = List.of(engine.getEnabledCipherSuites());
            assertThat(suites).isNotEmpty().noneMatch(s -> s.matches(
                    ".*(CBC|RC4|3DES|DES_|NULL|EXPORT|anon|MD5|_SHA$).*") || s.startsWith("TLS_RSA_"));
            assertThat(suites).filteredOn(s -> !isTls13Suite(s))
                    .isNotEmpty()
                    .allMatch(s -> s.startsWith("TLS_ECDHE_") || s.startsWith("TLS_DHE_"), "ephemeral key exchange")
                    .allMatch(s -> s.contains("_GCM_") || s.contains("CHACHA20_POLY1305"), "AEAD");
        } finally {
            ReferenceCountUtil.release(engine);
        }
    }

    @Test
    void aClientOfferingTls13And12GetsTls13() throws Exception {
        try (SSLSocket s = socket()) {
            s.startHandshake();
            assertThat(s.getSession().getProtocol()).isEqualTo("TLSv1.3");
        }
    }

    @Test
    void aTls12OnlyClientGetsAnAeadSuite() throws Exception {
        try (SSLSocket s = socket()) {
            s.setEnabledProtocols(new String[] {"TLSv1.2"});
            s.startHandshake();
            assertThat(s.getSession().getProtocol()).isEqualTo("TLSv1.2");
            assertThat(s.getSession().getCipherSuite()).startsWith("TLS_ECDHE_").containsAnyOf("_GCM_", "CHACHA20");
        }
    }

    @Test
    void aTls12ClientOfferingOnlyCbcSuitesIsRefused() throws Exception {
        try (SSLSocket s = socket()) {
            s.setEnabledProtocols(new String[] {"TLSv1.2"});
            s.setEnabledCipherSuites(new String[] {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
                "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
                "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"});
            assertThatThrownBy(s::startHandshake).isInstanceOf(SSLHandshakeException.class);
        }
    }

    /** The JDK client will not offer TLS 1.1 at all, so openssl does, with its own floor lowered. */
    @Test
    void tls11And10AreRefusedByTheServer() throws Exception {
        ExternalTool.require("openssl", "openssl");
        for (String version : List.of("-tls1_1", "-tls1")) {
            ExternalTool.Result r = ExternalTool.run(20, "openssl", "s_client", "-connect", "127.0.0.1:" + port,
                    version, "-cipher", "DEFAULT:@SECLEVEL=0", "-servername", "localhost");
            assertThat(r.exitCode()).as(r.toString()).isNotZero();
            // The server's alert, not a client that refused to try.
            assertThat(r.stdout() + r.stderr()).as(r.toString()).containsIgnoringCase("alert protocol version");
        }
    }

    private static boolean isTls13Suite(String s) {
        return List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")
                .contains(s);
    }

    private static SSLSocket socket() throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, InsecureTrustManagerFactory.INSTANCE.getTrustManagers(), null);
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port);
        s.setSoTimeout(5000);
        return s;
    }
}
