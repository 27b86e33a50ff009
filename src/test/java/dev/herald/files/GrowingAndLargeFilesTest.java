package dev.herald.files;

import dev.herald.testing.HeraldExtension;
import dev.herald.testing.HttpResult;
import dev.herald.testing.TestClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Files being written while they are requested (logs, uploads in progress, rsync targets) are served as one
 * snapshot, never a 500; a first request for a large file reads none of it, so it neither waits for a hash of the
 * whole file nor holds up the misses behind it. Over the wire, with HTTP/1.1 (sendfile) and h2c (flow control).
 */
class GrowingAndLargeFilesTest {
    private static final long MAX_IN_MEMORY = 8L << 20;
    private static final long BIG = 256L << 20;

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.folder(dir -> {
        Path root = dir.resolve("root");
        sparse(root.resolve("grow.log"), 32L << 20);
        Files.writeString(root.resolve("small.log"), "started\n".repeat(256 << 10)); // 2 MiB
        for (int i = 0; i < 4; i++) {
            sparse(root.resolve("big" + i + ".iso"), BIG);
        }
        Files.writeString(root.resolve("tiny.txt"), "tiny\n");
    }).configure(b -> b.fileCacheMaxFile(MAX_IN_MEMORY).accessLog(false));

    private static void sparse(Path file, long length) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(length);
        }
    }

    private static Path root() {
        return HERALD.scratch().resolve("root");
    }

    @Test
    void aLargeFileAppendedToWhileRequestedIsServedAsLongAsItsStatSaid() throws Exception {
        Path log = root().resolve("grow.log");
        long before = Files.size(log);
        AtomicLong lines = new AtomicLong();
        ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor();
        writer.scheduleAtFixedRate(() -> append(log, "line " + lines.incrementAndGet() + "\n"), 0, 1,
                TimeUnit.MILLISECONDS);
        List<HttpResult> results = new ArrayList<>();
        try {
            for (String protocol : List.of("http/1.1", "h2c-prior-knowledge")) {
                TestClient client = HERALD.client(protocol);
                for (int i = 0; i < 3; i++) {
                    results.add(client.get("/grow.log"));
                }
            }
        } finally {
            writer.shutdownNow();
            assertThat(writer.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }

        assertThat(Files.size(log)).as("it grew while it was requested").isGreaterThan(before);
        for (HttpResult r : results) {
            assertThat(r.status()).as(r.toString()).isEqualTo(200);
            assertSnapshot(log, r);
            assertThat(r.header("etag")).as("a stat tag ending in the length served")
                    .endsWith("-" + Long.toHexString(r.body().length) + '"');
        }
    }

    @Test
    void aSmallFileAppendedToWhileItIsReadIsServedAsOneSnapshot() throws Exception {
        Path log = root().resolve("small.log");
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch started = new CountDownLatch(1);
        ExecutorService writer = Executors.newSingleThreadExecutor();
        // One byte per write, as fast as it goes: the file changes during nearly every read, so the server keeps
        // finding it changed and serves the last of its reads.
        Future<?> writing = writer.submit(() -> {
            try (OutputStream out = new FileOutputStream(log.toFile(), true)) {
                while (!stop.get() && Files.size(log) < MAX_IN_MEMORY * 3 / 4) {
                    out.write('x');
                    started.countDown();
                }
            }
            return null;
        });
        List<HttpResult> results = new ArrayList<>();
        try {
            assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
            for (String protocol : List.of("http/1.1", "h2c-prior-knowledge")) {
                TestClient client = HERALD.client(protocol);
                for (int i = 0; i < 5; i++) {
                    results.add(client.get("/small.log"));
                }
            }
        } finally {
            stop.set(true);
            writing.get(10, TimeUnit.SECONDS);
            writer.shutdown();
        }

        for (HttpResult r : results) {
            assertThat(r.status()).as(r.toString()).isEqualTo(200);
            assertSnapshot(log, r);
            assertThat(r.header("etag")).as("a tag of exactly the bytes served").isEqualTo(EntityTags.of(r.body()));
        }
    }

    @Test
    void firstRequestsForLargeFilesReadNoneOfThemAndASmallMissIsServedBesideThem() throws Exception {
        Path io = Path.of("/proc/self/io");
        assertThat(Files.isReadable(io)).as("%s: this test needs Linux's I/O counters (procfs mounted at /proc)", io)
                .isTrue();
        TestClient client = HERALD.client("http/1.1");
        ExecutorService requests = Executors.newFixedThreadPool(9);
        try {
            long before = bytesRead(io);
            List<Future<HttpResult>> big = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                String path = "/big" + (i % 4) + ".iso"; // each file twice, at once
                big.add(requests.submit(() -> client.get(path, Map.of("range", "bytes=0-0"))));
            }
            Future<HttpResult> tiny = requests.submit(() -> client.get("/tiny.txt"));

            assertThat(tiny.get(10, TimeUnit.SECONDS).bodyText()).isEqualTo("tiny\n");
            for (Future<HttpResult> f : big) {
                HttpResult r = f.get(10, TimeUnit.SECONDS);
                assertThat(r.status()).as(r.toString()).isEqualTo(206);
                assertThat(r.header("content-range")).isEqualTo("bytes 0-0/" + BIG);
                assertThat(r.header("etag")).endsWith("-" + Long.toHexString(BIG) + '"');
            }
            assertThat(bytesRead(io) - before).as("bytes the server read for 8 first requests to 4 files of %d MiB",
                    BIG >> 20).isLessThan(BIG / 2);
        } finally {
            requests.shutdownNow();
        }
    }

    /** The body is as long as the response said, and is the file's first bytes (it is only appended to). */
    private static void assertSnapshot(Path file, HttpResult r) throws Exception {
        assertThat(r.header("content-length")).as(r.toString()).isEqualTo(String.valueOf(r.body().length));
        byte[] start = new byte[r.body().length];
        try (InputStream in = Files.newInputStream(file)) {
            assertThat(in.readNBytes(start, 0, start.length)).isEqualTo(start.length);
        }
        assertThat(r.body()).as("the first %d bytes of %s", start.length, file.getFileName()).isEqualTo(start);
    }

    private static void append(Path file, String text) {
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * {@code rchar} of a Linux I/O counter file ({@code /proc/self/io}, {@code /proc/thread-self/io}): the bytes the
     * process or thread asked read(2) and its kin for, page cache hits and sockets included.
     */
    static long bytesRead(Path io) throws Exception {
        for (String line : Files.readAllLines(io)) {
            if (line.startsWith("rchar:")) {
                return Long.parseLong(line.substring(6).trim());
            }
        }
        throw new AssertionError("no rchar in " + io);
    }
}
