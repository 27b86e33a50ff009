package dev.herald.chat;

import dev.herald.store.Event;
import dev.herald.store.EventId;
import dev.herald.store.EventLog;
import dev.herald.store.Replay;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * A tiny in-memory {@link EventLog} for the chat's tests while (or where) the SQLite one is not wanted: one thread
 * appends, assigns ids and notifies listeners in order, like the real log's writer and notifier.
 */
final class MemoryEventLog implements EventLog {
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "memory-event-log");
        t.setDaemon(true);
        return t;
    });
    private final List<Event> events = new ArrayList<>(); // only touched on `thread`
    private final List<Consumer<Event>> listeners = new CopyOnWriteArrayList<>();
    private long lastMs;
    private long seq;
    volatile boolean failAppends;

    @Override
    public CompletableFuture<Event> append(String topic, String data) {
        return CompletableFuture.supplyAsync(() -> {
            if (failAppends) {
                throw new IllegalStateException("disk full (test)");
            }
            long now = System.currentTimeMillis();
            if (now > lastMs) {
                lastMs = now;
                seq = 0;
            } else {
                seq++;
            }
            Event e = new Event(EventId.parse(lastMs + "-" + seq), topic, data, now);
            events.add(e);
            listeners.forEach(l -> l.accept(e));
            return e;
        }, thread);
    }

    @Override
    public CompletableFuture<Replay> readAfter(String topic, EventId afterId, int limit) {
        return CompletableFuture.supplyAsync(() -> new Replay(Replay.Status.OK, events.stream()
                .filter(e -> e.topic().equals(topic) && e.id().compareTo(afterId) > 0).limit(limit).toList()), thread);
    }

    @Override
    public CompletableFuture<List<Event>> latest(String topic, int n) {
        return CompletableFuture.supplyAsync(() -> {
            List<Event> t = events.stream().filter(e -> e.topic().equals(topic)).toList();
            return List.copyOf(t.subList(Math.max(0, t.size() - n), t.size()));
        }, thread);
    }

    @Override
    public CompletableFuture<List<Event>> latestBefore(String topic, EventId beforeId, int n) {
        return CompletableFuture.supplyAsync(() -> {
            List<Event> t = events.stream()
                    .filter(e -> e.topic().equals(topic) && e.id().compareTo(beforeId) < 0).toList();
            return List.copyOf(t.subList(Math.max(0, t.size() - n), t.size()));
        }, thread);
    }

    @Override
    public AutoCloseable tail(Consumer<Event> listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    @Override
    public void close() {
        thread.shutdown();
    }
}
