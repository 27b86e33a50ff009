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
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;

/**
 * Certificates and the TLS context: PEM files from {@code tls.cert}/{@code tls.key}, or a self-signed certificate
 * for localhost, 127.0.0.1 and ::1 generated on first start and kept in the data directory.
 *
 * <p>The generated key is kept across certificate renewals, so its SPKI hash (what Chromium's
 * {@code --ignore-certificate-errors-spki-list} pins) stays valid for the life of the data directory.
 */
public final class TlsSetup {
    private static final Logger LOG = LoggerFactory.getLogger(TlsSetup.class);
    private static final Duration VALIDITY = Duration.ofDays(365);

    private final Path certFile;
    private final Path keyFile;
    private final X509Certificate certificate;

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

    /** TLS 1.3 and 1.2 only, HTTP/2-safe ciphers, ALPN h2 then http/1.1; OpenSSL (BoringSSL) when available. */
    SslContext sslContext() throws IOException {
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

    private static void generate(Path dir, Path certFile, Path keyFile) throws IOException, GeneralSecurityException {
        Files.createDirectories(dir);
        KeyPair pair = Files.exists(keyFile) ? readKeyPair(keyFile) : null;
        if (pair == null) {
            KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
            gen.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
            pair = gen.generateKeyPair();
            writePrivate(keyFile, pem(new JcaPKCS8Generator(pair.getPrivate(), null)));
        }
        Instant now = Instant.now();
        X500Name name = new X500Name("CN=localhost, O=Herald self-signed");
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
        LOG.info("generated a self-signed certificate for localhost, 127.0.0.1 and ::1 in {}", certFile);
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
