package dev.herald.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.stream.ChunkedNioFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A file region read in chunks for a response whose length is already announced, failing when the file ends early.
 *
 * <p>Netty's {@link ChunkedNioFile} returns an empty chunk at end of file and still reports more input, so a file
 * truncated while it is sent ({@code cp new old}, {@code rsync --inplace}, a log rotation) made
 * {@code ChunkedWriteHandler} write empty chunks forever on the event loop: every connection on that loop stalled and
 * shutdown never ended. Here the short read fails the write instead; the protocol handler then resets the stream or
 * closes the connection, and {@link #logIfShrunk} says why (nginx: "file was truncated").
 */
final class FileChunks extends ChunkedNioFile {
    static final int CHUNK = 16 * 1024;
    private static final Logger LOG = LoggerFactory.getLogger(FileChunks.class);

    private final Path path;

    private FileChunks(Path path, FileChannel in, long offset, long length) throws IOException {
        super(in, offset, length, CHUNK);
        this.path = path;
    }

    /** Opens {@code length} bytes of {@code path} from {@code offset}; the caller writes or closes the result. */
    static FileChunks open(Path path, long offset, long length) throws IOException {
        FileChannel fc = FileChannel.open(path, StandardOpenOption.READ);
        try {
            return new FileChunks(path, fc, offset, length);
        } catch (IOException | RuntimeException e) {
            fc.close();
            throw e;
        }
    }

    @Override
    public ByteBuf readChunk(ByteBufAllocator allocator) throws Exception {
        long at = currentOffset();
        ByteBuf chunk = super.readChunk(allocator);
        if (chunk != null && !chunk.isReadable()) {
            chunk.release();
            throw new IOException(path + " ended at byte " + at + ", before the " + endOffset()
                    + " the response announced");
        }
        return chunk;
    }

    /**
     * After a file response failed: a WARN if the file is now shorter than the part the response announced (the
     * client then got a reset or a closed connection, not the file). A client that went away is not worth a line.
     */
    static void logIfShrunk(Object request, Path path, long offset, long length) {
        try {
            long size = Files.size(path);
            if (size < offset + length) {
                LOG.warn("{}: {} was truncated while being sent ({} bytes now, the response announced bytes {}-{}); "
                        + "the response was cut", request, path, size, offset, offset + length - 1);
            }
        } catch (IOException e) {
            LOG.debug("{}: {} after a failed response: {}", request, path, e.toString());
        }
    }
}
