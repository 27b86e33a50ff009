package dev.herald;

import dev.herald.config.ConfigException;
import dev.herald.config.HeraldConfig;
import dev.herald.push.PushingFiles;
import dev.herald.testing.HeraldExtension;
import dev.herald.testing.LogCapture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What Herald checks before it serves (root, data-dir, its lock, the learned push file) and how it saves the
 * learned push lists at shutdown. The permission cases, which need a user other than root, are in LifecycleJarIT.
 */
class StartupChecksTest {
    @TempDir
    Path tmp;

    private HeraldConfig.Builder config(Path dataDir) {
        return HeraldConfig.builder().host("127.0.0.1").tlsPort(-1).httpPort(0).dataDir(dataDir)
                .root(HeraldExtension.sitePath("basic"));
    }

    @Test
    void aDataDirThatIsAFileIsRefusedAsNotADirectory() throws Exception {
        Path file = Files.writeString(tmp.resolve("data"), "x");

        assertThatThrownBy(() -> Herald.start(config(file).build())).isInstanceOf(ConfigException.class)
                .hasMessage("data-dir: " + file + ": not a directory");
        assertThatThrownBy(() -> Herald.start(config(file.resolve("sub")).build()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("data-dir: " + file.resolve("sub") + ": cannot create it: not a directory");
    }

    @Test
    void aSecondHeraldOnTheSameDataDirIsRefusedUntilTheFirstHasClosed() throws Exception {
        Path data = tmp.resolve("data");
        try (Herald first = Herald.start(config(data).build())) {
            assertThatThrownBy(() -> Herald.start(config(data).build())).isInstanceOf(ConfigException.class)
                    .hasMessage("data-dir: " + data + " is in use by another Herald, pid "
                            + ProcessHandle.current().pid() + " (expected: a data-dir of its own for each instance)");
            assertThat(first.httpPort()).isPresent();
        }
        assertThat(data.resolve(DataDir.LOCK_FILE)).content().isEqualTo(ProcessHandle.current().pid() + "\n");
        Herald.start(config(data).build()).close();
    }

    @Test
    void aRootThatIsAFileIsRefused() throws Exception {
        Path file = Files.writeString(tmp.resolve("root"), "x");

        assertThatThrownBy(() -> Herald.start(config(tmp.resolve("data")).root(file).build()))
                .isInstanceOf(ConfigException.class).hasMessage("root: " + file + " (expected: an existing folder)");
        Herald.start(config(tmp.resolve("data")).build()).close(); // the failed start released the data-dir
    }

    @Test
    void aLearnedFileThatCannotBeSavedIsRefusedAtStart() throws Exception {
        Path missing = tmp.resolve("no/such/x.tsv");
        assertThatThrownBy(() -> Herald.start(config(tmp.resolve("data")).pushLearnedFile(missing).build()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("push.learned-file: " + missing + ": folder " + tmp.resolve("no/such") + " does not exist");

        Path folder = Files.createDirectories(tmp.resolve("folder"));
        assertThatThrownBy(() -> Herald.start(config(tmp.resolve("data")).pushLearnedFile(folder).build()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("push.learned-file: " + folder + ": is a directory (expected: a file)");
    }

    @Test
    void learningOffNeedsNoLearnedFile() throws Exception {
        Herald.start(config(tmp.resolve("data")).pushLearningWindow(java.time.Duration.ZERO)
                .pushLearnedFile(tmp.resolve("no/such/x.tsv")).build()).close();
    }

    @Test
    void aBadByteCostsOneLineAndTheValidEntriesAreKeptThroughARestart() throws Exception {
        Path learned = tmp.resolve("learned.tsv");
        Files.write(learned, ("# herald learned push dependencies v1\n"
                + "/\t/js/late.js\t\"l\"\t15\n"
                + "/caf\u00e9\t/css/a.css\t\"a\"\t4\n"
                + "this line is bad\n"
                + "/\t/css/a.css\t\"a\"\t4\n").getBytes(StandardCharsets.ISO_8859_1)); // é as one Latin-1 byte

        try (LogCapture log = LogCapture.of(PushingFiles.class)) {
            Herald.start(config(tmp.resolve("data")).pushLearnedFile(learned).build()).close();
            assertThat(log.messages()).containsExactly("learned push lists " + learned + ": skipped 2 malformed "
                    + "line(s), the first at line 3; loaded 2 entries (the file is rewritten without the bad lines at "
                    + "shutdown)");
        }
        assertThat(Files.readAllLines(learned)).containsExactly("# herald learned push dependencies v1",
                "/\t/js/late.js\t\"l\"\t15", "/\t/css/a.css\t\"a\"\t4");
    }

    @Test
    void aFailedSaveAtShutdownIsOneLineNamingTheFileAndTheReason() throws Exception {
        Path folder = Files.createDirectories(tmp.resolve("learned"));
        Path learned = folder.resolve("x.tsv");
        Files.writeString(learned, "/\t/js/late.js\t\"l\"\t15\n");
        Herald herald = Herald.start(config(tmp.resolve("data")).pushLearnedFile(learned).build());
        Files.delete(learned);
        Files.delete(folder);

        try (LogCapture log = LogCapture.of(Herald.class)) {
            herald.close();
            assertThat(log.messages()).containsExactly("shutting down",
                    "cannot save learned push lists to " + learned + ": no such file or directory", "stopped");
        }
    }
}
