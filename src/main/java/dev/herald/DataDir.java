package dev.herald;

import dev.herald.config.ConfigException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The data directory, held for the life of one Herald: created if missing, checked writable, and locked
 * ({@link FileChannel#tryLock} on {@value #LOCK_FILE}, which also holds the holder's PID) so that a second instance
 * on the same folder refuses to start instead of sharing its database and learned push lists. The OS drops the lock
 * when the process dies, so the file a killed instance leaves behind does not block a restart; it is never deleted
 * (deleting it would let two instances lock two different files of that name).
 */
final class DataDir implements AutoCloseable {
    /** The lock file, in the data directory. */
    static final String LOCK_FILE = "herald.lock";

    private final FileChannel channel;
    private final FileLock lock;

    private DataDir(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Creates {@code dir} if needed and locks it. Throws {@link ConfigException} saying what is wrong: not a
     * directory, permission denied, or in use by another Herald (with its PID).
     */
    static DataDir lock(Path dir) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new ConfigException("data-dir: " + dir + ": not a directory");
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new ConfigException("data-dir: " + dir + ": cannot create it: " + reason(e), e);
        }
        if (!Files.isWritable(dir) || !Files.isExecutable(dir)) {
            throw new ConfigException("data-dir: " + dir + ": permission denied (expected: a folder Herald can write)");
        }
        Path file = dir.resolve(LOCK_FILE);
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new ConfigException("data-dir: " + dir + ": cannot open " + file + ": " + reason(e), e);
        }
        try {
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) { // held by another Herald in this JVM
                lock = null;
            }
            if (lock == null) {
                throw new ConfigException("data-dir: " + dir + " is in use by another Herald" + holder(channel)
                        + " (expected: a data-dir of its own for each instance)");
            }
            channel.truncate(0);
            channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)));
            return new DataDir(channel, lock);
        } catch (IOException | RuntimeException e) {
            closeQuietly(channel);
            if (e instanceof ConfigException c) {
                throw c;
            }
            throw new ConfigException("data-dir: " + dir + ": cannot lock " + file + ": " + reason(e), e);
        }
    }

    /** {@code ", pid N"} from the lock file the holder wrote, or nothing when it cannot be read. */
    private static String holder(FileChannel channel) {
        try {
            ByteBuffer buf = ByteBuffer.allocate(32);
            channel.read(buf, 0);
            String pid = new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII).trim();
            return pid.matches("[0-9]{1,19}") ? ", pid " + pid : "";
        } catch (IOException e) {
            return "";
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing was locked
        }
    }

    /**
     * What went wrong with a file, in the words of the OS, without the Java class name: {@code permission denied},
     * {@code no such file or directory}, {@code not a directory}, or the OS's own reason.
     */
    static String reason(Exception e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason().toLowerCase(java.util.Locale.ROOT);
        }
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }

    /** Releases the lock; the file stays. */
    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }

    @Override
    public String toString() {
        return "lock on the data-dir";
    }
}
