/** Herald: an HTTP/2 server. {@link dev.herald.Herald} is the entry point. */
package dev.herald;
