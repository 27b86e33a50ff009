package dev.herald.server;

import ch.qos.logback.classic.Level;
import dev.herald.config.ConfigException;
import dev.herald.config.HeraldConfig;
import dev.herald.testing.ExternalTool;
import dev.herald.testing.LogCapture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * What Herald does with certificate and key files it cannot serve, at start: each refusal is a
 * {@link ConfigException} (exit code 2 on the command line) naming the file and saying what is wrong. Key types
 * that load but fail every handshake (Ed25519, DSA) are caught by the in-memory handshake. Files are real, made
 * by openssl or by {@link TlsSetup}'s own writers.
 */
class TlsFilesTest {
    private static final String SERVABLE = " (expected: an RSA or ECDSA certificate and key)";

    @TempDir
    Path dir;
    /** A good pair, CN=A. */
    Path cert;
    Path key;

    @BeforeEach
    void writePairA() throws Exception {
        cert = dir.resolve("cert.pem");
        key = dir.resolve("key.pem");
        writePair(cert, key, "CN=A");
    }

    @Test
    void anEd25519PairIsRefusedAtStartWithTheHandshakesReason() throws Exception {
        Path edKey = dir.resolve("ed.key");
        Path edCert = dir.resolve("ed.pem");
        opensslPair("ed25519", edCert, edKey, "/CN=localhost");
        HeraldConfig config = config(edCert, edKey);
        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> HttpServer.start(config, ex -> ex.respond(Response.status(204)), new ServerMetrics()));
        assertThat(e).as("the server does not start").isNotNull();
        assertThat(e.getMessage())
                .startsWith("tls.cert: " + edCert + " and tls.key: " + edKey
                        + ": a TLS handshake with this Ed25519 key fails (")
                .endsWith(")" + SERVABLE)
                .doesNotContain("internal_error"); // the server's reason, not the alert the client got
    }

    @Test
    void aDsaPairIsRefusedToo() throws Exception {
        Path params = dir.resolve("dsa.params");
        Path dsaKey = dir.resolve("dsa.key");
        Path dsaCert = dir.resolve("dsa.pem");
        openssl("genpkey", "-genparam", "-algorithm", "DSA", "-pkeyopt", "dsa_paramgen_bits:2048", "-out",
                params.toString());
        openssl("genpkey", "-paramfile", params.toString(), "-out", dsaKey.toString());
        openssl("req", "-x509", "-key", dsaKey.toString(), "-out", dsaCert.toString(), "-days", "30", "-sha256",
                "-subj", "/CN=localhost");
        assertThat(refusal(dsaCert, dsaKey))
                .startsWith("tls.cert: " + dsaCert + " and tls.key: " + dsaKey
                        + ": a TLS handshake with this DSA key fails (")
                .endsWith(SERVABLE);
    }

    @Test
    void rsaAndEcPairsPassTheHandshakeInMilliseconds() throws Exception {
        Path rsaKey = dir.resolve("rsa.key");
        Path rsaCert = dir.resolve("rsa.pem");
        opensslPair("rsa:2048", rsaCert, rsaKey, "/CN=localhost");
        Path ecCert = dir.resolve("ec.pem");
        Path ecKey = dir.resolve("ec.key");
        writePair(ecCert, ecKey, "CN=ec");
        TlsSetup.load(config(ecCert, ecKey)).sslContext(); // the first handshake of a JVM loads JSSE's classes

        List<Long> ms = new ArrayList<>();
        for (Path[] pair : new Path[][] {{rsaCert, rsaKey}, {ecCert, ecKey}}) {
            long t0 = System.nanoTime();
            assertThat(TlsSetup.load(config(pair[0], pair[1])).sslContext()).isNotNull();
            ms.add(Duration.ofNanos(System.nanoTime() - t0).toMillis());
        }
        // Loading, checking and the handshake together; tens of milliseconds on a busy 2-core machine.
        assertThat(ms).as("ms to load RSA, then EC").allMatch(t -> t < 1000);
        org.slf4j.LoggerFactory.getLogger(TlsFilesTest.class).info("RSA and EC pairs loaded and shook hands in {} ms",
                ms);
    }

    @Test
    void aCertificateFileWithoutACertificateIsNamed() throws Exception {
        String notPem = "is not a PEM certificate (expected: a -----BEGIN CERTIFICATE----- block)";
        Path text = Files.writeString(dir.resolve("garbage.pem"), "garbage\n");
        assertThat(refusal(text, key)).isEqualTo("tls.cert: " + text + ": " + notPem);
        Path empty = Files.writeString(dir.resolve("empty.pem"), "");
        assertThat(refusal(empty, key)).isEqualTo("tls.cert: " + empty + ": " + notPem);
        Path badBase64 = Files.writeString(dir.resolve("b64.pem"),
                "-----BEGIN CERTIFICATE-----\nMII!!!!\n-----END CERTIFICATE-----\n");
        assertThat(refusal(badBase64, key))
                .startsWith("tls.cert: " + badBase64 + ": holds a damaged PEM block, cut short or not base64 (");
        Path cut = Files.writeString(dir.resolve("cut.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n");
        assertThat(refusal(cut, key)).startsWith("tls.cert: " + cut + ": holds a damaged PEM block");
        Path der = dir.resolve("cert.der");
        openssl("x509", "-in", cert.toString(), "-outform", "DER", "-out", der.toString());
        assertThat(refusal(der, key)).isEqualTo("tls.cert: " + der + ": is DER, not PEM (expected: PEM; openssl "
                + "x509 -inform DER -in FILE -out cert.pem converts it)");
    }

    @Test
    void swappedFilesAreRecognised() throws Exception {
        assertThat(refusal(key, cert)).isEqualTo("tls.cert: " + key
                + ": holds a private key, not a certificate (are tls.cert and tls.key swapped?)");
        assertThat(refusal(cert, cert)).isEqualTo("tls.key: " + cert
                + ": holds a certificate, not a private key (are tls.cert and tls.key swapped?)");
    }

    @Test
    void aKeyFileHeraldCannotUseIsNamed() throws Exception {
        Path der = dir.resolve("key.der");
        openssl("pkey", "-in", key.toString(), "-outform", "DER", "-out", der.toString());
        assertThat(refusal(cert, der)).isEqualTo("tls.key: " + der + ": is DER, not PEM (expected: PEM; openssl "
                + "pkey -inform DER -in FILE -out key.pem converts it)");
        Path encrypted = dir.resolve("enc.pem");
        openssl("pkey", "-in", key.toString(), "-aes256", "-passout", "pass:secret", "-out", encrypted.toString());
        assertThat(refusal(cert, encrypted)).isEqualTo("tls.key: " + encrypted + ": holds an encrypted private key "
                + "(expected: an unencrypted one; openssl pkey -in FILE -out key.pem decrypts it)");
        Path text = Files.writeString(dir.resolve("text.pem"), "not a key\n");
        assertThat(refusal(cert, text)).isEqualTo("tls.key: " + text + ": does not hold a private key Herald can "
                + "read (expected: a PKCS#8, PKCS#1 RSA or SEC1 EC PEM private key)");

        Path other = dir.resolve("other.pem");
        TlsSetup.writeKey(other, TlsSetup.newKeyPair());
        assertThat(refusal(cert, other))
                .isEqualTo("tls.key: " + other + ": does not match the certificate in " + cert + " (CN=A)");
    }

    @Test
    void aKeyForAnotherTypeOfCertificateDoesNotMatch() throws Exception {
        Path rsaKey = dir.resolve("rsa.key");
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", rsaKey.toString());
        assertThat(refusal(cert, rsaKey))
                .isEqualTo("tls.key: " + rsaKey + ": does not match the certificate in " + cert + " (CN=A)");
    }

    @Test
    void aDamagedGeneratedCertificateIsNamedWithWhatToDo() throws Exception {
        HeraldConfig config = HeraldConfig.builder().tlsPort(0).httpPort(-1).dataDir(dir).build();
        TlsSetup.load(config).sslContext(); // generates the pair
        Path generated = dir.resolve("tls/herald-cert.pem");
        Files.writeString(generated, "");
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> TlsSetup.load(config));
        assertThat(e).isNotNull();
        assertThat(e.getMessage()).isEqualTo(generated + ": is not a PEM certificate (expected: a -----BEGIN "
                + "CERTIFICATE----- block); Herald generated this file: delete it and the next start makes a new one");

        Files.delete(generated);
        TlsSetup.load(config).sslContext();
        assertThat(Files.readString(generated)).as("the next start makes a new one")
                .startsWith("-----BEGIN CERTIFICATE");
    }

    @Test
    void anExpiredOrNotYetValidCertificateIsServedWithAWarning() throws Exception {
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        Path expired = dir.resolve("expired.pem");
        Path expiredKey = dir.resolve("expired.key");
        writePair(expired, expiredKey, "CN=old", now.minus(Duration.ofDays(60)), now.minus(Duration.ofDays(30)));
        Path early = dir.resolve("early.pem");
        Path earlyKey = dir.resolve("early.key");
        writePair(early, earlyKey, "CN=early", now.plus(Duration.ofDays(1)), now.plus(Duration.ofDays(90)));
        Path current = dir.resolve("current.pem");
        Path currentKey = dir.resolve("current.key");
        writePair(current, currentKey, "CN=current");
        try (LogCapture log = LogCapture.of(TlsSetup.class)) {
            assertThat(TlsSetup.load(config(expired, expiredKey)).sslContext()).as("still served").isNotNull();
            assertThat(TlsSetup.load(config(early, earlyKey)).sslContext()).as("still served").isNotNull();
            TlsSetup.load(config(current, currentKey)).sslContext();
            assertThat(log.messages(Level.WARN)).containsExactly(
                    "the TLS certificate " + expired + " (CN=old) has expired: valid from "
                            + now.minus(Duration.ofDays(60)) + " until " + now.minus(Duration.ofDays(30))
                            + "; serving it anyway, and clients that check dates will refuse it",
                    "the TLS certificate " + early + " (CN=early) is not valid yet: valid from "
                            + now.plus(Duration.ofDays(1)) + " until " + now.plus(Duration.ofDays(90))
                            + "; serving it anyway, and clients that check dates will refuse it");
        }
    }

    private HeraldConfig config(Path cert, Path key) {
        return HeraldConfig.builder().host("127.0.0.1").tlsPort(0).httpPort(-1).dataDir(dir.resolve("data"))
                .tlsCert(cert).tlsKey(key).accessLog(false).build();
    }

    /** The message Herald refuses this pair with at start. */
    private String refusal(Path cert, Path key) {
        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> TlsSetup.load(config(cert, key)).sslContext());
        assertThat(e).as("%s and %s are refused", cert, key).isNotNull();
        return e.getMessage();
    }

    private static void writePair(Path cert, Path key, String subject) throws Exception {
        KeyPair pair = TlsSetup.newKeyPair();
        TlsSetup.writeKey(key, pair);
        TlsSetup.writeSelfSigned(cert, pair, subject);
    }

    private static void writePair(Path cert, Path key, String subject, Instant notBefore, Instant notAfter)
            throws Exception {
        KeyPair pair = TlsSetup.newKeyPair();
        TlsSetup.writeKey(key, pair);
        TlsSetup.writeSelfSigned(cert, pair, subject, notBefore, notAfter);
    }

    /** A new {@code type} key (as openssl req -newkey takes it) and its self-signed certificate. */
    static void opensslPair(String type, Path cert, Path key, String subject) throws Exception {
        openssl("req", "-x509", "-newkey", type, "-nodes", "-keyout", key.toString(), "-out", cert.toString(),
                "-days", "30", "-subj", subject);
    }

    private static void openssl(String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(ExternalTool.require("openssl", "openssl").toString());
        command.addAll(List.of(args));
        ExternalTool.Result r = ExternalTool.run(60, command.toArray(String[]::new));
        assertThat(r.exitCode()).as(r.toString()).isZero();
    }
}
