package dev.herald.server;

import java.util.List;
import java.util.concurrent.Executor;

/**
 * The body of a long-running response: HTTP/2 DATA frames on one stream, or HTTP/1.1 chunks.
 *
 * <p>Backpressure is the caller's job and this interface gives it what it needs: {@link #isWritable()} turns
 * false while the stream's flow-control window (HTTP/2) or the socket (HTTP/1.1) cannot take more, and
 * {@link #onWritable} fires when it can again. {@link #write} never blocks and never drops; a caller that
 * writes while not writable grows Netty's buffers, so keep your own bounded queue instead.
 *
 * <p>Every method may be called from any thread; listeners run on {@link #eventLoop()}.
 */
public interface ResponseStream {
    /** Queues bytes and flushes them. Returns false when the stream is already closed (the bytes are dropped). */
    boolean write(byte[] data);

    /**
     * Queues the parts as one chunk (one DATA frame, or one HTTP/1.1 chunk) and flushes it, copying them once into
     * the connection's pooled buffer; the list is not kept. Returns false when the stream is already closed.
     */
    boolean write(List<byte[]> parts);

    /** Whether a write now would go out without piling up in memory. */
    boolean isWritable();

    /** Sets the listener called whenever the stream becomes writable again. */
    void onWritable(Runnable listener);

    /**
     * Sets the listener called once when the stream closes for any reason: {@link #end()}, a client reset
     * (RST_STREAM), a lost connection, or server shutdown.
     */
    void onClose(Runnable listener);

    /** Ends the response cleanly (END_STREAM, or the last chunk). Idempotent. */
    void end();

    /** Whether the stream is still open. */
    boolean isOpen();

    /** The event loop this stream lives on. */
    Executor eventLoop();
}
