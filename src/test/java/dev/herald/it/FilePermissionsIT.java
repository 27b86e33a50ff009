package dev.herald.it;

import dev.herald.testing.HeraldProcess;
import dev.herald.testing.RawHttp1;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A file or folder under the root that Herald may not read is a permission mistake, not a missing file: 403 with a
 * JSON body and a WARN naming it (nginx: 403 and "Permission denied" in its error log), where it was a 404 with no
 * log line. Root reads everything, so when the tests run as root the jar runs as nobody
 * ({@link HeraldProcess#startUnprivileged}).
 */
class FilePermissionsIT {
    @Test
    void anUnreadableFileOrFolderIs403AndLogged() throws Exception {
        Path dir = Files.createTempDirectory("herald-permissions");
        try {
            Path site = Files.createDirectories(dir.resolve("site"));
            Files.writeString(site.resolve("index.html"), "<p>hello</p>\n");
            Files.writeString(site.resolve("secret.txt"), "secret\n");
            Path locked = Files.createDirectories(site.resolve("locked"));
            Files.writeString(locked.resolve("inside.txt"), "inside\n");
            Path data = Files.createDirectories(dir.resolve("data"));
            for (Path p : List.of(dir, site, site.resolve("index.html"))) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(
                        Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
            }
            Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxrwxrwx"));
            Files.setPosixFilePermissions(site.resolve("secret.txt"), PosixFilePermissions.fromString("---------"));
            Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("---------"));

            try (HeraldProcess p = HeraldProcess.startUnprivileged("serve", site.toString(), "--host", "127.0.0.1", "--port", "-1", "--http-port", "0", "--data-dir", data.toString())) {
                int port = p.awaitPort("http", 60);

                String secret = RawHttp1.get(port, "/secret.txt");
                String inside = RawHttp1.get(port, "/locked/inside.txt");
                assertThat(RawHttp1.status(secret)).as(secret).isEqualTo(403);
                assertThat(secret).endsWith("{\"error\":\"forbidden\",\"detail\":\"the server may not read /secret.txt\"}");
                assertThat(RawHttp1.status(inside)).as(inside).isEqualTo(403);
                assertThat(RawHttp1.status(RawHttp1.get(port, "/index.html"))).isEqualTo(200);
                assertThat(RawHttp1.status(RawHttp1.get(port, "/missing.txt"))).isEqualTo(404);
                assertThat(p.terminate(30)).isZero();
                assertThat(p.stderr()).as("Herald's log").anySatisfy(l -> assertThat(l)
                        .contains("GET /secret.txt", "403: permission denied", "secret.txt"));
            }
        } finally {
            Files.setPosixFilePermissions(dir.resolve("site/locked"), PosixFilePermissions.fromString("rwx------"));
            try (var walk = Files.walk(dir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
