package dev.herald.server;

import dev.herald.config.HeraldConfig;
import io.netty.channel.Channel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * What HTTP/1.1 and HTTP/2 exchanges share: dispatch to the application, exactly-once responses, the hop to the
 * event loop, and the access-log line and metrics when the response is done.
 */
abstract class AbstractExchange implements Exchange {
    private static final Logger LOG = LoggerFactory.getLogger(AbstractExchange.class);

    final ServerContext server;
    final Channel channel;
    final Request request;
    final long startNanos = System.nanoTime();
    /** Whether this exchange answers a pushed (promised) request: it never pushes or hints itself. */
    final boolean pushed;
    private boolean responded;
    private boolean preloaded;
    /** What this page announced and what became of it; null when it announced nothing. */
    PagePushes pushes;
    /**
     * Paths announced so far (preload and Link headers), so none is announced twice; null until the first. Most
     * exchanges announce nothing, and a long-running stream keeps its exchange for hours.
     */
    private java.util.Set<String> announced;
    /** Link field values for the final response, from {@link #preload}. */
    private List<String> links = List.of();
    /** The target of each of {@link #links}. */
    private List<String> linkPaths = List.of();
    /** Resources of later push rounds (hinted until then), in round order; null when there are none. */
    private java.util.ArrayDeque<Preload> later;

    AbstractExchange(ServerContext server, Channel channel, Request request) {
        this(server, channel, request, false);
    }

    AbstractExchange(ServerContext server, Channel channel, Request request, boolean pushed) {
        this.server = server;
        this.channel = channel;
        this.request = request;
        this.pushed = pushed;
    }

    @Override
    public long congestionWindowBytes() {
        return ConnectionInfo.congestionWindowBytes(channel);
    }

    @Override
    public final void preload(List<Preload> resources, List<String> heldByClient) {
        if (!channel.eventLoop().inEventLoop()) {
            List<Preload> copy = List.copyOf(resources);
            List<String> held = List.copyOf(heldByClient);
            channel.eventLoop().execute(() -> preload(copy, held));
            return;
        }
        if (preloaded || responded || pushed || !channel.isActive()) {
            return;
        }
        preloaded = true;
        if (resources.isEmpty() && heldByClient.isEmpty()) {
            return;
        }
        pushes = new PagePushes();
        pushes.skippedDigest.addAll(heldByClient);
        heldByClient.forEach(this::noteAnnounced); // nor pushed from the response's own Link lines later
        if (!"GET".equals(request.method())) {
            pushes.reason = "not-get";
            return;
        }
        if (isConditional(request)) {
            pushes.reason = "conditional";
            return;
        }
        List<Preload> rest = announce(resources);
        if (rest.isEmpty()) {
            return;
        }
        List<String> values = new ArrayList<>(rest.size());
        List<String> early = new ArrayList<>(rest.size());
        List<String> paths = new ArrayList<>(rest.size());
        for (Preload p : rest) {
            values.add(p.linkValue());
            if (p.early()) {
                early.add(p.linkValue());
            }
            paths.add(p.path());
        }
        links = values;
        linkPaths = paths;
        if (!early.isEmpty() && earlyHintsAllowed() && earlyHints(early)) {
            server.metrics.earlyHintsSent.increment();
        }
    }

    /** Notes that {@code path} is dealt with: announced, or left out as held by the client. */
    private void noteAnnounced(String path) {
        if (announced == null) {
            announced = new java.util.HashSet<>();
        }
        announced.add(path);
    }

    /** Pushes what it can of {@code resources} (if push is on) and returns what is left to hint, noted as hinted. */
    private List<Preload> announce(List<Preload> resources) {
        for (Preload p : resources) {
            noteAnnounced(p.path());
        }
        List<Preload> rest;
        if (server.config.pushEnabled()) {
            rest = push(firstRound(resources), pushes);
            if (later != null && !pushes.pushed.isEmpty()) {
                pushes.onIdle = this::pushNextRound;
            } else {
                later = null; // nothing promised now, so nothing will be written to open the next round
            }
        } else {
            rest = resources;
            pushes.reason = "push-disabled";
        }
        for (Preload p : rest) {
            pushes.hinted.add(p.path());
        }
        return rest;
    }

    /**
     * The resources with those of later rounds turned hint-only, which are kept in {@link #later} for
     * {@link #pushNextRound}.
     */
    private List<Preload> firstRound(List<Preload> resources) {
        List<Preload> now = new ArrayList<>(resources.size());
        List<Preload> rounds = new ArrayList<>();
        for (Preload p : resources) {
            if (p.later()) {
                rounds.add(p);
                now.add(p.noPush());
            } else {
                now.add(p);
            }
        }
        if (!rounds.isEmpty()) {
            rounds.sort(java.util.Comparator.comparingInt(Preload::round)); // stable: manifest order in a round
            later = new java.util.ArrayDeque<>(rounds);
        }
        return now;
    }

    /**
     * The think-time budget ({@link Preload#round()}): every push so far is written and the page's response has
     * not started, so the connection would idle; the next round is promised now, while PUSH_PROMISE may still
     * precede the page's HEADERS (RFC 9113 §8.4). A round the diary empties entirely moves on to the next one.
     */
    private void pushNextRound() {
        while (later != null && !later.isEmpty() && !responded && channel.isActive()) {
            int round = later.peek().round();
            List<Preload> next = new ArrayList<>();
            while (!later.isEmpty() && later.peek().round() == round) {
                next.add(later.poll().round(0));
            }
            int before = pushes.pushed.size();
            push(next, pushes); // what it does not push stays hinted, as it was
            if (pushes.pushed.size() > before) {
                return;
            }
        }
    }

    /**
     * Pushes what the protocol and the client allow, on the event loop, notes the decision in {@code page}, and
     * returns the resources left to hint (not pushed, and not already known to the client). HTTP/1.1 pushes
     * nothing.
     */
    List<Preload> push(List<Preload> resources, PagePushes page) {
        page.reason = "http/1.1";
        return resources;
    }

    /** Whether {@code push.early-hints} lets this protocol have a 103; HTTP/1.1 needs {@code all}. */
    boolean earlyHintsAllowed() {
        return server.config.pushEarlyHints() == HeraldConfig.EarlyHints.ALL;
    }

    /** Writes a {@code 103 Early Hints} response with these Link values (on the event loop); false if it cannot. */
    abstract boolean earlyHints(List<String> linkValues);

    /** Conditional or partial: the client already holds (part of) the page, so it holds its assets. */
    static boolean isConditional(Request r) {
        Headers h = r.headers();
        return h.contains("if-none-match") || h.contains("if-modified-since") || h.contains("if-match")
                || h.contains("if-unmodified-since") || h.contains("range") || h.contains("if-range");
    }

    @Override
    public final Request request() {
        return request;
    }

    @Override
    public final Executor eventLoop() {
        return channel.eventLoop();
    }

    @Override
    public boolean isOpen() {
        return channel.isActive();
    }

    /** Runs the application handler; a handler failure becomes a 500 and a log line, never a dead stream. */
    final void dispatch() {
        String coding = unsupportedContentCoding(request);
        if (coding != null) {
            LOG.info("{}: refused with 415: a request body in content-coding {}", request, coding);
            respond(Response.error(415, "unsupported content-encoding", "the request body is encoded as " + coding
                    + "; send it without a content-encoding").header("accept-encoding", "identity"));
            return;
        }
        try {
            server.handler.handle(this);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            LOG.warn("{}: overloaded, answering 503: {}", request, e.toString());
            respond(Response.error(503, "overloaded", "try again shortly")
                    .header("retry-after", "1"));
        } catch (Exception | Error e) {
            LOG.error("{}: handler failed", request, e);
            respond(Response.error(500, "internal", "the server failed; see its log"));
        }
    }

    /**
     * The content coding of a request body Herald would otherwise read as it is (it decodes none, RFC 9110 §8.4:
     * 415, naming what it accepts); null for a request without a body or without a coding other than identity.
     */
    static String unsupportedContentCoding(Request request) {
        return request.body().length == 0 ? null
                : Headers.firstCodingOtherThan(request.headers().getAll("content-encoding"), "identity");
    }

    @Override
    public final void respond(Response response) {
        if (!channel.eventLoop().inEventLoop()) {
            channel.eventLoop().execute(() -> respond(response));
            return;
        }
        if (responded) {
            LOG.debug("{}: second response ignored", request);
            return;
        }
        responded = true;
        if (!channel.isActive()) {
            completed(response.status(), -1, "reset");
            return;
        }
        boolean success = response.status() >= 200 && response.status() < 300;
        List<Preload> own = success && response.headers().contains("link") ? ownPreloads(response) : List.of();
        if (!own.isEmpty() && !pushed) {
            pushLinkHeaders(own);
        }
        if (!links.isEmpty() && success) {
            // A target the response's own Link headers name already (a rule's, a handler's) is not listed twice.
            java.util.Set<String> present = new java.util.HashSet<>();
            own.forEach(p -> present.add(p.path()));
            for (int i = 0; i < links.size(); i++) {
                if (!present.contains(linkPaths.get(i))) {
                    response.header("link", links.get(i));
                }
            }
        }
        if (pushes != null && server.config.pushDebugHeader()) {
            response.header("x-herald-push", pushes.debugHeader());
        }
        if (!response.headers().contains("date")) {
            response.header("date", DateHeader.SYSTEM.now());
        }
        write(response);
    }

    /**
     * Pushes the same-origin {@code rel=preload} targets of the response's own Link headers that were not
     * announced yet (an application handler's, or a rule's), before the response goes out. The Link lines stay
     * on the response: they are the hints for a client that does not take the push.
     */
    private void pushLinkHeaders(List<Preload> own) {
        if (!"GET".equals(request.method()) || isConditional(request)) {
            return;
        }
        List<Preload> fresh = new ArrayList<>();
        for (Preload p : own) {
            if (announced == null || !announced.contains(p.path())) {
                boolean routed = server.handler instanceof Router r && !r.isFallback(p.path());
                fresh.add(routed ? p.noPush() : p);
            }
        }
        if (fresh.isEmpty()) {
            return;
        }
        if (pushes == null) {
            pushes = new PagePushes();
        }
        announce(fresh);
    }

    /** The same-origin preloads of the response's own Link headers (a rule's, a handler's), in order. */
    private List<Preload> ownPreloads(Response response) {
        List<Preload> own = new ArrayList<>();
        for (String v : response.headers().getAll("link")) {
            own.addAll(LinkHeader.preloads(v, request.scheme(), request.authority()));
        }
        return own;
    }

    final boolean responded() {
        return responded;
    }

    @Override
    public final ResponseStream stream(int status, Headers headers) {
        if (channel.eventLoop().inEventLoop()) {
            return startStream(status, headers);
        }
        // Off the event loop (a store callback, say): wait the moment it takes the loop to write the head.
        java.util.concurrent.CompletableFuture<ResponseStream> f = new java.util.concurrent.CompletableFuture<>();
        channel.eventLoop().execute(() -> {
            try {
                f.complete(startStream(status, headers));
            } catch (RuntimeException e) {
                f.completeExceptionally(e);
            }
        });
        return f.join();
    }

    private ResponseStream startStream(int status, Headers headers) {
        if (responded) {
            throw new IllegalStateException(request + ": already answered");
        }
        responded = true;
        if (!headers.contains("date")) {
            headers.add("date", DateHeader.SYSTEM.now());
        }
        AbstractResponseStream stream = openStream(status, headers);
        if (!channel.isActive()) {
            stream.closed(false); // the client left before the stream started: onClose still fires
        }
        return stream;
    }

    /** Writes the head of a long-running response and returns its stream (on the event loop). */
    abstract AbstractResponseStream openStream(int status, Headers headers);


    /** Writes the response on the event loop and calls {@link #completed} when it is done. */
    abstract void write(Response response);

    /** Whether the response carries body bytes on the wire. */
    final boolean sendsBody(Response response) {
        return !request.isHead() && !response.bodyForbidden() && response.contentLength() > 0;
    }

    /**
     * Counts the response and writes its access-log line; a page that pushed waits for its pushes to close, so
     * its line can say how many the client cancelled.
     */
    final void completed(int status, long bytes, String extra) {
        server.metrics.request(status, bytes);
        long end = System.nanoTime();
        if (pushes == null) {
            server.accessLog.log(request, status, bytes, startNanos, end, extra);
            return;
        }
        pushes.pageDone();
        PagePushes p = pushes;
        p.whenSettled(() -> server.accessLog.log(request, status, bytes, startNanos, end,
                extra == null ? p.logFields() : extra + " " + p.logFields()));
    }
}
