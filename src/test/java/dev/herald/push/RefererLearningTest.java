package dev.herald.push;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RefererLearningTest {
    static final long S = 1_000_000_000L;

    @TempDir
    Path dir;

    private static List<String> paths(RefererLearning l, String page) {
        return l.dependencies(page).stream().map(RefererLearning.Dependency::path).toList();
    }

    @Test
    void learnsRequestsWithTheRefererOnTheSameConnectionWithinTheWindow() {
        RefererLearning l = new RefererLearning(2 * S);
        l.pageServed(1, "/", 10 * S);

        assertThat(l.requested(1, "/", "/a.css", "\"a\"", 10, 10 * S + S / 2)).isTrue();
        assertThat(l.requested(2, "/", "/other-connection.css", "\"b\"", 10, 10 * S + S / 2)).isFalse();
        assertThat(l.requested(1, "/", "/late.css", "\"c\"", 10, 12 * S + 1)).isFalse();
        assertThat(l.requested(1, "/elsewhere.html", "/b.css", "\"d\"", 10, 10 * S)).isFalse();

        assertThat(l.dependencies("/")).containsExactly(new RefererLearning.Dependency("/a.css", "\"a\"", 10));
    }

    @Test
    void oneQueryPerFileTheLatest() {
        RefererLearning l = new RefererLearning(2 * S);
        l.pageServed(1, "/", 10 * S);
        assertThat(l.requested(1, "/", "/a.css?v=1", "\"1\"", 10, 10 * S + 1)).isTrue();
        assertThat(l.requested(1, "/", "/b.js", "\"b\"", 10, 10 * S + 2)).isTrue();
        for (int i = 0; i < 40; i++) { // a client cannot fill the page's list with variants of one file
            assertThat(l.requested(1, "/", "/a.css?evil" + i, "\"1\"", 10, 10 * S + 3 + i)).isTrue();
        }
        assertThat(paths(l, "/")).containsExactly("/b.js", "/a.css?evil39");
        assertThat(l.requested(1, "/", "/a.css?v=2", "\"2\"", 10, 10 * S + 50)).isTrue(); // a new cache buster
        assertThat(paths(l, "/")).containsExactly("/b.js", "/a.css?v=2");
    }

    @Test
    void learningGoesOnForTheLifeOfTheServer() {
        RefererLearning l = new RefererLearning(2 * S);
        long late = 3L * 24 * 3600 * S; // three days in
        l.pageServed(7, "/", late);
        assertThat(l.requested(7, "/", "/new.js", "\"n\"", 5, late + S)).isTrue();
        assertThat(paths(l, "/")).containsExactly("/new.js");
    }

    @Test
    void aPageIsNeverItsOwnDependency() {
        RefererLearning l = new RefererLearning(2 * S);
        l.pageServed(1, "/p.html", 0);
        assertThat(l.requested(1, "/p.html", "/p.html", "\"p\"", 5, 1)).isFalse();
        assertThat(paths(l, "/p.html")).isEmpty();
    }

    @Test
    void theCapsHoldUnderTenThousandDistinctPages() {
        RefererLearning l = new RefererLearning(2 * S);
        for (int page = 0; page < 10_000; page++) {
            String p = "/page" + page + ".html";
            l.pageServed(page, p, page);
            for (int r = 0; r < 40; r++) {
                l.requested(page, p, "/asset" + r + ".js", "\"" + r + "\"", r, page + 1);
            }
        }
        assertThat(l.pages()).isEqualTo(RefererLearning.MAX_PAGES);
        assertThat(l.dependencies("/page9999.html")).hasSize(RefererLearning.MAX_PER_PAGE);
        assertThat(paths(l, "/page9999.html")).as("the most recently confirmed stay")
                .contains("/asset39.js").doesNotContain("/asset0.js");
        assertThat(l.dependencies("/page0.html")).as("least recently used page evicted").isEmpty();
    }

    @Test
    void unconfirmedDependenciesDecay() {
        RefererLearning l = new RefererLearning(2 * S);
        l.pageServed(1, "/", 0);
        l.requested(1, "/", "/old.css", "\"o\"", 1, 1);
        for (int i = 0; i <= RefererLearning.DECAY_EVENTS; i++) {
            l.requested(1, "/", "/kept.css", "\"k\"", 1, 1);
        }
        assertThat(paths(l, "/")).containsExactly("/kept.css");
    }

    @Test
    void dumpAndLoadRoundTrip() throws Exception {
        RefererLearning l = new RefererLearning(2 * S);
        l.pageServed(1, "/", 0);
        l.requested(1, "/", "/a.css", "\"a\"", 10, 1);
        l.requested(1, "/", "/b.js?v=2", null, 20, 1);
        l.pageServed(2, "/x.html", 0);
        l.requested(2, "/x.html", "/c.svg", "\"c\"", 30, 1);
        Path file = dir.resolve("learned.tsv");

        l.dump(file);
        RefererLearning back = new RefererLearning(2 * S);
        assertThat(back.load(file).entries()).isEqualTo(3);

        assertThat(back.dependencies("/")).isEqualTo(l.dependencies("/"));
        assertThat(back.dependencies("/x.html")).isEqualTo(l.dependencies("/x.html"));
        assertThat(back.load(dir.resolve("missing.tsv")).entries()).isZero();
    }

    @Test
    void loadSkipsMalformedLinesAndKeepsTheCaps() throws Exception {
        Path file = dir.resolve("learned.tsv");
        StringBuilder sb = new StringBuilder("# comment\nnot a line\n/\t/a.css\t\"a\"\tnot-a-number\n"
                + "/\t/\t\"self\"\t1\nrelative\t/a.css\t\"a\"\t1\n/\t/ok.css\t\"ok\"\t3\n");
        for (int i = 0; i < 100; i++) {
            sb.append("/\t/many").append(i).append(".js\t\t1\n");
        }
        Files.writeString(file, sb);

        RefererLearning l = new RefererLearning(2 * S);
        l.load(file);

        assertThat(l.dependencies("/")).hasSize(RefererLearning.MAX_PER_PAGE);
        assertThat(l.pages()).isEqualTo(1);
    }

    @Test
    void loadSkipsEachBadLineAndKeepsEveryValidOne() throws Exception {
        Path file = dir.resolve("learned.tsv");
        Files.write(file, ("/\t/a.css\t\"a\"\t1\n"
                + "/\t/b.css\t\"\u00ff\"\t2\n" // an ETag byte that is not UTF-8
                + "/\t/c.css\t\"c\"\t-3\n"
                + "/\t/d.css\t\"d\"\t4\n").getBytes(StandardCharsets.ISO_8859_1));

        RefererLearning l = new RefererLearning(2 * S);
        RefererLearning.Loaded loaded = l.load(file);

        assertThat(loaded).isEqualTo(new RefererLearning.Loaded(2, 2, 2));
        assertThat(paths(l, "/")).containsExactly("/a.css", "/d.css");
    }

    @Test
    void aFailedDumpLeavesNoTemporaryFileBehind() throws Exception {
        Path target = Files.createDirectories(dir.resolve("a-folder"));
        Files.writeString(target.resolve("inside"), "x"); // a non-empty folder cannot be replaced by a file
        RefererLearning l = new RefererLearning(2 * S);
        l.pageServed(1, "/", 0);
        l.requested(1, "/", "/a.css", "\"a\"", 10, 1);

        assertThatThrownBy(() -> l.dump(target)).isInstanceOf(java.io.IOException.class);
        try (var files = Files.list(dir)) {
            assertThat(files).containsExactly(target);
        }
    }
}
