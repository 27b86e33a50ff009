package dev.herald.files;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.herald.config.HeraldConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hostile request paths against a root that has dotfiles, a secret file just outside it, and symlinks (to a file
 * and to a folder) pointing out of it. Each must get 400 or 404, never a file region and never a secret byte.
 */
class HostilePathsTest {
    private static final String SECRET = "TOP-SECRET-OUTSIDE-ROOT";

    @TempDir
    static Path dir;
    static Path root;
    static StaticFiles files;

    @BeforeAll
    static void site() throws Exception {
        Files.writeString(dir.resolve("secret.txt"), SECRET);
        Files.writeString(dir.resolve("secret.txt.gz"), SECRET);
        Files.createDirectories(dir.resolve("private"));
        Files.writeString(dir.resolve("private/index.html"), SECRET);
        root = Files.createDirectories(dir.resolve("root"));
        Files.writeString(root.resolve("index.html"), "<p>inside</p>");
        Files.writeString(root.resolve(".env"), SECRET);
        Files.createDirectories(root.resolve(".git"));
        Files.writeString(root.resolve(".git/config"), SECRET);
        Files.createDirectories(root.resolve("sub"));
        Files.writeString(root.resolve("sub/ok.txt"), "ok");
        Files.createSymbolicLink(root.resolve("link.txt"), dir.resolve("secret.txt"));
        Files.createSymbolicLink(root.resolve("outside"), dir);
        Files.createSymbolicLink(root.resolve("private"), dir.resolve("private"));
        Files.createSymbolicLink(root.resolve("up"), Path.of(".."));
        Files.createDirectories(root.resolve("docs"));
        Files.createSymbolicLink(root.resolve("docs/index.html"), dir.resolve("secret.txt"));
        Files.writeString(root.resolve("plain.txt"), "plain");
        Files.createSymbolicLink(root.resolve("plain.txt.gz"), dir.resolve("secret.txt.gz"));
        Files.createSymbolicLink(root.resolve("inner.txt"), root.resolve("sub/ok.txt"));
        Files.createSymbolicLink(root.resolve("innerdir"), Path.of("sub"));
        Files.createDirectories(root.resolve(".well-known"));
        Files.writeString(root.resolve(".well-known/security.txt"), "Contact: mailto:security@example.com");
        Files.createFile(root.resolve("%2e%2e"));
        files = StaticFiles.create(root, HeraldConfig.builder().build(), Runnable::run);
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
        "/%2f..%2fsecret.txt",
        "/sub/..%2f..%2fsecret.txt",
        "/..%5csecret.txt",
        "/%2e%2e%5csecret.txt",
        "/sub\\..\\..\\secret.txt",
        "/..\\secret.txt",
        "/%252e%252e/secret.txt",
        "/%252e%252e%252fsecret.txt",
        "/%252e%252e/%252e%252e/secret.txt",
        "/..%255csecret.txt",
        "/%c0%ae%c0%ae/secret.txt",
        "/%c0%ae%c0%ae%c0%afsecret.txt",
        "/..%c0%afsecret.txt",
        "/%e0%80%ae%e0%80%ae/secret.txt",
        "/%f0%80%80%ae%f0%80%80%ae/secret.txt",
        "/%c1%9c..%c1%9csecret.txt",
        "/%ed%a0%80/secret.txt",
        "/secret.txt%00.html",
        "/sub/ok.txt%00",
        "/%00",
        "/sub/ok.txt\u0000",
        "/%2",
        "/sub/%",
        "/%zz/secret.txt",
        "/sub%0a/ok.txt",
        "/link.txt",
        "/outside/secret.txt",
        "/outside/root/.env",
        "/outside/root/index.html",
        "/outside/",
        "/private/",
        "/private/index.html",
        "/up/secret.txt",
        "/up/root/index.html",
        "/docs/",
        "/docs/index.html",
        "/.env",
        "/.git/config",
        "/.git/",
        "/sub/../.env",
        "/%2eenv",
        "/%2Egit/config",
        "/./.env",
        "/.well-known/../.env",
        "/.well-known/../../secret.txt",
        "/sub/./../../secret.txt",
        "/..",
        "/%2e%2e",
        "/.",
        "//..//secret.txt",
        "/sub/ok.txt/../../secret.txt",
        "/\u2024\u2024/secret.txt",
        "/%e2%80%a4%e2%80%a4/secret.txt",
        "secret.txt",
        "../secret.txt",
    })
    void hostilePathIsRefusedWithoutLeaking(String target) throws Exception {
        FakeExchange get = FakeExchange.run(files, "GET", target, "accept-encoding", "gzip, br");
        FakeExchange head = FakeExchange.run(files, "HEAD", target, "accept-encoding", "gzip, br");

        for (FakeExchange ex : new FakeExchange[] {get, head}) {
            assertThat(ex.responses()).as(ex.toString()).isEqualTo(1);
            assertThat(ex.status()).as(ex.toString()).isIn(400, 404);
            assertThat(ex.response().file()).as(ex.toString()).isNull();
            assertThat(ex.bodyText()).as(ex.toString()).doesNotContain(SECRET)
                    .matches("\\{\"error\":\"(bad path|not found)\",\"detail\":\"[^\"]*\"}");
        }
    }

    @Test
    void doubleEncodedDotsNameAFileAndNeverTraverse() throws Exception {
        FakeExchange existing = FakeExchange.run(files, "GET", "/%252e%252e");
        FakeExchange beyond = FakeExchange.run(files, "GET", "/%252e%252e/secret.txt");

        assertThat(existing.status()).as("the literal file named %%2e%%2e").isEqualTo(200);
        assertThat(beyond.status()).isEqualTo(404);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/sub/ok.txt", "/sub/%6fk.txt", "//sub//ok.txt", "/inner.txt", "/innerdir/ok.txt"})
    void ordinaryPathsAndInnerSymlinksStillWork(String target) throws Exception {
        FakeExchange ex = FakeExchange.run(files, "GET", target);

        assertThat(ex.status()).as(ex.toString()).isEqualTo(200);
        assertThat(ex.bodyText()).isEqualTo("ok");
    }

    @Test
    void wellKnownIsTheOneServedDotFolder() throws Exception {
        FakeExchange ex = FakeExchange.run(files, "GET", "/.well-known/security.txt");

        assertThat(ex.status()).as(ex.toString()).isEqualTo(200);
        assertThat(ex.bodyText()).startsWith("Contact:");
    }

    @Test
    void aSiblingLinkedOutOfTheRootIsNotServed() throws Exception {
        FakeExchange ex = FakeExchange.run(files, "GET", "/plain.txt", "accept-encoding", "gzip");

        assertThat(ex.status()).isEqualTo(200);
        assertThat(ex.header("content-encoding")).isNull();
        assertThat(ex.header("vary")).isNull();
        assertThat(ex.bodyText()).isEqualTo("plain");
    }

    @Test
    void aRootThatIsItselfASymlinkWorks() throws Exception {
        Path alias = Files.createSymbolicLink(dir.resolve("alias"), root);
        try {
            StaticFiles viaAlias = StaticFiles.create(alias, HeraldConfig.builder().build(), Runnable::run);

            assertThat(FakeExchange.run(viaAlias, "GET", "/sub/ok.txt").status()).isEqualTo(200);
            assertThat(FakeExchange.run(viaAlias, "GET", "/link.txt").status()).isEqualTo(404);
        } finally {
            Files.delete(alias);
        }
    }

    @Test
    void eachRefusalIsLoggedAtDebugWithItsReason() throws Exception {
        Logger files = (Logger) LoggerFactory.getLogger(StaticFiles.class);
        Logger disk = (Logger) LoggerFactory.getLogger(DiskSource.class);
        Level filesLevel = files.getLevel();
        Level diskLevel = disk.getLevel();
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        files.addAppender(appender);
        disk.addAppender(appender);
        files.setLevel(Level.DEBUG);
        disk.setLevel(Level.DEBUG);
        try {
            FakeExchange.run(HostilePathsTest.files, "GET", "/%2e%2e/secret.txt");
            FakeExchange.run(HostilePathsTest.files, "GET", "/a%2fb");
            FakeExchange.run(HostilePathsTest.files, "GET", "/.env");
            FakeExchange.run(HostilePathsTest.files, "GET", "/link.txt");
        } finally {
            files.detachAppender(appender);
            disk.detachAppender(appender);
            files.setLevel(filesLevel);
            disk.setLevel(diskLevel);
        }

        assertThat(appender.list).allSatisfy(e -> assertThat(e.getLevel()).isEqualTo(Level.DEBUG))
                .extracting(ILoggingEvent::getFormattedMessage)
                .anySatisfy(m -> assertThat(m).contains("/%2e%2e/secret.txt", "400", "dot segment '..'"))
                .anySatisfy(m -> assertThat(m).contains("/a%2fb", "400", "encoded slash"))
                .anySatisfy(m -> assertThat(m).contains("/.env", "404", "hidden segment '.env'"))
                .anySatisfy(m -> assertThat(m).contains("link.txt", "outside the root"));
    }
}
