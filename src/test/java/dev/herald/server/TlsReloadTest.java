package dev.herald.server;

import ch.qos.logback.classic.Level;
import dev.herald.config.HeraldConfig;
import dev.herald.testing.LogCapture;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Certificate reload with real files and real handshakes: Herald starts with pair A; a key that does not match and
 * a certificate file that does not parse are each refused and A stays; then pair B is installed as a renewal would
 * (written aside, renamed into place) and a new connection presents B within {@link #RELOAD_WITHIN}, while a
 * connection opened under A keeps working. A pair that loads but fails every handshake (Ed25519) is refused the same
 * way; an expired certificate is served, with a warning.
 */
class TlsReloadTest {
    static final Duration INTERVAL = Duration.ofMillis(100);
    /** Twenty checks; a busy 2-core machine can delay the checker thread, not by seconds. */
    static final Duration RELOAD_WITHIN = Duration.ofSeconds(5);

    @TempDir
    Path dir;

    @Test
    void newConnectionsGetTheRenewedCertificateAndBrokenFilesKeepTheCurrentOne() throws Exception {
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        try (HttpServer server = startWithPairA(cert, key)) {
            TlsSetup tls = server.tls().orElseThrow();
            int port = server.tlsPort().orElseThrow();
            SSLSocket underA = connect(port);
            assertThat(subject(underA)).isEqualTo("CN=A");

            // A key that is not the certificate's (a renewal caught half-way): refused, A stays.
            TlsSetup.writeKey(key, TlsSetup.newKeyPair());
            await(() -> tls.failedReloads() >= 1, "the mismatched key was tried");
            assertThat(presented(port)).isEqualTo("CN=A");
            assertThat(tls.reloads()).isZero();

            // A certificate file that is not PEM: refused, A stays.
            Files.writeString(cert, "-----BEGIN CERTIFICATE-----\nbroken\n");
            await(() -> tls.failedReloads() >= 2, "the broken certificate was tried");
            assertThat(presented(port)).isEqualTo("CN=A");

            long t0 = System.nanoTime();
            install(cert, key, "CN=B");
            await(() -> presented(port).equals("CN=B"), "a new connection presents B");
            long ms = Duration.ofNanos(System.nanoTime() - t0).toMillis();
            assertThat(tls.reloads()).isEqualTo(1);
            assertThat(tls.certificate().getSubjectX500Principal().getName()).isEqualTo("CN=B");

            // The connection made under A is unaffected: still A, and it still serves.
            assertThat(subject(underA)).isEqualTo("CN=A");
            underA.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            ByteArrayOutputStream response = new ByteArrayOutputStream();
            underA.getInputStream().transferTo(response);
            assertThat(response.toString(StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 204 ");
            underA.close();
            org.slf4j.LoggerFactory.getLogger(TlsReloadTest.class).info("certificate B presented {} ms after "
                    + "it was installed (reload interval {} ms)", ms, INTERVAL.toMillis());
        }
    }

    @Test
    void aPairNoHandshakeWorksWithIsRefusedAndAnExpiredOneServedWithAWarning() throws Exception {
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        try (LogCapture log = LogCapture.of(TlsSetup.class); HttpServer server = startWithPairA(cert, key)) {
            TlsSetup tls = server.tls().orElseThrow();
            int port = server.tlsPort().orElseThrow();

            // Ed25519 loads and matches, but no handshake can use it: refused, A stays.
            Path edKey = dir.resolve("ed.key.new");
            Path edCert = dir.resolve("ed.pem.new");
            TlsFilesTest.opensslPair("ed25519", edCert, edKey, "/CN=ed");
            Files.move(edKey, key, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Files.move(edCert, cert, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            // (A check between the two renames sees the new key with the old certificate: a mismatch, also kept.)
            await(() -> log.messages(Level.ERROR).stream().anyMatch(m -> m.contains("Ed25519")),
                    "the Ed25519 pair was tried");
            assertThat(presented(port)).isEqualTo("CN=A");
            assertThat(tls.reloads()).isZero();
            assertThat(log.messages(Level.ERROR)).filteredOn(m -> m.contains("Ed25519")).singleElement().asString()
                    .startsWith("cannot reload the TLS certificate " + cert + " and key " + key + ": tls.cert: ")
                    .contains("a TLS handshake with this Ed25519 key fails")
                    .endsWith("; keeping the current certificate (CN=A)");
            assertThat(log.messages(Level.WARN)).isEmpty();

            // An expired certificate is served, as nginx does, with a warning naming the file and the dates.
            Instant until = Instant.now().minus(Duration.ofDays(1)).truncatedTo(ChronoUnit.SECONDS);
            install(cert, key, "CN=expired", until.minus(Duration.ofDays(90)), until);
            await(() -> presented(port).equals("CN=expired"), "a new connection presents the expired certificate");
            assertThat(log.messages(Level.WARN)).containsExactly("the TLS certificate " + cert
                    + " (CN=expired) has expired: valid from " + until.minus(Duration.ofDays(90)) + " until " + until
                    + "; serving it anyway, and clients that check dates will refuse it");
        }
    }

    /** Installs pair A and starts a server on it that checks the files every {@link #INTERVAL}. */
    private HttpServer startWithPairA(Path cert, Path key) throws Exception {
        install(cert, key, "CN=A");
        HeraldConfig config = HeraldConfig.builder().host("127.0.0.1").tlsPort(0).httpPort(-1)
                .dataDir(dir.resolve("data")).tlsCert(cert).tlsKey(key).tlsReloadInterval(INTERVAL)
                .accessLog(false).build();
        return HttpServer.start(config, ex -> ex.respond(Response.status(204)), new ServerMetrics());
    }

    private static void install(Path cert, Path key, String subject) throws Exception {
        Instant now = Instant.now();
        install(cert, key, subject, now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(30)));
    }

    /** Writes a new key pair and its certificate beside the targets, then renames them into place. */
    private static void install(Path cert, Path key, String subject, Instant notBefore, Instant notAfter)
            throws Exception {
        KeyPair pair = TlsSetup.newKeyPair();
        Path newKey = key.resolveSibling(key.getFileName() + ".new");
        Path newCert = cert.resolveSibling(cert.getFileName() + ".new");
        TlsSetup.writeKey(newKey, pair);
        TlsSetup.writeSelfSigned(newCert, pair, subject, notBefore, notAfter);
        Files.move(newKey, key, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Files.move(newCert, cert, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + RELOAD_WITHIN.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("%s within %s", what, RELOAD_WITHIN).isLessThan(deadline);
            Thread.sleep(INTERVAL.toMillis() / 2);
        }
    }

    /** The subject of the certificate a new connection is shown. */
    private static String presented(int port) {
        try (SSLSocket s = connect(port)) {
            return subject(s);
        } catch (Exception e) {
            return e.toString();
        }
    }

    private static SSLSocket connect(int port) throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, InsecureTrustManagerFactory.INSTANCE.getTrustManagers(), null);
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port);
        s.setSoTimeout(5000);
        s.startHandshake();
        return s;
    }

    private static String subject(SSLSocket s) throws Exception {
        return ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName();
    }
}
