package dev.herald.server;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A complete response: status, headers and one of three bodies (none, bytes in memory, a file region).
 *
 * <p>File bodies are streamed by the protocol writer in chunks under flow control and never loaded whole.
 * For HEAD requests the writer sends the headers (including {@code content-length}) and drops the body. The answer
 * to HEAD on a streamed resource, whose GET has no length, is marked {@link #lengthUnknown()}: no
 * {@code content-length} at all (RFC 9110 §9.3.2: a HEAD response must not claim a length the GET would not send).
 */
public final class Response {
    private final int status;
    private final Headers headers = new Headers();
    private byte[] bytes;
    private Path file;
    private long fileOffset;
    private long fileLength;
    private boolean lengthUnknown;

    private Response(int status) {
        this.status = status;
    }

    public static Response status(int status) {
        return new Response(status);
    }

    /**
     * An error as JSON, {@code {"error": "not found", "detail": "no file at /a.css"}}: the kind of error, short and
     * stable, and what was wrong with this request, for a person to read.
     */
    public static Response error(int status, String error, String detail) {
        return json(status, JsonNodeFactory.instance.objectNode().put("error", error).put("detail", detail)
                .toString());
    }

    /** A JSON body; the caller supplies the serialised document. */
    public static Response json(int status, String json) {
        return status(status)
                .header("content-type", "application/json")
                .body(json.getBytes(StandardCharsets.UTF_8));
    }

    public Response header(String name, String value) {
        headers.add(name, value);
        return this;
    }

    public Response body(byte[] body) {
        this.bytes = body;
        this.file = null;
        return this;
    }

    /**
     * Sends no {@code content-length}: for HEAD on a resource whose GET is a stream of unknown length (its body, if
     * any, is never sent).
     */
    public Response lengthUnknown() {
        this.lengthUnknown = true;
        return this;
    }

    /** Whether the writer sends {@code content-length}: not for 1xx, 204, 304 or {@link #lengthUnknown()}. */
    public boolean sendsContentLength() {
        return !lengthUnknown && !bodyForbidden() && status != 304;
    }

    /** A file region, streamed from disk. */
    public Response file(Path path, long offset, long length) {
        this.file = path;
        this.fileOffset = offset;
        this.fileLength = length;
        this.bytes = null;
        return this;
    }

    public int status() {
        return status;
    }

    public Headers headers() {
        return headers;
    }

    /** The in-memory body, or {@code null}. */
    public byte[] bytes() {
        return bytes;
    }

    /** The file to stream, or {@code null}. */
    public Path file() {
        return file;
    }

    public long fileOffset() {
        return fileOffset;
    }

    public long fileLength() {
        return fileLength;
    }

    /** Length of the body in bytes, whichever kind it is. */
    public long contentLength() {
        if (bytes != null) {
            return bytes.length;
        }
        return file != null ? fileLength : 0;
    }

    /** 1xx, 204 and 304 responses carry no body (RFC 9110 §6.4.1). */
    public boolean bodyForbidden() {
        return status < 200 || status == 204 || status == 304;
    }
}
