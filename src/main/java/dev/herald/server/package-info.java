/** The HTTP server on Netty: TLS/ALPN and h2c pipelines, HTTP/2 and HTTP/1.1 exchanges, access log, metrics. */
package dev.herald.server;
