package dev.herald.server;

import dev.herald.config.HeraldConfig;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2PushPromiseFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Server push on one HTTP/2 connection (RFC 9113 §8.4), kept as an attribute of the connection channel and used
 * only on its event loop.
 *
 * <h2>How a push goes</h2>
 * <ol>
 *   <li>A child stream channel is opened with {@link Http2StreamChannelBootstrap} (so it has the multiplexer's
 *       flow-controlled writability, and a client RST_STREAM closes it), and its still id-less stream is named as
 *       the promised stream of a PUSH_PROMISE written on the parent stream through the {@link Http2FrameCodec}
 *       (netty#4527: a child channel cannot write PUSH_PROMISE itself). The codec gives it the next even id; the
 *       stream is then RESERVED_LOCAL.</li>
 *   <li>The promises are written synchronously before the page's HEADERS, which the caller writes afterwards on
 *       the same event loop, so PUSH_PROMISE always precedes them on the wire.</li>
 *   <li>Each reserved stream waits its turn, then the promised request goes through the same application handler
 *       as any request (static files), and its HEADERS and DATA go out on the promised stream.</li>
 * </ol>
 *
 * <h2>Limits</h2>
 * <ul>
 *   <li>ENABLE_PUSH=0 or MAX_CONCURRENT_STREAMS=0 from the client, or a GOAWAY either way: no promise at all
 *       ({@code allowPushTo()} is checked before each one: Netty makes a promise the client refused a connection
 *       error).</li>
 *   <li>Open pushed streams never exceed the client's MAX_CONCURRENT_STREAMS: promised streams beyond it are
 *       <b>queued</b> (reserved, which RFC 9113 §5.1.2 does not count), and the next one starts when one closes.
 *       Queueing rather than skipping because the promise is already a commitment the client waits on; at most
 *       {@value #MAX_RESERVED} streams are reserved at once, beyond that nothing more is promised. A queued
 *       push does not hold its page's body. A push whose response comes after the client lowered the limit
 *       below the open streams is <b>cancelled</b> (RST_STREAM CANCEL, counted as refused): its HEADERS would
 *       exceed the new limit.</li>
 *   <li>The diary: a path pushed on this connection, or requested by the client on it, is never pushed again on
 *       it; it remembers the last {@value #DIARY_ENTRIES} paths (Apache's diary size).</li>
 *   <li>The {@code :authority} of a promise is the request's own, and only when it is well formed
 *       ({@link #servedAuthority}).</li>
 * </ul>
 *
 * <h2>Order ({@code push.priority})</h2>
 * The promised streams form a chain under their page's stream in the priority tree (page, first push, second
 * push..., each an exclusive dependency), so Netty's flow controller sends the page's ready bytes before any
 * push's, and the pushes in promise order. The policy adds the send order: waiting
 * pushes start in promise order, except that an {@code after} push waits until its page's response is complete;
 * a {@code before} push holds the page's body (not its HEADERS) until it closes or stalls on the client's
 * flow-control window ({@link PagePushes}).
 *
 * <h2>Resets and counts</h2>
 * A client's RST_STREAM on a pushed stream arrives as a user event on its child channel, which then closes at
 * once (its slot and buffers are freed, and later writes are dropped); REFUSED_STREAM counts as refused, any
 * other code as cancelled, and the DATA bytes already written as wasted ({@link ServerMetrics}).
 */
final class Http2Pusher {
    private static final Logger LOG = LoggerFactory.getLogger(Http2Pusher.class);
    private static final AttributeKey<Http2Pusher> KEY = AttributeKey.valueOf("herald.pusher");
    /** Paths remembered per connection: bounds memory, large enough for any page's dependencies. */
    static final int DIARY_ENTRIES = 256;
    /** Promised streams not yet answered, per connection; below Netty's default reserved-stream cap (100). */
    static final int MAX_RESERVED = 32;

    /** A pushed stream's life, RFC 9113 §5.1 seen from the server. */
    enum State {
        /** PUSH_PROMISE sent (reserved (local)); waiting for a free concurrent-stream slot. */
        RESERVED,
        /** HEADERS sent or being produced (half-closed (remote)); counts against MAX_CONCURRENT_STREAMS. */
        OPEN,
        /** Finished, reset by the client, or failed. */
        CLOSED
    }

    private final Channel parent;
    private final Http2FrameCodec codec;
    private final ChannelHandlerContext codecWriter;
    private final Set<String> diary = Collections.newSetFromMap(new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > DIARY_ENTRIES;
        }
    });
    private final ArrayDeque<Http2StreamHandler> waiting = new ArrayDeque<>();
    private int reserved;
    private int open;
    private boolean drainQueued;
    /** The last {@code :authority} {@link #whyNoPromise} checked, and whether Herald serves it. */
    private String checkedAuthority;
    private boolean authorityServed;

    private Http2Pusher(Channel parent) {
        this.parent = parent;
        this.codec = parent.pipeline().get(Http2FrameCodec.class);
        // Written from the multiplexer's context, exactly like child channels write, so frames keep their order.
        this.codecWriter = parent.pipeline().context(Http2MultiplexHandler.class);
    }

    /** The pusher of the connection that carries this stream channel (on its event loop). */
    static Http2Pusher of(Channel streamChannel) {
        Channel parent = streamChannel.parent();
        Http2Pusher p = parent.attr(KEY).get();
        if (p == null) {
            p = new Http2Pusher(parent);
            parent.attr(KEY).set(p);
        }
        return p;
    }

    /**
     * Once the current event-loop task is over: starts the waiting pushes, then flushes the connection (one task per
     * event-loop task, however many pages promised in it). A page answered at once is written in the same task as
     * its promises, and its pushes start there too ({@link #drain} from the page's HEADERS, Http2StreamHandler): the
     * read's own flush (Netty's, at the end of the read) then sends promises, page and pushes in one write, so the
     * first packets are full ones, and this drain finds them started. A page that answers later gets its promises
     * out, and its pushes started, right after this task.
     */
    private void drainAndFlushSoon() {
        if (!drainQueued) {
            drainQueued = true;
            parent.eventLoop().execute(() -> {
                drainQueued = false;
                drain();
                codecWriter.flush();
            });
        }
    }

    /** Notes a path the client requested itself: it is never pushed to it on this connection. */
    void requested(String path) {
        diary.add(path);
    }

    /** Why this connection may not carry a new promise now, or null when it may. */
    private String whyNoPromise(String authority) {
        if (codec == null || codecWriter == null || !parent.isActive()) {
            return "closed";
        }
        Http2Connection c = codec.connection();
        if (c.goAwaySent() || c.goAwayReceived()) {
            return "goaway";
        }
        if (!c.remote().allowPushTo() || c.local().maxActiveStreams() <= 0) {
            return REFUSED; // ENABLE_PUSH=0 or MAX_CONCURRENT_STREAMS=0
        }
        if (reserved >= MAX_RESERVED) {
            return "too-many-promises";
        }
        if (!Objects.equals(authority, checkedAuthority)) {
            authorityServed = servedAuthority(authority); // a connection's requests name one authority, usually
            checkedAuthority = authority;
        }
        return authorityServed ? null : "authority";
    }

    /**
     * Whether a promise may name this {@code :authority} (RFC 9113 §8.4: one the server is authoritative for).
     * Herald has no virtual hosts, it answers every name that reaches it, so every well-formed
     * {@code host[:port]} the client itself sent qualifies; none (HTTP/1.1 without Host), userinfo, a path or a
     * bad port does not.
     */
    static boolean servedAuthority(String authority) {
        return authority != null && AUTHORITY.matcher(authority).matches();
    }

    private static final java.util.regex.Pattern AUTHORITY = java.util.regex.Pattern.compile(
            "(\\[[0-9A-Fa-f:.]{2,45}\\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}))(:(?:[1-9][0-9]{0,4}))?");
    /** The reason given when the client's settings refuse push. */
    private static final String REFUSED = "client-refuses-push";

    /**
     * Promises what it can of {@code resources} on {@code parentStream}, notes the decision in {@code page}, and
     * returns what is left to hint: the resources not pushed (refused by settings, {@code nopush}, over limits),
     * minus those the client already has on this connection (diary).
     */
    List<Preload> push(ServerContext server, Http2StreamChannel parentStream, Request request,
                       List<Preload> resources, PagePushes page) {
        List<Preload> rest = new ArrayList<>(resources.size());
        String authority = request.authority();
        page.onPageDone = this::drain;
        boolean promised = false;
        for (Preload p : resources) {
            if (diary.contains(p.path())) {
                page.skippedDiary.add(p.path()); // pushed or requested on this connection: the client has it
                continue;
            }
            if (!p.push()) {
                rest.add(p);
                continue;
            }
            String why = whyNoPromise(authority);
            if (why != null) {
                if (why.equals(REFUSED)) {
                    server.metrics.pushRefused.increment();
                }
                if (page.reason == null) {
                    page.reason = why;
                }
                rest.add(p);
                continue;
            }
            HeraldConfig.PushPriority priority = PagePushes.priority(server.config.pushPriority(), p.type());
            if (promise(server, parentStream, request, p, page, priority)) {
                diary.add(p.path());
                page.promised(p.path(), priority);
                server.metrics.pushPromised.increment();
                promised = true;
            } else {
                rest.add(p);
            }
        }
        if (promised) {
            drainAndFlushSoon();
        }
        return rest;
    }

    private boolean promise(ServerContext server, Http2StreamChannel parentStream, Request request, Preload p,
                            PagePushes page, HeraldConfig.PushPriority priority) {
        Http2StreamHandler handler = new Http2StreamHandler(server, this);
        Future<Http2StreamChannel> opened = new Http2StreamChannelBootstrap(parent).handler(handler).open();
        if (!opened.isDone() || !opened.isSuccess()) {
            // On the event loop the child channel registers at once; anything else is unexpected: hint instead.
            LOG.debug("{}: cannot open a stream to push {}: {}", parent, p.path(), opened.cause());
            opened.addListener(f -> {
                if (f.isSuccess()) {
                    ((Http2StreamChannel) f.getNow()).close();
                }
            });
            return false;
        }
        Http2StreamChannel child = opened.getNow();
        Http2Headers h = new DefaultHttp2Headers(false)
                .method("GET").scheme(request.scheme()).authority(request.authority()).path(p.path());
        Headers copied = new Headers();
        for (String name : new String[] {"accept-encoding", "accept-language", "user-agent"}) {
            for (String v : request.headers().getAll(name)) {
                h.add(name, v);
                copied.add(name, v);
            }
        }
        reserved++;
        handler.state = State.RESERVED;
        handler.priority = priority;
        codecWriter.write(new DefaultHttp2PushPromiseFrame(h).stream(parentStream.stream())
                .pushStream(child.stream())).addListener((ChannelFutureListener) f -> {
                    if (!f.isSuccess()) {
                        LOG.debug("{}: PUSH_PROMISE for {} failed: {}", parent, p.path(), f.cause().toString());
                        child.close();
                    }
                });
        int promisedId = child.stream().id();
        if (promisedId <= 0 || !child.isActive()) {
            child.close();
            return false;
        }
        // The page goes first, then the pushes one after another in promise order: the first push depends on the
        // page's stream, each later one on the push before it, all exclusive (RFC 7540 §5.3), so Netty's flow
        // controller gives a push only what the page and the earlier pushes cannot use (the page's think time, its
        // flow-control stalls) and a page that becomes ready overtakes the pushes' queued bytes. Netty would put a
        // push under the root as the page's equal. A non-exclusive dependency on the page was tried first: on the
        // wire the page still shared its bytes with the pushes in 1 KiB turns (PushPagePrecedenceTest).
        int dependsOn = page.lastPromised > 0 ? page.lastPromised : parentStream.stream().id();
        codec.connection().remote().flowController().updateDependencyTree(promisedId, dependsOn,
                Http2CodecUtil.DEFAULT_PRIORITY_WEIGHT, true);
        page.lastPromised = promisedId;
        ConnectionInfo conn = ConnectionInfo.of(parent);
        handler.pushedRequest = new Request("GET", p.path(), request.scheme(), request.authority(), conn.protocol,
                copied, new byte[0], conn.id, promisedId, conn.remote);
        LOG.debug("{}: promised {} on stream {} (parent stream {})", parent, p.path(), promisedId,
                parentStream.stream().id());
        handler.page = page;
        handler.holdsPageBody = priority == HeraldConfig.PushPriority.BEFORE;
        waiting.add(handler);
        return true;
    }

    /**
     * Starts waiting pushes, in promise order, while the client's MAX_CONCURRENT_STREAMS leaves room; an
     * {@code after} push waits for its page's response to be complete.
     */
    void drain() {
        if (codec == null) {
            return;
        }
        Http2Connection c = codec.connection();
        while (open < c.local().maxActiveStreams() && c.local().canOpenStream()) {
            Http2StreamHandler next = null;
            for (java.util.Iterator<Http2StreamHandler> it = waiting.iterator(); it.hasNext(); ) {
                Http2StreamHandler h = it.next();
                if (h.state != State.RESERVED) {
                    it.remove();
                } else if (h.page == null || h.page.mayStart(h.priority)) {
                    it.remove();
                    next = h;
                    break;
                }
            }
            if (next == null) {
                break;
            }
            reserved--;
            open++;
            next.state = State.OPEN;
            next.startPush();
        }
        // A BEFORE push that waits for a concurrent-stream slot does not hold its page: the slot may never come
        // (MAX_CONCURRENT_STREAMS 1 and a client that does not read the open push, or lowered to 0).
        for (Http2StreamHandler h : waiting) {
            if (h.state == State.RESERVED) {
                h.releasePageBody();
            }
        }
    }

    /**
     * Whether a promised stream may open now (its HEADERS make it active): the client may have lowered
     * MAX_CONCURRENT_STREAMS after the push started, and Netty makes exceeding it a connection error.
     */
    boolean mayOpen() {
        return codec != null && codec.connection().local().canOpenStream();
    }

    /** A pushed stream's channel closed (finished, reset by the client, or the connection went). */
    void closed(Http2StreamHandler h) {
        State was = h.state;
        LOG.debug("{}: pushed stream {} closed ({}, reset {}, {} bytes sent)", parent,
                h.pushedRequest == null ? "?" : h.pushedRequest.path(), was, h.resetCode, h.sentBytes);
        if (was == State.RESERVED) {
            reserved--;
            waiting.remove(h);
        } else if (was == State.OPEN) {
            open--;
        }
        h.state = State.CLOSED;
        if (h.page != null && was != State.CLOSED) {
            ServerMetrics m = h.server.metrics;
            boolean refused = h.resetCode == Http2Error.REFUSED_STREAM.code();
            boolean cancelled = h.resetCode >= 0 && !refused;
            m.pushBytes.increment(h.sentBytes);
            if (refused) {
                m.pushRefused.increment();
            } else if (cancelled) {
                m.pushCancelled.increment();
                m.pushWastedBytes.increment(h.sentBytes);
            } else if (h.completedOk) {
                m.pushCompleted.increment();
            }
            h.releasePageBody();
            h.page.pushClosed(cancelled || refused);
        }
        if (parent.isActive()) {
            drain();
            // Netty may count the stream as active until its close event is fully processed: look again.
            parent.eventLoop().execute(this::drain);
        }
    }
}
