package dev.herald.it;

import dev.herald.testing.HeraldExtension;
import dev.herald.testing.HeraldProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The packaged jar's start and stop around its data directory: signals, the data-dir lock, unusable folders. */
class LifecycleJarIT {
    static final Path SITE = HeraldExtension.sitePath("basic");

    @TempDir
    Path tmp;

    private HeraldProcess start(Path dataDir, String... more) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("serve", SITE.toString(), "--host", "127.0.0.1",
                "--port", "-1", "--http-port", "0", "--data-dir", dataDir.toString()));
        args.addAll(List.of(more));
        return HeraldProcess.start(List.of(), args.toArray(String[]::new));
    }

    @Test
    void sighupShutsDownGracefullyAndSavesTheLearnedLists() throws Exception {
        Path data = Files.createDirectories(tmp.resolve("data"));
        Path learned = data.resolve("push-learned.tsv");
        Files.writeString(learned, "/index.html\t/hello.txt\t\t6\n"); // no header: only a save writes one
        try (HeraldProcess p = start(data)) {
            p.awaitPort("http", 30);
            p.signal("HUP");

            assertThat(p.waitFor(30)).as("exit 0, not 129: %s", p).isZero();
            assertThat(p.stderr()).as(p.toString())
                    .anyMatch(l -> l.contains("SIGHUP: shutting down"))
                    .anyMatch(l -> l.contains("dev.herald.Herald - stopped"));
        }
        assertThat(Files.readAllLines(learned))
                .containsExactly("# herald learned push dependencies v1", "/index.html\t/hello.txt\t\t6");
    }

    @Test
    void aSecondInstanceOnTheSameDataDirExitsWith2NamingTheHolderAndAKilledHolderDoesNotBlockARestart()
            throws Exception {
        Path data = tmp.resolve("data");
        try (HeraldProcess first = start(data)) {
            first.awaitPort("http", 30);
            try (HeraldProcess second = start(data)) {
                assertThat(second.waitFor(30)).as(second.toString()).isEqualTo(2);
                assertThat(second.stderr()).as(second.toString()).containsExactly("herald: data-dir: " + data
                        + " is in use by another Herald, pid " + first.pid()
                        + " (expected: a data-dir of its own for each instance)");
            }
            assertThat(first.isAlive()).isTrue();
            first.kill();
        }
        assertThat(data.resolve("herald.lock")).as("left by the killed instance").exists();
        try (HeraldProcess restarted = start(data)) {
            restarted.awaitPort("http", 30);
            assertThat(restarted.terminate(30)).as(restarted.toString()).isZero();
        }
    }

    @Test
    void anUnreadableRootAndAnUnwritableDataDirExitWith2SayingPermissionDenied() throws Exception {
        open(tmp);
        Path root = Files.createDirectories(tmp.resolve("root"));
        Files.copy(SITE.resolve("index.html"), root.resolve("index.html"));
        Path data = Files.createDirectories(tmp.resolve("data"));
        open(data);
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("---------"));
        try (HeraldProcess p = HeraldProcess.startUnprivileged("--root", root.toString(), "--data-dir",
                data.toString(), "--port", "-1", "--http-port", "0")) {
            assertThat(p.waitFor(30)).as(p.toString()).isEqualTo(2);
            assertThat(p.stderr()).as(p.toString())
                    .containsExactly("herald: root: " + root + ": permission denied (expected: a readable folder)");
        }

        Path readOnly = Files.createDirectories(tmp.resolve("read-only"));
        Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("r-xr-xr-x"));
        try (HeraldProcess p = HeraldProcess.startUnprivileged("--data-dir", readOnly.toString(), "--port", "-1",
                "--http-port", "0")) {
            assertThat(p.waitFor(30)).as(p.toString()).isEqualTo(2);
            assertThat(p.stderr()).as(p.toString()).containsExactly("herald: data-dir: " + readOnly
                    + ": permission denied (expected: a folder Herald can write)");
        }
        try (HeraldProcess p = HeraldProcess.startUnprivileged("--data-dir", readOnly.resolve("d").toString(),
                "--port", "-1", "--http-port", "0")) {
            assertThat(p.waitFor(30)).as(p.toString()).isEqualTo(2);
            assertThat(p.stderr()).as(p.toString()).containsExactly("herald: data-dir: " + readOnly.resolve("d")
                    + ": cannot create it: permission denied");
        }
    }

    @Test
    void anUnreadableLearnedFileIsKeptAndTheRunsListsAreSavedBesideIt() throws Exception {
        open(tmp);
        Path data = Files.createDirectories(tmp.resolve("data"));
        open(data);
        Path learned = data.resolve("push-learned.tsv");
        Files.writeString(learned, "/index.html\t/hello.txt\t\t6\n");
        Files.setPosixFilePermissions(learned, PosixFilePermissions.fromString("---------"));
        try (HeraldProcess p = HeraldProcess.startUnprivileged("serve", SITE.toString(), "--data-dir",
                data.toString(), "--port", "-1", "--http-port", "0")) {
            p.awaitPort("http", 30);
            assertThat(p.terminate(30)).as(p.toString()).isZero();
            assertThat(p.stderr()).as(p.toString()).anyMatch(l -> l.endsWith("cannot load learned push lists from "
                    + learned + ": permission denied; keeping that file, this run's lists will be saved to "
                    + learned + ".new"));
        }
        Files.setPosixFilePermissions(learned, PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.readString(learned)).isEqualTo("/index.html\t/hello.txt\t\t6\n");
        assertThat(Files.readAllLines(data.resolve("push-learned.tsv.new")))
                .containsExactly("# herald learned push dependencies v1");
    }

    /** Lets the unprivileged user in (a @TempDir is the test user's alone). */
    private static void open(Path dir) throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
    }
}
