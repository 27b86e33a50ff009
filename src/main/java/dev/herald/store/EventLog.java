package dev.herald.store;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * An append-only log of events per topic, with ids that order them ({@link EventId}, the Redis Streams form
 * {@code <ms>-<seq>}, so that a Redis implementation can stand behind the same interface).
 *
 * <p>Every method returns at once: the work runs on the implementation's own threads, never on the caller's
 * (callers are often Netty event loops). Futures complete on the store's threads; continuations that do more than
 * hand the result to another executor should hop first.
 *
 * <p>Invalid arguments (null, empty topic, non-positive limits) throw at once. Conditions of the store complete the
 * future exceptionally: {@link StoreOverloadedException} when its queue is full (map to 503 with Retry-After),
 * {@link StoreClosedException} after {@link #close()}, {@link StoreTimeoutException} when the store did not answer (in
 * time, or before the connection broke) and the work may have been done all the same (map to 504: the client should
 * check before it retries), {@link StoreException} on an I/O or database error (the work was not done).
 */
public interface EventLog extends AutoCloseable {

    /**
     * Appends {@code data} (a JSON document, already validated) to {@code topic}. Completes with the stored event only
     * after the transaction that holds it committed; ids are strictly increasing per topic, even if the clock goes
     * back.
     */
    CompletableFuture<Event> append(String topic, String data);

    /**
     * Replays for resume: the events of {@code topic} with an id greater than {@code afterId}, ascending, at most
     * {@code limit}; see {@link Replay.Status} for how a trimmed, unknown or too new {@code afterId} is answered.
     * {@link EventId#ZERO} means "from the start of the history". Fewer than {@code limit} events means there are no
     * more. The readers of every implementation skip an event whose stored data is not one JSON value (a damaged file,
     * another program writing to the store) and log it ({@link StoredData}); they read on in its place.
     */
    CompletableFuture<Replay> readAfter(String topic, EventId afterId, int limit);

    /**
     * {@link #readAfter(String, EventId, int)}, stopping early once the events read hold at least {@code maxChars}
     * characters of data (so a page holds less than {@code maxChars} plus one event): a page with fewer than
     * {@code limit} events that holds less than {@code maxChars} characters means there are no more. This bounds
     * what a replay holds in memory whatever the events' sizes. The default ignores {@code maxChars}.
     */
    default CompletableFuture<Replay> readAfter(String topic, EventId afterId, int limit, long maxChars) {
        return readAfter(topic, afterId, limit);
    }

    /** The newest {@code n} events of {@code topic}, ascending by id (callers reverse for newest-first). */
    CompletableFuture<List<Event>> latest(String topic, int n);

    /**
     * The newest {@code n} events of {@code topic} with an id less than {@code beforeId}, ascending by id: the page
     * before one that {@link #latest} or this method returned, when {@code beforeId} is that page's oldest id. Empty
     * once the retained history has nothing older.
     */
    CompletableFuture<List<Event>> latestBefore(String topic, EventId beforeId, int n);

    /**
     * Registers a listener called for every event after it was committed, on the store's notifier thread: in commit
     * order, so per topic in id order. Events committed before the registration are not replayed (use
     * {@link #readAfter} for that); a log shared by several nodes only delivers the topics someone holds an
     * {@link #interest} in. The listener must not block; an exception it throws is logged and ignored.
     *
     * @return a handle whose {@code close()} unregisters the listener (idempotent, never throws)
     */
    AutoCloseable tail(Consumer<Event> listener);

    /**
     * {@link #tail(Consumer)}, also told when the tail missed events of a topic: {@code gap} gets the topic right
     * before the first event after the gap, on the same thread. Events are missed when the store trimmed them
     * (retention) before this node read them, as after a partition from Redis. The default never reports one:
     * a store that hands over every commit has no gap.
     */
    default AutoCloseable tail(Consumer<Event> listener, Consumer<String> gap) {
        return tail(listener);
    }

    /**
     * Declares that this node has a local reader of {@code topic} (a subscriber, the chat), so that {@link #tail}
     * listeners receive the topic's events. A log shared by several nodes only follows the topics some local reader
     * holds an interest in (Redis: one {@code XREAD} over those streams); a local log delivers every topic anyway,
     * and its interests are ready at once and cost nothing.
     *
     * <p>Interests are counted per topic: the topic is followed from the first {@code interest} until the last
     * handle is closed, so closing one never stops the events another holder relies on.
     *
     * <p>To see a topic with no gap, a reader registers its tail listener, takes the interest, waits for
     * {@link Interest#ready()}, and only then reads the history with {@link #readAfter} or {@link #latest}: every
     * event appended after that read began reaches the listener (some before it may reach both; ids tell them
     * apart).
     *
     * @return a handle whose {@code close()} gives the interest back (idempotent, never throws)
     */
    default Interest interest(String topic) {
        Objects.requireNonNull(topic, "topic");
        return Interest.IMMEDIATE;
    }

    /** One holder's interest in a topic; see {@link EventLog#interest}. */
    interface Interest extends AutoCloseable {
        /** The interest of a log that delivers every topic anyway: ready at once, nothing to give back. */
        Interest IMMEDIATE = new Interest() {
            @Override
            public CompletableFuture<Void> ready() {
                return CompletableFuture.completedFuture(null);
            }

            @Override
            public void close() {
            }
        };

        /**
         * Completes once the log follows the topic: from then on every appended event reaches the tail listeners.
         * Fails when the store cannot be reached (a {@link StoreException}, to be answered with 503); a later call
         * tries again.
         */
        CompletableFuture<Void> ready();

        /** Gives the interest back; the topic is no longer followed once no holder is left. Idempotent. */
        @Override
        void close();
    }

    /**
     * Why appends fail now, as far as the store has seen, for {@code /healthz}: null while it works. Never blocks and
     * sends nothing: it reports the state of its connections and what its recent writes met (see the
     * implementations). Short and public: no host names or paths, which the store's own log lines carry.
     */
    default String unavailable() {
        return null;
    }

    /** Stops accepting work, commits the appends already queued, then releases the database. Idempotent. */
    @Override
    void close();
}
