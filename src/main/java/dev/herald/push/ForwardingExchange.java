package dev.herald.push;

import dev.herald.server.Exchange;
import dev.herald.server.Headers;
import dev.herald.server.Preload;
import dev.herald.server.Request;
import dev.herald.server.Response;
import dev.herald.server.ResponseStream;

import java.util.List;
import java.util.concurrent.Executor;

/**
 * An exchange that forwards every call to another; subclasses look at, or hold back, the response on its way (the
 * push benchmark's think time is one).
 */
public class ForwardingExchange implements Exchange {
    private final Exchange delegate;

    protected ForwardingExchange(Exchange delegate) {
        this.delegate = delegate;
    }

    @Override
    public Request request() {
        return delegate.request();
    }

    @Override
    public void respond(Response response) {
        delegate.respond(response);
    }

    @Override
    public ResponseStream stream(int status, Headers headers) {
        return delegate.stream(status, headers);
    }

    @Override
    public Executor eventLoop() {
        return delegate.eventLoop();
    }

    @Override
    public boolean isOpen() {
        return delegate.isOpen();
    }

    @Override
    public long congestionWindowBytes() {
        return delegate.congestionWindowBytes();
    }

    @Override
    public void preload(List<Preload> resources, List<String> heldByClient) {
        delegate.preload(resources, heldByClient);
    }
}
