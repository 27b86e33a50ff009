package dev.herald.server;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * One request as the application sees it, whatever protocol carried it.
 *
 * <p>{@link #path()} is the raw, still percent-encoded path (without the query); decoding and normalising it is
 * the job of whoever maps it to a resource, so that it happens exactly once.
 */
public final class Request {
    private final String method;
    private final String path;
    private final String query;
    private final String scheme;
    private final String authority;
    private final Protocol protocol;
    private final Headers headers;
    private final byte[] body;
    private final long connectionId;
    private final int streamId;
    private final InetSocketAddress remote;

    public Request(String method, String target, String scheme, String authority, Protocol protocol,
                   Headers headers, byte[] body, long connectionId, int streamId, InetSocketAddress remote) {
        this.method = method;
        int q = target.indexOf('?');
        this.path = q < 0 ? target : target.substring(0, q);
        this.query = q < 0 ? null : target.substring(q + 1);
        this.scheme = scheme;
        this.authority = authority;
        this.protocol = protocol;
        this.headers = headers;
        this.body = body;
        this.connectionId = connectionId;
        this.streamId = streamId;
        this.remote = remote;
    }

    public String method() {
        return method;
    }

    /** The raw request path, percent-encoded as received, without the query. */
    public String path() {
        return path;
    }

    /** The raw path and query as received: the URL a client's cache knows the response by. */
    public String target() {
        return query == null ? path : path + '?' + query;
    }

    /** The raw query string without '?', or {@code null} when there is none. */
    public String query() {
        return query;
    }

    public String scheme() {
        return scheme;
    }

    /** {@code :authority} on HTTP/2, {@code Host} on HTTP/1.1; may be {@code null}. */
    public String authority() {
        return authority;
    }

    public Protocol protocol() {
        return protocol;
    }

    public Headers headers() {
        return headers;
    }

    /** The first value of a header field, or {@code null}. */
    public String header(String name) {
        return headers.get(name);
    }

    /** The whole request body (bounded by {@code max-request-body}); empty when there is none. */
    public byte[] body() {
        return body;
    }

    public String bodyAsString() {
        return new String(body, StandardCharsets.UTF_8);
    }

    public long connectionId() {
        return connectionId;
    }

    /** The HTTP/2 stream id, or the request's sequence number on an HTTP/1.1 connection. */
    public int streamId() {
        return streamId;
    }

    public InetSocketAddress remote() {
        return remote;
    }

    public boolean isHead() {
        return "HEAD".equals(method);
    }

    @Override
    public String toString() {
        return method + ' ' + path + (query == null ? "" : "?" + query) + " (" + protocol + ')';
    }
}
