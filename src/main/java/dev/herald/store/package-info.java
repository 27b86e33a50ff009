/** Durable, ordered event log per topic (append, resume after an id, latest N, tail); SQLite in WAL mode by default. */
package dev.herald.store;
