package dev.herald.chat;

import dev.herald.store.EventLog;
import dev.herald.store.Retention;
import dev.herald.store.SqliteEventLog;
import java.nio.file.Path;
import java.time.Duration;

/** The event log the chat's server tests run on: the real SQLite log, on a file in Herald's data directory. */
final class ChatLogs {
    private ChatLogs() {
    }

    /** Opens (or reopens, with its history) the chat's log in {@code dir}. */
    static EventLog open(Path dir) {
        return SqliteEventLog.open(dir.resolve("chat-test.db"), new Retention(10_000, Duration.ofDays(1)), false);
    }
}
