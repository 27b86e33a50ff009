#!/usr/bin/env python3
"""Helpers for bench/throughput/run.sh (stdlib only).

Subcommands:
  freeports K                      print K distinct free TCP ports on 127.0.0.1, one a line
  waitport PORT SECONDS            exit 0 once 127.0.0.1:PORT accepts a connection, 1 on timeout
  parse FILE                       parse one h2load output file, print one JSON object
  report RUNS META JSON_OUT MD     build the results JSON and rewrite the BENCHMARKS.md section
"""
import json
import re
import socket
import statistics
import sys
import time

BEGIN = "<!-- throughput:begin -->"
END = "<!-- throughput:end -->"
MD_HEADER = (
    "# Herald benchmarks\n\n"
    "Generated sections are rewritten by the scripts under `bench/`; see `bench/README.md` for the method.\n"
)


def freeports(count):
    socks, ports = [], []
    try:
        while len(ports) < count:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    print("\n".join(str(p) for p in ports))


def waitport(port, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return 0
        except OSError:
            time.sleep(0.1)
    return 1


def _num(unit_value):
    return float(unit_value)


def parse(path):
    """Parse h2load's summary. Missing summary (killed by the duration cap, crash) -> status error/timeout."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError as e:
        return {"status": "error", "detail": str(e)}
    out = {}
    m = re.search(r"^finished in ([0-9.]+)(us|ms|s), ([0-9.]+) req/s", text, re.M)
    if m:
        scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0}[m.group(2)]
        out["seconds"] = round(float(m.group(1)) * scale, 4)
        out["req_per_s"] = float(m.group(3))
    m = re.search(r"^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                  r"(\d+) failed, (\d+) errored, (\d+) timeout", text, re.M)
    if m:
        keys = ["total", "started", "done", "succeeded", "failed", "errored", "timeout"]
        out.update({k: int(v) for k, v in zip(keys, m.groups())})
    m = re.search(r"^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text, re.M)
    if m:
        out["status_2xx"], out["status_3xx"], out["status_4xx"], out["status_5xx"] = map(int, m.groups())
    m = re.search(r"^traffic: .*?, [^,]*\((\d+)\) data", text, re.M)
    if m:
        out["data_bytes"] = int(m.group(1))
    m = re.search(r"^Application protocol: (\S+)", text, re.M)
    if m:
        out["alpn"] = m.group(1)
    if "req_per_s" not in out or "total" not in out:
        out["status"] = "timeout" if "TIMED_OUT" in text else "error"
        tail = [l for l in text.strip().splitlines() if l.strip()][-3:]
        out["detail"] = " | ".join(tail)[:300]
        return out
    # h2load: "failed" includes errored (which includes timeout) and 4xx/5xx answers; "succeeded" counts 2xx
    # and 3xx. Every request that did not end in a 2xx is a failure here: requests never completed, failed ones
    # and 3xx answers.
    out["failures"] = max(out["failed"], out["total"] - out["succeeded"], out["total"] - out.get("status_2xx", 0))
    out["status"] = "ok" if out["failures"] == 0 else "failures"
    return out


def _fmt_rate(v):
    return "n/a" if v is None else f"{v:,.0f}"


def report(runs_path, meta_path, json_out, md_path):
    with open(meta_path, encoding="utf-8") as f:
        meta = json.load(f)
    runs = []
    with open(runs_path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                runs.append(json.loads(line))

    # Group per (server, protocol), in the order the servers were configured.
    order = [(s, p) for s in meta["servers"] for p in meta["protocols"]]
    results = []
    for server, proto in order:
        rs = [r for r in runs if r["server"] == server and r["protocol"] == proto]
        if not rs:
            skipped = meta.get("skipped", {}).get(server)
            results.append({"server": server, "protocol": proto, "runs": [], "median_req_per_s": None,
                            "failures": 0, "status": "skipped" if skipped else "missing",
                            "detail": skipped or "no run recorded"})
            continue
        rates = [r["req_per_s"] for r in rs if r.get("req_per_s") is not None]
        failures = sum(r.get("failures", 0) for r in rs)
        statuses = {r["status"] for r in rs}
        status = "ok" if statuses == {"ok"} else ("failures" if "failures" in statuses and rates else "error")
        if status == "error" and rates:
            status = "partial"  # some runs produced no result (crash or duration cap)
        results.append({
            "server": server,
            "protocol": proto,
            "runs": rs,
            "req_per_s": rates,
            "median_req_per_s": round(statistics.median(rates), 2) if rates else None,
            "failures": failures,
            "status": status,
        })

    herald = {r["protocol"]: r["median_req_per_s"] for r in results if r["server"] == "herald"}
    for r in results:
        h, a = herald.get(r["protocol"]), r["median_req_per_s"]
        r["herald_ratio"] = round(h / a, 3) if h and a else None

    doc = dict(meta)
    doc["results"] = results
    with open(json_out, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")

    m = meta["machine"]
    v = meta["versions"]
    c = meta["config"]
    lines = [BEGIN, "", "## Throughput (h2load, 1 KiB static file)", ""]
    lines.append(f"Run {meta['timestamp']}: median of {c['repetitions']} runs of "
                 f"`{meta['h2load_command']}`; raw data in `bench/results/{meta['results_file']}`.")
    lines.append("")
    lines.append(f"Machine: {m['nproc']} CPUs, {m['cpu_model']}, Linux {m['kernel']}, "
                 f"load average {m['loadavg']} at start. Servers pinned to CPU 0 (one worker/thread each), "
                 f"h2load pinned to CPU 1.")
    lines.append("")
    lines.append("Herald ratio = Herald req/s / that server's req/s over the same protocol, in the same run "
                 "(> 1: Herald faster).")
    lines.append("")
    lines.append("| server | protocol | median req/s | Herald ratio | runs (req/s) | notes |")
    lines.append("| --- | --- | ---: | ---: | --- | --- |")
    for r in results:
        runs_txt = ", ".join(_fmt_rate(x) for x in r.get("req_per_s", [])) or "-"
        ratio = "n/a" if r["herald_ratio"] is None else f"{r['herald_ratio']:.2f}"
        if r["status"] == "ok":
            note = ""
        elif r["status"] == "skipped":
            note = "skipped: " + r["detail"]
        elif r["status"] == "failures":
            nbad = sum(1 for x in r["runs"] if x.get("failures"))
            note = f"**{r['failures']} failed requests** ({nbad} of {len(r['runs'])} runs)"
        else:
            bad = [x for x in r["runs"] if x["status"] not in ("ok", "failures")]
            note = f"**{len(bad)} run(s) without result**" + (f", {r['failures']} failed requests"
                                                               if r["failures"] else "")
        lines.append(f"| {r['server']} | {r['protocol']} | {_fmt_rate(r['median_req_per_s'])} | {ratio} | "
                     f"{runs_txt} | {note} |")
    lines.append("")
    lines.append("Versions: " + "; ".join(f"{k}: {val}" for k, val in v.items()) + ".")
    lines.append("")
    lines.append(f"Command: `{meta['command']}`")
    lines.append("")
    lines.append(END)
    section = "\n".join(lines)

    try:
        with open(md_path, encoding="utf-8") as f:
            md = f.read()
    except FileNotFoundError:
        md = MD_HEADER
    if BEGIN in md and END in md and md.index(BEGIN) < md.index(END):
        md = md[:md.index(BEGIN)] + section + md[md.index(END) + len(END):]
    else:
        md = md.rstrip("\n") + "\n\n" + section + "\n"
    with open(md_path, "w", encoding="utf-8") as f:
        f.write(md)

    # Console summary.
    print(f"{'server':<8} {'protocol':<8} {'median req/s':>14} {'Herald ratio':>13}  status")
    for r in results:
        ratio = "n/a" if r["herald_ratio"] is None else f"{r['herald_ratio']:.2f}"
        print(f"{r['server']:<8} {r['protocol']:<8} {_fmt_rate(r['median_req_per_s']):>14} {ratio:>13}  "
              f"{r['status']}" + (f" ({r['failures']} failed requests)" if r["failures"] else ""))
    return 0


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd = argv[1]
    if cmd == "freeports":
        freeports(int(argv[2]))
        return 0
    if cmd == "waitport":
        return waitport(int(argv[2]), float(argv[3]))
    if cmd == "parse":
        print(json.dumps(parse(argv[2])))
        return 0
    if cmd == "report":
        return report(*argv[2:6])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
