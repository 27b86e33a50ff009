// Shows how this page and its assets were delivered: the negotiated protocol
// (h2, http/1.1, h3...) and, per asset, the resource timing initiatorType.
// Pushed or early-hinted assets tend to show up with tiny durations.

const describe = (proto) => proto && proto.length > 0 ? proto : 'unknown';

function showProtocol() {
  const el = document.getElementById('protocol');
  if (!el) return;
  const nav = performance.getEntriesByType('navigation')[0];
  el.textContent = nav ? describe(nav.nextHopProtocol) : 'unknown (no navigation timing)';
}

function row(...cells) {
  const tr = document.createElement('tr');
  for (const cell of cells) {
    const td = document.createElement('td');
    const { text, cls, span } = typeof cell === 'string' ? { text: cell } : cell;
    td.textContent = text;
    if (cls) td.className = cls;
    if (span) td.colSpan = span;
    tr.appendChild(td);
  }
  return tr;
}

function showResources() {
  const body = document.getElementById('resources');
  if (!body) return;
  const entries = performance.getEntriesByType('resource');
  body.replaceChildren();
  if (entries.length === 0) {
    body.appendChild(row({ text: 'No resource timings recorded.', span: 4 }));
    return;
  }
  for (const e of entries) {
    const path = new URL(e.name, location.href).pathname;
    body.appendChild(row(
      path,
      e.initiatorType || 'unknown',
      describe(e.nextHopProtocol),
      { text: `${e.duration.toFixed(1)} ms`, cls: 'num' },
    ));
  }
}

showProtocol();
// The font and late assets finish after this module runs; refresh once everything
// has loaded and again whenever new resource timings arrive.
if (document.readyState === 'complete') {
  showResources();
} else {
  window.addEventListener('load', showResources, { once: true });
}
if ('PerformanceObserver' in window) {
  new PerformanceObserver(() => showResources()).observe({ type: 'resource', buffered: false });
}
document.fonts?.ready.then(showResources);
