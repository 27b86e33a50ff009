#!/usr/bin/env python3
"""Report of bench/redis/run.sh: merges the load generator's output of each configuration into
bench/results/redis-<UTC>.json and rewrites the section between <!-- redis:begin --> and <!-- redis:end --> in
BENCHMARKS.md."""
import argparse
import importlib.util
import json
import os

# bench/realtime's report: the load generator's JSON, number formats and the BENCHMARKS.md section update
_spec = importlib.util.spec_from_file_location(
    "realtime_report", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "realtime", "report.py"))
_realtime = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_realtime)
fmt_int, fmt_ms, load, phase, update_md = (_realtime.fmt_int, _realtime.fmt_ms, _realtime.load, _realtime.phase,
                                           _realtime.update_md)

BEGIN = "<!-- redis:begin -->"
END = "<!-- redis:end -->"
LABELS = {"sqlite": "1 node, SQLite", "sqlite-normal": "1 node, SQLite, no fsync per commit",
          "redis": "2 nodes, Redis"}


def per_1000(cpu_seconds, events):
    """CPU milliseconds per 1,000 events."""
    if cpu_seconds is None or cpu_seconds < 0 or not events:
        return None
    return cpu_seconds * 1000.0 / events * 1000.0


def fmt_s(ms):
    return "-" if ms is None else f"{ms / 1000:.1f} s"


def pct(v, digits=0):
    return "-" if v is None else f"{100 * v:.{digits}f}%"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tmp")
    ap.add_argument("--configs")
    ap.add_argument("--results-dir")
    ap.add_argument("--benchmarks-md", required=True)
    ap.add_argument("--repo-root", required=True)
    ap.add_argument("--from-json", help="only rewrite the BENCHMARKS.md section from this results file")
    a = ap.parse_args()
    if a.from_json:
        saved = load(a.from_json)
        rel = os.path.relpath(os.path.abspath(a.from_json), a.repo_root)
        update_md(a.benchmarks_md, markdown(saved, saved["summary"], rel), BEGIN, END)
        return
    meta = load(os.path.join(a.tmp, "meta.json"))
    configs = {}
    for c in a.configs.split():
        lj = load(os.path.join(a.tmp, f"{c}.load.json"))
        died = os.path.join(a.tmp, f"{c}.died")
        configs[c] = {
            "load": lj,
            "died": open(died).read().strip() if os.path.exists(died) else None,
        }
        if c == "redis":
            configs[c]["redisServer"] = load(os.path.join(a.tmp, "redis.server.json"))
    summary = summarize(configs)
    out = dict(meta)
    out["summary"] = summary
    out["configs"] = configs
    ts = meta["timestamp"]
    json_path = os.path.join(a.results_dir, f"redis-{ts}.json")
    with open(json_path, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    rel = os.path.relpath(json_path, a.repo_root)
    update_md(a.benchmarks_md, markdown(meta, summary, rel), BEGIN, END)
    print(json.dumps(summary, indent=2))


def summarize(configs):
    rows = {}
    for c, v in configs.items():
        m = phase(v["load"], "main")
        if m is None:
            rows[c] = {"error": (v["load"] or {}).get("error", "no main phase"), "died": v["died"]}
            continue
        watched = m.get("watchedCpuSeconds", {})
        server_cpu = m["serverCpuUtilization"] * m["wallSeconds"] if m.get("serverCpuUtilization") is not None else None
        r = {
            "rate": m["rate"],
            "subscribers": v["load"]["subscribers"],
            "publishedEvents": m["publishedEvents"],
            "publishErrors": m["publishErrors"],
            "delivered": m["delivered"],
            "expectedDeliveries": m["expectedDeliveries"],
            "deliveredPerSecond": m["deliveredPerSecond"],
            "lost": m["lost"],
            "reordered": m["reordered"],
            "duplicated": m["duplicated"],
            "streamsEndedByServer": m["streamsEndedByServer"],
            "p50Ms": m["latencyMs"]["p50"],
            "p99Ms": m["latencyMs"]["p99"],
            "maxMs": m["latencyMs"]["max"],
            "publishAckP50Ms": m["publishAckLatencyMs"]["p50"],
            "serverCpuUtilization": m.get("serverCpuUtilization"),
            "clientCpuUtilization": m.get("clientCpuUtilization"),
            "heraldCpuMsPer1000Events": per_1000(server_cpu, m["publishedEvents"]),
            "died": v["died"],
        }
        if "redis" in watched:
            r["redisCpuSeconds"] = watched["redis"]
            r["redisCpuMsPer1000Events"] = per_1000(watched["redis"], m["publishedEvents"])
            r["redisCpuUtilization"] = round(watched["redis"] / m["wallSeconds"], 3) if watched["redis"] >= 0 else None
        rows[c] = r
    s = {"main": rows}
    red = rows.get("redis")
    if red and "p99Ms" in red:
        no_loss = red["lost"] == 0 and red["duplicated"] == 0 and red["reordered"] == 0 and red["publishErrors"] == 0
        s["targets"] = {"noLoss": no_loss}
        for c in ("sqlite", "sqlite-normal"):
            base = rows.get(c)
            if base and base.get("p99Ms"):
                ratio = red["p99Ms"] / base["p99Ms"]
                s["targets"][f"p99RatioVs_{c}"] = round(ratio, 2)
                s["targets"][f"p99AtMost2xVs_{c}"] = ratio <= 2.0
    return s


def row(c, r):
    if "error" in r:
        return f"| {LABELS.get(c, c)} | {r['error']} |" + " |" * 10
    redis_cpu = "-"
    if r.get("redisCpuMsPer1000Events") is not None:
        redis_cpu = f"{r['redisCpuMsPer1000Events']:.0f} ms ({pct(r['redisCpuUtilization'], 1)} of a core)"
    return (f"| {LABELS.get(c, c)} | {fmt_int(r['subscribers'])} | {r['rate']} | {fmt_int(r['deliveredPerSecond'])} "
            f"| {fmt_ms(r['p50Ms'])} | {fmt_ms(r['p99Ms'])} | {fmt_ms(r['maxMs'])} "
            f"| {r['lost']} / {r['reordered']} / {r['duplicated']} | {fmt_ms(r['publishAckP50Ms'])} "
            f"| {fmt_s(r['heraldCpuMsPer1000Events'])} | {redis_cpu} "
            f"| {pct(r['serverCpuUtilization'])} / {pct(r['clientCpuUtilization'])} |")


def markdown(meta, summary, json_rel):
    st = meta["settings"]
    m = meta["machine"]
    out = [BEGIN, "", "## Several nodes through Redis", ""]
    out.append(
        f"Run {meta['timestamp']}: two Herald nodes on one redis-server (AOF on, appendfsync {st['redisAppendfsync']}), "
        f"{st['subscribersPerRedisNode']:,} subscribers on each node (one topic), publishes alternating between the "
        f"nodes; against one Herald node on SQLite with all {st['subscribers']:,} subscribers (Herald's defaults, "
        f"synchronous=FULL; and, when run, with --sqlite-full-sync false), in the same run, at the same rate: "
        f"{st['rate']} events/s for {st['durationSeconds']} s after "
        f"{st['warmupSeconds']} s of warm-up. Raw data in `{json_rel}`.")
    out.append("")
    out.append(
        f"Machine: {m['nproc']} CPUs, {m['cpu']}, {m['kernel']}. Server side (both nodes and redis-server, or the "
        f"single node) pinned to CPU {st['serverCpu']}, the load generator (bench/realtime's, publishers and "
        f"subscribers in one process, so publish and receipt times share one monotonic clock) to CPU "
        f"{st['clientCpu']}.")
    out.append("")
    out.append(f"Load before: `{m['uptimeBefore'].strip()}`; after: `{m['uptimeAfter'].strip()}`.")
    out.append("")
    out.append(
        "Latency is publish (POST written) to receipt on each subscriber stream. Lost / reordered / dup are per "
        "stream (reordered: an event id older than one already received). Herald CPU is the nodes' CPU time summed "
        "per 1,000 published events; Redis CPU is redis-server's utime + stime (/proc/<pid>/stat) over the main run "
        "per 1,000 published events. The last column is the share of one core used by the server side / the load "
        "generator: a load generator near 100% means the client was the limit.")
    out.append("")
    out.append("| configuration | subscribers | events/s | delivered/s | p50 ms | p99 ms | max ms "
               "| lost / reordered / dup | POST→201 p50 ms | Herald CPU per 1,000 events | Redis CPU per 1,000 events "
               "| CPU server / loadgen |")
    out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for c, r in summary["main"].items():
        out.append(row(c, r))
    out.append("")
    t = summary.get("targets")
    if t:
        red = summary["main"]["redis"]
        out.append("Targets (issue 5):")
        out.append("")
        out.append("| target | measured | met |")
        out.append("| --- | --- | --- |")
        for c in ("sqlite", "sqlite-normal"):
            if f"p99RatioVs_{c}" in t:
                base = summary["main"][c]
                what = "p99 at most 2× single-node" + (" (Herald's defaults)" if c == "sqlite"
                                                        else " (no fsync per commit; for reference)")
                out.append(f"| {what} | {fmt_ms(red['p99Ms'])} ms vs {fmt_ms(base['p99Ms'])} ms = "
                           f"{t[f'p99RatioVs_{c}']:.2f}× | {'yes' if t[f'p99AtMost2xVs_{c}'] else '**no**'} |")
        out.append(f"| no loss | lost / reordered / dup {red['lost']} / {red['reordered']} / {red['duplicated']}, "
                   f"publish errors {red['publishErrors']} | {'yes' if t['noLoss'] else '**no**'} |")
        out.append("")
    v = meta["versions"]
    out.append(f"Versions: {v['herald']}; {v['java']}; {v['redis']}.")
    out.append("")
    c = meta["commands"]
    out.append(f"Commands: `{c['sqlite']}` (sqlite-normal: {c['sqlite-normal']}); `{c['redis-server']}`; "
               f"nodes: {c['redis-nodes']}; "
               f"load: `{c['loadgen']}`.")
    out.append("")
    out.append(f"Command: `{c['run']}`")
    out.append("")
    out.append(END)
    return "\n".join(out)



if __name__ == "__main__":
    main()
