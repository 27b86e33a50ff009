package dev.herald.files;

import dev.herald.config.HeraldConfig;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Where the work happens (cache hits on the calling thread, misses on the blocking executor), the memory bound,
 * noticing changes on disk, and large files answered as file regions without being loaded.
 */
class FileCachingTest {
    private static final FileTime T0 = FileTime.fromMillis(1_700_000_000_000L);

    @TempDir
    Path root;
    DiskSite site;

    @BeforeEach
    void site() throws Exception {
        site = new DiskSite(root);
        Files.writeString(root.resolve("a.txt"), "version one");
        Files.setLastModifiedTime(root.resolve("a.txt"), T0);
        Files.writeString(root.resolve("b.css"), "b {}");
    }

    @Test
    void aMissRunsOnTheBlockingExecutorAndAHitOnTheCallingThread() throws Exception {
        StaticFiles files = site.files();
        ExecutorService worker = Executors.newSingleThreadExecutor(r -> new Thread(r, "blocking-worker"));
        try {
            FakeExchange miss = FakeExchange.run(files, "GET", "/a.txt");
            assertThat(miss.responses()).as("nothing read on the calling thread").isZero();
            assertThat(site.blocking.pending()).isEqualTo(1);

            Future<Integer> ran = worker.submit(site.blocking::runAll);
            assertThat(ran.get(10, TimeUnit.SECONDS)).isEqualTo(1);
            assertThat(miss.respondedOn().getName()).isEqualTo("blocking-worker");
            assertThat(miss.status()).isEqualTo(200);

            FakeExchange hit = FakeExchange.run(files, "GET", "/a.txt");
            assertThat(site.blocking.pending()).as("a hit needs no blocking work").isZero();
            assertThat(hit.responses()).isEqualTo(1);
            assertThat(hit.respondedOn()).isSameAs(Thread.currentThread());
            assertThat(hit.bodyText()).isEqualTo("version one");
            assertThat(hit.header("etag")).isEqualTo(miss.header("etag"));
        } finally {
            worker.shutdownNow();
        }
    }

    @Test
    void concurrentRequestsThroughASmallCacheAllGetTheirOwnBytes() throws Exception {
        int fileCount = 24;
        for (int i = 0; i < fileCount; i++) {
            Files.writeString(root.resolve("c" + i + ".txt"), ("file " + i + " ").repeat(100 + i));
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        ExecutorService clients = Executors.newFixedThreadPool(8);
        try {
            StaticFiles files = StaticFiles.create(root,
                    HeraldConfig.builder().fileCacheBytes(8 << 10).fileCacheMaxFile(4 << 10).build(), pool);
            List<Future<List<String>>> results = new ArrayList<>();
            for (int c = 0; c < 8; c++) {
                int client = c;
                results.add(clients.submit(() -> {
                    List<String> wrong = new ArrayList<>();
                    for (int n = 0; n < 150; n++) {
                        int i = (client * 7 + n * 5) % fileCount;
                        FakeExchange ex = FakeExchange.run(files, "GET", "/c" + i + ".txt");
                        if (!ex.await(10, TimeUnit.SECONDS) || ex.status() != 200
                                || !ex.bodyText().equals(("file " + i + " ").repeat(100 + i))) {
                            wrong.add(ex.toString());
                        }
                    }
                    return wrong;
                }));
            }
            for (Future<List<String>> r : results) {
                assertThat(r.get(60, TimeUnit.SECONDS)).isEmpty();
            }
            assertThat(files.cache().weight()).isLessThanOrEqualTo(8 << 10);
        } finally {
            clients.shutdownNow();
            pool.shutdownNow();
        }
    }

    @Test
    void everyOutcomeOfAMissIsAnsweredExactlyOnce() throws Exception {
        StaticFiles files = site.files();
        Files.createDirectories(root.resolve("docs"));

        for (String target : new String[] {"/nope", "/docs", "/docs/", "/a.txt/"}) {
            FakeExchange ex = FakeExchange.run(files, "GET", target);
            assertThat(site.blocking.runAll()).isEqualTo(1);
            assertThat(ex.responses()).as(target).isEqualTo(1);
        }
    }

    @Test
    void aClosedExchangeIsNotWorkedOn() throws Exception {
        FakeExchange ex = FakeExchange.run(site.files(), "GET", "/a.txt");
        ex.close();

        site.blocking.runAll();

        assertThat(ex.responses()).isZero();
    }

    @Test
    void bundledResourcesNeverLeaveTheCallingThread() throws Exception {
        StaticFiles bundled = StaticFiles.classpath("sites/basic", HeraldConfig.builder().build());

        FakeExchange ex = FakeExchange.run(bundled, "GET", "/hello.txt");

        assertThat(ex.respondedOn()).isSameAs(Thread.currentThread());
    }

    @Test
    void theCacheStaysWithinItsCapWhenFilledBeyondIt() throws Exception {
        long cap = 16 << 10;
        StaticFiles files = site.files(HeraldConfig.builder().fileCacheBytes(cap).fileCacheMaxFile(4 << 10).build());
        for (int i = 0; i < 40; i++) {
            Files.write(root.resolve("f" + i + ".bin"), new byte[2000]);
        }

        for (int i = 0; i < 40; i++) {
            assertThat(site.get(files, "/f" + i + ".bin").status()).isEqualTo(200);
            assertThat(files.cache().weight()).isLessThanOrEqualTo(cap);
        }

        assertThat(files.cache().size()).isBetween(1, 8);
        FakeExchange recent = FakeExchange.run(files, "GET", "/f39.bin");
        FakeExchange evicted = FakeExchange.run(files, "GET", "/f0.bin");
        assertThat(recent.responses()).as("the most recent file is still cached").isEqualTo(1);
        assertThat(evicted.responses()).as("the first file was evicted: loading again").isZero();
        site.blocking.runAll();
        assertThat(files.cache().weight()).isLessThanOrEqualTo(cap);
    }

    @Test
    void aZeroByteCacheStillServes() throws Exception {
        StaticFiles files = site.files(HeraldConfig.builder().fileCacheBytes(0).build());

        assertThat(site.get(files, "/a.txt").bodyText()).isEqualTo("version one");
        assertThat(site.get(files, "/a.txt").bodyText()).isEqualTo("version one");
        assertThat(files.cache().size()).isZero();
    }

    @Test
    void aRewrittenFileIsNoticedOnTheNextRequest() throws Exception {
        StaticFiles files = site.files();
        String before = site.get(files, "/a.txt").header("etag");

        Files.writeString(root.resolve("a.txt"), "version two");
        Files.setLastModifiedTime(root.resolve("a.txt"), FileTime.fromMillis(T0.toMillis() + 1000));
        FakeExchange after = site.get(files, "/a.txt");

        assertThat(after.bodyText()).isEqualTo("version two");
        assertThat(after.header("etag")).isNotEqualTo(before)
                .isEqualTo(EntityTags.of("version two".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertThat(site.get(files, "/a.txt", "if-none-match", before).status()).isEqualTo(200);
    }

    @Test
    void aFileReplacedWithTheSameSizeAndTimeIsNoticedByItsIdentity() throws Exception {
        StaticFiles files = site.files();
        String before = site.get(files, "/a.txt").header("etag");

        Path tmp = Files.writeString(root.resolve("a.tmp"), "version 2.0");
        Files.setLastModifiedTime(tmp, T0);
        Files.move(tmp, root.resolve("a.txt"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        FakeExchange after = site.get(files, "/a.txt");

        assertThat(after.bodyText()).isEqualTo("version 2.0");
        assertThat(after.header("etag")).isNotEqualTo(before);
    }

    @Test
    void aDeletedFileIsNoticed() throws Exception {
        StaticFiles files = site.files();
        site.get(files, "/a.txt");

        Files.delete(root.resolve("a.txt"));

        assertThat(site.get(files, "/a.txt").status()).isEqualTo(404);
    }

    @Test
    void theLayoutIsResolvedAgainAfterASecond() throws Exception {
        StaticFiles files = site.files();
        assertThat(site.get(files, "/b.css", "accept-encoding", "gzip").header("content-encoding")).isNull();

        Files.writeString(root.resolve("b.css.gz"), "pretend-gzip");
        FakeExchange within = FakeExchange.run(files, "GET", "/b.css", "accept-encoding", "gzip");
        assertThat(within.responses()).as("answered from the cache").isEqualTo(1);
        assertThat(within.header("content-encoding")).isNull();

        site.clock.addAndGet(DiskSource.RESOLVE_INTERVAL_NANOS);
        FakeExchange after = site.get(files, "/b.css", "accept-encoding", "gzip");
        assertThat(after.header("content-encoding")).isEqualTo("gzip");
        assertThat(after.header("vary")).isEqualTo("accept-encoding");
        assertThat(after.bodyText()).isEqualTo("pretend-gzip");
    }

    @Test
    void anUnchangedEntryOlderThanASecondIsStillAnsweredOnTheCallingThread() throws Exception {
        Files.writeString(root.resolve("b.css.gz"), "pretend-gzip");
        Files.createDirectories(root.resolve("docs"));
        Files.writeString(root.resolve("docs/index.html"), "<p>docs");
        StaticFiles files = site.files();
        site.get(files, "/b.css", "accept-encoding", "gzip");
        site.get(files, "/docs/");

        // A page requested now and then finds its entry older than a second: answered from the blocking executor,
        // its response went out after its pushes' (bench/push: a round trip later on a new connection).
        site.clock.addAndGet(DiskSource.RESOLVE_INTERVAL_NANOS);
        FakeExchange css = FakeExchange.run(files, "GET", "/b.css", "accept-encoding", "gzip");
        FakeExchange docs = FakeExchange.run(files, "GET", "/docs/");

        assertThat(site.blocking.pending()).as("nothing changed on disk: no blocking work").isZero();
        assertThat(css.respondedOn()).isSameAs(Thread.currentThread());
        assertThat(css.header("content-encoding")).isEqualTo("gzip");
        assertThat(css.bodyText()).isEqualTo("pretend-gzip");
        assertThat(docs.respondedOn()).isSameAs(Thread.currentThread());
        assertThat(docs.bodyText()).isEqualTo("<p>docs");

        site.clock.addAndGet(DiskSource.RESOLVE_INTERVAL_NANOS - 1);
        assertThat(FakeExchange.run(files, "GET", "/b.css").responses())
                .as("checked a second ago: counts as resolved then").isEqualTo(1);
        assertThat(site.blocking.pending()).isZero();
    }

    @Test
    void aGoneSiblingIsNoticedAfterASecond() throws Exception {
        Files.writeString(root.resolve("b.css.gz"), "pretend-gzip");
        StaticFiles files = site.files();
        assertThat(site.get(files, "/b.css", "accept-encoding", "gzip").header("content-encoding")).isEqualTo("gzip");

        Files.delete(root.resolve("b.css.gz"));
        site.clock.addAndGet(DiskSource.RESOLVE_INTERVAL_NANOS);
        FakeExchange after = site.get(files, "/b.css", "accept-encoding", "gzip");

        assertThat(after.header("content-encoding")).isNull();
        assertThat(after.bodyText()).isEqualTo("b {}");
    }

    @Test
    void aRetargetedSymlinkIsNoticedAfterASecond() throws Exception {
        Files.writeString(root.resolve("one.txt"), "one");
        Files.writeString(root.resolve("two.txt"), "two");
        Path link = Files.createSymbolicLink(root.resolve("current.txt"), Path.of("one.txt"));
        StaticFiles files = site.files();
        assertThat(site.get(files, "/current.txt").bodyText()).isEqualTo("one");

        Files.delete(link);
        Files.createSymbolicLink(link, Path.of("two.txt"));
        site.clock.addAndGet(DiskSource.RESOLVE_INTERVAL_NANOS);

        assertThat(site.get(files, "/current.txt").bodyText()).isEqualTo("two");
    }

    @Test
    void aDeepPathIsResolvedAgainOffTheCallingThread() throws Exception {
        Path dir = root;
        StringBuilder target = new StringBuilder();
        for (int i = 0; i < DiskSource.MAX_INLINE_SEGMENTS; i++) {
            dir = Files.createDirectories(dir.resolve("d" + i));
            target.append("/d").append(i);
        }
        Files.writeString(dir.resolve("deep.txt"), "deep");
        target.append("/deep.txt");
        StaticFiles files = site.files();
        site.get(files, target.toString());

        site.clock.addAndGet(DiskSource.RESOLVE_INTERVAL_NANOS);
        FakeExchange ex = FakeExchange.run(files, "GET", target.toString());

        assertThat(ex.responses()).as("more than %d segments: resolved on the blocking executor",
                DiskSource.MAX_INLINE_SEGMENTS).isZero();
        assertThat(site.blocking.runAll()).isEqualTo(1);
        assertThat(ex.bodyText()).isEqualTo("deep");
    }

    @Test
    void anUnchangedFileIsNotReadAgainWhenItsPathIsResolvedAgain() throws Exception {
        StaticFiles files = site.files();
        byte[] first = site.get(files, "/a.txt").response().bytes();

        site.clock.addAndGet(DiskSource.RESOLVE_INTERVAL_NANOS);
        byte[] second = site.get(files, "/a.txt").response().bytes();

        assertThat(second).isSameAs(first);
    }

    @Test
    void aLargeFileIsAFileRegionAndNeverLoaded() throws Exception {
        Path big = root.resolve("video.mp4");
        long size = (64L << 20) + 1;
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(size);
        }
        StaticFiles files = StaticFiles.create(root, HeraldConfig.builder().build(), Runnable::run);
        FakeExchange.run(files, "GET", "/a.txt"); // load the classes before measuring
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

        long before = threads.getCurrentThreadAllocatedBytes();
        FakeExchange ex = FakeExchange.run(files, "GET", "/video.mp4");
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;

        assertThat(ex.status()).isEqualTo(200);
        assertThat(ex.response().bytes()).isNull();
        assertThat(ex.response().file()).isEqualTo(big.toRealPath());
        assertThat(ex.response().fileOffset()).isZero();
        assertThat(ex.response().fileLength()).isEqualTo(size);
        assertThat(ex.header("content-type")).isEqualTo("video/mp4");
        assertThat(ex.header("etag")).as("tagged by its stat").isEqualTo(EntityTags.of(FileStamp.of(big.toRealPath()),
                null));
        assertThat(allocated).as("bytes allocated serving a 64 MiB file").isLessThan(4L << 20);
        assertThat(files.cache().weight()).as("only metadata is cached").isLessThan(4096);
    }

    @Test
    void aRangeOfALargeFileIsARegionOfIt() throws Exception {
        Path big = root.resolve("big.bin");
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(1L << 20);
            f.seek(1000);
            f.write("needle".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        StaticFiles files = site.files(HeraldConfig.builder().fileCacheMaxFile(1024).build());

        FakeExchange ex = site.get(files, "/big.bin", "range", "bytes=1000-1005");

        assertThat(ex.status()).isEqualTo(206);
        assertThat(ex.response().file()).isNotNull();
        assertThat(ex.response().fileOffset()).isEqualTo(1000);
        assertThat(ex.response().fileLength()).isEqualTo(6);
        assertThat(ex.bodyText()).isEqualTo("needle");
        assertThat(ex.header("content-range")).isEqualTo("bytes 1000-1005/" + (1L << 20));
    }

    @Test
    void aLargeFilesMetadataIsServedFromTheCacheUntilItChanges() throws Exception {
        Path big = root.resolve("big.bin");
        Files.write(big, new byte[8192]);
        StaticFiles files = site.files(HeraldConfig.builder().fileCacheMaxFile(1024).build());
        String tag = site.get(files, "/big.bin").header("etag");

        FakeExchange hit = FakeExchange.run(files, "GET", "/big.bin");
        assertThat(hit.responses()).as("metadata hit on the calling thread").isEqualTo(1);
        assertThat(hit.response().file()).isNotNull();
        assertThat(hit.header("etag")).isEqualTo(tag);

        byte[] changed = new byte[8192];
        changed[0] = 1;
        Files.write(big, changed);
        Files.setLastModifiedTime(big, T0);
        FakeExchange after = site.get(files, "/big.bin");
        assertThat(after.header("etag")).isEqualTo(EntityTags.of(FileStamp.of(big.toRealPath()), null))
                .isNotEqualTo(tag);
    }

    @Test
    void aLargeFilesFirstRequestReadsNoneOfItsBytes() throws Exception {
        Path io = Path.of("/proc/thread-self/io");
        assertThat(Files.isReadable(io)).as("%s: this test needs Linux's per-thread I/O counters (procfs, Linux 3.17+)",
                io).isTrue();
        Path big = root.resolve("big.iso");
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(256L << 20);
        }
        StaticFiles files = StaticFiles.create(root, HeraldConfig.builder().build(), Runnable::run);
        FakeExchange.run(files, "GET", "/a.txt"); // load the classes before measuring

        long before = GrowingAndLargeFilesTest.bytesRead(io);
        FakeExchange ex = FakeExchange.run(files, "GET", "/big.iso", "range", "bytes=0-0");
        long read = GrowingAndLargeFilesTest.bytesRead(io) - before;

        assertThat(ex.status()).isEqualTo(206);
        assertThat(ex.response().fileLength()).isEqualTo(1);
        assertThat(read).as("bytes this thread read to answer the first request for a 256 MiB file")
                .isLessThan(1L << 20);
    }

    @Test
    void concurrentMissesForOnePathShareOneLoad() throws Exception {
        Path big = root.resolve("big.bin");
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(1L << 20);
        }
        StaticFiles files = site.files(HeraldConfig.builder().fileCacheMaxFile(1024).build());
        List<FakeExchange> exchanges = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            exchanges.add(FakeExchange.run(files, "GET", "/big.bin"));
        }
        exchanges.add(FakeExchange.run(files, "GET", "/big.bin", "range", "bytes=0-0"));
        FakeExchange other = FakeExchange.run(files, "GET", "/a.txt");

        assertThat(site.blocking.pending()).as("one load for /big.bin, one for /a.txt").isEqualTo(2);
        assertThat(site.blocking.runAll()).isEqualTo(2);

        assertThat(exchanges).allSatisfy(ex -> assertThat(ex.responses()).as(ex.toString()).isEqualTo(1));
        assertThat(exchanges).extracting(FakeExchange::status).containsExactly(200, 200, 200, 200, 206);
        assertThat(exchanges).extracting(ex -> ex.header("etag")).containsOnly(
                EntityTags.of(FileStamp.of(big.toRealPath()), null));
        assertThat(other.bodyText()).isEqualTo("version one");
        assertThat(files.loads().running()).isZero();
    }

    @Test
    void aLoadAnswersTheRequestsThatAreStillOpen() throws Exception {
        StaticFiles files = site.files();
        FakeExchange gone = FakeExchange.run(files, "GET", "/a.txt");
        FakeExchange waiting = FakeExchange.run(files, "GET", "/a.txt");
        gone.close();

        assertThat(site.blocking.runAll()).isEqualTo(1);

        assertThat(gone.responses()).isZero();
        assertThat(waiting.bodyText()).isEqualTo("version one");
    }
}
