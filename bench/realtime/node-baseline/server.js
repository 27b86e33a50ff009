'use strict';
// Baseline for bench/realtime: a Node.js http2 (h2c) server that behaves like the course's chat server
// (REFERENCE §9): it keeps a list of open streams and, on every POST, writes the event to every one of them at
// once, ignoring stream.write()'s return value (no backpressure, no slow-subscriber handling, no store).
// Same wire format as Herald's NDJSON topics, so the same load generator measures both:
//   GET  /topics/{name}  200 application/x-ndjson, one line {"id","topic","data","time"} per event, never ends
//   POST /topics/{name}  JSON body -> 201 {"id":...}, after the event was written to every stream
//   GET  /_stats         {"subscribers","rss","heapUsed",...} after a GC when run with --expose-gc (memory measurement)
// Usage: node [--expose-gc] server.js PORT [HOST]
const http2 = require('node:http2');

const port = Number(process.argv[2] || 8090);
const host = process.argv[3] || '127.0.0.1';
const topics = new Map(); // name -> Set of open streams
let lastMs = 0;
let seq = 0;

function nextId() {
  const ms = Date.now();
  if (ms > lastMs) { lastMs = ms; seq = 0; } else { seq++; }
  return `${lastMs}-${seq}`;
}

const server = http2.createServer();
server.on('stream', (stream, headers) => {
  const method = headers[':method'];
  const path = headers[':path'] || '/';
  if (path === '/_stats') {
    if (global.gc) global.gc();
    let subscribers = 0;
    for (const set of topics.values()) subscribers += set.size;
    const m = process.memoryUsage();
    stream.respond({ ':status': 200, 'content-type': 'application/json' });
    stream.end(JSON.stringify({ subscribers, rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal,
      external: m.external, arrayBuffers: m.arrayBuffers, gc: Boolean(global.gc) }));
    return;
  }
  const match = /^\/topics\/([A-Za-z0-9._-]+)$/.exec(path.split('?')[0]);
  if (!match) {
    stream.respond({ ':status': 404 });
    stream.end();
    return;
  }
  const topic = match[1];
  if (method === 'GET') {
    let set = topics.get(topic);
    if (!set) { set = new Set(); topics.set(topic, set); }
    set.add(stream);
    const remove = () => set.delete(stream);
    stream.on('close', remove);
    stream.on('error', remove);
    stream.respond({ ':status': 200, 'content-type': 'application/x-ndjson; charset=utf-8' });
    return;
  }
  if (method === 'POST') {
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => {
      let data;
      try {
        data = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch (e) {
        if (stream.destroyed) return;
        stream.respond({ ':status': 400, 'content-type': 'application/json' });
        stream.end(JSON.stringify({ error: 'bad json', detail: String(e.message) }));
        return;
      }
      const event = { id: nextId(), topic, data, time: Date.now() };
      const line = JSON.stringify(event) + '\n';
      const set = topics.get(topic);
      if (set) {
        for (const s of set) s.write(line); // like the course's server: no backpressure handling
      }
      if (stream.destroyed) return; // the publisher went away (end of a run): nothing to answer
      stream.respond({ ':status': 201, 'content-type': 'application/json' });
      stream.end(JSON.stringify({ id: event.id }));
    });
    return;
  }
  stream.respond({ ':status': 405, allow: 'GET, POST' });
  stream.end();
});
server.on('sessionError', () => {});
server.listen(port, host, () => console.log(`node baseline listening on http://${host}:${port}`));
