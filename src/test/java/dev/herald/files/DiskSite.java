package dev.herald.files;

import dev.herald.config.HeraldConfig;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link StaticFiles} over a test's folder, with a queue for its blocking work (run when the test says) and a
 * clock the test moves.
 */
final class DiskSite {
    final QueueExecutor blocking = new QueueExecutor();
    final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final Path root;

    DiskSite(Path root) {
        this.root = root;
    }

    StaticFiles files(HeraldConfig config) {
        return StaticFiles.create(root, config, blocking, clock::get);
    }

    StaticFiles files() {
        return files(HeraldConfig.builder().build());
    }

    /** A GET whose work, if any, is run on the test thread right after; fails if it needs more than that. */
    FakeExchange get(StaticFiles files, String target, String... headers) throws Exception {
        FakeExchange ex = FakeExchange.run(files, "GET", target, headers);
        blocking.runAll();
        assertThat(ex.responses()).as(ex.toString()).isEqualTo(1);
        return ex;
    }
}
