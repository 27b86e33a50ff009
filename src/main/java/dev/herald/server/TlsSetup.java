package dev.herald.server;

import dev.herald.config.ConfigException;
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
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLException;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
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
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.EdECPrivateKey;
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
 *
 * <h2>Checks</h2>
 * At start and on every reload: each file must hold what it is named for (a PEM certificate chain, a readable PEM
 * private key), the key must be the certificate's, and a TLS handshake with the new context, run in memory against
 * the JDK's client, must succeed. The handshake catches what parsing does not, such as an Ed25519 or DSA key, which
 * would load and then fail every connection. A refusal names the file and says what is wrong in a
 * {@link ConfigException}. A certificate that has expired or is not valid yet is served (as nginx and h2o do) with
 * a warning naming the file and its dates.
 */
public final class TlsSetup {
    private static final Logger LOG = LoggerFactory.getLogger(TlsSetup.class);
    private static final Duration VALIDITY = Duration.ofDays(365);
    /** What a refused pair should be instead. */
    private static final String SERVABLE = " (expected: an RSA or ECDSA certificate and key)";

    private final Path certFile;
    private final Path keyFile;
    /** True for the pair Herald generated in the data directory, which messages then call by its path alone. */
    private final boolean generated;
    /** The certificate chain, leaf first. */
    private volatile List<X509Certificate> chain;
    private volatile SslContext context;
    /** The files' state when they were last read, successfully or not. */
    private List<Object> loadedStamp;
    private final AtomicLong reloads = new AtomicLong();
    private final AtomicLong failedReloads = new AtomicLong();
    private ScheduledExecutorService watcher;

    private TlsSetup(Path certFile, Path keyFile, boolean generated) {
        this.certFile = certFile;
        this.keyFile = keyFile;
        this.generated = generated;
    }

    /**
     * Loads the configured certificate, or the generated one (creating it when missing or expiring).
     *
     * @throws ConfigException if the certificate file does not hold a PEM certificate
     */
    public static TlsSetup load(HeraldConfig config) throws IOException, GeneralSecurityException {
        if (config.tlsCert().isPresent()) {
            TlsSetup tls = new TlsSetup(config.tlsCert().get(), config.tlsKey().orElseThrow(), false);
            tls.chain = tls.readChain();
            tls.warnIfNotValidNow(tls.chain.get(0));
            return tls;
        }
        Path dir = config.dataDir().resolve("tls");
        TlsSetup tls = new TlsSetup(dir.resolve("herald-cert.pem"), dir.resolve("herald-key.pem"), true);
        tls.chain = Files.exists(tls.certFile) && Files.exists(tls.keyFile) ? tls.readChain() : null;
        if (tls.chain == null
                || tls.chain.get(0).getNotAfter().toInstant().isBefore(Instant.now().plus(Duration.ofDays(7)))) {
            generate(dir, tls.certFile, tls.keyFile);
            tls.chain = tls.readChain();
        }
        return tls;
    }

    /** The server certificate's SPKI SHA-256, base64: what Chromium's {@code --ignore-certificate-errors-spki-list} takes. */
    public String spkiSha256() {
        try {
            byte[] spki = certificate().getPublicKey().getEncoded();
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(spki));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    public X509Certificate certificate() {
        return chain.get(0);
    }

    public Path certFile() {
        return certFile;
    }

    /** The context for the next connection: the one built at start, or the latest reloaded. */
    SslContext current() {
        return context;
    }

    /**
     * Builds the first context from the files.
     *
     * @throws ConfigException if the key does not load, does not match the certificate, or cannot serve TLS
     */
    synchronized SslContext sslContext() throws IOException {
        if (context == null) {
            loadedStamp = stamp();
            context = build(chain);
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
            List<X509Certificate> fresh = readChain();
            context = build(fresh);
            chain = fresh;
            reloads.incrementAndGet();
            X509Certificate cert = fresh.get(0);
            LOG.info("reloaded the TLS certificate from {}: {}, valid until {}; new connections use it", certFile,
                    cert.getSubjectX500Principal().getName(), cert.getNotAfter().toInstant());
            warnIfNotValidNow(cert);
            return true;
        } catch (RuntimeException e) {
            failedReloads.incrementAndGet();
            LOG.error("cannot reload the TLS certificate {} and key {}: {}; keeping the current certificate ({})",
                    certFile, keyFile, e instanceof ConfigException ? e.getMessage() : e.toString(),
                    certificate().getSubjectX500Principal().getName());
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
     * offers it: both providers pick the highest version both sides enable. The context is built from the chain
     * and key as read and checked, and shakes hands in memory before it is used.
     */
    private SslContext build(List<X509Certificate> chain) {
        PrivateKey key = readPrivateKey();
        checkPair(chain.get(0), key);
        SslProvider provider = OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
        LOG.debug("TLS provider: {}", provider);
        SslContext built;
        try {
            built = SslContextBuilder.forServer(key, chain.toArray(X509Certificate[]::new))
                    .sslProvider(provider)
                    .protocols("TLSv1.3", "TLSv1.2")
                    .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                    .applicationProtocolConfig(new ApplicationProtocolConfig(
                            ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1))
                    .build();
        } catch (SSLException e) {
            throw invalidPair("TLS cannot use this " + keyType(key) + " key (" + e.getMessage() + ")" + SERVABLE, e);
        }
        try {
            long t0 = System.nanoTime();
            TlsProbe.handshake(built);
            LOG.debug("in-memory TLS handshake with {}: {} µs", certFile, (System.nanoTime() - t0) / 1000);
        } catch (SSLException e) {
            throw invalidPair("a TLS handshake with this " + keyType(key) + " key fails (" + e.getMessage() + ")"
                    + SERVABLE, e);
        }
        return built;
    }

    /** The key's algorithm, with the curve for EdDSA: Ed25519 or Ed448. */
    private static String keyType(PrivateKey key) {
        return key instanceof EdECPrivateKey ed ? ed.getParams().getName() : key.getAlgorithm();
    }

    /** The certificates in {@link #certFile}, leaf first; at least one. */
    private List<X509Certificate> readChain() {
        String text = readText(certFile, "tls.cert");
        List<X509Certificate> certs = new ArrayList<>();
        boolean privateKey = false;
        try (PEMParser p = new PEMParser(new StringReader(text))) {
            JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
            for (Object o = p.readObject(); o != null; o = p.readObject()) {
                if (o instanceof X509CertificateHolder holder) {
                    certs.add(converter.getCertificate(holder));
                }
                privateKey |= o instanceof PrivateKeyInfo || o instanceof PEMKeyPair;
            }
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw invalid("tls.cert", certFile, damaged(e), e);
        }
        if (!certs.isEmpty()) {
            return List.copyOf(certs);
        }
        if (privateKey) {
            throw invalid("tls.cert", certFile,
                    "holds a private key, not a certificate (are tls.cert and tls.key swapped?)", null);
        }
        throw invalid("tls.cert", certFile, isDer(text)
                ? "is DER, not PEM (expected: PEM; openssl x509 -inform DER -in FILE -out cert.pem converts it)"
                : "is not a PEM certificate (expected: a -----BEGIN CERTIFICATE----- block)", null);
    }

    /** The private key in {@link #keyFile}: PKCS#8, PKCS#1 RSA or SEC1 EC, unencrypted. */
    private PrivateKey readPrivateKey() {
        String text = readText(keyFile, "tls.key");
        boolean encrypted = false;
        boolean certificate = false;
        try (PEMParser p = new PEMParser(new StringReader(text))) {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            for (Object o = p.readObject(); o != null; o = p.readObject()) {
                if (o instanceof PrivateKeyInfo info) {
                    return converter.getPrivateKey(info);
                }
                if (o instanceof PEMKeyPair pair) {
                    return converter.getKeyPair(pair).getPrivate();
                }
                encrypted |= o instanceof PEMEncryptedKeyPair || o instanceof PKCS8EncryptedPrivateKeyInfo;
                certificate |= o instanceof X509CertificateHolder;
            }
        } catch (IOException | RuntimeException e) {
            throw invalid("tls.key", keyFile, damaged(e), e);
        }
        String problem;
        if (encrypted) {
            problem = "holds an encrypted private key (expected: an unencrypted one; openssl pkey -in FILE "
                    + "-out key.pem decrypts it)";
        } else if (certificate) {
            problem = "holds a certificate, not a private key (are tls.cert and tls.key swapped?)";
        } else if (isDer(text)) {
            problem = "is DER, not PEM (expected: PEM; openssl pkey -inform DER -in FILE -out key.pem converts it)";
        } else {
            problem = "does not hold a private key Herald can read (expected: a PKCS#8, PKCS#1 RSA or SEC1 EC PEM "
                    + "private key)";
        }
        throw invalid("tls.key", keyFile, problem, null);
    }

    /**
     * The key must be the certificate's: a signature made with it verifies with the certificate's public key. Key
     * types without a signature here are left to the handshake, which fails for a key that does not match.
     */
    private void checkPair(X509Certificate cert, PrivateKey key) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC", "ECDSA" -> "SHA256withECDSA";
            case "Ed25519", "Ed448", "EdDSA" -> "EdDSA";
            default -> null;
        };
        if (algorithm == null) {
            return;
        }
        byte[] probe = "herald key check".getBytes(StandardCharsets.US_ASCII);
        byte[] signature;
        try {
            Signature sign = Signature.getInstance(algorithm);
            sign.initSign(key);
            sign.update(probe);
            signature = sign.sign();
        } catch (GeneralSecurityException e) {
            LOG.debug("cannot sign with the {} key in {}: {}", key.getAlgorithm(), keyFile, e.toString());
            return; // a key the JDK cannot sign with (secp256k1): the handshake decides
        }
        boolean matches;
        try {
            Signature verify = Signature.getInstance(algorithm);
            verify.initVerify(cert.getPublicKey());
            verify.update(probe);
            matches = verify.verify(signature);
        } catch (GeneralSecurityException e) {
            matches = false; // a certificate for another type of key
        }
        if (!matches) {
            throw invalid("tls.key", keyFile, "does not match the certificate in " + certFile + " ("
                    + cert.getSubjectX500Principal().getName() + ")", null);
        }
    }

    /** Logs a warning for a certificate that has expired or is not valid yet; it is served all the same. */
    private void warnIfNotValidNow(X509Certificate cert) {
        Instant now = Instant.now();
        Instant from = cert.getNotBefore().toInstant();
        Instant until = cert.getNotAfter().toInstant();
        if (now.isBefore(from) || now.isAfter(until)) {
            LOG.warn("the TLS certificate {} ({}) {}: valid from {} until {}; serving it anyway, and clients that "
                    + "check dates will refuse it", certFile, cert.getSubjectX500Principal().getName(),
                    now.isAfter(until) ? "has expired" : "is not valid yet", from, until);
        }
    }

    private String readText(Path file, String setting) {
        try {
            return new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
        } catch (NoSuchFileException e) {
            throw invalid(setting, file, "does not exist", e);
        } catch (AccessDeniedException e) {
            throw invalid(setting, file, "cannot be read (permission denied)", e);
        } catch (IOException e) {
            throw invalid(setting, file, "cannot be read (" + e.getMessage() + ")", e);
        }
    }

    /** What a PEM parser's failure means to a user. */
    private static String damaged(Exception e) {
        String detail = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return "holds a damaged PEM block, cut short or not base64 (" + detail + ")";
    }

    /** DER starts with an ASN.1 SEQUENCE and has no PEM armour. */
    private static boolean isDer(String text) {
        return !text.isEmpty() && text.charAt(0) == 0x30 && !text.contains("-----BEGIN ");
    }

    /**
     * A refusal naming the file: {@code tls.cert: PATH: problem}; a file Herald generated is named by its path,
     * with what to do about it.
     */
    private ConfigException invalid(String setting, Path file, String problem, Throwable cause) {
        String message = generated
                ? file + ": " + problem + "; Herald generated this file: delete it and the next start makes "
                        + "a new one"
                : setting + ": " + file + ": " + problem;
        return new ConfigException(message, cause);
    }

    /** A refusal of the pair, naming both files. */
    private ConfigException invalidPair(String problem, Throwable cause) {
        String files = generated ? certFile + " and " + keyFile
                : "tls.cert: " + certFile + " and tls.key: " + keyFile;
        return new ConfigException(files + ": " + problem, cause);
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
        writeSelfSigned(certFile, pair, subject, now.minus(Duration.ofDays(1)), now.plus(VALIDITY));
    }

    /** Writes a self-signed certificate valid from {@code notBefore} until {@code notAfter}. */
    static void writeSelfSigned(Path certFile, KeyPair pair, String subject, Instant notBefore, Instant notAfter)
            throws IOException, GeneralSecurityException {
        X500Name name = new X500Name(subject);
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name,
                new BigInteger(64, new SecureRandom()).abs(), Date.from(notBefore), Date.from(notAfter), name,
                pair.getPublic());
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
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
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
