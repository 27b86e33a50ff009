package dev.herald.it;

import dev.herald.testing.ExternalTool;
import dev.herald.testing.HeraldExtension;
import dev.herald.testing.HeraldProcess;
import dev.herald.testing.JdkClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The packaged jar, run as a user runs it. */
class HeraldJarIT {
    @TempDir
    Path tmp;

    @Test
    void invalidValueExitsWith2AndOneLine() throws Exception {
        try (HeraldProcess p = HeraldProcess.start(List.of(), "--http2-max-concurrent-streams", "0",
                "--data-dir", tmp.toString())) {
            assertThat(p.waitFor(30)).as(p.toString()).isEqualTo(2);
            assertThat(p.stderr()).as(p.toString()).hasSize(1);
            assertThat(p.stderr().get(0)).isEqualTo(
                    "herald: http2.max-concurrent-streams: 0 (expected: an integer >= 1)");
        }
    }

    @Test
    void aCertificateNoHandshakeWorksWithExitsWith2NamingTheFiles() throws Exception {
        Path key = tmp.resolve("ed.key");
        Path cert = tmp.resolve("ed.pem");
        ExternalTool.Result made = ExternalTool.run(30, ExternalTool.require("openssl", "openssl").toString(), "req",
                "-x509", "-newkey", "ed25519", "-nodes", "-keyout", key.toString(), "-out", cert.toString(), "-days",
                "30", "-subj", "/CN=localhost");
        assertThat(made.exitCode()).as(made.toString()).isZero();
        try (HeraldProcess p = HeraldProcess.start(List.of(), "--cert", cert.toString(), "--key", key.toString(),
                "--host", "127.0.0.1", "--port", "0", "--http-port", "-1", "--data-dir", tmp.toString())) {
            assertThat(p.waitFor(30)).as(p.toString()).isEqualTo(2);
            assertThat(p.stderr()).as(p.toString()).filteredOn(l -> l.startsWith("herald: ")).singleElement()
                    .asString().startsWith(
                    "herald: tls.cert: " + cert + " and tls.key: " + key + ": a TLS handshake with this Ed25519 key "
                            + "fails (");
        }
    }

    @Test
    void aPortInUseExitsWith2NamingTheAddress() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
             HeraldProcess p = HeraldProcess.start(List.of(), "--host", "127.0.0.1", "--port", "-1", "--http-port",
                     String.valueOf(taken.getLocalPort()), "--data-dir", tmp.toString())) {
            assertThat(p.waitFor(30)).as(p.toString()).isEqualTo(2);
            assertThat(p.stderr()).as(p.toString()).filteredOn(l -> l.startsWith("herald: ")).containsExactly(
                    "herald: cannot listen on 127.0.0.1:" + taken.getLocalPort()
                            + " (cleartext port): address already in use");
        }
    }

    @Test
    void sigtermShutsDownGracefullyWithExitCode0AndKeepsTheCertificate() throws Exception {
        Path site = HeraldExtension.sitePath("basic");
        String spki1;
        try (HeraldProcess p = start(List.of(), site)) {
            int http = p.awaitPort("http", 30);
            int https = p.awaitPort("https", 30);
            assertThat(JdkClient.http11(http).get("/hello.txt").status()).isEqualTo(200);
            assertThat(JdkClient.h2(https, certificate()).get("/hello.txt").status()).isEqualTo(200);
            spki1 = spkiLine(p);

            assertThat(p.terminate(30)).as(p.toString()).isZero();
        }
        try (HeraldProcess p = start(List.of(), site)) {
            p.awaitPort("https", 30);
            assertThat(spkiLine(p)).as("a restart keeps the generated certificate's key").isEqualTo(spki1);
            assertThat(p.terminate(30)).isZero();
        }
    }

    @Test
    void largeFileStreamsWithABoundedHeap() throws Exception {
        Path site = Files.createDirectories(tmp.resolve("site"));
        Path big = site.resolve("big.bin");
        byte[] block = new byte[1 << 20];
        new Random(7).nextBytes(block);
        MessageDigest expected = MessageDigest.getInstance("SHA-256");
        try (var out = Files.newOutputStream(big)) {
            for (int i = 0; i < 96; i++) { // 96 MiB, twice the server's whole heap
                block[0] = (byte) i;
                out.write(block);
                expected.update(block);
            }
        }
        String want = HexFormat.of().formatHex(expected.digest());

        try (HeraldProcess p = start(List.of("-Xmx48m", "-XX:+ExitOnOutOfMemoryError"), site)) {
            int http = p.awaitPort("http", 30);
            int https = p.awaitPort("https", 30);
            // h2c is fetched by nghttp (prior knowledge): JDK 25's HttpClient misaccounts the receive window of an
            // upgraded stream 1 and resets it ("stream 1 flow control window exceeded") when its reader lags,
            // although Herald stays within the 16 MiB window the client advertised (seen with Temurin 25.0.3).
            Path viaNghttp = tmp.resolve("nghttp.out");
            ExternalTool.Result nghttp = ExternalTool.run(120, "bash", "-c", "exec \"$0\" http://127.0.0.1:"
                    + http + "/big.bin > \"$1\"", ExternalTool.require("nghttp", "nghttp2-client").toString(),
                    viaNghttp.toString());
            assertThat(nghttp.exitCode()).as(nghttp.toString()).isZero();
            try (InputStream in = Files.newInputStream(viaNghttp)) {
                assertThat(sha256(in)).as("h2c prior knowledge").isEqualTo(want);
            }
            for (JdkClient client : List.of(JdkClient.h2(https, certificate()),
                    JdkClient.http11(http), JdkClient.https11(https, certificate()))) {
                HttpResponse<InputStream> r = client.client().send(
                        HttpRequest.newBuilder(client.uri("/big.bin")).build(),
                        HttpResponse.BodyHandlers.ofInputStream());
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(sha256(r.body())).as(client.name()).isEqualTo(want);
                assertThat(p.isAlive()).as("server alive after %s: %s", client.name(), p).isTrue();
            }
            assertThat(p.terminate(30)).isZero();
        }
    }

    private HeraldProcess start(List<String> jvm, Path site) throws Exception {
        return HeraldProcess.start(jvm, "serve", site.toString(), "--host", "127.0.0.1", "--port", "0",
                "--http-port", "0", "--data-dir", tmp.resolve("data").toString());
    }

    private X509Certificate certificate() throws Exception {
        try (InputStream in = Files.newInputStream(tmp.resolve("data/tls/herald-cert.pem"))) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    private static String spkiLine(HeraldProcess p) throws InterruptedException {
        return p.awaitLine(l -> l.contains("SPKI"), "the SPKI line", 30);
    }

    private static String sha256(InputStream in) throws Exception {
        MessageDigest d = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[64 * 1024];
        try (in) {
            int n;
            while ((n = in.read(buf)) > 0) {
                d.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(d.digest());
    }

}
