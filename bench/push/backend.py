#!/usr/bin/env python3
"""The 'application' behind nginx and h2o in the think-time runs: answers GET /index.html after THINK_MS.

    backend.py SITE_DIR HOST PORT THINK_MS

HTTP/1.1 keep-alive, one thread per connection; the page is read once at start.
"""
import http.server
import os
import sys
import time

site, host, port, think_ms = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
with open(os.path.join(site, "index.html"), "rb") as f:
    PAGE = f.read()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        time.sleep(think_ms / 1000.0)
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(PAGE)))
        self.send_header("cache-control", "public, max-age=3600")
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, fmt, *args):
        pass


http.server.ThreadingHTTPServer((host, port), Handler).serve_forever()
