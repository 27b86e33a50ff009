package dev.herald.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzzes the config loader with any {@code herald.yaml}, {@code HERALD_*} environment and flags: the result is a
 * config or a {@link ConfigException} with a one-line message, never another exception.
 *
 * <p>An input is three parts separated by NUL bytes: the YAML file's bytes, then environment lines
 * {@code NAME=value}, then flag lines {@code key=value} (flags with a key that is not a setting are dropped, as
 * the command line never hands those to the loader). Seeds:
 * {@code src/test/resources/dev/herald/config/ConfigLoaderFuzzTestInputs/load/}.
 */
class ConfigLoaderFuzzTest {
    @TempDir
    static Path dir;

    @FuzzTest(maxDuration = "30s")
    void load(byte[] input) throws IOException {
        int firstNul = indexOf(input, 0);
        int secondNul = firstNul < 0 ? -1 : indexOf(input, firstNul + 1);
        byte[] yaml = firstNul < 0 ? input : Arrays.copyOf(input, firstNul);
        String env = firstNul < 0 ? "" : text(input, firstNul + 1, secondNul < 0 ? input.length : secondNul);
        String flags = secondNul < 0 ? "" : text(input, secondNul + 1, input.length);
        Files.write(dir.resolve(ConfigLoader.DEFAULT_FILE), yaml);
        Map<String, String> flagMap = new LinkedHashMap<>(lines(flags));
        flagMap.keySet().removeIf(key -> Settings.byKey(key).isEmpty());

        ConfigLoader loader = ConfigLoader.create().workingDir(dir).env(lines(env)).flags(flagMap);
        try {
            assertThat(loader.load()).isNotNull();
        } catch (ConfigException e) {
            assertThat(e.getMessage()).as("message of %s", e).isNotBlank().doesNotContain("\n").doesNotContain("\r");
        }
    }

    private static int indexOf(byte[] a, int from) {
        for (int i = from; i < a.length; i++) {
            if (a[i] == 0) {
                return i;
            }
        }
        return -1;
    }

    private static String text(byte[] a, int from, int to) {
        return new String(a, from, to - from, StandardCharsets.UTF_8);
    }

    private static Map<String, String> lines(String text) {
        Map<String, String> map = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                map.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return map;
    }
}
