package dev.herald.stream;

import dev.herald.server.Exchange;
import dev.herald.server.Handler;
import dev.herald.server.LimitLog;
import dev.herald.server.Request;
import dev.herald.server.Response;
import dev.herald.store.EventId;
import dev.herald.store.EventLog;
import dev.herald.store.StoreException;
import dev.herald.store.StoreOverloadedException;
import dev.herald.store.StoreTimeoutException;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

/**
 * The topic hub over HTTP, routed at the prefix {@code /topics/}.
 *
 * <ul>
 *   <li>{@code GET /topics/{name}} subscribes: SSE when Accept names {@code text/event-stream}, NDJSON
 *       otherwise. {@code Last-Event-ID} (preferred) or {@code ?since=ID} resumes after that id: the missed
 *       events come from the store, then the stream goes live with no gap and no duplicate. An id older than the
 *       retention gets a {@code reset} message first, and so does a well-formed id the store does not have (newer
 *       than its last event, or lost with the store's data): the client replays from the oldest retained event
 *       instead of ending for good (EventSource gives up at any status but 200). A malformed id gets 400.</li>
 *   <li>{@code POST /topics/{name}} publishes one JSON value (JSON content type, at most
 *       {@link StreamSettings#maxEventBytes()}), answering 201 {@code {"id":...}} once committed.</li>
 *   <li>{@code HEAD /topics/{name}} answers the status and headers a GET would get, without subscribing.</li>
 *   <li>{@code OPTIONS} gets 204 with {@code Allow}, as {@code /msgs} does; other methods 405 with {@code Allow}.
 *       A topic name is 1 to 128 of {@code A-Z a-z 0-9 . _ -}, not {@code .} or {@code ..} (400 otherwise, whatever
 *       the allowed method). Errors are {@code {"error","detail"}} and a log line.</li>
 * </ul>
 */
public final class TopicsHandler implements Handler, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TopicsHandler.class);
    private static final String PREFIX = "/topics/";
    private static final String RETRY_AFTER = "5";
    /** The methods a topic answers, for 405's {@code Allow}. */
    static final String ALLOW = "GET, HEAD, POST, OPTIONS";

    private final TopicHub hub;
    private final StreamSettings settings;
    private final Optional<byte[]> publishToken;
    private final Optional<byte[]> subscribeToken;
    private final LimitLog limitLog;

    public TopicsHandler(EventLog log, StreamSettings settings, MeterRegistry metrics) {
        this(log, settings, metrics, LimitLog.create(Duration.ofSeconds(10)));
    }

    /** As above, warning of exceeded limits (topics, subscribers) through {@code limitLog}. */
    public TopicsHandler(EventLog log, StreamSettings settings, MeterRegistry metrics, LimitLog limitLog) {
        this.settings = settings;
        this.limitLog = limitLog;
        this.hub = new TopicHub(log, settings, metrics);
        this.publishToken = settings.publishToken().map(TopicsHandler::digest);
        this.subscribeToken = settings.subscribeToken().map(TopicsHandler::digest);
    }

    /** The hub: programmatic publishing, subscriber count, shutdown. */
    public TopicHub hub() {
        return hub;
    }

    /** Ends every subscriber stream. */
    @Override
    public void close() {
        hub.close();
    }

    @Override
    public void handle(Exchange exchange) {
        Request r = exchange.request();
        String method = r.method();
        if (!method.equals("GET") && !method.equals("HEAD") && !method.equals("POST") && !method.equals("OPTIONS")) {
            exchange.respond(Response.error(405, "method not allowed", method + " is not supported on topics")
                    .header("allow", ALLOW));
            log(r, 405, "method not allowed");
            return;
        }
        String path = r.path();
        String name = path.startsWith(PREFIX) ? path.substring(PREFIX.length()) : "";
        if (!TopicHub.validTopic(name)) {
            String shown = name.length() > 64 ? name.substring(0, 64) + "…(" + name.length() + " chars)" : name;
            error(exchange, 400, "bad topic name",
                    "topic '" + shown + "' (expected: " + TopicHub.TOPIC_GRAMMAR + ")");
            return;
        }
        switch (method) {
            case "GET", "HEAD" -> subscribe(exchange, name);
            case "OPTIONS" -> exchange.respond(Response.status(204).header("allow", ALLOW));
            default -> publish(exchange, name);
        }
    }

    private void subscribe(Exchange exchange, String topic) {
        Request r = exchange.request();
        if (settings.privateTopics().map(p -> p.matcher(topic).matches()).orElse(false)
                && !authorized(exchange, subscribeToken.orElseThrow())) {
            return;
        }
        EventId after;
        try {
            after = resumeId(r);
        } catch (IllegalArgumentException e) {
            error(exchange, 400, "bad event id", e.getMessage());
            return;
        }
        if (r.isHead()) {
            head(exchange, topic);
            return;
        }
        if (!hub.admitTopic(topic, true)) {
            tooManyTopics(exchange, topic);
            return;
        }
        String refused = hub.reserve(r.connectionId());
        if (refused != null) {
            hub.leaveTopic(topic);
            tooManySubscribers(exchange, refused);
            return;
        }
        Subscriber s = new Subscriber(hub, topic, Format.negotiate(r.header("accept")), exchange);
        if (after == null) {
            s.startLive();
        } else {
            s.startResume(after);
        }
    }

    /**
     * RFC 9110 §9.3.2: the GET's status and headers after the GET's checks (the token and the id above, here the
     * topic and subscriber limits, which count nothing); no content-length (the GET's stream has none), no body.
     * The store is not read: every well-formed id gets a 200 stream (with a reset when the store does not have it),
     * so only a failing store could make the GET's answer differ.
     */
    private void head(Exchange exchange, String topic) {
        Request r = exchange.request();
        if (!hub.wouldAdmitTopic(topic)) {
            tooManyTopics(exchange, topic);
            return;
        }
        String refused = hub.wouldRefuse(r.connectionId());
        if (refused != null) {
            tooManySubscribers(exchange, refused);
            return;
        }
        Response head = Response.status(200).lengthUnknown();
        Subscriber.headers(Format.negotiate(r.header("accept"))).forEach(head::header);
        exchange.respond(head);
    }

    /** {@code Last-Event-ID} wins over {@code ?since=}: EventSource sends the header on reconnect to the same URL. */
    private static EventId resumeId(Request r) {
        String id = r.header("last-event-id");
        if (id == null) {
            id = queryParam(r.query(), "since");
        }
        if (id == null) {
            return null;
        }
        id = id.strip();
        if (id.isEmpty()) {
            return null; // EventSource sends an empty Last-Event-ID before it has seen an id
        }
        return EventId.parse(id);
    }

    static String queryParam(String query, String name) {
        if (query == null) {
            return null;
        }
        for (String part : query.split("&")) {
            int eq = part.indexOf('=');
            String k = eq < 0 ? part : part.substring(0, eq);
            if (k.equals(name)) {
                try {
                    return eq < 0 ? "" : URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("since: malformed percent-encoding");
                }
            }
        }
        return null;
    }

    private void publish(Exchange exchange, String topic) {
        Request r = exchange.request();
        if (publishToken.isPresent() && !authorized(exchange, publishToken.get())) {
            return;
        }
        byte[] body = r.body();
        Refusal refusal = refusal(r.header("content-type"), body, settings.maxEventBytes());
        if (refusal != null) {
            error(exchange, refusal.status(), refusal.error(), refusal.detail());
            return;
        }
        if (!hub.admitTopic(topic, false)) {
            tooManyTopics(exchange, topic);
            return;
        }
        hub.log.append(topic, new String(body, StandardCharsets.UTF_8).strip()).whenComplete((e, err) -> {
            if (err != null) {
                Throwable cause = StoreException.unwrap(err);
                if (cause instanceof StoreOverloadedException) {
                    exchange.respond(Response.error(503, "store overloaded", cause.getMessage())
                            .header("retry-after", "1"));
                    log(r, 503, cause.getMessage());
                    return;
                }
                limitLog.failed("topics publish", "POST " + r.path() + " from " + r.remote(), cause);
                if (cause instanceof StoreTimeoutException) {
                    exchange.respond(Response.error(504, "store timeout", "the store did not answer; the event"
                            + " may have been stored: resume from your last id to check before publishing it again"));
                } else {
                    exchange.respond(Response.error(503, "store unavailable", "the event could not be stored; retry")
                            .header("retry-after", RETRY_AFTER));
                }
            } else {
                exchange.respond(Response.json(201, "{\"id\":\"" + e.id() + "\"}"));
            }
        });
    }

    /** Answers 503: {@code topic} would be one live topic too many. */
    private void tooManyTopics(Exchange exchange, String topic) {
        Request r = exchange.request();
        String detail = "topic " + topic + " would be one more than the " + settings.maxTopics() + " live topics";
        exchange.respond(Response.error(503, "too many topics", detail).header("retry-after", RETRY_AFTER));
        limitLog.exceeded("limits.max-topics", r.remote(), r.method() + " " + r.path() + ": 503 " + detail);
    }

    /** Answers 503: one subscriber too many, as {@code refused} by the hub says. */
    private void tooManySubscribers(Exchange exchange, String refused) {
        Request r = exchange.request();
        exchange.respond(Response.error(503, "too many subscribers", refused).header("retry-after", RETRY_AFTER));
        limitLog.exceeded(refused.contains("connection") ? "streams.max-subscribers-per-connection"
                : "streams.max-subscribers", r.remote(), r.method() + " " + r.path() + ": 503 " + refused);
    }

    /** Why a publish is refused: the status and the JSON error document's two fields. */
    record Refusal(int status, String error, String detail) {
    }

    /**
     * Checks a publish: a JSON content type (415), at most {@code maxEventBytes} (413), exactly one JSON value in
     * UTF-8 (400). Null when the body may be stored.
     */
    static Refusal refusal(String contentType, byte[] body, int maxEventBytes) {
        if (!isJson(contentType)) {
            return new Refusal(415, "unsupported media type",
                    "content-type " + (contentType == null ? "missing" : "'" + contentType + "'")
                            + " (expected: application/json; charset=utf-8)");
        }
        if (body.length > maxEventBytes) {
            return new Refusal(413, "event too large",
                    body.length + " bytes (expected: at most " + maxEventBytes + ")");
        }
        String problem = JsonCheck.problem(body);
        return problem == null ? null : new Refusal(400, "invalid event", problem);
    }

    /** {@code application/json} or any {@code +json} type; a charset, when given, must be UTF-8. */
    static boolean isJson(String contentType) {
        if (contentType == null) {
            return false;
        }
        String[] parts = contentType.split(";", -1); // -1: ";" alone is one empty type, not no parts
        String mt = parts[0].strip().toLowerCase(Locale.ROOT);
        if (!mt.equals("application/json") && !(mt.startsWith("application/") && mt.endsWith("+json"))) {
            return false;
        }
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i].strip().toLowerCase(Locale.ROOT);
            if (p.startsWith("charset=")) {
                String cs = p.substring(8).replace("\"", "");
                if (!cs.equals("utf-8") && !cs.equals("utf8")) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Bearer check in constant time (digests of equal length are compared); answers 401/403 itself. */
    private boolean authorized(Exchange exchange, byte[] expected) {
        String auth = exchange.request().header("authorization");
        if (auth == null || !auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            exchange.respond(Response.error(401, "unauthorized", "a bearer token is required")
                    .header("www-authenticate", "Bearer"));
            log(exchange.request(), 401, "missing token");
            return false;
        }
        if (!MessageDigest.isEqual(digest(auth.substring(7).strip()), expected)) {
            error(exchange, 403, "forbidden", "the bearer token is not valid for this topic");
            return false;
        }
        return true;
    }

    private static byte[] digest(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static void error(Exchange exchange, int status, String error, String detail) {
        exchange.respond(Response.error(status, error, detail));
        log(exchange.request(), status, detail);
    }

    private static void log(Request r, int status, String detail) {
        LOG.info("{} {} -> {}: {}", r.method(), r.path().length() > 200 ? r.path().substring(0, 200) + "…" : r.path(),
                status, detail);
    }
}
