package dev.herald.files;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Entity tags of streamed (large) files by {@link FileStamp}, so a file is hashed once per version rather than
 * once per request. Bounded by entry count, least recently used first out; the default of 4096 entries costs well
 * under a megabyte. A changed file has a new stamp, so stale tags are never returned, only aged out.
 */
final class EtagCache {
    static final int DEFAULT_ENTRIES = 4096;

    private final Map<FileStamp, String> tags;

    EtagCache(int maxEntries) {
        if (maxEntries < 1) {
            throw new IllegalArgumentException("maxEntries: " + maxEntries + " (expected: >= 1)");
        }
        this.tags = new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<FileStamp, String> eldest) {
                return size() > maxEntries;
            }
        };
    }

    synchronized String get(FileStamp stamp) {
        return tags.get(stamp);
    }

    synchronized void put(FileStamp stamp, String etag) {
        tags.put(stamp, etag);
    }

    synchronized int size() {
        return tags.size();
    }
}
