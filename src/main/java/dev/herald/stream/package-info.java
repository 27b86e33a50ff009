/** Topics: publish/subscribe over long-running HTTP/2 (or chunked HTTP/1.1) streams, NDJSON or SSE, with resume. */
package dev.herald.stream;
