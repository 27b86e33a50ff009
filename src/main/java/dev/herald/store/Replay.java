package dev.herald.store;

import java.util.List;
import java.util.Objects;

/**
 * The answer to {@link EventLog#readAfter}: what to tell a resuming client, and the events to send it.
 *
 * @param status whether the resume is exact, lost events, or named an id the log does not know
 * @param events the events to send, ascending by id (empty for {@link Status#UNKNOWN})
 */
public record Replay(Status status, List<Event> events) {

    /** How {@code afterId} relates to the retained history of the topic. */
    public enum Status {
        /**
         * {@code afterId} is a retained id, the newest id, {@link EventId#ZERO} with nothing ever trimmed, or the last
         * id that retention trimmed: nothing after it was lost, {@code events} are exactly the ones after it.
         */
        OK,
        /**
         * {@code afterId} is older than what retention kept (events after it were trimmed), or older than the
         * retention's max age and not retained (its history expired): {@code events} are the retained ones from the
         * oldest; the client must reset its view.
         */
        RESET,
        /**
         * {@code afterId} is newer than the newest event of the topic, or inside the retained range but never issued
         * (for example an id of another topic or of a deleted database). The topics API answers it like a trim: a
         * {@code reset}, then a replay from the oldest retained event.
         */
        UNKNOWN
    }

    /** Checks the components and copies the list. */
    public Replay {
        Objects.requireNonNull(status, "status");
        events = List.copyOf(events);
    }
}
