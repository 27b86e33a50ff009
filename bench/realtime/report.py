#!/usr/bin/env python3
"""Report of bench/realtime/run.sh: merges the load generator's and the memory measurements' output into
bench/results/realtime-<ts>.json, draws the latency chart (PNG with matplotlib, else a hand-written SVG) and
rewrites the section between <!-- realtime:begin --> and <!-- realtime:end --> in BENCHMARKS.md."""
import argparse
import json
import math
import os
import re

BEGIN = "<!-- realtime:begin -->"
END = "<!-- realtime:end -->"
TARGET_P99_MS = 50
TARGET_RATIO = 10
TARGET_BYTES_PER_STREAM = 4096


def load(path):
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return None


def read(path):
    if os.path.exists(path):
        with open(path) as f:
            return f.read().strip()
    return None


def phase(load_json, name):
    for p in (load_json or {}).get("phases", []):
        if p["name"] == name:
            return p
    return None


def memory_per_stream(mem):
    if not mem:
        return None
    n = mem["subscribers"]

    def per_stream(idle, busy):
        return {"heapBytesPerStream": round((busy["heapUsedBytes"] - idle["heapUsedBytes"]) / n),
                "rssBytesPerStream": round((busy["rssBytes"] - idle["rssBytes"]) / n)}
    m = per_stream(mem["idle"], mem["withSubscribers"])
    if "coldIdle" in mem:  # the first hold cycle, one-time costs included
        m["firstCycle"] = per_stream(mem["coldIdle"], mem["coldWithSubscribers"])
    return m


def fmt_int(v):
    return "-" if v is None else f"{v:,.0f}"


def fmt_ms(v):
    if v is None:
        return "-"
    return f"{v:,.1f}" if v >= 10 else f"{v:.2f}"


def fmt_bytes(v):
    if v is None:
        return "-"
    return f"{v:,.0f} B"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--servers", required=True)
    ap.add_argument("--results-dir", required=True)
    ap.add_argument("--benchmarks-md", required=True)
    ap.add_argument("--repo-root", required=True)
    a = ap.parse_args()

    meta = load(os.path.join(a.tmp, "meta.json"))
    ts = meta["timestamp"]
    settings = meta["settings"]
    servers = {}
    for name in a.servers.split():
        lj = load(os.path.join(a.tmp, f"{name}.load.json"))
        steps = load(os.path.join(a.tmp, f"{name}.steps.json"))
        if lj is not None and steps is not None:
            # the step search ran on a fresh server after the main run: its steps and result join the main run's
            lj["phases"] = lj.get("phases", []) + [dict(p, kind="step") for p in steps.get("phases", [])
                                                    if p["kind"] == "step"]
            lj["stepUp"] = steps.get("stepUp", {})
            lj["stepWarmup"] = next((p for p in steps.get("phases", []) if p["kind"] == "warmup"), None)
        s = {"load": lj,
             "memory": load(os.path.join(a.tmp, f"{name}.memory.json")),
             "skipped": read(os.path.join(a.tmp, f"{name}.skip")),
             "died": read(os.path.join(a.tmp, f"{name}.died"))}
        s["memoryPerIdleStream"] = memory_per_stream(s["memory"])
        if s["memoryPerIdleStream"]:
            m = s["memoryPerIdleStream"]
            # Herald runs with a pre-touched fixed heap (-Xms = -Xmx, AlwaysPreTouch): its RSS does not grow with
            # the heap, so heap delta + RSS delta is its total; Node's RSS includes its heap.
            for x in [m] + ([m["firstCycle"]] if "firstCycle" in m else []):
                x["totalBytesPerStream"] = (x["heapBytesPerStream"] + max(0, x["rssBytesPerStream"])
                                            if name == "herald" else x["rssBytesPerStream"])
        servers[name] = s

    targets = evaluate(servers, settings)
    result = dict(meta)
    result["servers"] = servers
    result["targets"] = targets
    os.makedirs(a.results_dir, exist_ok=True)
    json_path = os.path.join(a.results_dir, f"realtime-{ts}.json")
    chart = draw_chart(servers, settings, os.path.join(a.results_dir, f"realtime-{ts}-latency"))
    result["chart"] = os.path.basename(chart) if chart else None
    with open(json_path, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    section = markdown(meta, servers, targets, json_path, chart, a)
    update_md(a.benchmarks_md, section)
    print(section)


def evaluate(servers, settings):
    t = []
    h = servers.get("herald", {})
    n = servers.get("node", {})
    hm = phase(h.get("load"), "main")
    at_spec = settings["subscribers"] == 10000 and settings["rate"] == 100 and settings["durationSeconds"] >= 60
    if hm:
        bad = hm["lost"] + hm["reordered"] + hm["duplicated"]
        t.append({"target": "zero lost, reordered or duplicated events (main run)",
                  "measured": f'{hm["lost"]} / {hm["reordered"]} / {hm["duplicated"]}', "met": bad == 0})
        p99 = hm["latencyMs"]["p99"]
        t.append({"target": f"p99 <= {TARGET_P99_MS} ms at 10,000 subscribers and 100 events/s for 60 s",
                  "measured": f'{fmt_ms(p99)} ms at {settings["subscribers"]:,} subscribers, {settings["rate"]} events/s,'
                              f' {settings["durationSeconds"]} s',
                  "met": (p99 <= TARGET_P99_MS) if at_spec else None})
    hn = phase((servers.get("herald-normal") or {}).get("load"), "main")
    if hn:
        p99 = hn["latencyMs"]["p99"]
        t.append({"target": f"(same, herald-normal: --sqlite-full-sync false)",
                  "measured": f'{fmt_ms(p99)} ms, lost / reordered / dup {hn["lost"]} / {hn["reordered"]} / '
                              f'{hn["duplicated"]}',
                  "met": (p99 <= TARGET_P99_MS and hn["lost"] + hn["reordered"] + hn["duplicated"] == 0)
                  if at_spec else None})
    hs = (h.get("load") or {}).get("stepUp", {})
    ns = (n.get("load") or {}).get("stepUp", {})
    if hs.get("sustainableDeliveredPerSecond") is not None and ns.get("sustainableDeliveredPerSecond") is not None:
        hr, nr = hs["sustainableDeliveredPerSecond"], ns["sustainableDeliveredPerSecond"]
        capped = hs.get("sustainableRate") and hs["sustainableRate"] * 2 > settings["stepMax"]
        # client-bound: at the first rate over the limits the load generator's own core was (nearly) saturated,
        # so Herald's sustainable rate is a lower bound
        over = [p for p in (h.get("load") or {}).get("phases", [])
                if p["kind"] == "step" and p["rate"] == hs.get("firstRateOverLimits")]
        if over and over[-1].get("clientCpuUtilization", 0) >= 0.9:
            capped = True
        if nr > 0:
            ratio = hr / nr
            measured = f'{"at least " if capped else ""}{ratio:.1f}x ({hr:,.0f} vs {nr:,.0f} deliveries/s)'
            met = ratio >= TARGET_RATIO
        else:
            measured = (f'Node: no step within the limits down to {settings["stepMin"]} events/s; Herald: '
                        + (f'{hr:,.0f} deliveries/s' if hr > 0 else 'none either'))
            met = None if hr > 0 else False
        t.append({"target": f"at least {TARGET_RATIO}x the Node baseline's sustainable delivery rate",
                  "measured": measured, "met": met})
    mp = h.get("memoryPerIdleStream")
    if mp:
        t.append({"target": "at most 4 KiB of server memory per idle subscriber stream",
                  "measured": f'{mp["totalBytesPerStream"]:,} B (heap {mp["heapBytesPerStream"]:,} B + RSS '
                              f'{mp["rssBytesPerStream"]:,} B)' + first_cycle(mp),
                  "met": mp["totalBytesPerStream"] <= TARGET_BYTES_PER_STREAM})
    return t


def first_cycle(mp):
    f = mp.get("firstCycle")
    return (f'; first hold cycle, one-time costs included: {f["totalBytesPerStream"]:,} B (heap '
            f'{f["heapBytesPerStream"]:,} B + RSS {f["rssBytesPerStream"]:,} B)') if f else ""


def pct(v):
    return "-" if v is None else f"{100 * v:.0f}%"


def row(name, subs, p, mem):
    lat = p["latencyMs"]
    return (f'| {name} | {p["name"]} | {subs:,} | {p["rate"]:,} | {fmt_int(p["deliveredPerSecond"])} | '
            f'{fmt_ms(lat["p50"])} | {fmt_ms(lat["p99"])} | {fmt_ms(lat["max"])} | '
            f'{p["lost"]:,} / {p["reordered"]:,} / {p["duplicated"]:,} | {fmt_ms(p["publishAckLatencyMs"]["p50"])} | '
            f'{pct(p.get("serverCpuUtilization"))} / {pct(p.get("clientCpuUtilization"))} | {mem} | '
            f'{"yes" if p["pass"] else "**no**"} |')


def markdown(meta, servers, targets, json_path, chart, a):
    st = meta["settings"]
    m = meta["machine"]
    md_dir = os.path.dirname(os.path.abspath(a.benchmarks_md))
    rel = lambda p: os.path.relpath(p, md_dir)
    out = [BEGIN, "", "## Realtime fan-out (topics, NDJSON over h2c)", ""]
    out.append(f'Run {meta["timestamp"]}: {st["subscribers"]:,} subscribers ({st["connections"]} connections x '
               f'{st["streamsPerConnection"]} streams) on one topic, {st["rate"]} events/s for '
               f'{st["durationSeconds"]} s after {st["warmupSeconds"]} s of warm-up, then, on a fresh server, a step search '
               f'from {st.get("stepStart", st["rate"])} events/s ({st["warmupSeconds"]} s of warm-up at that rate; '
               f'doubling, {st["stepSeconds"]} s per step, until p99 passes {st["p99LimitMs"]} ms or an event is lost, '
               f'reordered or duplicated, halving when the first step fails, then halving the interval between the last '
               f'step within those limits and the first over them until it is within an eighth). Raw data in `{rel(json_path)}`.')
    out.append("")
    out.append(f'Machine: {m["nproc"]} CPUs, {m["cpu"]}, {m["kernel"]}, load average {m["loadAverageAtStart"]} at '
               f'start. Servers pinned to CPU {st["serverCpu"]}, the load generator (publisher and subscribers, one '
               f'process, so publish and receipt times come from one monotonic clock) to CPU {st["clientCpu"]}.')
    out.append("")
    try:
        load1 = float(m["loadAverageAtStart"].split()[0])
    except (ValueError, IndexError):
        load1 = 0
    if load1 >= 1:
        out.append(f"**Noisy run:** the load average was {m['loadAverageAtStart']} at start (other work on this "
                   "2-core machine shares the pinned cores and the disk); the absolute numbers, Herald's commit "
                   "latency above all, are not representative. Re-run on an idle machine before quoting them.")
        out.append("")
    out.append("Delivered/s counts event deliveries (events x subscribers). Latency is publish (POST written) to "
               "receipt of the line on each stream, so it includes Herald's commit to SQLite before fan-out. "
               "Lost / reordered / dup are per subscriber stream: reordered means an event id older than one "
               "already received on that stream. Memory per idle stream: heap after a full GC and RSS with all "
               "subscribers idle minus the same with none, divided by the subscribers, in the second of two hold "
               "cycles (the first pays what does not grow with the streams: JIT-compiled code, pool chunks; it "
               "is in the targets line and the JSON). POST→201 is the publisher's "
               "wait for the answer (Herald answers after the SQLite commit). CPU is the share of one core used "
               "during the phase: a load generator near 100% means the client, not the server, was the limit. "
               "*herald-normal* is Herald with `--sqlite-full-sync false` (no fsync per commit); *herald* runs "
               "the defaults. Within limits: nothing lost, reordered or duplicated and p99 <= the step-up limit.")
    out.append("")
    out.append("| server | phase | subscribers | events/s | delivered/s | p50 ms | p99 ms | max ms | lost / reordered / dup "
               "| POST→201 p50 ms | CPU server / loadgen | memory per idle stream | within limits |")
    out.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    notes = []
    for name, s in servers.items():
        if s["skipped"]:
            notes.append(f"- {name}: {s['skipped']}.")
            continue
        mp = s.get("memoryPerIdleStream")
        mem = "-"
        if mp:
            mem = (f'{mp["totalBytesPerStream"]:,} B (heap {mp["heapBytesPerStream"]:,}, RSS {mp["rssBytesPerStream"]:,})'
                   if name == "herald" else f'{mp["totalBytesPerStream"]:,} B RSS (V8 heap {mp["heapBytesPerStream"]:,})')
        lj = s.get("load") or {}
        if not lj.get("phases"):
            notes.append(f"- {name}: no measurement ({lj.get('error') or 'subscribing failed: ' + json.dumps(lj.get('subscribe'))}).")
            continue
        first = True
        for p in lj["phases"]:
            if p["kind"] == "warmup":
                continue
            out.append(row(name, lj["subscribers"], p, mem if first else ""))
            first = False
        su = lj.get("stepUp", {})
        if "sustainableRate" in su:
            over = [p for p in lj.get("phases", []) if p["kind"] == "step" and p["rate"] == su.get("firstRateOverLimits")]
            bound = ""
            if over:
                o = over[-1]
                bound = (f' First rate over the limits: {o["rate"]:,} events/s (p99 {fmt_ms(o["latencyMs"]["p99"])} ms, '
                         f'server {pct(o.get("serverCpuUtilization"))}, load generator '
                         f'{pct(o.get("clientCpuUtilization"))} of its core'
                         + ('; the load generator was the limit, so this is a lower bound' if
                            o.get("clientCpuUtilization", 0) >= 0.9 else '') + ').')
            if su.get("stoppedBecause"):
                bound += f' Search stopped: {su["stoppedBecause"]}.'
            notes.append(f'- {name}: sustainable rate {su["sustainableRate"]:,} events/s = '
                         f'{su["sustainableDeliveredPerSecond"]:,.0f} deliveries/s ({su["sustainableRateNote"]}).'
                         + bound)
        d = lj.get("diagnostics", {})
        if d.get("streamsEndedByServer") or d.get("slowNotices"):
            notes.append(f'- {name}: {d["streamsEndedByServer"]} streams ended by the server, {d["slowNotices"]} slow '
                         f'notices, {d["rstStreams"]} RST_STREAM.')
        if s["died"]:
            notes.append(f"- {name}: {s['died']}.")
    out.append("")
    out.extend(notes)
    out.append("")
    if targets:
        out.append("Targets (issue 4):")
        out.append("")
        out.append("| target | measured | met |")
        out.append("| --- | --- | --- |")
        for t in targets:
            met = "n/a (not the specified size)" if t["met"] is None else ("yes" if t["met"] else "**no**")
            out.append(f'| {t["target"]} | {t["measured"]} | {met} |')
        out.append("")
    if chart:
        out.append(f"![Delivery latency, main run and step-up]({rel(chart)})")
        out.append("")
    v = meta["versions"]
    out.append(f'Versions: herald: {v["herald"] or "-"}; java: {v["java"]}; node: {v["node"]}.')
    out.append("")
    c = meta["commands"]
    out.append(f'Herald: `{c["herald"]}`. Node: `{c["node"]}`. Load: `{c["loadgen"]}`.')
    out.append("")
    out.append(f'Command: `{c["run"]}`')
    out.append("")
    out.append(END)
    return "\n".join(out)


def update_md(path, section, begin=BEGIN, end=END):
    """Replaces the section between the markers begin and end in path (appends it when they are missing)."""
    text = read(path) if os.path.exists(path) else "# Herald benchmarks\n"
    if begin in text and end in text:
        pre = text[: text.index(begin)]
        post = text[text.index(end) + len(end):]
        text = pre + section + post
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    if not text.endswith("\n"):
        text += "\n"
    with open(path, "w") as f:
        f.write(text)


QS = ["0.5", "0.75", "0.9", "0.95", "0.99", "0.999", "0.9999", "1.0"]
COLORS = {"herald": "#1f77b4", "herald-normal": "#2ca02c", "node": "#d62728"}


def chart_data(servers):
    curves, steps = {}, {}
    for name, s in servers.items():
        lj = s.get("load") or {}
        mp = phase(lj, "main")
        if mp:
            pc = mp["latencyMs"]["percentiles"]
            curves[name] = [(float(q), pc[q]) for q in QS if q in pc]
        first_is_main = (lj.get("stepUp") or {}).get("firstStepIsMain")
        st = [(p["rate"], p["latencyMs"]["p99"], p["pass"]) for p in lj.get("phases", [])
              if p["kind"] == "step" or p["kind"] == "main" and first_is_main]
        if st:
            steps[name] = sorted(st)
    return curves, steps


def xpos(q):  # percentile axis: 1/(1-q), max drawn one decade after 99.99%
    return math.log10(1 / (1 - q)) if q < 1 else 5


def draw_chart(servers, settings, base):
    curves, steps = chart_data(servers)
    if not curves and not steps:
        return None
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return draw_svg(curves, steps, settings, base + ".svg")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, pts in curves.items():
        ax1.plot([xpos(q) for q, _ in pts], [max(v, 0.01) for _, v in pts], marker="o", label=name,
                 color=COLORS.get(name))
    ax1.set_xticks([xpos(float(q)) for q in QS])
    ax1.set_xticklabels(["p50", "p75", "p90", "p95", "p99", "p99.9", "p99.99", "max"])
    ax1.set_yscale("log")
    ax1.set_ylabel("latency, ms (log)")
    ax1.set_title(f'{settings["subscribers"]:,} subscribers, {settings["rate"]} events/s, {settings["durationSeconds"]} s')
    ax1.axhline(TARGET_P99_MS, color="gray", linestyle="--", linewidth=0.8)
    ax1.grid(True, which="both", alpha=0.3)
    ax1.legend()
    for name, pts in steps.items():
        ax2.plot([r for r, _, _ in pts], [max(v, 0.01) for _, v, _ in pts], marker="o", label=name,
                 color=COLORS.get(name))
        bad = [(r, v) for r, v, ok in pts if not ok]
        if bad:
            ax2.scatter([r for r, _ in bad], [max(v, 0.01) for _, v in bad], marker="x", s=80, color="black",
                        zorder=5)
    ax2.set_xscale("log", base=2)
    rates = sorted({r for pts in steps.values() for r, _, _ in pts})
    if rates:
        ax2.set_xticks(rates)
        ax2.set_xticklabels([f"{r:,}" for r in rates], rotation=45 if len(rates) > 6 else 0)
        ax2.minorticks_off()
    ax2.set_yscale("log")
    ax2.axhline(settings["p99LimitMs"], color="gray", linestyle="--", linewidth=0.8)
    ax2.set_xlabel("events/s published (x = lost/reordered/dup or over the limit)")
    ax2.set_ylabel("p99 latency, ms (log)")
    ax2.set_title("step-up")
    ax2.grid(True, which="both", alpha=0.3)
    if steps:
        ax2.legend()
    fig.tight_layout()
    path = base + ".png"
    fig.savefig(path, dpi=100)
    return path


def draw_svg(curves, steps, settings, path):
    W, H, P = 460, 300, 50
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * W}" height="{H}" font-family="sans-serif" font-size="11">',
             f'<rect width="{2 * W}" height="{H}" fill="white"/>']

    def panel(ox, series, xs_of, title, xlabel, xticks):
        vals = [v for pts in series.values() for _, v in pts] or [1]
        lo = math.floor(math.log10(max(min(vals), 0.01)))
        hi = math.ceil(math.log10(max(max(vals), 0.02)))
        hi = max(hi, lo + 1)
        allx = [xs_of(x) for pts in series.values() for x, _ in pts] + [xs_of(x) for x, _ in xticks]
        x0, x1 = min(allx), max(allx)
        x1 = x1 if x1 > x0 else x0 + 1
        sx = lambda x: ox + P + (xs_of(x) - x0) / (x1 - x0) * (W - 2 * P)
        sy = lambda v: H - P - (math.log10(max(v, 0.01)) - lo) / (hi - lo) * (H - 2 * P)
        parts.append(f'<text x="{ox + W / 2}" y="18" text-anchor="middle">{title}</text>')
        parts.append(f'<text x="{ox + W / 2}" y="{H - 8}" text-anchor="middle">{xlabel}</text>')
        for e in range(lo, hi + 1):
            y = sy(10 ** e)
            parts.append(f'<line x1="{ox + P}" x2="{ox + W - P}" y1="{y}" y2="{y}" stroke="#ddd"/>')
            parts.append(f'<text x="{ox + P - 4}" y="{y + 4}" text-anchor="end">{10 ** e:g} ms</text>')
        for x, label in xticks:
            parts.append(f'<text x="{sx(x)}" y="{H - P + 14}" text-anchor="middle">{label}</text>')
        for i, (name, pts) in enumerate(series.items()):
            color = COLORS.get(name, "black")
            d = " ".join(f"{sx(x):.1f},{sy(v):.1f}" for x, v in pts)
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{d}"/>')
            parts.append(f'<text x="{ox + P + 8}" y="{P + 14 * i}" fill="{color}">{name}</text>')

    panel(0, curves, xpos, f'{settings["subscribers"]:,} subscribers, {settings["rate"]} events/s', "percentile",
          [(float(q), l) for q, l in zip(QS, ["p50", "p75", "p90", "p95", "p99", "p99.9", "p99.99", "max"])])
    sp = {n: [(r, v) for r, v, _ in pts] for n, pts in steps.items()}
    rates = sorted({r for pts in sp.values() for r, _ in pts}) or [1]
    panel(W, sp, lambda r: math.log2(r), "step-up: p99", "events/s", [(r, str(r)) for r in rates])
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts))
    return path


if __name__ == "__main__":
    main()
