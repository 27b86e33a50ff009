/** The course's chat at {@code /msgs}: full-state NDJSON streams over the event log's topic "chat", and its page. */
package dev.herald.chat;
