package dev.herald.files;

import dev.herald.config.HeraldConfig;
import dev.herald.testing.HeraldExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.RandomAccessFile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link StaticFiles#identityTag} is the ETag the files are served with, below and above the cache's file size:
 * push's cache-digest keys are made of it for discovered files, and of the served ETag for rules and learning.
 */
class IdentityTagTest {
    private static final long MAX_IN_MEMORY = 1L << 20;

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.folder(dir -> {
        Path root = dir.resolve("root");
        Files.createDirectories(root);
        Files.writeString(root.resolve("small.css"), "body { color: red }\n");
        try (RandomAccessFile f = new RandomAccessFile(root.resolve("big.js").toFile(), "rw")) {
            f.setLength(3L << 20);
        }
    }).configure(b -> b.fileCacheMaxFile(MAX_IN_MEMORY).accessLog(false));

    @Test
    void theIdentityTagIsTheServedEtagForSmallAndLargeFiles() throws Exception {
        Path root = HERALD.scratch().resolve("root");
        StaticFiles files = StaticFiles.create(root, HeraldConfig.builder().fileCacheMaxFile(MAX_IN_MEMORY).build(),
                Runnable::run);
        HttpClient http = HttpClient.newHttpClient();
        for (String name : new String[] {"small.css", "big.js"}) {
            HttpResponse<Void> r = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + HERALD.httpPort() + "/" + name)).build(),
                    HttpResponse.BodyHandlers.discarding());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(files.identityTag(root.resolve(name))).as(name)
                    .isEqualTo(r.headers().firstValue("etag").orElseThrow());
        }
        assertThat(files.identityTag(root.resolve("big.js"))).as("a stat tag: the 3 MiB are not read")
                .endsWith("-300000\"");
    }
}
