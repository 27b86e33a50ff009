package dev.herald.files;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Resolved resources by request path, least recently used first out, bounded by {@link Resource#weight()}: the
 * bytes of small files plus an estimate of the metadata, so that entries for large (streamed) files count too and
 * the number of entries is bounded as well. A resource heavier than the whole capacity is not kept.
 *
 * <p>Called from event loops (hits) and the blocking executor (fills); one lock, held only for map operations.
 */
final class FileCache {
    private final long capacity;
    private final LinkedHashMap<String, Resource> entries = new LinkedHashMap<>(64, 0.75f, true);
    private long weight;

    FileCache(long capacity) {
        this.capacity = capacity;
    }

    synchronized Resource get(String path) {
        return entries.get(path);
    }

    synchronized void put(Resource resource) {
        Resource old = entries.remove(resource.path());
        if (old != null) {
            weight -= old.weight();
        }
        long w = resource.weight();
        if (w > capacity) {
            return;
        }
        entries.put(resource.path(), resource);
        weight += w;
        Iterator<Map.Entry<String, Resource>> eldest = entries.entrySet().iterator();
        while (weight > capacity && eldest.hasNext()) {
            weight -= eldest.next().getValue().weight();
            eldest.remove();
        }
    }

    /** Drops the entry for this path if it is still {@code stale} (a newer one may have replaced it). */
    synchronized void remove(Resource stale) {
        if (entries.remove(stale.path(), stale)) {
            weight -= stale.weight();
        }
    }

    synchronized long weight() {
        return weight;
    }

    synchronized int size() {
        return entries.size();
    }

    long capacity() {
        return capacity;
    }
}
