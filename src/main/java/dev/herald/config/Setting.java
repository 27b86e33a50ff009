package dev.herald.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * One Herald option, reachable three ways from one {@link #key() key}: {@code http2.max-concurrent-streams} in
 * YAML (nested maps flattened with dots), the flag {@code --http2-max-concurrent-streams} and the environment
 * variable {@code HERALD_HTTP2_MAX_CONCURRENT_STREAMS}. All of them are listed in {@link Settings#all()}.
 */
public final class Setting {
    private final String key;
    private final List<String> flags;
    private final String paramLabel;
    private final boolean isBoolean;
    private final String description;
    private final String defaultValue;
    private final BiConsumer<HeraldConfig.Builder, String> apply;

    private Setting(String key, List<String> flags, String paramLabel, boolean isBoolean, String description,
            String defaultValue, BiConsumer<HeraldConfig.Builder, String> apply) {
        this.key = key;
        this.flags = List.copyOf(flags);
        this.paramLabel = paramLabel;
        this.isBoolean = isBoolean;
        this.description = description;
        this.defaultValue = defaultValue;
        this.apply = apply;
    }

    /**
     * A setting whose text is parsed by {@code type} and handed to {@code setter}; its default is read with
     * {@code getter} from {@code defaults}, so the builder stays the one place defaults are written.
     */
    static <T> Setting of(String key, ValueType<T> type, BiConsumer<HeraldConfig.Builder, T> setter,
            Function<HeraldConfig, T> getter, HeraldConfig defaults, String description) {
        T def = getter.apply(defaults);
        BiConsumer<HeraldConfig.Builder, String> apply = (builder, text) -> {
            T value;
            ValueType.OutOfRange outOfRange = null;
            try {
                value = type.parse(text);
            } catch (ValueType.OutOfRange e) {
                // The builder's own check of the nearest value the type holds names the setting's range, if it
                // has one narrower than the type's (port: 1..65535); the load fails either way.
                @SuppressWarnings("unchecked")
                T nearest = (T) e.nearest;
                value = nearest;
                outOfRange = e;
            } catch (IllegalArgumentException e) {
                throw new ConfigException(key + ": " + oneLine(text) + " (expected: " + type.expected() + ")");
            }
            try {
                setter.accept(builder, value);
            } catch (ConfigException e) {
                // The builder names the parsed value (65536, PT0S); show what the user wrote (64KiB, 0s) instead.
                String parsed = key + ": " + oneLine(String.valueOf(value)) + " (";
                String message = e.getMessage();
                if (!message.startsWith(parsed)) {
                    throw e;
                }
                throw new ConfigException(key + ": " + oneLine(text) + message.substring(parsed.length() - 2));
            }
            if (outOfRange != null) {
                throw new ConfigException(key + ": " + oneLine(text) + " is out of range (expected: "
                        + outOfRange.getMessage() + ")");
            }
        };
        return new Setting(key, List.of("--" + key.replace('.', '-')), type.label(), type == ValueType.BOOLEAN,
                description, def == null ? null : type.format(def), apply);
    }

    /** This setting with one more flag, such as {@code --cert} for {@code tls.cert}. */
    Setting alias(String flag) {
        List<String> more = new ArrayList<>(flags);
        more.add(flag);
        return new Setting(key, more, paramLabel, isBoolean, description, defaultValue, apply);
    }

    /** The YAML key, with dots between nesting levels: {@code tls.cert}. */
    public String key() {
        return key;
    }

    /** The command-line flags, the one derived from the key first: {@code --tls-cert}, {@code --cert}. */
    public List<String> flags() {
        return flags;
    }

    /** {@code HERALD_} and the key upper-cased, dots and dashes as underscores: {@code HERALD_TLS_CERT}. */
    public String envVar() {
        return "HERALD_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** The kind of value, for help: {@code <int>}, {@code <size>}, {@code <duration>}, {@code <path>}... */
    public String paramLabel() {
        return paramLabel;
    }

    /** Whether this is a true/false switch (so a bare {@code --verbose} means true). */
    public boolean isBoolean() {
        return isBoolean;
    }

    /** What the option bounds and why its default is what it is. */
    public String description() {
        return description;
    }

    /** The default as text this setting accepts ({@code 1MiB}, {@code 10s}); empty when unset by default. */
    public Optional<String> defaultValue() {
        return Optional.ofNullable(defaultValue);
    }

    /** Parses {@code text} and sets it on {@code builder}; a bad value throws {@code key: text (expected: ...)}. */
    void apply(HeraldConfig.Builder builder, String text) {
        apply.accept(builder, text);
    }

    @Override
    public String toString() {
        return key;
    }

    /**
     * Keeps an error message on one line even when a YAML block scalar spans several, and shows the other control
     * characters (NUL, ESC...) as escapes instead of writing them to the terminal.
     */
    static String oneLine(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\r') {
                out.append("\\r");
            } else if (c == '\n') {
                out.append("\\n");
            } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
