package dev.herald.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

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
 * <p>The YAML file is {@code herald.yaml} in the working directory when it exists, or the one given to
 * {@link #configFile}, which must exist. Nested maps are flattened with dots: a {@code max-concurrent-streams}
 * entry under {@code http2} sets {@code http2.max-concurrent-streams}. Every key is one of {@link Settings#all()};
 * relative paths in values are relative to the process's working directory, as they are for flags.
 *
 * <p>An unknown key or a bad value throws a {@link ConfigException} with a one-line message naming its source
 * (the file, the variable; none for flags), the key, the value and what is expected:
 * {@code herald.yaml: port: 99999 (expected: -1 (off), 0 (any) or 1..65535)}.
 */
public final class ConfigLoader {
    /** The file looked for in the working directory when no config file is given. */
    public static final String DEFAULT_FILE = "herald.yaml";

    private static final ObjectMapper YAML = YAMLMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

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
        if (configFile != null) {
            Path file = workingDir.resolve(configFile);
            if (!Files.isRegularFile(file)) {
                throw new ConfigException("config: " + configFile + " (expected: an existing YAML file)");
            }
            applyYaml(builder, file, configFile.toString());
        } else if (Files.isRegularFile(workingDir.resolve(DEFAULT_FILE))) {
            applyYaml(builder, workingDir.resolve(DEFAULT_FILE), DEFAULT_FILE);
        }
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
            root = YAML.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : "line " + at.getLineNr() + ", column " + at.getColumnNr() + ": ";
            throw new ConfigException(name + ": " + where + firstLine(e.getOriginalMessage()), e);
        } catch (IOException e) {
            throw new ConfigException(name + ": cannot read (" + firstLine(e.toString()) + ")", e);
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
            Setting setting = Settings.byKey(key).orElseThrow(() -> new ConfigException(name + ": " + Setting.oneLine(key) + ": "
                    + Setting.oneLine(text) + " (expected: one of the keys herald --help lists)"));
            if (!node.isNull()) { // "key:" with nothing after it leaves the default
                apply(builder, setting, text, name);
            }
        });
    }

    /** {@code {tls: {cert: a}}} becomes {@code tls.cert -> a}. */
    private static void flatten(String prefix, JsonNode node, Map<String, JsonNode> out) {
        node.properties().forEach(field -> {
            String key = prefix.isEmpty() ? field.getKey() : prefix + "." + field.getKey();
            if (field.getValue().isObject()) {
                flatten(key, field.getValue(), out);
            } else {
                out.put(key, field.getValue());
            }
        });
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

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).strip();
    }
}
