package dev.herald.server;

import io.netty.channel.Channel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
    private boolean responded;

    AbstractExchange(ServerContext server, Channel channel, Request request) {
        this.server = server;
        this.channel = channel;
        this.request = request;
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
        try {
            server.handler.handle(this);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            LOG.warn("{}: overloaded, answering 503: {}", request, e.toString());
            respond(Response.json(503, "{\"error\":\"overloaded\",\"detail\":\"try again shortly\"}")
                    .header("retry-after", "1"));
        } catch (Exception | Error e) {
            LOG.error("{}: handler failed", request, e);
            respond(Response.json(500, "{\"error\":\"internal\",\"detail\":\"the server failed; see its log\"}"));
        }
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
        write(response);
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
        return openStream(status, headers);
    }

    /** Writes the head of a long-running response and returns its stream (on the event loop). */
    abstract AbstractResponseStream openStream(int status, Headers headers);


    /** Writes the response on the event loop and calls {@link #completed} when it is done. */
    abstract void write(Response response);

    /** Whether the response carries body bytes on the wire. */
    final boolean sendsBody(Response response) {
        return !request.isHead() && !response.bodyForbidden() && response.contentLength() > 0;
    }

    final void completed(int status, long bytes, String extra) {
        server.metrics.request(status, bytes);
        server.accessLog.log(request, status, bytes, startNanos, extra);
    }
}
