#!/usr/bin/env python3
"""Writes the bench page into DIR: index.html -> style.css -> font.woff2, index.html -> app.js (module), ~100 KB.

Deterministic (seeded), so every run and every server serves the same bytes. The font is random bytes of a
realistic size (a woff2 subset of one face is typically 20-40 KB): clients fetch it, Chromium fetches it and then
rejects it as a font; neither changes what the network carries.
"""
import os
import random
import sys

WORDS = ("push promise stream frame window header settings priority hint preload latency round trip "
         "congestion slow start server client page style font script module cache digest").split()


def text(rng, n):
    out = []
    size = 0
    while size < n:
        w = rng.choice(WORDS)
        out.append(w)
        size += len(w) + 1
    return " ".join(out)


def main(folder):
    rng = random.Random(20261122)
    os.makedirs(folder, exist_ok=True)
    paras = []
    size = 0
    while size < 9500:
        p = "<p>" + text(rng, 400) + "</p>\n"
        paras.append(p)
        size += len(p)
    html = ("<!doctype html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n<title>push bench</title>\n"
            "<link rel=stylesheet href=\"/style.css\">\n<script type=module src=\"/app.js\"></script>\n</head>\n"
            "<body>\n<h1>Server push under latency</h1>\n" + "".join(paras) + "</body>\n</html>\n")
    css = ["@font-face { font-family: Bench; src: url(/font.woff2) format(\"woff2\"); font-display: block; }\n",
           "body { font-family: Bench, sans-serif; margin: 2em; line-height: 1.5; }\n"]
    i = 0
    while sum(map(len, css)) < 12000:
        css.append(".c%d { color: #%06x; padding: %dpx %dpx; border-radius: %dpx; }\n"
                   % (i, rng.randrange(1 << 24), rng.randrange(20), rng.randrange(20), rng.randrange(8)))
        i += 1
    js = ["// bench module: a table of words, rendered after load\nconst rows = [\n"]
    while sum(map(len, js)) < 48000:
        js.append("  %r,\n" % text(rng, 70))
    js.append("];\ndocument.documentElement.dataset.rows = String(rows.length);\n")
    files = {
        "index.html": html.encode(),
        "style.css": "".join(css).encode(),
        "font.woff2": bytes(rng.randrange(256) for _ in range(28000)),
        "app.js": "".join(js).encode(),
    }
    for name, data in files.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
    for name, data in files.items():
        print("%s %d" % (name, len(data)))


if __name__ == "__main__":
    main(sys.argv[1])
