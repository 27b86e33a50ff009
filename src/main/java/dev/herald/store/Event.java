package dev.herald.store;

import java.util.Objects;

/**
 * One stored event.
 *
 * @param id    its id, unique and increasing within {@code topic}
 * @param topic the topic it was appended to
 * @param data  the JSON document as appended
 * @param time  the wall-clock time of the append, epoch milliseconds (may be lower than {@code id.ms()} when the
 *              clock went back)
 */
public record Event(EventId id, String topic, String data, long time) {
    /** Checks that no component is null. */
    public Event {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(data, "data");
    }
}
