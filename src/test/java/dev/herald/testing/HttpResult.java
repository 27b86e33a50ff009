package dev.herald.testing;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A response as a test sees it, whichever client fetched it. Header names are lower-case. */
public record HttpResult(int status, Map<String, List<String>> headers, byte[] body, String protocol) {

    public String header(String name) {
        List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    public String bodyText() {
        return new String(body, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        String text = body.length > 200 ? bodyText().substring(0, 200) + "..." : bodyText();
        return protocol + " " + status + " " + headers + " body(" + body.length + ")=" + text;
    }
}
