package dev.herald.server;

import dev.herald.testing.HeraldExtension;
import dev.herald.testing.HttpResult;
import dev.herald.testing.NettyH2cClient;
import dev.herald.testing.RawHttp1;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hostile request targets sent verbatim (a raw HTTP/1.1 socket and Netty's h2c client, which do not normalise)
 * at a root that has a secret file and symlinks pointing out of it. Each must get 400 or 404 and no secret byte.
 */
class PathTraversalOverWireTest {
    private static final String SECRET = "TOP-SECRET-OUTSIDE-ROOT";

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.folder(dir -> {
        Files.writeString(dir.resolve("secret.txt"), SECRET);
        Path root = dir.resolve("root");
        Files.writeString(root.resolve("index.html"), "<p>inside</p>");
        Files.writeString(root.resolve(".env"), SECRET);
        Files.createDirectories(root.resolve(".git"));
        Files.writeString(root.resolve(".git/config"), SECRET);
        Files.createDirectories(root.resolve("sub"));
        Files.writeString(root.resolve("sub/ok.txt"), "ok");
        Files.createSymbolicLink(root.resolve("link.txt"), dir.resolve("secret.txt"));
        Files.createSymbolicLink(root.resolve("outside"), dir);
    });

    private static NettyH2cClient h2c;

    @BeforeAll
    static void connect() throws Exception {
        h2c = new NettyH2cClient(HERALD.httpPort());
    }

    @AfterAll
    static void disconnect() {
        h2c.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "/../secret.txt",
        "/sub/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/.%2e/secret.txt",
        "/%2e./secret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/sub%2f..%2f..%2fsecret.txt",
        "/..%5csecret.txt",
        "/%2e%2e%5csecret.txt",
        "/sub\\..\\..\\secret.txt",
        "/%252e%252e/secret.txt",
        "/%c0%ae%c0%ae/secret.txt",
        "/%c0%ae%c0%ae%c0%afsecret.txt",
        "/%e0%80%ae%e0%80%ae/secret.txt",
        "/%c1%9c..%c1%9csecret.txt",
        "/secret.txt%00.html",
        "/sub/ok.txt%00",
        "/%00",
        "/link.txt",
        "/outside/secret.txt",
        "/outside/",
        "/outside/secret.txt%00",
        "/.env",
        "/.git/config",
        "/sub/../.env",
        "/%2eenv",
        "/./.env",
        "/sub/./../../secret.txt",
        "/..",
        "/%2e%2e",
        "//..//secret.txt",
        "/sub/..%2f..%2fsecret.txt",
        "/%2f..%2fsecret.txt",
    })
    void hostilePathIsRefusedWithoutLeaking(String target) throws Exception {
        String raw = RawHttp1.get(HERALD.httpPort(), target);
        HttpResult h2 = h2c.get(target);

        assertThat(RawHttp1.status(raw)).as(raw).isIn(400, 404);
        assertThat(raw).doesNotContain(SECRET);
        assertThat(h2.status()).as(h2.toString()).isIn(400, 404);
        assertThat(h2.bodyText()).doesNotContain(SECRET);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/sub/ok.txt", "/sub/%6fk.txt", "/index.html"})
    void ordinaryPathsStillWork(String target) throws Exception {
        assertThat(RawHttp1.status(RawHttp1.get(HERALD.httpPort(), target))).isEqualTo(200);
        assertThat(h2c.get(target).status()).isEqualTo(200);
    }
}
