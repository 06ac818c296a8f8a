#!/usr/bin/python3
"""tmscan's benchmark (`make bench`): scans of synthetic accounts through mockcloud held against their
lower bound, the analysis phase alone at 10,000 and 100,000 resources, and query latency.

    run.py --bin BINDIR [--out bench-results.json] [--work DIR] [--keep]

Every figure is measured by running tmscan's own binaries; a figure whose command does not exist yet
(or failed, or ran out of its time budget) is reported as null with the reason, never estimated.
See docs/benchmarks.md for what each figure means and how to read it.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import lower_bound  # noqa: E402
import replay  # noqa: E402

PY = "/usr/bin/python3"
LIMITS = os.path.join(HERE, "aws_limits.json")

# The setting of every run (docs/benchmarks.md, "What runs").
LATENCY_MS = 30
JITTER_MS = 10
SEED = 1
CONCURRENCY = 32  # tmscan's default (providers/aws/aws.h) and its per-host connection cap (providers/net)
PER_HOST = 32
MISMATCH_SCALE = 0.5  # mockcloud's buckets at half the published rates: tmscan's assumptions are too high
BUDGET_S = 570  # the whole benchmark, under 10 minutes on 2 cores


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# ---- the machine and the binaries ---------------------------------------------------------------


def machine():
    info = {"nproc": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    info["mem_gib"] = round(int(line.split()[1]) / 1048576, 1)
                    break
    except OSError:
        pass
    try:
        info["nproc"] = int(subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip())
    except (OSError, ValueError):
        pass
    return info


def help_text(tmscan, *cmd):
    """The usage text of a command, or None when tmscan has no such command."""
    try:
        p = subprocess.run([tmscan, *cmd, "--help"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return p.stdout + p.stderr if p.returncode == 0 else None


class Tools:
    def __init__(self, bindir):
        self.tmscan = os.path.join(bindir, "tmscan")
        self.mockcloud = os.path.join(bindir, "mockcloud")
        self.time = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
        self.scan_help = help_text(self.tmscan, "scan", "aws") or help_text(self.tmscan, "scan")
        self.report_help = help_text(self.tmscan, "report")
        self.blast_help = help_text(self.tmscan, "blast")
        self.query_help = help_text(self.tmscan, "query")

    def scan_flag(self, flag):
        return bool(self.scan_help) and re.search(r"(^|\s)" + re.escape(flag) + r"\b", self.scan_help) is not None


# ---- measuring a process ------------------------------------------------------------------------


def measured(cmd, env=None, timeout=None, tools=None, stdout=subprocess.DEVNULL):
    """Runs cmd; returns (rc or None on timeout, wall seconds, peak RSS KiB or None, stderr tail)."""
    stats = tempfile.NamedTemporaryFile(prefix="tmbench-time-", delete=False)
    stats.close()
    full = ([tools.time, "-v", "-o", stats.name] if tools and tools.time else []) + cmd
    t0 = time.monotonic()
    p = subprocess.Popen(full, env=env, stdout=stdout, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, err = p.communicate(timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        _, err = p.communicate()
        rc = None
    wall = time.monotonic() - t0
    rss = None
    try:
        with open(stats.name) as f:
            for line in f:
                if "Maximum resident set size" in line:
                    rss = int(line.rsplit(":", 1)[1])
                if line.startswith("Command exited with non-zero status") and rc is not None:
                    rc = int(line.rsplit(" ", 1)[1])
    except (OSError, ValueError):
        pass
    os.unlink(stats.name)
    return rc, wall, rss, (err or "")[-2000:]


# ---- mockcloud ----------------------------------------------------------------------------------


def rate_limit_args(scale):
    """mockcloud's buckets for bench/aws_limits.json at scale times its rates and bursts, the figures the
    bound uses (lower_bound.load_limits): a bucket per operation, or one a group's operations share."""
    limits = lower_bound.load_limits(LIMITS, scale)
    buckets = {}
    for (svc, op), rule in sorted(limits.items()):
        buckets.setdefault(lower_bound.bucket_of(limits, svc, op), (rule, []))[1].append(op)
    args = []
    for (svc, name), ((rps, burst, group), ops) in sorted(buckets.items()):
        if group:
            args += ["--rate-limit-group", f"{svc}:{','.join(ops)}={rps:g}:{burst:g}"]
        else:
            args += ["--rate-limit", f"{svc}:{name}={rps:g}:{burst:g}"]
    return args


class Mock:
    def __init__(self, tools, fixtures, workdir, name, scale=1.0):
        self.port_file = os.path.join(workdir, f"{name}.port")
        self.log = os.path.join(workdir, f"{name}.log")
        self.err = open(os.path.join(workdir, f"{name}.err"), "w")
        for f in (self.port_file, self.log):
            if os.path.exists(f):
                os.unlink(f)
        cmd = [tools.mockcloud, "--fixtures", fixtures, "--port", "0", "--port-file", self.port_file,
               "--log", self.log, "--seed", str(SEED), "--latency-ms", str(LATENCY_MS),
               "--jitter-ms", str(JITTER_MS)] + rate_limit_args(scale)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.err, start_new_session=True)
        deadline = time.monotonic() + 60
        while not (os.path.exists(self.port_file) and os.path.getsize(self.port_file)):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"mockcloud did not start (see {self.err.name})")
            time.sleep(0.05)
        with open(self.port_file) as f:
            self.port = int(f.read().strip())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()

    def requests(self):
        out = []
        if os.path.exists(self.log):
            with open(self.log) as f:
                for line in f:
                    line = line.strip()
                    if line:
                        out.append(json.loads(line))
        return out


def arrival_stamps(reqs):
    """Each request's arrival in seconds from the scan's first request, from mockcloud's `t_ms` (monotonic
    milliseconds since mockcloud started, fixtures/README.md); None when a line lacks it."""
    if not reqs or any(not isinstance(r.get("t_ms"), (int, float)) for r in reqs):
        return None
    t0 = min(r["t_ms"] for r in reqs)
    return [(r["t_ms"] - t0) / 1000.0 for r in reqs]


def timeline(reqs, stamps, plan_bound, limits):
    """Where the time went: per token bucket (service, operation or shared group, region) the first and
    last arrival, how many calls and throttles, in order of the last arrival; and the bucket that binds
    the bound. Operations without a bucket are counted per operation."""
    buckets = {}
    for r, t in zip(reqs, stamps):
        b = lower_bound.bucket_of(limits, r.get("service"), r.get("operation"))
        k = f"{r.get('service')}:{b[1] if b else r.get('operation')}:{r.get('region')}"
        b = buckets.setdefault(k, {"calls": 0, "throttled": 0, "first_s": t, "last_s": t})
        b["calls"] += 1
        b["throttled"] += r.get("fault") in ("rate-limit", "throttle")
        b["first_s"] = min(b["first_s"], t)
        b["last_s"] = max(b["last_s"], t)
    for b in buckets.values():
        span = b["last_s"] - b["first_s"]
        b["rate_per_s"] = round((b["calls"] - 1) / span, 2) if span > 0 and b["calls"] > 1 else None
        b["first_s"], b["last_s"] = round(b["first_s"], 2), round(b["last_s"], 2)
    last = sorted(buckets.items(), key=lambda kv: -kv[1]["last_s"])[:6]
    out = {"last_request_s": round(max(stamps), 2) if stamps else None, "latest_buckets": dict(last)}
    if plan_bound["binding"]["kind"] == "rate-limit":
        key = plan_bound["binding"]["bucket"]
        out["binding_bucket"] = dict(buckets.get(key, {}), key=key)
    return out


def scan_env(fixtures, port):
    with open(os.path.join(fixtures, "scenario.json")) as f:
        cred = json.load(f)["credentials"][0]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=cred["access_key_id"], AWS_SECRET_ACCESS_KEY=cred["secret_access_key"],
               AWS_REGION="us-east-1", AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_EC2_METADATA_DISABLED="true",
               AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    if cred.get("session_token"):
        env["AWS_SESSION_TOKEN"] = cred["session_token"]
    return env


# ---- one scan -----------------------------------------------------------------------------------


def run_scan(tools, name, fixtures, plan, workdir, concurrency, scale, timeout):
    """Scans a generated account through mockcloud; returns the run's figures. The ratio is always
    against the account's bound at the default concurrency: a sequential scan is measured against
    what the account allows, and its own bound (at 1 call in flight) is kept beside it. tmscan runs
    with its own limits (AWS's published rates, shared budgets included): at scale 1 they are the
    mock's, below it they are too high and its adaptive limiter has to find the mock's."""
    out = {"name": name, "concurrency": concurrency, "mock_rate_scale": scale}
    limits = lower_bound.load_limits(LIMITS, scale)
    b = lower_bound.bound(plan["calls"], LATENCY_MS / 1000.0, CONCURRENCY, PER_HOST, limits)
    if concurrency != CONCURRENCY:
        own = lower_bound.bound(plan["calls"], LATENCY_MS / 1000.0, concurrency, PER_HOST, limits)
        out["own_bound_s"] = round(own["seconds"], 3)
    out["bound_s"] = round(b["seconds"], 3)
    out["bound_by"] = f"{b['binding']['kind']}: {b['binding']['what']}"
    out["planned_calls"] = b["calls"]
    mock = Mock(tools, fixtures, workdir, name, scale)
    snap = os.path.join(workdir, f"{name}.snapshot.json")
    cmd = [tools.tmscan, "-q", "scan", "aws", "-o", snap]
    if tools.scan_flag("--concurrency"):
        cmd += ["--concurrency", str(concurrency)]
    elif concurrency != CONCURRENCY:
        mock.stop()
        return dict(out, error="tmscan scan has no --concurrency option")
    try:
        rc, wall, rss, err = measured(cmd, env=scan_env(fixtures, mock.port), timeout=timeout, tools=tools)
    finally:
        mock.stop()
    reqs = mock.requests()
    stamps = arrival_stamps(reqs)
    if stamps is not None:
        out["timeline"] = timeline(reqs, stamps, b, limits)
    out["wall_s"] = round(wall, 3)
    out["exit"] = rc
    out["peak_rss_mib"] = round(rss / 1024, 1) if rss else None
    out["calls_made"] = len(reqs)
    throttled = sum(1 for r in reqs if r.get("fault") in ("rate-limit", "throttle"))
    out["throttled"] = throttled
    out["retry_share"] = round(throttled / len(reqs), 4) if reqs else None
    out["unanswered"] = sum(1 for r in reqs if r.get("fixture") is None)
    planned = {}
    for c in plan["calls"]:
        planned[(c["service"], c["operation"])] = planned.get((c["service"], c["operation"]), 0) + 1
    made = {}
    for r in reqs:
        if r.get("fault") in ("rate-limit", "throttle"):
            continue
        k = (r.get("service"), r.get("operation"))
        made[k] = made.get(k, 0) + 1
    out["extra_calls"] = {f"{s}:{o}": n - planned.get((s, o), 0) for (s, o), n in sorted(made.items(), key=str)
                          if n > planned.get((s, o), 0)}
    out["missing_calls"] = {f"{s}:{o}": n - made.get((s, o), 0) for (s, o), n in sorted(planned.items())
                            if made.get((s, o), 0) < n}
    if rc is None:
        out["error"] = f"timed out after {timeout:.0f} s"
        out["ratio"] = None
        out["ratio_at_least"] = round(wall / b["seconds"], 2) if b["seconds"] else None
    elif rc not in (0, 3):
        out["error"] = f"tmscan scan exited {rc}: {err.strip().splitlines()[-1] if err.strip() else ''}"
        out["ratio"] = None
    else:
        out["ratio"] = round(wall / b["seconds"], 3) if b["seconds"] else None
        try:
            with open(snap) as f:
                doc = json.load(f)
            out["resources"] = len(doc.get("resources", []))
            out["snapshot_errors"] = len(doc.get("errors", []))
        except (OSError, ValueError) as e:
            out["error"] = f"snapshot unreadable: {e}"
    return out


def run_replay(tools, name, fixtures, plan, workdir):
    """The reference client (bench/replay.py) on the same account: how close to the bound a client that
    knows the plan can get, and proof that every planned call reaches its response file."""
    b = lower_bound.bound(plan["calls"], LATENCY_MS / 1000.0, CONCURRENCY, PER_HOST, lower_bound.load_limits(LIMITS))
    mock = Mock(tools, fixtures, workdir, name)
    try:
        r = replay.replay(fixtures, mock.port, CONCURRENCY, 1.0, LIMITS)
    finally:
        mock.stop()
    served = {}
    for q in mock.requests():
        if q.get("fault") is None:
            served[q["fixture"]] = served.get(q["fixture"], 0) + 1
    wanted = {}
    for c in plan["calls"]:
        wanted[c["fixture"]] = wanted.get(c["fixture"], 0) + 1
    out = {"name": name, "concurrency": CONCURRENCY, "mock_rate_scale": 1.0, "bound_s": round(b["seconds"], 3),
           "bound_by": f"{b['binding']['kind']}: {b['binding']['what']}", "planned_calls": b["calls"],
           "wall_s": r["wall_s"], "calls_made": r["sent"], "throttled": r["throttled"],
           "retry_share": round(r["throttled"] / r["sent"], 4) if r["sent"] else None,
           "ratio": round(r["wall_s"] / b["seconds"], 3) if b["seconds"] else None,
           "peak_rss_mib": None, "misrouted": sum(1 for k in set(served) | set(wanted)
                                                  if served.get(k, 0) != wanted.get(k, 0))}
    if r["errors"] or r["wrong_status"] or out["misrouted"]:
        out["error"] = "; ".join((r["errors"] + r["wrong_status"])[:3]) or f"{out['misrouted']} responses misrouted"
    return out


# ---- the analysis phase and queries --------------------------------------------------------------


# The analysis is CPU- and memory-bound, and on a virtual machine a run varies by a third or more (the host backs
# memory the guest touches for the first time in a while slowly): each size is run this many times in a row and
# the median is its figure; every run's time is kept in the results.
ANALYSIS_RUNS = 3


def run_report(tools, snap, workdir, n, timeout):
    out_file = os.path.join(workdir, f"report-{n}.json")
    cmd = [tools.tmscan, "-q", "report", snap, "--format", "json", "-o", out_file, "--fail-on", "none"]
    walls, peaks, rc, err = [], [], None, ""
    deadline = time.monotonic() + timeout
    for _ in range(ANALYSIS_RUNS):
        left = deadline - time.monotonic()
        if walls and left < 2 * max(walls):
            break
        rc, wall, rss, err = measured(cmd, timeout=max(1.0, left), tools=tools)
        if rc is None or rc not in (0, 1, 3):
            break
        walls.append(wall)
        if rss:
            peaks.append(rss)
    ok = bool(walls) and rc is not None and rc in (0, 1, 3)
    median = sorted(walls)[(len(walls) - 1) // 2] if ok else None
    r = {"resources": n, "snapshot_bytes": os.path.getsize(snap), "wall_s": round(median, 3) if ok else None,
         "wall_runs_s": [round(w, 3) for w in walls], "peak_rss_mib": round(max(peaks) / 1024, 1) if peaks else None,
         "exit": rc}
    if rc is None:
        r["error"] = f"timed out after {timeout:.0f} s"
    elif rc not in (0, 1, 3):
        r["error"] = f"tmscan report exited {rc}: {err.strip().splitlines()[-1] if err.strip() else ''}"
    return r


def consistency(scan_snapshot, generated):
    """How far the snapshot the generator writes for an account is from the one tmscan's scan of that
    account writes: the analysis figures are only as good as that likeness."""
    with open(scan_snapshot) as f:
        a = {r["id"]: r for r in json.load(f)["resources"]}
    with open(generated) as f:
        b = {r["id"]: r for r in json.load(f)["resources"]}

    def key(r):
        return (r["type"], r["attrs"], r["policies"], sorted((x["kind"], x["to"]) for x in r["links"]))

    differ = sorted(i for i in set(a) & set(b) if key(a[i]) != key(b[i]))
    return {"scanned": len(a), "generated": len(b), "only_scanned": len(set(a) - set(b)),
            "only_generated": len(set(b) - set(a)), "different": len(differ), "examples": differ[:5]}


QUERIES = 1000


def build_query_driver(bindir, work):
    """The query driver `make` builds next to tmscan (bench/query_bench.c, the Makefile's BIN/query_bench). Returns
    (path, None) or (None, reason). work is unused: kept for callers that passed a scratch directory."""
    del work
    for h in ("blast.h", "query.h"):
        if not os.path.exists(os.path.join(ROOT, "analyzers", h)):
            return None, f"n/a (no query API in this tree: analyzers/{h})"
    out = os.path.join(os.path.abspath(bindir), "query_bench")
    if not os.access(out, os.X_OK):
        return None, f"n/a (no {out}: `make all` builds it)"
    return out, None


KINDS = {"blast": "blast radius", "whocan": "who-can"}


def _stopped(said, stopped_s):
    """What a query driver stopped by the budget had measured, from its standard error."""
    done = {k: [] for k in KINDS}
    for line in said.splitlines():
        m = re.match(r"query_bench: (blast|whocan) \d+ ([\d.]+) ms", line)
        if m:
            done[m.group(1)].append(float(m.group(2)))
    steps = [x for x in said.splitlines() if re.match(r"query_bench: (snapshot|graph) ", x)]
    where = steps[-1].replace("query_bench: ", "") if steps else "before the snapshot was loaded"
    detail, why = {"stopped_after_s": round(stopped_s), "setup": where}, {}
    for k, times in done.items():
        times.sort()
        if times:
            detail[k] = {"queries": len(times), "complete": False, "p50_ms": times[(len(times) - 1) // 2],
                         "max_ms": times[-1]}
        why[k] = (f"n/a (stopped after {stopped_s:.0f} s, the benchmark's budget, one {KINDS[k]} question still "
                  f"running: {where}; {len(times)} of {QUERIES} answered"
                  + (f", median so far {detail[k]['p50_ms']:.3f} ms)" if times else ")"))
    return detail, why


def run_queries(driver, snap, n, budget_s):
    """Blast-radius and who-can latency over QUERIES random questions each about the snapshot
    (bench/query_bench.c). Returns (detail, {kind: reason}) where a kind without a reason is complete."""
    cmd = [driver, snap, os.path.join(ROOT, "policies"), str(QUERIES), str(SEED), f"{max(1.0, budget_s - 10):.0f}"]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=budget_s)
    except subprocess.TimeoutExpired as e:
        said = (e.stderr or b"").decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        detail, why = _stopped(said, budget_s)
        detail["resources"] = n
        return detail, why
    if p.returncode != 0:
        line = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else f"exit {p.returncode}"
        return None, {k: f"n/a (query driver: {line})" for k in KINDS}
    r = json.loads(p.stdout)
    r["resources"] = n
    why = {}
    for k in KINDS:
        x = r[k]
        if not x["complete"]:
            why[k] = (f"n/a (only {x['queries']} of {QUERIES} {KINDS[k]} questions within the budget; so far "
                      f"p50 {x['p50_ms']:.3f} ms, p99 {x['p99_ms']:.1f} ms, slowest: {x['slowest']})")
    return r, why


# ---- the whole run --------------------------------------------------------------------------------


def gen(mode, n, out):
    """Runs the generator; returns the number of resources it reports writing (snapshot mode)."""
    t0 = time.monotonic()
    p = subprocess.run([PY, os.path.join(HERE, "gen_account.py"), mode, "--resources", str(n), "--seed", str(SEED),
                        "--out", out], check=True, stdout=subprocess.PIPE, text=True)
    log(f"generated {mode} of {n} resources in {time.monotonic() - t0:.1f} s")
    m = re.search(r"snapshot of (\d+) resources", p.stdout)
    return int(m.group(1)) if m else None


def na(reason):
    return {"value": None, "reason": reason}


def main(argv):
    ap = argparse.ArgumentParser(description="tmscan's benchmark (see docs/benchmarks.md).")
    ap.add_argument("--bin", required=True, help="directory of the tmscan and mockcloud binaries")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench-results.json"))
    ap.add_argument("--work", help="working directory (default: a temporary one, removed afterwards)")
    ap.add_argument("--keep", action="store_true", help="keep the working directory")
    ap.add_argument("--budget", type=float, default=BUDGET_S, help="seconds the whole run may take")
    a = ap.parse_args(argv[1:])
    t_start = time.monotonic()
    deadline = t_start + a.budget
    tools = Tools(os.path.abspath(a.bin))
    work = a.work or tempfile.mkdtemp(prefix="tmscan-bench-")
    os.makedirs(work, exist_ok=True)
    results = {"schema": "tmscan.bench/1", "machine": machine(),
               "setting": {"latency_ms": LATENCY_MS, "jitter_ms": JITTER_MS, "seed": SEED, "concurrency": CONCURRENCY,
                           "per_host": PER_HOST, "mismatch_scale": MISMATCH_SCALE, "limits": "bench/aws_limits.json"},
               "runs": {}, "analysis": {}, "queries": {}, "reasons": {}}
    runs, reasons = results["runs"], results["reasons"]
    seq_thread = None
    try:
        fx1k, fx10k = os.path.join(work, "account-1k"), os.path.join(work, "account-10k")
        gen("fixtures", 10000, fx10k)
        with open(os.path.join(fx10k, "plan.json")) as f:
            plan10k = json.load(f)
        results["accounts"] = {"10k": {"resources": plan10k["snapshot_resources"], "calls": len(plan10k["calls"])}}
        if tools.scan_help is None:
            why = "n/a (command not available: tmscan scan)"
            for k in ("scan_1k", "scan_10k", "scan_10k_sequential", "scan_10k_mismatch"):
                reasons[k] = why
        else:
            # The sequential scan takes the longest by far and is bound by latency, not CPU: it runs in
            # the background, against its own mockcloud, while everything else runs.
            if tools.scan_flag("--concurrency"):
                def sequential():
                    left = deadline - time.monotonic() - 20
                    runs["scan_10k_sequential"] = run_scan(tools, "scan-10k-seq", fx10k, plan10k, work, 1, 1.0,
                                                           max(30.0, left))
                seq_thread = threading.Thread(target=sequential, daemon=True)
                seq_thread.start()
            else:
                reasons["scan_10k_sequential"] = "n/a (tmscan scan has no --concurrency option)"
        gen("fixtures", 1000, fx1k)
        with open(os.path.join(fx1k, "plan.json")) as f:
            plan1k = json.load(f)
        results["accounts"]["1k"] = {"resources": plan1k["snapshot_resources"], "calls": len(plan1k["calls"])}
        runs["replay_1k"] = run_replay(tools, "replay-1k", fx1k, plan1k, work)
        log(f"reference client 1k: {runs['replay_1k']['wall_s']} s, bound {runs['replay_1k']['bound_s']} s")
        if tools.scan_help is not None:
            runs["scan_1k"] = run_scan(tools, "scan-1k", fx1k, plan1k, work, CONCURRENCY, 1.0, 120)
            log(f"scan 1k: {runs['scan_1k'].get('wall_s')} s, bound {runs['scan_1k']['bound_s']} s")
            scanned = os.path.join(work, "scan-1k.snapshot.json")
            if runs["scan_1k"].get("ratio") is not None and os.path.exists(scanned):
                gen("snapshot", 1000, os.path.join(work, "snapshot-1k.json"))
                results["snapshot_likeness"] = consistency(scanned, os.path.join(work, "snapshot-1k.json"))
                log(f"generated snapshot against the scan of the same account: {results['snapshot_likeness']}")
            runs["scan_10k"] = run_scan(tools, "scan-10k", fx10k, plan10k, work, CONCURRENCY, 1.0, 300)
            log(f"scan 10k: {runs['scan_10k'].get('wall_s')} s, bound {runs['scan_10k']['bound_s']} s")
            runs["scan_10k_mismatch"] = run_scan(tools, "scan-10k-mismatch", fx10k, plan10k, work, CONCURRENCY,
                                                 MISMATCH_SCALE, 300)
            log(f"scan 10k, mock at {MISMATCH_SCALE:g}x the published rates: {runs['scan_10k_mismatch'].get('wall_s')} s")

        # The analysis phase alone, on snapshots written directly.
        snaps, counts = {}, {}
        for label, n in (("1k", 1000), ("10k", 10000), ("100k", 100000)):
            snaps[label] = os.path.join(work, f"snapshot-{label}.json")
            counts[label] = gen("snapshot", n, snaps[label])
        if tools.report_help is None:
            reasons["analysis"] = "n/a (command not available: tmscan report)"
        else:
            for label in ("1k", "10k", "100k"):
                n = counts[label]
                left = deadline - time.monotonic()
                results["analysis"][label] = run_report(tools, snaps[label], work, n, max(30.0, min(150.0, left)))
                log(f"analysis {label}: {results['analysis'][label]['wall_s']} s, "
                    f"{results['analysis'][label]['peak_rss_mib']} MiB")

        # Blast radius and who-can, on the 100k snapshot, in what is left of the budget.
        missing = {}
        if tools.blast_help is None:
            missing["blast"] = "n/a (command not available: tmscan blast)"
        if tools.query_help is None or "who-can" not in tools.query_help:
            missing["whocan"] = "n/a (command not available: tmscan query ... who-can)"
        if missing:
            reasons.update(missing)
        if len(missing) < len(KINDS):
            driver, why = build_query_driver(a.bin, work)
            left = deadline - time.monotonic() - 15
            if driver and left < 30:
                driver, why = None, "n/a (no time left in the benchmark's budget)"
            if not driver:
                for k in KINDS:
                    reasons.setdefault(k, why)
            else:
                q, whys = run_queries(driver, snaps["100k"], counts["100k"], left)
                if q:
                    results["queries"]["detail"] = q
                for k in KINDS:
                    if k in missing:
                        continue
                    if k in whys:
                        reasons[k] = whys[k]
                    else:
                        results["queries"][k] = {"p50": round(q[k]["p50_ms"], 3), "p99": round(q[k]["p99_ms"], 3)}
                    log(f"{KINDS[k]}: {reasons.get(k) or results['queries'].get(k)}")

        # The reference client at 10k proves the bound reachable; it runs last, if the budget allows.
        if deadline - time.monotonic() > 75:
            runs["replay_10k"] = run_replay(tools, "replay-10k", fx10k, plan10k, work)
            log(f"reference client 10k: {runs['replay_10k']['wall_s']} s, bound {runs['replay_10k']['bound_s']} s")

        if seq_thread is not None:
            seq_thread.join(max(0.0, deadline - time.monotonic()))
            if seq_thread.is_alive():
                reasons["scan_10k_sequential"] = "n/a (did not finish within the benchmark's time budget)"
    finally:
        results["elapsed_s"] = round(time.monotonic() - t_start, 1)
        figures(results)
        with open(a.out, "w") as f:
            json.dump(results, f, indent=2, sort_keys=True)
            f.write("\n")
        table(results)
        if not a.keep and not a.work:
            shutil.rmtree(work, ignore_errors=True)
        elif a.keep:
            log(f"working files kept in {work}")
    return 0


# ---- the figures the issue asks for ----------------------------------------------------------------


def figures(r):
    runs, reasons, an = r["runs"], r["reasons"], r["analysis"]
    f = {}

    def from_run(key, run, field):
        x = runs.get(run)
        if x is None:
            f[key] = None
            reasons.setdefault(key, reasons.get(run, "n/a (not run)"))
        elif x.get(field) is None:
            f[key] = None
            reasons[key] = x.get("error", "n/a")
        else:
            f[key] = x[field]

    from_run("scan_1k_ratio", "scan_1k", "ratio")
    from_run("scan_10k_ratio", "scan_10k", "ratio")
    from_run("scan_10k_sequential_ratio", "scan_10k_sequential", "ratio")
    from_run("scan_10k_retry_share", "scan_10k", "retry_share")
    from_run("scan_10k_mismatch_retry_share", "scan_10k_mismatch", "retry_share")
    from_run("scan_10k_mismatch_ratio", "scan_10k_mismatch", "ratio")
    for label in ("10k", "100k"):
        x = an.get(label)
        if x is None or x.get("error"):
            f[f"analysis_{label}_s"] = None
            reasons[f"analysis_{label}_s"] = (x or {}).get("error") or reasons.get("analysis", "n/a (not run)")
        else:
            f[f"analysis_{label}_s"] = x["wall_s"]
    x = an.get("100k")
    f["analysis_100k_peak_mib"] = x["peak_rss_mib"] if x and not x.get("error") else None
    if f["analysis_100k_peak_mib"] is None:
        reasons["analysis_100k_peak_mib"] = reasons.get("analysis_100k_s", "n/a")
    # Memory per resource as the slope between the two largest sizes that completed: the fixed cost (binary,
    # catalogues) cancels out, what is left is what each further resource costs.
    ok = [an[k] for k in ("1k", "10k", "100k") if an.get(k) and not an[k].get("error") and an[k]["peak_rss_mib"]]
    if len(ok) >= 2:
        lo, hi = ok[-2], ok[-1]
        f["bytes_per_resource"] = int(round((hi["peak_rss_mib"] - lo["peak_rss_mib"]) * 1048576
                                            / (hi["resources"] - lo["resources"])))
        r["bytes_per_resource_between"] = [lo["resources"], hi["resources"]]
        f["snapshot_bytes_per_resource"] = int(round(hi["snapshot_bytes"] / hi["resources"]))
    else:
        f["bytes_per_resource"] = None
        reasons["bytes_per_resource"] = reasons.get("analysis_100k_s") or reasons.get("analysis_10k_s") or "n/a"
    for key in ("blast_p50_ms", "blast_p99_ms"):
        q = r["queries"].get("blast")
        f[key] = q.get(key.split("_")[1]) if q else None
        if f[key] is None:
            reasons[key] = reasons.get("blast", "n/a")
    for key in ("whocan_p50_ms", "whocan_p99_ms"):
        q = r["queries"].get("whocan")
        f[key] = q.get(key.split("_")[1]) if q else None
        if f[key] is None:
            reasons[key] = reasons.get("whocan", "n/a")
    r["figures"] = f
    for k, v in f.items():
        r[k] = v


TARGETS = {
    "scan_1k_ratio": ("<= 1.25", lambda v: v <= 1.25),
    "scan_10k_ratio": ("<= 1.25", lambda v: v <= 1.25),
    "scan_10k_retry_share": ("< 0.05", lambda v: v < 0.05),
    "scan_10k_mismatch_retry_share": ("< 0.05", lambda v: v < 0.05),
    "analysis_100k_s": ("< 2", lambda v: v < 2),
    "analysis_100k_peak_mib": ("< 1024", lambda v: v < 1024),
    "blast_p50_ms": ("< 5", lambda v: v < 5),
    "blast_p99_ms": ("< 50", lambda v: v < 50),
    "whocan_p50_ms": ("< 5", lambda v: v < 5),
    "whocan_p99_ms": ("< 50", lambda v: v < 50),
}


def table(r):
    m = r["machine"]
    print(f"tmscan benchmark on {m.get('nproc')} cores ({m.get('cpu', '?')}), {m.get('mem_gib', '?')} GiB; "
          f"mockcloud latency {LATENCY_MS} ms +- {JITTER_MS} ms, AWS-shaped rate limits; {r['elapsed_s']} s")
    print()
    print(f"{'run':<22} {'wall s':>8} {'bound s':>8} {'ratio':>7} {'calls':>7} {'planned':>7} {'retries':>8} "
          f"{'peak MiB':>8}  notes")
    for name in ("scan_1k", "scan_10k", "scan_10k_sequential", "scan_10k_mismatch", "replay_1k", "replay_10k"):
        if name.startswith("replay") and name not in r["runs"]:
            continue
        x = r["runs"].get(name)
        if not x:
            print(f"{name:<22} {r['reasons'].get(name, 'n/a (not run)')}")
            continue
        note = x.get("error", "") or f"bound by {x['bound_by']}"
        ratio = x.get("ratio")
        print(f"{name:<22} {x.get('wall_s', 0):>8.2f} {x['bound_s']:>8.2f} "
              f"{(f'{ratio:.2f}' if ratio is not None else '-'):>7} {x.get('calls_made', 0):>7} "
              f"{x['planned_calls']:>7} {x.get('throttled', 0):>8} "
              f"{(x.get('peak_rss_mib') or 0):>8.1f}  {note}")
    print()
    for name in ("scan_1k", "scan_10k", "scan_10k_sequential", "scan_10k_mismatch"):
        x = r["runs"].get(name)
        if not x or "timeline" not in x:
            continue
        t = x["timeline"]
        b = t.get("binding_bucket")
        if b and b.get("calls"):
            print(f"{name}: the binding bucket {b['key']}: {b['calls']} requests ({b['throttled']} throttled) "
                  f"from {b['first_s']} s to {b['last_s']} s ({b['rate_per_s']}/s); last request at "
                  f"{t['last_request_s']} s, exit at {x['wall_s']} s")
        extra = sorted(x.get("extra_calls", {}).items(), key=lambda kv: -kv[1])[:4]
        if extra:
            print(f"{' ' * len(name)}  calls beyond the plan: " + ", ".join(f"{k} +{v}" for k, v in extra))
        missing = sorted(x.get("missing_calls", {}).items(), key=lambda kv: -kv[1])[:4]
        if missing:
            print(f"{' ' * len(name)}  planned calls not made: " + ", ".join(f"{k} -{v}" for k, v in missing))
    like = r.get("snapshot_likeness")
    if like:
        print(f"generated snapshots: of the {like['scanned']} resources tmscan's scan of the 1k account wrote, "
              f"{like['different']} differ from the generator's ({like['only_scanned']} missing, "
              f"{like['only_generated']} extra)")
    print()
    for label in ("1k", "10k", "100k"):
        x = r["analysis"].get(label)
        if x:
            runs_s = ", ".join(f"{w:.2f}" for w in x.get("wall_runs_s", []))
            wall = f"{x['wall_s']:.2f} s (median of {runs_s})" if x.get("wall_s") is not None else "n/a"
            print(f"analysis {label:<5} {x['resources']:>7} resources: {wall}, "
                  f"{x['peak_rss_mib']} MiB peak, snapshot {x['snapshot_bytes'] / 1048576:.1f} MiB"
                  + (f"  ({x['error']})" if x.get("error") else ""))
    q = r["queries"].get("detail")
    if q:
        if "graph_build_s" in q:
            print(f"queries on {q['resources']} resources: graph of {q['nodes']} nodes and {q['edges']} edges "
                  f"built in {q['graph_build_s']} s after {q['snapshot_load_s']} s of snapshot load")
        for k, label in KINDS.items():
            x = q.get(k)
            if x:
                print(f"  {label}: {x['queries']} questions, p50 {x['p50_ms']:.3f} ms, "
                      + (f"p99 {x['p99_ms']:.3f} ms, " if "p99_ms" in x else "")
                      + f"max {x['max_ms']:.1f} ms" + (f"; slowest: {x['slowest']}" if x.get("slowest") else ""))
    print()
    print(f"{'figure':<32} {'value':>12}  {'target':<8} status")
    for k, v in r["figures"].items():
        tgt = TARGETS.get(k)
        if v is None:
            status = r["reasons"].get(k, "n/a")
            print(f"{k:<32} {'null':>12}  {(tgt[0] if tgt else ''):<8} {status}")
        else:
            ok = ("met" if tgt[1](v) else "NOT met") if tgt else ""
            if k == "bytes_per_resource" and r.get("bytes_per_resource_between"):
                lo, hi = r["bytes_per_resource_between"]
                ok = f"peak memory slope between {lo} and {hi} resources"
            print(f"{k:<32} {v:>12}  {(tgt[0] if tgt else ''):<8} {ok}")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
