#!/usr/bin/env python3
"""Report of bench/push/run.sh: reads the client's JSON lines (loads.jsonl, chromium.jsonl) and meta.json from
--dir, writes bench/results/push-<ts>.json and push-<ts>.png (load time per server and condition), and rewrites
the section between <!-- push:begin --> and <!-- push:end --> in BENCHMARKS.md (created if missing). A run with
INITCWND set writes its own section (<!-- push-initcwnd:begin --> ... <!-- push-initcwnd:end -->), so the kernel's
default and the raised window stand side by side."""
import argparse
import json
import math
import os
import re
import statistics

BEGIN = "<!-- push:begin -->"
END = "<!-- push:end -->"
BEGIN_INITCWND = "<!-- push-initcwnd:begin -->"
END_INITCWND = "<!-- push-initcwnd:end -->"
ANCHORS = ("nghttpd", "nginx", "h2o")
ORDER = ("herald-push", "herald-nopush", "herald-hints", "herald-pushall", "herald-pushall-before", "herald-pushall-after",
         "herald-pushall-auto", "herald-push-gzip", "nghttpd", "nginx", "h2o")
GZIP = ("herald-push-gzip",)  # conditions whose client accepts gzip: checked against, and limited by, the gzip bytes
MSS = 1448          # TCP payload per segment on the 1500-byte tun link with timestamps
IW = 10             # Linux initial congestion window (RFC 6928), segments
TARGET_LIMIT_RATIO = 1.15
TARGET_HINTS_GAIN = 0.25
# Pushes starve the page when its HTML completes later than without push: pushes ahead of a page delay it by the
# round trips their bytes need, so a quarter of one is the tolerance (noise, a packet's worth of interleaving)
STARVE_TOLERANCE_RTT = 0.25
DESCRIPTION = {
    "herald-push": "Herald as shipped (`push.max-bytes: auto`), client allows push (hints ignored)",
    "herald-nopush": "Herald, client sends ENABLE_PUSH=0 and ignores 103 (discovery only)",
    "herald-hints": "Herald, ENABLE_PUSH=0, client fetches 103 Early Hints at once (like a browser)",
    "herald-pushall": "diagnostic: Herald with its push budget raised to 1 MiB, so it pushes all three (not the default)",
    "herald-pushall-before": "diagnostic: herald-pushall with `push.priority: before` (the page's body waits for "
                             "its pushes)",
    "herald-pushall-after": "diagnostic: herald-pushall with `push.priority: after` (the pushes wait for the page)",
    "herald-pushall-auto": "diagnostic: herald-pushall with `push.priority: auto` (Apache's defaults: CSS and fonts "
                           "before the page's body, scripts interleaved)",
    "herald-push-gzip": "diagnostic: the herald-push server and a client that also accepts gzip (as nghttp does): "
                        "the HTML, CSS and JS come gzipped (`files.compress`), and the budget counts those bytes; its "
                        "limit and bound are for the bytes it got",
    "nghttpd": "nghttpd -p (push all three)",
    "nginx": "nginx 1.22 http2_push (all three)",
    "h2o": "h2o 2.2.5 mruby 399 + Link (push all three)",
}


def read_jsonl(path):
    out = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    out.append(json.loads(line))
    return out


def pct(values, p):
    """Nearest-rank percentile."""
    v = sorted(values)
    if not v:
        return None
    k = max(1, math.ceil(p / 100 * len(v)))
    return v[k - 1]


def label_key(label):
    m = re.match(r"(\S+) rtt=(\d+) think=(\d+)", label)
    return m.group(1), int(m.group(2)), int(m.group(3))


def slow_start_rounds(total_bytes, iw=IW):
    segments = math.ceil(total_bytes / MSS)
    rounds, cwnd, sent = 0, iw, 0
    while sent < segments:
        sent += cwnd
        cwnd *= 2
        rounds += 1
    return rounds


def limits(rtt, think, total_bytes, bandwidth_mbit, iw=IW):
    transfer = total_bytes * 8 / (bandwidth_mbit * 1000.0)  # ms
    setup = 2 * rtt                                          # TCP handshake + TLS 1.3 handshake
    physical = setup + rtt + transfer + think                # the limit
    rounds = slow_start_rounds(total_bytes, iw)
    iw10 = setup + max(rounds * rtt, think + rtt) + transfer  # the same with IW10 slow start; push may fill think time
    return round(physical, 1), round(iw10, 1), rounds


def summarize(loads, fixture, bandwidth, iw=IW, encoded=None):
    groups = {}
    for r in loads:
        groups.setdefault(label_key(r["label"]), []).append(r)
    rows = []
    for (cond, rtt, think), rs in groups.items():
        expected = (encoded or {}) if cond in GZIP else fixture
        total_bytes = sum(expected.values())
        ok = [r for r in rs if "error" not in r]
        errors = [r["error"] for r in rs if "error" in r]
        bad = []
        for r in ok:
            needed = {x["path"].lstrip("/"): x for x in r["resources"] if x["needed"]}
            if not expected or set(needed) != set(expected) or any(needed[p]["bytes"] != expected[p] for p in expected):
                bad.append(r["run"])
        totals = [r["totalMs"] for r in ok if r["run"] not in bad]
        physical, iw10, rounds = limits(rtt, think, total_bytes, bandwidth, iw)
        how = {}
        for r in ok:
            for x in r["resources"]:
                how.setdefault(x["path"], {}).setdefault(x["how"], 0)
                how[x["path"]][x["how"]] += 1
        per_level = {}
        for r in ok:
            for x in r["resources"]:
                per_level.setdefault(x["path"], []).append(x["doneMs"])
        med = statistics.median(totals) if totals else None
        rows.append({
            "condition": cond, "rttMs": rtt, "thinkMs": think, "n": len(totals), "errors": errors,
            "wrongBytesRuns": bad,
            "medianMs": med, "p90Ms": pct(totals, 90), "minMs": min(totals) if totals else None,
            "maxMs": max(totals) if totals else None, "loadsMs": totals,
            "setupMedianMs": statistics.median([r["tlsMs"] for r in ok]) if ok else None,
            "htmlMedianMs": statistics.median([r["htmlMs"] for r in ok]) if ok else None,
            "resourceDoneMedianMs": {p: round(statistics.median(v), 1) for p, v in per_level.items()},
            "how": how,
            "duplicatePushes": sum(r.get("duplicatePushes", 0) for r in ok),
            "bytes": total_bytes, "physicalLimitMs": physical, "iw10BoundMs": iw10, "slowStartRounds": rounds,
            "ratioToLimit": round(med / physical, 2) if med else None,
            "ratioToIw10Bound": round(med / iw10, 2) if med else None,
        })
    rows.sort(key=lambda x: (-x["rttMs"], x["thinkMs"], ORDER.index(x["condition"]) if x["condition"] in ORDER else 99))
    return rows


def chromium_summary(chromium):
    groups = {}
    for r in chromium:
        groups.setdefault(label_key(r["label"]), []).append(r)
    out = []
    for (cond, rtt, think), rs in sorted(groups.items()):
        ok = [r for r in rs if "error" not in r]
        loads = [r["timing"]["loadEventEnd"] for r in ok]
        early = [sum(1 for x in r["timing"]["resources"] if x["initiatorType"] == "early-hints") for r in ok]
        dup = 0
        for r in ok:
            names = [x["name"] for x in r["timing"]["resources"]]
            dup += len(names) - len(set(names))
        out.append({"condition": cond, "rttMs": rtt, "thinkMs": think, "n": len(loads),
                    "errors": [r["error"] for r in rs if "error" in r],
                    "medianMs": statistics.median(loads) if loads else None, "p90Ms": pct(loads, 90),
                    "loadsMs": [round(v, 1) for v in loads],
                    "responseStartMedianMs": statistics.median([r["timing"]["responseStart"] for r in ok]) if ok else None,
                    "connectEndMedianMs": statistics.median([r["timing"]["connectEnd"] for r in ok]) if ok else None,
                    "earlyHintsResourcesPerLoad": early, "refetchedResources": dup,
                    "protocol": sorted({r["timing"]["protocol"] for r in ok})})
    return out


def targets(rows, chrom):
    checks = []
    by = {(r["condition"], r["rttMs"], r["thinkMs"]): r for r in rows}
    for (cond, rtt, think), r in sorted(by.items(), key=lambda kv: (-kv[0][1], kv[0][2])):
        if cond != "herald-push" or r["medianMs"] is None:
            continue
        anchors = [by[(a, rtt, think)] for a in ANCHORS if (a, rtt, think) in by and by[(a, rtt, think)]["medianMs"]]
        best = min(anchors, key=lambda a: a["medianMs"]) if anchors else None
        checks.append({"target": f"Herald push within {TARGET_LIMIT_RATIO}x of the physical limit (RTT {rtt}, think {think})",
                       "value": f"{r['ratioToLimit']}x ({r['medianMs']:.0f} ms vs {r['physicalLimitMs']:.0f} ms)",
                       "met": r["ratioToLimit"] <= TARGET_LIMIT_RATIO})
        if best:
            checks.append({"target": f"Herald push no slower than the best anchor (RTT {rtt}, think {think})",
                           "value": f"{r['medianMs']:.0f} ms vs {best['condition']} {best['medianMs']:.0f} ms",
                           "met": r["medianMs"] <= best["medianMs"]})
        nopush = by.get(("herald-nopush", rtt, think))
        if nopush and nopush["medianMs"]:
            def after_page(row, path):
                d = row["resourceDoneMedianMs"]
                return (d[path] - d["/index.html"]) / rtt
            np_css, np_font = after_page(nopush, "/style.css"), after_page(nopush, "/font.woff2")
            p_font = after_page(r, "/font.woff2")
            checks.append({"target": f"no push takes one more RTT per level of depth (RTT {rtt}, think {think})",
                           "value": f"without push the CSS (level 1) completes {np_css:.1f} RTT and the font (level 2) "
                                    f"{np_font:.1f} RTT after the page, with push the font {p_font:+.1f} RTT; page load "
                                    f"+{nopush['medianMs'] - r['medianMs']:.0f} ms = {(nopush['medianMs'] - r['medianMs']) / rtt:.2f} RTT",
                           "met": np_css >= 0.9 and np_font >= 1.8})
    for (cond, rtt, think), r in sorted(by.items(), key=lambda kv: (-kv[0][1], kv[0][2])):
        nopush = by.get(("herald-nopush", rtt, think))
        if cond != "herald-push" or not nopush or not r["htmlMedianMs"] or not nopush["htmlMedianMs"]:
            continue
        late = (r["htmlMedianMs"] - nopush["htmlMedianMs"]) / rtt
        checks.append({"target": f"Herald's pushes do not starve the page (RTT {rtt}, think {think})",
                       "value": f"its HTML completes at {r['htmlMedianMs']:.0f} ms against {nopush['htmlMedianMs']:.0f} "
                                f"without push ({late:+.2f} RTT; starved: more than +{STARVE_TOLERANCE_RTT} RTT)",
                       "met": late <= STARVE_TOLERANCE_RTT})
    gain = hints_gain(chrom)
    if gain:
        checks.append({"target": f"Chromium with early hints >= {TARGET_HINTS_GAIN:.0%} faster (loadEventEnd)",
                       "value": f"{gain[0]:.1%} ({gain[1]:.0f} vs {gain[2]:.0f} ms)",
                       "met": gain[0] >= TARGET_HINTS_GAIN})
    return checks


def hints_gain(chrom, suffix=""):
    """(gain, hints median, nohints median) of the Chromium modes with this suffix, or None."""
    c = {x["condition"]: x["medianMs"] for x in chrom}
    hints, nohints = c.get("chromium-hints" + suffix), c.get("chromium-nohints" + suffix)
    if not hints or not nohints:
        return None
    return 1 - hints / nohints, hints, nohints


def chart(rows, chrom, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    groups = sorted({(r["rttMs"], r["thinkMs"]) for r in rows}, key=lambda g: (-g[0], g[1]))
    conds = [c for c in ORDER if any(r["condition"] == c for r in rows)]
    colors = {"herald-push": "#1f6feb", "herald-nopush": "#8ab4f8", "herald-hints": "#5a8f29", "herald-pushall": "#6e40c9",
              "herald-pushall-before": "#b392f0", "herald-pushall-after": "#d8b9ff", "herald-pushall-auto": "#3c1e70",
              "herald-push-gzip": "#17a2b8", "nghttpd": "#9a6700",
              "nginx": "#2da44e", "h2o": "#cf222e"}
    ncols = 2 if chrom else 1
    fig, axes = plt.subplots(1, ncols, figsize=(13 if chrom else 10, 5.2),
                             gridspec_kw={"width_ratios": [4, 0.5 * len(chrom)]} if chrom else None)
    ax = axes[0] if chrom else axes
    by = {(r["condition"], r["rttMs"], r["thinkMs"]): r for r in rows}
    width = 0.8 / len(conds)
    for i, c in enumerate(conds):
        xs, meds, errs, htmls = [], [], [], []
        for g, (rtt, think) in enumerate(groups):
            r = by.get((c, rtt, think))
            if r and r["medianMs"]:
                xs.append(g + (i - (len(conds) - 1) / 2) * width)
                meds.append(r["medianMs"])
                errs.append(r["p90Ms"] - r["medianMs"])
                if r["htmlMedianMs"]:
                    htmls.append((xs[-1], r["htmlMedianMs"]))
        ax.bar(xs, meds, width, yerr=[[0] * len(errs), errs], capsize=2, label=c, color=colors.get(c))
        ax.scatter([x for x, _ in htmls], [h for _, h in htmls], marker="D", s=14, facecolors="white",
                   edgecolors="black", linewidths=0.8, zorder=3, label="HTML done (median)" if i == 0 else None)
    for g, (rtt, think) in enumerate(groups):
        group = [r for r in rows if r["rttMs"] == rtt and r["thinkMs"] == think]
        any_row = next((r for r in group if r["condition"] not in GZIP), group[0])  # the lines for the bytes on disk
        ax.hlines(any_row["physicalLimitMs"], g - 0.45, g + 0.45, colors="black", linestyles="dashed",
                  label="physical limit" if g == 0 else None)
        ax.hlines(any_row["iw10BoundMs"], g - 0.45, g + 0.45, colors="gray", linestyles="dotted",
                  label="limit with IW10 slow start" if g == 0 else None)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([f"RTT {rtt} ms\nthink {think} ms" for rtt, think in groups])
    ax.set_ylabel("page load, ms (median; whisker to p90)")
    ax.set_title("Page + CSS + font + module script (98 KB), new TLS connection, push-capable client")
    ax.legend(fontsize=8, ncol=2)
    ax.grid(axis="y", alpha=0.3)
    if chrom:
        ax2 = axes[1]
        # hints green, no hints light blue (as herald-hints and herald-nopush on the left); identity hatched
        names = [x["condition"].replace("chromium-", "").replace("-identity", "\nidentity") for x in chrom]
        meds = [x["medianMs"] or 0 for x in chrom]
        errs = [(x["p90Ms"] or 0) - (x["medianMs"] or 0) for x in chrom]
        bars = ax2.bar(names, meds, yerr=[[0] * len(errs), errs], capsize=3,
                       color=["#8ab4f8" if n.startswith("nohints") else "#5a8f29" for n in names])
        for bar, n in zip(bars, names):
            if n.endswith("identity"):
                bar.set_hatch("//")
        ax2.tick_params(axis="x", labelsize=8)
        ax2.set_title(f"Chromium, Herald\nRTT {chrom[0]['rttMs']} ms, think {chrom[0]['thinkMs']} ms", fontsize=10)
        ax2.set_ylabel("loadEventEnd, ms (median; whisker to p90)")
        ax2.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def fmt(v):
    return "-" if v is None else f"{v:,.0f}"


def markdown(meta, rows, chrom, checks, png_rel, json_rel, iw=IW):
    raised = iw != IW
    s = meta["settings"]
    lines = [BEGIN_INITCWND if raised else BEGIN, "",
             f"## Server push under latency, initial congestion window {iw}" if raised else "## Server push under latency",
             ""]
    if raised:
        lines += [f"The same benchmark with the servers' initial congestion window raised to {iw} segments (route "
                  f"`initcwnd` in hd-srv; clients: `initrwnd` {s.get('initrwnd') or 'default'}, receive buffer "
                  f"{s.get('clientRmem') or 'default'} bytes), so that the whole page fits the first round trip: the "
                  "physical limit's assumption (it has no slow start). Every server gets the same route. The section "
                  "above is the kernel's default (10 segments).", ""]
    lines += [
             "Generated by `bench/push/run.sh` (see bench/README.md). Page load = TCP connect start until the last "
             "resource the page needs is complete, one new TLS connection per load, client and server in two network "
             "namespaces joined by `netdelay` (fixed RTT, no loss). The page: "
             + ", ".join(f"`{k}` {v:,} B" for k, v in meta["fixture"].items())
             + f" ({sum(meta['fixture'].values()):,} B): index.html -> style.css -> font.woff2, index.html -> app.js (module).",
             "",
             f"Servers' congestion control: {meta['settings'].get('serverCongestionControl', 'not recorded')}. "
             f"Physical limit = setup (TCP + TLS 1.3: 2 RTT) + 1 RTT + bytes / {meta['settings']['bandwidthMbit']} Mbit/s "
             f"+ think time. IW{iw} bound = the same with TCP slow start from {iw} segments (the server needs "
             f"{rows[0]['slowStartRounds'] if rows else '?'} rounds for the bytes; a push may fill the think time).",
             "",
             f"| RTT | think | condition | median ms | p90 ms | n | limit ms | x limit | IW{iw} bound ms | x bound | HTML done ms | how the assets came |",
             "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        how = ", ".join(f"{p.lstrip('/')}: {'/'.join(sorted(h))}" for p, h in r["how"].items() if p != "/index.html")
        note = ""
        if r["errors"]:
            note += f" ({len(r['errors'])} failed)"
        if r["wrongBytesRuns"]:
            note += f" ({len(r['wrongBytesRuns'])} wrong bytes)"
        lines.append(f"| {r['rttMs']} | {r['thinkMs']} | {r['condition']}{note} | {fmt(r['medianMs'])} | {fmt(r['p90Ms'])} | "
                     f"{r['n']} | {fmt(r['physicalLimitMs'])} | {r['ratioToLimit']} | {fmt(r['iw10BoundMs'])} | "
                     f"{r['ratioToIw10Bound']} | {fmt(r['htmlMedianMs'])} | {how} |")
    lines += ["", "Conditions: " + "; ".join(f"**{k}**: {v}" for k, v in DESCRIPTION.items()) + ".", ""]
    gz = [r for r in rows if r["condition"] in GZIP]
    if gz and meta.get("fixtureAcceptingGzip"):
        encoded = meta["fixtureAcceptingGzip"]
        lines += [f"{', '.join(GZIP)} got " + ", ".join(f"{k} {v:,} B" for k, v in encoded.items())
                  + f" ({gz[0]['bytes']:,} B; slow start from 10 segments needs {gz[0]['slowStartRounds']} rounds).", ""]
    lines += ["When each level completes (median ms from connect start; in brackets: round trips after the TLS "
              "handshake): discovery without push pays one round trip per level, push and hints do not.", "",
              "| RTT | think | condition | setup | index.html | style.css | font.woff2 (level 2) | app.js |",
              "|---:|---:|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        d = r["resourceDoneMedianMs"]
        setup = r["setupMedianMs"] or 0

        def cell(p):
            v = d.get(p)
            return "-" if v is None else f"{v:,.0f} ({(v - setup) / r['rttMs']:.1f})"
        lines.append(f"| {r['rttMs']} | {r['thinkMs']} | {r['condition']} | {fmt(r['setupMedianMs'])} | {cell('/index.html')} | "
                     f"{cell('/style.css')} | {cell('/font.woff2')} | {cell('/app.js')} |")
    lines.append("")
    if chrom:
        lines += ["Chromium (Herald only; fresh browser and profile per load; `loadEventEnd` from navigation start):", "",
                  "| RTT | think | Herald | median ms | p90 ms | n | resources from early hints per load | fetched twice |",
                  "|---:|---:|---|---:|---:|---:|---|---:|"]
        for c in chrom:
            lines.append(f"| {c['rttMs']} | {c['thinkMs']} | {c['condition'].replace('chromium-', '')} | {fmt(c['medianMs'])} | "
                         f"{fmt(c['p90Ms'])} | {c['n']} | {sorted(set(c['earlyHintsResourcesPerLoad']))} | {c['refetchedResources']} |")
        lines.append("")
        identity = hints_gain(chrom, "-identity")
        encoded = meta.get("fixtureAcceptingGzip") or {}
        if identity and encoded:
            lines += ["hints / nohints: Herald as shipped (`files.compress` on): Chromium accepts gzip, so it gets "
                      + ", ".join(f"{k} {v:,} B" for k, v in encoded.items())
                      + f" ({sum(encoded.values()):,} B of body instead of {sum(meta['fixture'].values()):,} B). "
                      "*-identity*: the same with `files.compress` off, the bytes as on disk: early hints "
                      f"{identity[0]:.1%} faster ({identity[1]:.0f} vs {identity[2]:.0f} ms). The target below is judged "
                      "on Herald as shipped.", ""]
    lines += ["Targets (issue 3):", ""]
    for c in checks:
        lines.append(f"- {'met' if c['met'] else '**missed**'}: {c['target']}: {c['value']}")
    lines += ["", f"![push page load per server and condition]({png_rel})", "",
              f"Raw data: `{json_rel}`. Machine: {meta['machine']['nproc']} cores, {meta['machine']['cpu']}, "
              f"{meta['machine']['kernel']}; before: `{meta['machine']['uptimeBefore'].strip()}`; after: "
              f"`{meta['machine']['uptimeAfter'].strip()}`. Versions: "
              + "; ".join(f"{k} `{v}`" for k, v in meta["versions"].items()) + ".",
              f"Command: `{meta['commands']['run']}`.", "", END_INITCWND if raised else END]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--results-dir", required=True)
    ap.add_argument("--benchmarks-md", required=True)
    ap.add_argument("--repo-root", required=True)
    a = ap.parse_args()
    with open(os.path.join(a.dir, "meta.json")) as f:
        meta = json.load(f)
    loads = read_jsonl(os.path.join(a.dir, "loads.jsonl"))
    chromium = read_jsonl(os.path.join(a.dir, "chromium.jsonl"))
    initcwnd = str(meta["settings"].get("initcwnd", ""))
    iw = int(initcwnd) if initcwnd.isdigit() else IW
    rows = summarize(loads, meta["fixture"], meta["settings"]["bandwidthMbit"], iw, meta.get("fixtureAcceptingGzip"))
    chrom = chromium_summary(chromium)
    checks = targets(rows, chrom)
    ping = ""
    if os.path.exists(os.path.join(a.dir, "ping.txt")):
        with open(os.path.join(a.dir, "ping.txt")) as f:
            ping = f.read().strip()
    ts = meta["timestamp"]
    json_path = os.path.join(a.results_dir, f"push-{ts}.json")
    png_path = os.path.join(a.results_dir, f"push-{ts}.png")
    result = dict(meta)
    result.update({"netdelay": ping, "conditions": rows, "chromium": chrom, "targets": checks,
                   "rawLoads": loads, "rawChromium": chromium})
    with open(json_path, "w") as f:
        json.dump(result, f, indent=1)
    chart(rows, chrom, png_path)
    md_dir = os.path.dirname(os.path.abspath(a.benchmarks_md))
    section = markdown(meta, rows, chrom, checks, os.path.relpath(png_path, md_dir), os.path.relpath(json_path, a.repo_root),
                       iw)
    begin, end = (BEGIN_INITCWND, END_INITCWND) if iw != IW else (BEGIN, END)
    text = open(a.benchmarks_md).read() if os.path.exists(a.benchmarks_md) else "# Herald benchmarks\n"
    if begin in text and end in text:
        text = text[:text.index(begin)] + section + text[text.index(end) + len(end):]
    elif iw != IW and END in text:  # right after the default section
        cut = text.index(END) + len(END)
        text = text[:cut] + "\n\n" + section + text[cut:]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    with open(a.benchmarks_md, "w") as f:
        f.write(text)
    for r in rows:
        print(f"{r['rttMs']:>4} {r['thinkMs']:>4} {r['condition']:<14} median {fmt(r['medianMs']):>6} p90 {fmt(r['p90Ms']):>6} "
              f"n {r['n']:>3} x limit {r['ratioToLimit']} x IW10 {r['ratioToIw10Bound']}")
    for c in chrom:
        print(f"chromium {c['condition']}: median {fmt(c['medianMs'])} p90 {fmt(c['p90Ms'])} n {c['n']} early-hints {c['earlyHintsResourcesPerLoad']}")
    for c in checks:
        print(("met     " if c["met"] else "MISSED  ") + c["target"] + ": " + c["value"])
    print(f"wrote {json_path}, {png_path}, {a.benchmarks_md}")


if __name__ == "__main__":
    main()
