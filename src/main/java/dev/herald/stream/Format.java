package dev.herald.stream;

import dev.herald.store.Event;

import java.nio.charset.StandardCharsets;

/**
 * The two wire representations of a subscription. Topic names and ids are restricted to characters that need no
 * JSON escaping, and the event's data is already a validated JSON document, so encoding is concatenation.
 */
enum Format {
    /** One {@code {"id","topic","data","time"}} per line; heartbeats are empty lines. */
    NDJSON("application/x-ndjson; charset=utf-8") {
        @Override
        byte[] event(Event e) {
            return ndjson(e);
        }

        @Override
        byte[] heartbeat() {
            return NL;
        }

        @Override
        byte[] control(String type, String json) {
            return ("{\"type\":\"" + type + "\"," + json.substring(1) + "\n").getBytes(StandardCharsets.UTF_8);
        }

        @Override
        byte[] preamble(long retryMillis) {
            return null;
        }
    },
    /** Server-sent events for EventSource: {@code id:}, {@code event:}, {@code data:} lines, {@code retry:}. */
    SSE("text/event-stream; charset=utf-8") {
        @Override
        byte[] event(Event e) {
            StringBuilder sb = new StringBuilder(e.data().length() + 64);
            sb.append("id: ").append(e.id()).append("\nevent: message\n");
            dataLines(sb, e.data());
            return sb.append('\n').toString().getBytes(StandardCharsets.UTF_8);
        }

        @Override
        byte[] heartbeat() {
            return SSE_HB;
        }

        @Override
        byte[] control(String type, String json) {
            StringBuilder sb = new StringBuilder().append("event: ").append(type).append('\n');
            dataLines(sb, json);
            return sb.append('\n').toString().getBytes(StandardCharsets.UTF_8);
        }

        @Override
        byte[] preamble(long retryMillis) {
            return ("retry: " + retryMillis + "\n\n").getBytes(StandardCharsets.UTF_8);
        }
    };

    private static final byte[] NL = {'\n'};
    private static final byte[] SSE_HB = ": hb\n\n".getBytes(StandardCharsets.US_ASCII);

    final String contentType;

    Format(String contentType) {
        this.contentType = contentType;
    }

    abstract byte[] event(Event e);

    abstract byte[] heartbeat();

    /** A control message ({@code reset}, {@code slow}) whose details are the JSON object {@code json}. */
    abstract byte[] control(String type, String json);

    /** What goes first on a new stream, or {@code null}. */
    abstract byte[] preamble(long retryMillis);

    /** Accept decides: {@code text/event-stream} gets SSE, anything else NDJSON. */
    static Format negotiate(String accept) {
        return accept != null && accept.contains("text/event-stream") ? SSE : NDJSON;
    }

    static byte[] ndjson(Event e) {
        String data = e.data();
        // Line breaks in valid JSON are only ever whitespace between tokens (inside strings they must be
        // escaped), so replacing them by spaces keeps the document identical and makes it one line.
        if (data.indexOf('\n') >= 0 || data.indexOf('\r') >= 0) {
            data = data.replace('\n', ' ').replace('\r', ' ');
        }
        String line = "{\"id\":\"" + e.id() + "\",\"topic\":\"" + e.topic() + "\",\"data\":" + data
                + ",\"time\":" + e.time() + "}\n";
        return line.getBytes(StandardCharsets.UTF_8);
    }

    /** One {@code data:} line per line of the value; EventSource joins them back with newlines. */
    private static void dataLines(StringBuilder sb, String value) {
        int start = 0;
        int n = value.length();
        for (int i = 0; i < n; i++) {
            char c = value.charAt(i);
            if (c == '\n' || c == '\r') {
                sb.append("data: ").append(value, start, i).append('\n');
                if (c == '\r' && i + 1 < n && value.charAt(i + 1) == '\n') {
                    i++;
                }
                start = i + 1;
            }
        }
        sb.append("data: ").append(value, start, n).append('\n');
    }
}
