package dev.herald.server;

import dev.herald.config.HeraldConfig;
import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Certificates and the TLS context: PEM files from {@code tls.cert}/{@code tls.key}, or a self-signed certificate
 * for localhost, 127.0.0.1 and ::1 generated on first start and kept in the data directory.
 *
 * <p>The generated key is kept across certificate renewals, so its SPKI hash (what Chromium's
 * {@code --ignore-certificate-errors-spki-list} pins) stays valid for the life of the data directory.
 *
 * <h2>Reload</h2>
 * Every {@code tls.reload-interval} the files' modification time, size and identity (inode) are compared with
 * those last loaded; when either file changed (a renewal, an atomic rename or an edit in place), the pair is read
 * again, the key is checked against the certificate by signing and verifying, and a new context replaces the old
 * one for new connections. Open connections keep the context they shook hands with. A pair that does not load or
 * match (a half-written renewal, a wrong key) is logged as an error and the old context stays; the next change is
 * tried again.
 */
public final class TlsSetup {
    private static final Logger LOG = LoggerFactory.getLogger(TlsSetup.class);
    private static final Duration VALIDITY = Duration.ofDays(365);

    private final Path certFile;
    private final Path keyFile;
    private volatile X509Certificate certificate;
    private volatile SslContext context;
    /** The files' state when they were last read, successfully or not. */
    private List<Object> loadedStamp;
    private final AtomicLong reloads = new AtomicLong();
    private final AtomicLong failedReloads = new AtomicLong();
    private ScheduledExecutorService watcher;

    private TlsSetup(Path certFile, Path keyFile, X509Certificate certificate) {
        this.certFile = certFile;
        this.keyFile = keyFile;
        this.certificate = certificate;
    }

    /** Loads the configured certificate, or the generated one (creating it when missing or expiring). */
    public static TlsSetup load(HeraldConfig config) throws IOException, GeneralSecurityException {
        if (config.tlsCert().isPresent()) {
            Path cert = config.tlsCert().get();
            Path key = config.tlsKey().orElseThrow();
            return new TlsSetup(cert, key, readCertificate(cert));
        }
        Path dir = config.dataDir().resolve("tls");
        Path cert = dir.resolve("herald-cert.pem");
        Path key = dir.resolve("herald-key.pem");
        X509Certificate existing = Files.exists(cert) && Files.exists(key) ? readCertificate(cert) : null;
        if (existing == null || existing.getNotAfter().toInstant().isBefore(Instant.now().plus(Duration.ofDays(7)))) {
            generate(dir, cert, key);
            existing = readCertificate(cert);
        }
        return new TlsSetup(cert, key, existing);
    }

    /** The server certificate's SPKI SHA-256, base64: what Chromium's {@code --ignore-certificate-errors-spki-list} takes. */
    public String spkiSha256() {
        try {
            byte[] spki = certificate.getPublicKey().getEncoded();
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(spki));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    public X509Certificate certificate() {
        return certificate;
    }

    public Path certFile() {
        return certFile;
    }

    /** The context for the next connection: the one built at start, or the latest reloaded. */
    SslContext current() {
        return context;
    }

    /** Builds the first context from the files; throws when they do not load or do not match. */
    synchronized SslContext sslContext() throws IOException, GeneralSecurityException {
        if (context == null) {
            loadedStamp = stamp();
            context = build(certificate);
        }
        return context;
    }

    /**
     * Checks the files for changes every {@code interval} (zero: never) on a thread of its own, not an event loop:
     * a reload reads files and signs, which an event loop must not wait for.
     */
    synchronized void watch(Duration interval) {
        if (interval.isZero() || watcher != null) {
            return;
        }
        watcher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "herald-tls-reload");
            t.setDaemon(true);
            return t;
        });
        long ms = interval.toMillis();
        watcher.scheduleWithFixedDelay(this::reloadIfChanged, ms, ms, TimeUnit.MILLISECONDS);
    }

    /** Stops checking for changes. */
    synchronized void stopWatching() {
        if (watcher != null) {
            watcher.shutdownNow();
            watcher = null;
        }
    }

    /** Reloads the pair if either file changed since it was last read; true if a new context is in place. */
    synchronized boolean reloadIfChanged() {
        List<Object> now;
        try {
            now = stamp();
        } catch (IOException e) {
            now = List.of(e.toString());
        }
        if (now.equals(loadedStamp)) {
            return false;
        }
        loadedStamp = now;
        try {
            X509Certificate cert = readCertificate(certFile);
            SslContext fresh = build(cert);
            context = fresh;
            certificate = cert;
            reloads.incrementAndGet();
            LOG.info("reloaded the TLS certificate from {}: {}, valid until {}; new connections use it", certFile,
                    cert.getSubjectX500Principal().getName(), cert.getNotAfter().toInstant());
            return true;
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            failedReloads.incrementAndGet();
            LOG.error("cannot reload the TLS certificate {} and key {}: {}; keeping the current certificate ({})",
                    certFile, keyFile, e.toString(), certificate.getSubjectX500Principal().getName());
            return false;
        }
    }

    /** Certificates reloaded since start. */
    long reloads() {
        return reloads.get();
    }

    /** Reloads that failed (and kept the previous certificate) since start. */
    long failedReloads() {
        return failedReloads.get();
    }

    private List<Object> stamp() throws IOException {
        List<Object> s = new ArrayList<>();
        for (Path p : List.of(certFile, keyFile)) {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
            s.add(a.lastModifiedTime());
            s.add(a.size());
            s.add(String.valueOf(a.fileKey()));
        }
        return s;
    }

    /**
     * TLS 1.3 and 1.2 only, HTTP/2-safe ciphers (RFC 9113 §9.2.2: ephemeral key exchange, AEAD; no CBC, RC4, 3DES
     * or static RSA), ALPN h2 then http/1.1; OpenSSL (BoringSSL) when available. TLS 1.3 wins when the client
     * offers it: both providers pick the highest version both sides enable.
     */
    private SslContext build(X509Certificate cert) throws IOException, GeneralSecurityException {
        checkPair(cert, readPrivateKey(keyFile));
        SslProvider provider = OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
        LOG.debug("TLS provider: {}", provider);
        return SslContextBuilder.forServer(certFile.toFile(), keyFile.toFile())
                .sslProvider(provider)
                .protocols("TLSv1.3", "TLSv1.2")
                .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                .applicationProtocolConfig(new ApplicationProtocolConfig(
                        ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1))
                .build();
    }

    private static X509Certificate readCertificate(Path pem) throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(pem)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    private static PrivateKey readPrivateKey(Path pem) throws IOException {
        try (Reader r = Files.newBufferedReader(pem, StandardCharsets.US_ASCII); PEMParser p = new PEMParser(r)) {
            Object o = p.readObject();
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            if (o instanceof PrivateKeyInfo info) {
                return converter.getPrivateKey(info);
            }
            if (o instanceof PEMKeyPair pair) {
                return converter.getKeyPair(pair).getPrivate();
            }
            throw new IOException(pem + ": no unencrypted PEM private key");
        }
    }

    /** The key must be the certificate's: a signature made with it verifies with the certificate's public key. */
    private static void checkPair(X509Certificate cert, PrivateKey key) throws GeneralSecurityException {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC", "ECDSA" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> throw new GeneralSecurityException("unsupported key algorithm " + key.getAlgorithm());
        };
        byte[] probe = "herald key check".getBytes(StandardCharsets.US_ASCII);
        Signature sign = Signature.getInstance(algorithm);
        sign.initSign(key);
        sign.update(probe);
        byte[] signature = sign.sign();
        Signature verify = Signature.getInstance(algorithm);
        verify.initVerify(cert.getPublicKey());
        verify.update(probe);
        if (!verify.verify(signature)) {
            throw new GeneralSecurityException("the key does not belong to the certificate "
                    + cert.getSubjectX500Principal().getName());
        }
    }

    private static void generate(Path dir, Path certFile, Path keyFile) throws IOException, GeneralSecurityException {
        Files.createDirectories(dir);
        KeyPair pair = Files.exists(keyFile) ? readKeyPair(keyFile) : null;
        if (pair == null) {
            pair = newKeyPair();
            writeKey(keyFile, pair);
        }
        writeSelfSigned(certFile, pair, "CN=localhost, O=Herald self-signed");
        LOG.info("generated a self-signed certificate for localhost, 127.0.0.1 and ::1 in {}", certFile);
    }

    static KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
        gen.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
        return gen.generateKeyPair();
    }

    /** Writes {@code pair}'s private key as PKCS#8 PEM, readable by the owner only. */
    static void writeKey(Path keyFile, KeyPair pair) throws IOException {
        writePrivate(keyFile, pem(new JcaPKCS8Generator(pair.getPrivate(), null)));
    }

    /** Writes a self-signed certificate for localhost, 127.0.0.1 and ::1 with this subject and key pair. */
    static void writeSelfSigned(Path certFile, KeyPair pair, String subject) throws IOException,
            GeneralSecurityException {
        Instant now = Instant.now();
        X500Name name = new X500Name(subject);
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name,
                new BigInteger(64, new SecureRandom()).abs(), Date.from(now.minus(Duration.ofDays(1))),
                Date.from(now.plus(VALIDITY)), name, pair.getPublic());
        try {
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                new GeneralName(GeneralName.dNSName, "localhost"),
                new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                new GeneralName(GeneralName.iPAddress, "::1")}));
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            X509Certificate cert = new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));
            StringWriter out = new StringWriter();
            try (JcaPEMWriter w = new JcaPEMWriter(out)) {
                w.writeObject(cert);
            }
            Files.writeString(certFile, out.toString(), StandardCharsets.US_ASCII);
        } catch (org.bouncycastle.operator.OperatorCreationException e) {
            throw new GeneralSecurityException("cannot sign the self-signed certificate", e);
        }
    }

    private static KeyPair readKeyPair(Path keyFile) throws IOException {
        try (Reader r = Files.newBufferedReader(keyFile, StandardCharsets.US_ASCII); PEMParser p = new PEMParser(r)) {
            Object o = p.readObject();
            if (!(o instanceof PrivateKeyInfo)) {
                return null;
            }
            PrivateKey key = new JcaPEMKeyConverter().getPrivateKey((PrivateKeyInfo) o);
            if (!(key instanceof ECPrivateKey)) {
                return null;
            }
            // Recompute the public point from the private scalar.
            var spec = ((ECPrivateKey) key).getParams();
            var bcSpec = org.bouncycastle.jcajce.provider.asymmetric.util.EC5Util.convertSpec(spec);
            var q = bcSpec.getG().multiply(((ECPrivateKey) key).getS()).normalize();
            var pub = java.security.KeyFactory.getInstance("EC").generatePublic(new java.security.spec.ECPublicKeySpec(
                    new java.security.spec.ECPoint(q.getAffineXCoord().toBigInteger(),
                            q.getAffineYCoord().toBigInteger()), spec));
            return new KeyPair(pub, key);
        } catch (GeneralSecurityException | RuntimeException e) {
            LOG.warn("cannot reuse {}: {}; generating a new key", keyFile, e.toString());
            return null;
        }
    }

    private static String pem(Object o) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(o instanceof JcaPKCS8Generator ? ((JcaPKCS8Generator) o).generate() : o);
        }
        return out.toString();
    }

    private static void writePrivate(Path file, String content) throws IOException {
        Files.writeString(file, content, StandardCharsets.US_ASCII);
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            LOG.debug("no POSIX permissions for {}", file);
        }
    }
}
