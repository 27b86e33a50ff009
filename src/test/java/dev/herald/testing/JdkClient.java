package dev.herald.testing;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/**
 * Java's own {@link HttpClient}: h2 over TLS (trusting Herald's certificate), h2c by {@code Upgrade}, or
 * HTTP/1.1 over either.
 */
public final class JdkClient implements TestClient {
    private final String name;
    private final HttpClient client;
    private final String base;

    private JdkClient(String name, HttpClient client, String base) {
        this.name = name;
        this.client = client;
        this.base = base;
    }

    public static JdkClient h2(int port, X509Certificate trusted) {
        return new JdkClient("h2", builder(trusted).version(HttpClient.Version.HTTP_2).build(),
                "https://127.0.0.1:" + port);
    }

    public static JdkClient https11(int port, X509Certificate trusted) {
        return new JdkClient("https/1.1", builder(trusted).version(HttpClient.Version.HTTP_1_1).build(),
                "https://127.0.0.1:" + port);
    }

    public static JdkClient h2cUpgrade(int port) {
        return new JdkClient("h2c-upgrade", builder(null).version(HttpClient.Version.HTTP_2).build(),
                "http://127.0.0.1:" + port);
    }

    public static JdkClient http11(int port) {
        return new JdkClient("http/1.1", builder(null).version(HttpClient.Version.HTTP_1_1).build(),
                "http://127.0.0.1:" + port);
    }

    /** A client builder that trusts exactly this certificate (when given). */
    public static HttpClient.Builder builder(X509Certificate trusted) {
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        if (trusted != null) {
            b.sslContext(sslContext(trusted));
        }
        return b;
    }

    public static SSLContext sslContext(X509Certificate trusted) {
        try {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            ks.setCertificateEntry("herald", trusted);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (Exception e) {
            throw new IllegalStateException("cannot trust Herald's certificate", e);
        }
    }

    public HttpClient client() {
        return client;
    }

    public URI uri(String path) {
        return URI.create(base + path);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public HttpResult send(String method, String path, Map<String, String> headers, byte[] body) throws Exception {
        HttpRequest.Builder rb = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        headers.forEach(rb::header);
        HttpResponse<byte[]> r = client.send(rb.build(), HttpResponse.BodyHandlers.ofByteArray());
        return new HttpResult(r.statusCode(), new TreeMap<>(r.headers().map()), r.body(),
                r.version() == HttpClient.Version.HTTP_2 ? "HTTP/2" : "HTTP/1.1");
    }

    @Override
    public String toString() {
        return name;
    }
}
