package dev.herald.store;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import org.slf4j.Logger;

import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Event data read back from a store, checked before anyone streams it. Herald stores only data it validated, but a
 * SQLite file can be damaged (SQLite has no checksums on data pages) or edited, and a Redis stream can be written by
 * any other client: data that is not one JSON value would be concatenated into the NDJSON and SSE streams as it is,
 * and break every subscriber's parser. Such an event is skipped, like a Redis entry without data, with a WARN line
 * per event: at most once per event while fewer than {@value #REPORTED_MAX} damaged events are remembered, so that
 * every subscriber replaying the same event does not repeat the line.
 *
 * <p>Only syntax is checked (one JSON value, nothing after it), not what publishing also refuses (duplicate names,
 * unpaired surrogates): that is enough for the streams' framing and the clients' parsers, and costs one streaming
 * parse per event read. Thread-safe.
 */
public final class StoredData {
    static final int REPORTED_MAX = 1024;
    private static final JsonFactory FACTORY = new JsonFactory();

    private final Set<String> reported = ConcurrentHashMap.newKeySet();

    /** {@code null} when {@code data} is exactly one JSON value; otherwise what is wrong with it. */
    public static String problem(String data) {
        if (data.indexOf('\0') >= 0) {
            return "a NUL character"; // Jackson ends the document at a NUL after a root value
        }
        if (data.isBlank()) {
            return "empty";
        }
        try (JsonParser p = FACTORY.createParser(data)) {
            return oneValue(p, s -> {
                s.getTextLength(); // parses the whole string: control characters and bad escapes are refused
                return null;
            });
        } catch (JsonProcessingException e) {
            return "not JSON: " + e.getOriginalMessage();
        } catch (IOException e) {
            return "not JSON: " + e.getMessage();
        }
    }

    /**
     * Reads exactly one JSON value from {@code p}, which is before it, and checks that nothing follows. Calls
     * {@code strings} at each string value (not names), which may tell a problem. Jackson's own errors are thrown.
     *
     * @return {@code null} when {@code p} held one value, else what is wrong
     */
    public static String oneValue(JsonParser p, StringCheck strings) throws IOException {
        JsonToken t = p.nextToken();
        if (t == null) {
            return "the body is empty (expected: a JSON value)";
        }
        int depth = 0;
        do {
            if (t.isStructStart()) {
                depth++;
            } else if (t.isStructEnd()) {
                depth--;
            } else if (t == JsonToken.VALUE_STRING) {
                String problem = strings.problem(p);
                if (problem != null) {
                    return problem;
                }
            }
        } while (depth > 0 && (t = p.nextToken()) != null);
        JsonLocation l = p.currentLocation();
        long end = l.getByteOffset() >= 0 ? l.getByteOffset() : l.getCharOffset();
        try {
            if (p.nextToken() == null) {
                return null;
            }
        } catch (JsonProcessingException e) {
            // what follows is not JSON either: still content after the value
        }
        return "unexpected content after the JSON value at offset " + end;
    }

    /** A check of the string value a parser is at. */
    @FunctionalInterface
    public interface StringCheck {
        /** {@code null} when the string at {@code p} is fine, else what is wrong with it. */
        String problem(JsonParser p) throws IOException;
    }

    /**
     * Whether the event {@code id} of {@code topic} can be streamed; when not, logs it to {@code log} (see the class
     * documentation) as read from {@code where}, such as {@code event log /var/herald/events.db}.
     */
    public boolean usable(Logger log, String where, String topic, EventId id, String data) {
        String problem = problem(data);
        if (problem == null) {
            return true;
        }
        String told = problem.length() > 200 ? problem.substring(0, 200) + "..." : problem;
        skipped(log, where, topic, id, told + "; " + data.length() + " characters");
        return false;
    }

    /** Logs that the event {@code id} is skipped for {@code problem}, unless it was logged already (remembered). */
    public void skipped(Logger log, String where, String topic, EventId id, String problem) {
        if (reported.size() >= REPORTED_MAX) {
            reported.clear();
        }
        if (reported.add(topic + ' ' + id)) {
            log.warn("{}: event {} of topic {} is damaged ({}): skipped", where, id, topic, problem);
        }
    }
}
