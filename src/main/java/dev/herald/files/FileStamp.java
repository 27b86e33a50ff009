package dev.herald.files;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;

/**
 * What one {@code stat} says about a regular file: enough to notice that it changed (size, modification time) or
 * was replaced (the file key, an inode number on Unix), including by a symlink, since the stat does not follow
 * links. Used to revalidate {@link FileCache} hits, and for the tags of streamed files ({@link EntityTags}).
 *
 * @param path     the file's real path (no symlink in it), inside the served root
 * @param fileKey  the platform's file identity, or {@code null} where there is none
 */
record FileStamp(Path path, long size, FileTime modified, Object fileKey) {

    /** Stats a real path; anything but a regular file (folder, FIFO, device, symlink) counts as missing. */
    static FileStamp of(Path realPath) throws IOException {
        BasicFileAttributes a = Files.readAttributes(realPath, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!a.isRegularFile()) {
            throw new NoSuchFileException(realPath.toString(), null, "not a regular file");
        }
        return new FileStamp(realPath, a.size(), a.lastModifiedTime(), a.fileKey());
    }

    /** One stat: whether the file on disk is still this one. Cheap enough for the event loop. */
    boolean unchanged() {
        try {
            return equals(of(path));
        } catch (IOException e) {
            return false;
        }
    }
}
