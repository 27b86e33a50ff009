package dev.herald.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a setting's text (from YAML, an environment variable or a flag) becomes a value, and how a default value is
 * shown again as text that parses back to it. Parsers only check the syntax; ranges are the builder's business.
 */
final class ValueType<T> {
    private static final Pattern SIZE_SYNTAX = Pattern.compile("(\\d{1,15})\\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?");
    private static final Pattern DURATION_SYNTAX = Pattern.compile("(\\d{1,12})\\s*(ms|s|m|h)");

    private static final Pattern INT_SYNTAX = Pattern.compile("[-+]?\\d+");

    static final ValueType<Integer> INT = new ValueType<>("<int>", "an integer", ValueType::parseInt,
            String::valueOf);
    static final ValueType<Integer> INT_SIZE = new ValueType<>("<size>",
            "a size below 2GiB such as 16KiB or 1MiB", s -> Math.toIntExact(parseSize(s)), ValueType::formatSize);
    static final ValueType<Long> SIZE = new ValueType<>("<size>", "a size such as 256KiB, 32MiB or 1GiB",
            ValueType::parseSize, ValueType::formatSize);
    /** {@link #SIZE} or {@code auto}, which is {@link HeraldConfig#SIZE_AUTO}. */
    static final ValueType<Long> SIZE_OR_AUTO = new ValueType<>("<size|auto>", "auto or a size such as 64KiB",
            s -> "auto".equalsIgnoreCase(s) ? HeraldConfig.SIZE_AUTO : parseSize(s),
            n -> n == HeraldConfig.SIZE_AUTO ? "auto" : formatSize(n));
    static final ValueType<Duration> DURATION = new ValueType<>("<duration>",
            "a duration such as 500ms, 10s or 2m", ValueType::parseDuration, ValueType::formatDuration);
    static final ValueType<Path> PATH = new ValueType<>("<path>", "a path", ValueType::parsePath, Path::toString);
    static final ValueType<Path> FILE = new ValueType<>("<file>", "an existing file",
            s -> existing(s, Files::isRegularFile), Path::toString);
    static final ValueType<Path> FOLDER = new ValueType<>("<dir>", "an existing folder",
            s -> existing(s, Files::isDirectory), Path::toString);
    static final ValueType<String> STRING = new ValueType<>("<text>", "text", s -> s, s -> s);
    static final ValueType<Boolean> BOOLEAN = new ValueType<>("<bool>", "true or false",
            ValueType::parseBoolean, String::valueOf);
    static final ValueType<List<PushRule>> PUSH_RULES = new ValueType<>("<rules>",
            "a list of rules such as [{path: /index.html, resources: [/css/site.css]}], each with the keys "
                    + String.join(", ", PushRule.FIELDS), ValueType::parsePushRules, ValueType::formatPushRules);

    /** One of an enum's constants by its lower-case name ({@code interleaved}). */
    static <E extends Enum<E>> ValueType<E> enumOf(Class<E> type) {
        E[] values = type.getEnumConstants();
        StringBuilder names = new StringBuilder();
        for (E v : values) {
            names.append(names.length() == 0 ? "" : ", ").append(v.name().toLowerCase(Locale.ROOT));
        }
        return new ValueType<>("<" + names.toString().replace(", ", "|") + ">", "one of " + names,
                s -> Enum.valueOf(type, s.toUpperCase(Locale.ROOT)), v -> v.name().toLowerCase(Locale.ROOT));
    }

    private final String label;
    private final String expected;
    private final Function<String, T> parser;
    private final Function<T, String> formatter;

    private ValueType(String label, String expected, Function<String, T> parser, Function<T, String> formatter) {
        this.label = label;
        this.expected = expected;
        this.parser = parser;
        this.formatter = formatter;
    }

    /** The parameter label shown in {@code --help}, such as {@code <size>}. */
    String label() {
        return label;
    }

    /** What a valid text looks like, for {@code key: value (expected: ...)}. */
    String expected() {
        return expected;
    }

    /**
     * The value of this (trimmed) text; throws {@link IllegalArgumentException} when it does not parse,
     * {@link OutOfRange} when it is a number too large for the type, and {@link ConfigException} for a problem
     * that a part of the value names itself ({@code push.rules[1].limit: ...}).
     */
    T parse(String text) {
        try {
            return parser.apply(text.trim());
        } catch (OutOfRange | ConfigException e) {
            throw e;
        } catch (RuntimeException e) { // NumberFormatException, ArithmeticException (overflow), InvalidPathException
            throw new IllegalArgumentException(text, e);
        }
    }

    /** Text that {@link #parse} turns back into this value. */
    String format(T value) {
        return formatter.apply(value);
    }

    /** An {@code int}; a longer run of digits is {@link OutOfRange} rather than "not an integer". */
    private static int parseInt(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            if (INT_SYNTAX.matcher(s).matches()) {
                throw new OutOfRange("an integer from " + Integer.MIN_VALUE + " to " + Integer.MAX_VALUE,
                        s.startsWith("-") ? Integer.MIN_VALUE : Integer.MAX_VALUE);
            }
            throw e;
        }
    }

    /** Bytes with an optional unit, all powers of 1024: {@code 512}, {@code 16k}, {@code 64KiB}, {@code 1MiB}. */
    private static long parseSize(String s) {
        Matcher m = SIZE_SYNTAX.matcher(s.toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException(s);
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "b" : m.group(2);
        int shift = switch (unit.charAt(0)) {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            default -> 0;
        };
        return Math.multiplyExact(n, 1L << shift);
    }

    private static String formatSize(long n) {
        String[] units = {"GiB", "MiB", "KiB"};
        for (int i = 0; i < units.length; i++) {
            long unit = 1L << (30 - 10 * i);
            if (n >= unit && n % unit == 0) {
                return n / unit + units[i];
            }
        }
        return Long.toString(n);
    }

    private static Duration parseDuration(String s) {
        Matcher m = DURATION_SYNTAX.matcher(s);
        if (!m.matches()) {
            throw new IllegalArgumentException(s);
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
    }

    private static String formatDuration(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }

    private static Path parsePath(String s) {
        if (s.isEmpty()) {
            throw new IllegalArgumentException("empty path");
        }
        return Path.of(s);
    }

    private static Path existing(String s, Predicate<Path> test) {
        Path p = parsePath(s);
        if (!test.test(p)) {
            throw new IllegalArgumentException(s);
        }
        return p;
    }

    /**
     * {@code push.rules}: a YAML (or JSON) list of maps; {@link ConfigLoader} hands a YAML list over as JSON text,
     * an environment variable or flag gives it as flow YAML or JSON. The shape and the type of each field are
     * checked here, naming the rule and field ({@code push.rules[1].enabled: maybe (expected: true or false)});
     * their values are {@link PushRule#problem()}'s business.
     */
    private static List<PushRule> parsePushRules(String s) {
        JsonNode root;
        try {
            root = YamlReader.read(s);
        } catch (ConfigException e) {
            throw new ConfigException("push.rules: " + e.getMessage(), e);
        }
        if (root == null || root.isNull() || root.isMissingNode()) {
            return List.of();
        }
        if (!root.isArray()) {
            throw new IllegalArgumentException(s);
        }
        List<PushRule> rules = new ArrayList<>();
        for (int i = 0; i < root.size(); i++) {
            rules.add(pushRule(root.get(i), "push.rules[" + i + "]"));
        }
        return List.copyOf(rules);
    }

    private static PushRule pushRule(JsonNode n, String name) {
        if (!n.isObject() || !n.path("path").isTextual()) {
            throw new ConfigException(name + ": " + Setting.oneLine(n.toString())
                    + " (expected: a rule with a path such as {path: /index.html, resources: [/css/site.css]})");
        }
        n.fieldNames().forEachRemaining(f -> {
            if (!PushRule.FIELDS.contains(f)) {
                throw ruleField(name, f, n.get(f));
            }
        });
        return new PushRule(n.get("path").asText(), texts(n, name, "resources"), bool(n, name, "enabled"),
                limit(n, name), bool(n, name, "discovery"), texts(n, name, "link"));
    }

    private static ConfigException ruleField(String rule, String field, JsonNode value) {
        String text = value.isValueNode() ? value.asText() : value.toString();
        return new ConfigException(rule + "." + Setting.oneLine(field) + ": " + Setting.oneLine(text)
                + " (expected: " + PushRule.expected(field) + ")");
    }

    private static List<String> texts(JsonNode rule, String name, String field) {
        JsonNode n = rule.get(field);
        if (n == null || n.isNull()) {
            return List.of();
        }
        if (n.isTextual()) {
            return List.of(n.asText());
        }
        if (!n.isArray()) {
            throw ruleField(name, field, n);
        }
        List<String> out = new ArrayList<>();
        for (JsonNode e : n) {
            if (!e.isTextual()) {
                throw ruleField(name, field, n);
            }
            out.add(e.asText());
        }
        return out;
    }

    /** A switch that is true unless the rule says otherwise. */
    private static boolean bool(JsonNode rule, String name, String field) {
        JsonNode n = rule.get(field);
        if (n == null || n.isNull()) {
            return true;
        }
        if (!n.isBoolean()) {
            throw ruleField(name, field, n);
        }
        return n.asBoolean();
    }

    /** The rule's limit, or -1 (keep push.max-resources) when it has none; a negative limit is refused. */
    private static int limit(JsonNode rule, String name) {
        JsonNode n = rule.get("limit");
        if (n == null || n.isNull()) {
            return -1;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < 0) {
            throw ruleField(name, "limit", n);
        }
        return n.asInt();
    }

    private static String formatPushRules(List<PushRule> rules) {
        ArrayNode out = JsonNodeFactory.instance.arrayNode();
        for (PushRule r : rules) {
            ObjectNode o = out.addObject();
            o.put("path", r.path());
            r.resources().forEach(o.putArray("resources")::add);
            o.put("enabled", r.enabled());
            if (r.limit() >= 0) {
                o.put("limit", r.limit());
            }
            o.put("discovery", r.discovery());
            r.links().forEach(o.putArray("link")::add);
        }
        return out.toString();
    }

    private static boolean parseBoolean(String s) {
        if (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(s);
        }
        throw new IllegalArgumentException(s);
    }

    /** A number of the right kind but too large (or small) for the type; the message is the range expected. */
    static final class OutOfRange extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        /** The value of the type closest to the text (the largest int for a long run of digits). */
        final transient Object nearest;

        OutOfRange(String expected, Object nearest) {
            super(expected);
            this.nearest = nearest;
        }
    }
}
