package dev.herald.stream;

import dev.herald.store.Event;
import dev.herald.store.EventId;
import dev.herald.store.EventLog;
import dev.herald.store.Replay;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * An in-memory {@link EventLog} with the contract's semantics (ids "ms-seq" strictly increasing, retention by
 * count per topic, OK/RESET/UNKNOWN, tail in commit order on one notifier thread), for fast hub tests.
 */
final class MemoryEventLog implements EventLog {
    private final int maxEvents;
    private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> daemon(r, "mem-log-writer"));
    private final ExecutorService readers = Executors.newFixedThreadPool(2, r -> daemon(r, "mem-log-reader"));
    private final Map<String, List<Event>> topics = new HashMap<>();
    private final Map<String, Boolean> trimmed = new HashMap<>();
    private final List<Consumer<Event>> listeners = new CopyOnWriteArrayList<>();
    private long lastMs;
    private long seq;
    /** Writer thread: committed events whose delivery to the tail is held back, and whether it is. */
    private final List<Event> held = new ArrayList<>();
    private boolean holding;

    MemoryEventLog(int maxEvents) {
        this.maxEvents = maxEvents;
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    @Override
    public CompletableFuture<Event> append(String topic, String data) {
        return CompletableFuture.supplyAsync(() -> {
            Event e;
            synchronized (this) {
                long now = System.currentTimeMillis();
                if (now > lastMs) {
                    lastMs = now;
                    seq = 0;
                } else {
                    seq++;
                }
                e = new Event(EventId.of(lastMs, seq), topic, data, now);
                List<Event> list = topics.computeIfAbsent(topic, k -> new ArrayList<>());
                list.add(e);
                if (list.size() > maxEvents) {
                    list.remove(0);
                    trimmed.put(topic, true);
                }
            }
            if (holding) {
                held.add(e);
            } else {
                deliver(e);
            }
            return e;
        }, writer);
    }

    private void deliver(Event e) {
        for (Consumer<Event> l : listeners) {
            l.accept(e);
        }
    }

    /**
     * From the next append on, events are committed (reads see them) but reach the tail only at
     * {@link #releaseDeliveries}: a tail that lags behind the store, as Redis's reader connection or SQLite's
     * notifier can.
     */
    void holdDeliveries() throws Exception {
        writer.submit(() -> holding = true).get();
    }

    /** Hands the held events to the tail, in commit order, and stops holding. */
    void releaseDeliveries() throws Exception {
        writer.submit(() -> {
            holding = false;
            held.forEach(this::deliver);
            held.clear();
        }).get();
    }

    @Override
    public CompletableFuture<Replay> readAfter(String topic, EventId afterId, int limit) {
        return CompletableFuture.supplyAsync(() -> {
            synchronized (this) {
                List<Event> list = topics.getOrDefault(topic, List.of());
                if (list.isEmpty() || afterId.compareTo(list.get(list.size() - 1).id()) > 0) {
                    return new Replay(Replay.Status.UNKNOWN, List.of());
                }
                if (afterId.compareTo(list.get(0).id()) < 0) {
                    if (!trimmed.getOrDefault(topic, false)) {
                        return new Replay(Replay.Status.UNKNOWN, List.of());
                    }
                    return new Replay(Replay.Status.RESET, List.copyOf(list.subList(0, Math.min(limit, list.size()))));
                }
                int i = 0;
                while (i < list.size() && list.get(i).id().compareTo(afterId) < 0) {
                    i++;
                }
                if (!list.get(i).id().equals(afterId)) {
                    return new Replay(Replay.Status.UNKNOWN, List.of());
                }
                return new Replay(Replay.Status.OK, List.copyOf(list.subList(i + 1, Math.min(list.size(), i + 1 + limit))));
            }
        }, readers);
    }

    @Override
    public CompletableFuture<List<Event>> latest(String topic, int n) {
        return CompletableFuture.supplyAsync(() -> {
            synchronized (this) {
                List<Event> list = topics.getOrDefault(topic, List.of());
                return List.copyOf(list.subList(Math.max(0, list.size() - n), list.size()));
            }
        }, readers);
    }

    @Override
    public CompletableFuture<List<Event>> latestBefore(String topic, EventId beforeId, int n) {
        return CompletableFuture.supplyAsync(() -> {
            synchronized (this) {
                List<Event> list = topics.getOrDefault(topic, List.of()).stream()
                        .filter(e -> e.id().compareTo(beforeId) < 0).toList();
                return List.copyOf(list.subList(Math.max(0, list.size() - n), list.size()));
            }
        }, readers);
    }

    @Override
    public AutoCloseable tail(Consumer<Event> listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    @Override
    public void close() {
        writer.shutdownNow();
        readers.shutdownNow();
    }
}
