package dev.herald.server;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.BiConsumer;

/**
 * An ordered list of header fields with lower-case names, independent of the wire protocol.
 *
 * <p>Requests arrive as HTTP/1.1 or HTTP/2 headers and are copied into this form once, so handlers never see
 * Netty types. Lookups are linear: a request carries a handful of fields, and a scan beats hashing them.
 */
public final class Headers {
    private final ArrayList<String> entries; // name, value, name, value...

    /** Whether {@code c} is a {@code tchar} (RFC 9110 §5.6.2): a visible ASCII character but a delimiter. */
    static boolean isTokenChar(char c) {
        return c > 0x20 && c < 0x7f && "()<>@,;:\\\"/[]?={}".indexOf(c) < 0;
    }

    /** Whether {@code s} is a non-empty {@code token} (RFC 9110 §5.6.2), as a method must be (§9.1). */
    static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (!isTokenChar(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    /**
     * The first coding in these comma-separated header values other than {@code allowed} (a Transfer-Encoding or
     * Content-Encoding Herald cannot decode), as it may go in a log line and an answer: {@code (not a token)} when it
     * is none; null when every coding is {@code allowed}.
     */
    static String firstCodingOtherThan(List<String> values, String allowed) {
        for (String value : values) {
            for (String coding : value.split(",")) {
                String c = coding.strip();
                if (!c.isEmpty() && !c.equalsIgnoreCase(allowed)) {
                    return c.length() <= 32 && isToken(c) ? c : "(not a token)";
                }
            }
        }
        return null;
    }

    public Headers() {
        entries = new ArrayList<>(16);
    }

    /** Room for {@code fields} fields without growing (a request's copy lives as long as its response). */
    public Headers(int fields) {
        entries = new ArrayList<>(2 * fields);
    }

    /** Adds a field; the name is lower-cased. */
    public Headers add(String name, String value) {
        entries.add(lower(name));
        entries.add(value);
        return this;
    }

    /** Replaces every field with this name by one field. */
    public Headers set(String name, String value) {
        remove(name);
        return add(name, value);
    }

    /** Removes every field with this name. */
    public Headers remove(String name) {
        String n = lower(name);
        for (int i = entries.size() - 2; i >= 0; i -= 2) {
            if (entries.get(i).equals(n)) {
                entries.remove(i + 1);
                entries.remove(i);
            }
        }
        return this;
    }

    /** The first value of the named field, or {@code null}. */
    public String get(String name) {
        String n = lower(name);
        for (int i = 0; i < entries.size(); i += 2) {
            if (entries.get(i).equals(n)) {
                return entries.get(i + 1);
            }
        }
        return null;
    }

    /** Every value of the named field, in order. */
    public List<String> getAll(String name) {
        String n = lower(name);
        List<String> values = new ArrayList<>(2);
        for (int i = 0; i < entries.size(); i += 2) {
            if (entries.get(i).equals(n)) {
                values.add(entries.get(i + 1));
            }
        }
        return values;
    }

    public boolean contains(String name) {
        return get(name) != null;
    }

    public int size() {
        return entries.size() / 2;
    }

    public void forEach(BiConsumer<String, String> action) {
        for (int i = 0; i < entries.size(); i += 2) {
            action.accept(entries.get(i), entries.get(i + 1));
        }
    }

    private static String lower(String name) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                return name.toLowerCase(Locale.ROOT);
            }
        }
        return name;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        forEach((n, v) -> sb.append(n).append(": ").append(v).append('\n'));
        return sb.toString();
    }
}
