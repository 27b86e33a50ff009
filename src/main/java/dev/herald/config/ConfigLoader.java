package dev.herald.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.store.redis.RedisEventLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Builds a {@link HeraldConfig} from, lowest precedence first: the builder's defaults, a YAML file, {@code HERALD_*}
 * environment variables and command-line flags.
 *
 * <pre>{@code
 * HeraldConfig config = ConfigLoader.create()
 *         .env(System.getenv())
 *         .flags(Map.of("port", "9443"))
 *         .load();
 * }</pre>
 *
 * <p>The YAML file is {@code herald.yaml} in the working directory when it exists (a folder by that name is an
 * error, not skipped), or the one given to {@link #configFile}, which must exist. It is UTF-8 and holds one
 * document without aliases ({@link YamlReader}). Nested maps are flattened with dots: a
 * {@code max-concurrent-streams} entry under {@code http2} sets {@code http2.max-concurrent-streams}. Every key is
 * one of {@link Settings#all()}; relative paths in values are relative to the process's working directory, as they
 * are for flags. A {@code HERALD_*} variable that names no setting is logged as a warning, not refused: the
 * environment is shared with other programs.
 *
 * <p>An unknown key or a bad value throws a {@link ConfigException} with a one-line message naming its source
 * (the file, the variable; none for flags), the key, the value and what is expected:
 * {@code herald.yaml: port: 99999 (expected: -1 (off), 0 (any) or 1..65535)}.
 */
public final class ConfigLoader {
    /** The file looked for in the working directory when no config file is given. */
    public static final String DEFAULT_FILE = "herald.yaml";

    /**
     * {@code HERALD_*} variables read elsewhere than {@link Settings}: the Redis password and CA file, which
     * {@link RedisEventLog} takes from the environment so that they stay out of files and command lines.
     */
    static final Set<String> OTHER_VARIABLES = Set.of(RedisEventLog.PASSWORD_ENV, RedisEventLog.CA_FILE_ENV);

    private static final Logger LOG = LoggerFactory.getLogger(ConfigLoader.class);

    private Path workingDir = Path.of("");
    private Path configFile;
    private Map<String, String> env = System.getenv();
    private Map<String, String> flags = Map.of();

    private ConfigLoader() {
    }

    /** A loader reading {@code herald.yaml} from the current directory and the process environment. */
    public static ConfigLoader create() {
        return new ConfigLoader();
    }

    /** Where {@code herald.yaml} is looked for, and what a relative {@link #configFile} is resolved against. */
    public ConfigLoader workingDir(Path dir) {
        this.workingDir = Objects.requireNonNull(dir, "dir");
        return this;
    }

    /** An explicit YAML file ({@code --config}), which must exist; {@code null} looks for {@code herald.yaml}. */
    public ConfigLoader configFile(Path file) {
        this.configFile = file;
        return this;
    }

    /** The environment to read {@code HERALD_*} variables from; {@link System#getenv()} unless set. */
    public ConfigLoader env(Map<String, String> env) {
        this.env = Map.copyOf(env);
        return this;
    }

    /** Values from the command line by setting key, e.g. {@code "tls.cert" -> "cert.pem"}; they win over all. */
    public ConfigLoader flags(Map<String, String> flags) {
        flags.keySet().forEach(ConfigLoader::setting);
        this.flags = new LinkedHashMap<>(flags);
        return this;
    }

    /** Reads every source and builds the configuration; throws {@link ConfigException} on the first problem. */
    public HeraldConfig load() {
        HeraldConfig.Builder builder = HeraldConfig.builder();
        Path yaml = configFile;
        if (yaml == null && Files.exists(workingDir.resolve(DEFAULT_FILE), LinkOption.NOFOLLOW_LINKS)) {
            yaml = Path.of(DEFAULT_FILE); // a folder or a broken link by that name is an error too, not skipped
        }
        if (yaml != null) {
            Path file = workingDir.resolve(yaml);
            if (!Files.isRegularFile(file)) {
                throw new ConfigException("config: " + yaml + " (expected: an existing YAML file)");
            }
            applyYaml(builder, file, yaml.toString());
        }
        warnAboutUnknownVariables();
        for (Setting s : Settings.all()) {
            String value = env.get(s.envVar());
            if (value != null) {
                apply(builder, s, value, s.envVar());
            }
        }
        flags.forEach((key, value) -> apply(builder, setting(key), value, null));
        return builder.build();
    }

    private static void applyYaml(HeraldConfig.Builder builder, Path file, String name) {
        JsonNode root;
        try {
            root = YamlReader.read(YamlReader.utf8(Files.readAllBytes(file)));
        } catch (ConfigException e) {
            throw new ConfigException(name + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new ConfigException(name + ": cannot read (" + e + ")", e);
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            return; // an empty file
        }
        if (!root.isObject()) {
            throw new ConfigException(name + ": " + Setting.oneLine(root.toString())
                    + " (expected: a map of settings such as port: 8443)");
        }
        Map<String, JsonNode> values = new LinkedHashMap<>();
        flatten("", root, values);
        values.forEach((key, node) -> {
            String text = node.isValueNode() ? node.asText() : node.toString();
            Setting setting = Settings.byKey(key).orElseThrow(() -> new ConfigException(name + ": "
                    + Setting.oneLine(key) + ": " + Setting.oneLine(text) + " (expected: " + expectedFor(key) + ")"));
            if (!node.isNull()) { // "key:" with nothing after it leaves the default
                apply(builder, setting, text, name);
            }
        });
    }

    /**
     * {@code {tls: {cert: a}}} becomes {@code tls.cert -> a}. A map under a setting's own key (push.rules) stays
     * whole, so that the setting says what it expects instead of its fields being reported as unknown keys.
     */
    private static void flatten(String prefix, JsonNode node, Map<String, JsonNode> out) {
        node.properties().forEach(field -> {
            String key = prefix.isEmpty() ? field.getKey() : prefix + "." + field.getKey();
            if (field.getValue().isObject() && Settings.byKey(key).isEmpty()) {
                flatten(key, field.getValue(), out);
            } else {
                out.put(key, field.getValue());
            }
        });
    }

    /** What an unknown key should have been: a map, when it names a section such as {@code http2}. */
    private static String expectedFor(String key) {
        return Settings.all().stream()
                .map(Setting::key)
                .filter(k -> k.startsWith(key + "."))
                .findFirst()
                .map(k -> "a map of " + key + " settings, such as " + k.substring(key.length() + 1))
                .orElse("one of the keys herald --help lists");
    }

    /**
     * Logs each {@code HERALD_*} variable that names no setting, with the closest one that does: a typo would
     * otherwise leave the default in place without a word. Only a warning, since the environment is shared.
     */
    private void warnAboutUnknownVariables() {
        Set<String> known = new TreeSet<>(OTHER_VARIABLES);
        Settings.all().forEach(s -> known.add(s.envVar()));
        new TreeSet<>(env.keySet()).stream()
                .filter(name -> name.startsWith("HERALD_") && !known.contains(name))
                .forEach(name -> LOG.warn("ignoring the environment variable {}: no setting has that name{}",
                        name, closest(name, known).map(k -> " (did you mean " + k + "?)").orElse("")));
    }

    /** The known name at the smallest edit distance from {@code name}, if that distance is small for its length. */
    private static Optional<String> closest(String name, Set<String> known) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : known) {
            int d = editDistance(name, k);
            if (d < bestDistance) {
                best = k;
                bestDistance = d;
            }
        }
        int allowed = (name.length() - "HERALD_".length() + 2) / 3; // a third of the part after HERALD_
        return bestDistance <= allowed ? Optional.of(best) : Optional.empty();
    }

    /** Levenshtein distance: insertions, deletions and substitutions of one character. */
    private static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    private static void apply(HeraldConfig.Builder builder, Setting setting, String value, String source) {
        try {
            setting.apply(builder, value);
        } catch (ConfigException e) {
            throw source == null ? e : new ConfigException(source + ": " + e.getMessage(), e);
        }
    }

    private static Setting setting(String key) {
        return Settings.byKey(key).orElseThrow(() -> new IllegalArgumentException("unknown setting: " + key));
    }
}
