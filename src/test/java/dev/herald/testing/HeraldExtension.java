package dev.herald.testing;

import dev.herald.Herald;
import dev.herald.config.HeraldConfig;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Starts a real Herald on free ports (TLS and cleartext, loopback only) before a test class and stops it after,
 * and hands tests ready clients for every protocol.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final HeraldExtension HERALD = HeraldExtension.site("basic");
 * }</pre>
 */
public final class HeraldExtension implements BeforeAllCallback, AfterAllCallback {
    private final String site;
    private ThrowingConsumer<Path> populate;
    private Path scratch;
    private Consumer<HeraldConfig.Builder> configure = b -> { };
    private Consumer<Herald.Builder> routes = b -> { };
    private Herald herald;
    private Path dataDir;
    private final List<TestClient> clients = new ArrayList<>();
    /** For {@link #metric}: one client, so that polling a gauge does not open a connection per look. */
    private HttpClient metricsClient;

    private HeraldExtension(String site) {
        this.site = site;
    }

    /** Serves the fixture folder {@code src/test/resources/sites/NAME}; {@code null} serves the built-in app. */
    public static HeraldExtension site(String name) {
        return new HeraldExtension(name);
    }

    /**
     * Serves {@code DIR/root} of a fresh temporary folder DIR, after {@code populate} has filled DIR (so tests can
     * put files outside the root, next to it).
     */
    public static HeraldExtension folder(ThrowingConsumer<Path> populate) {
        HeraldExtension e = new HeraldExtension(null);
        e.populate = populate;
        return e;
    }

    /** A consumer that may throw, for test set-up code. */
    @FunctionalInterface
    public interface ThrowingConsumer<T> {
        void accept(T t) throws Exception;
    }

    /** The folder given to {@link #folder}'s populate step. */
    public Path scratch() {
        return scratch;
    }

    public HeraldExtension configure(Consumer<HeraldConfig.Builder> configure) {
        this.configure = configure;
        return this;
    }

    public HeraldExtension routes(Consumer<Herald.Builder> routes) {
        this.routes = routes;
        return this;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        start();
    }

    /** Starts (or restarts, keeping the data directory) the server. */
    public void start() throws Exception {
        if (dataDir == null) {
            dataDir = Files.createTempDirectory("herald-test-");
        }
        HeraldConfig.Builder b = HeraldConfig.builder().host("127.0.0.1").tlsPort(0).httpPort(0).dataDir(dataDir)
                .shutdownTimeout(java.time.Duration.ofSeconds(3));
        if (site != null) {
            b.root(sitePath(site));
        } else if (populate != null) {
            if (scratch == null) {
                scratch = Files.createTempDirectory("herald-site-");
                Files.createDirectories(scratch.resolve("root"));
                populate.accept(scratch);
            }
            b.root(scratch.resolve("root"));
        }
        configure.accept(b);
        Herald.Builder hb = Herald.builder().config(b.build());
        routes.accept(hb);
        herald = hb.start();
    }

    /** Stops the server gracefully; {@link #start()} may follow. */
    public void stop() throws Exception {
        for (TestClient c : clients) {
            c.close();
        }
        clients.clear();
        metricsClient = null;
        if (herald != null) {
            herald.close();
            herald = null;
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        stop();
        deleteTree(dataDir);
        deleteTree(scratch);
    }

    /** The path of a fixture site on disk. */
    public static Path sitePath(String name) {
        URL url = HeraldExtension.class.getResource("/sites/" + name);
        if (url == null) {
            throw new IllegalStateException("no fixture site src/test/resources/sites/" + name);
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    public Herald herald() {
        return herald;
    }

    public Path dataDir() {
        return dataDir;
    }

    public int tlsPort() {
        return herald.tlsPort().orElseThrow();
    }

    public int httpPort() {
        return herald.httpPort().orElseThrow();
    }

    public X509Certificate certificate() {
        return herald.certificate().orElseThrow();
    }

    /**
     * The value of the Prometheus sample {@code name} (labels, if any, ignored), read from {@code /metrics} over a
     * connection of its own, so that what is measured on the test's connections is not disturbed.
     */
    public double metric(String name) throws Exception {
        if (metricsClient == null) {
            metricsClient = HttpClient.newHttpClient();
        }
        HttpResponse<String> r = metricsClient.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + httpPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(?:\\{[^}]*})? (\\S+)$").matcher(r.body());
        if (!m.find()) {
            throw new AssertionError("no sample " + name + " in /metrics:\n" + r.body());
        }
        return Double.parseDouble(m.group(1));
    }

    /** One client per protocol: h2 (TLS), h2c by Upgrade, h2c with prior knowledge, HTTP/1.1, HTTP/1.1 over TLS. */
    public List<TestClient> clients() throws Exception {
        if (clients.isEmpty()) {
            clients.add(JdkClient.h2(tlsPort(), certificate()));
            clients.add(JdkClient.h2cUpgrade(httpPort()));
            clients.add(new NettyH2cClient(httpPort()));
            clients.add(JdkClient.http11(httpPort()));
            clients.add(JdkClient.https11(tlsPort(), certificate()));
        }
        return List.copyOf(clients);
    }

    /** The client for one protocol name (see {@link TestClient#name()}). */
    public TestClient client(String name) throws Exception {
        return clients().stream().filter(c -> c.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no client " + name));
    }

    static void deleteTree(Path dir) throws IOException {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

}
