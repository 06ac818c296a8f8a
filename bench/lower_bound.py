#!/usr/bin/python3
"""The shortest wall time a scan of a generated account can possibly take.

    lower_bound.py PLAN.json --latency-ms 30 --concurrency 32 [--per-host 32] [--limits FILE]
                   [--limit-scale 1.0] [--hosts single|aws] [--max-rps R] [--json]

PLAN.json (bench/gen_account.py) lists every call a complete scan must make, each with the calls it
depends on (a page needs the page before it; a bucket's policy needs the bucket's region; a
function's policy needs the ListFunctions page that named the function). With L the per-call
latency, the bound is the largest of:

  critical path   the longest dependency chain, in calls, times L: no amount of concurrency
                  shortens a chain whose every step waits for the previous answer;
  concurrency     for each host, its calls times L divided by the connections the scan may hold
                  open to it, min(--concurrency, --per-host); and all calls times L over
                  --concurrency: Little's law, with every connection busy all the time;
  rate limits     for each token bucket of rate r and burst b that n calls draw from: the
                  earliest its first call can be sent (its least depth in the chain, times L),
                  plus (n - b) / r for the tokens that must be refilled, plus L for the last
                  answer, plus the shortest chain of calls that still depends on it. A bucket is
                  one operation of a service in one region, or a group of operations that share
                  one bucket per region (as AWS meters Lambda's control plane): then n counts the
                  calls of all the group's operations in that region;
  budget          all calls over --max-rps, when the scan has a requests-per-second budget.

Each term is a bound on its own, so their maximum is one; it ignores retries (a throttled call
costs a round trip and its backoff on top) and the time tmscan itself spends per call. L is the
mean of mockcloud's uniform jitter, so the critical-path term is the expected length of the chain.
"""

import argparse
import json
import signal
import sys


def load_limits(path, scale=1.0):
    """{(service, operation): (rps, burst, group)} from bench/aws_limits.json, each rate and burst times
    scale (a burst never below one token); group is the name of the bucket the rule's operations share
    in each region, None for a bucket per operation."""
    with open(path) as f:
        doc = json.load(f)
    out = {}
    for rule in doc["limits"]:
        group = rule.get("group")
        if group is not None and (not isinstance(group, str) or not group):
            raise ValueError(f"{path}: a rule of {rule['service']} has a group that is not a name")
        for op in rule["operations"]:
            if (rule["service"], op) in out:
                raise ValueError(f"{path}: {rule['service']}:{op} is in two rules")
            out[(rule["service"], op)] = (rule["rps"] * scale, max(1.0, rule["burst"] * scale), group)
    return out


def bucket_of(limits, service, operation):
    """The token bucket a call of service:operation draws from, as (service, name): the name is its group
    when it shares one, else the operation; None when it has no limit."""
    rule = limits.get((service, operation))
    if rule is None:
        return None
    group = rule[2] if len(rule) > 2 else None
    return (service, group or operation)


def bound(calls, latency_s, concurrency, per_host=None, limits=None, hosts="single", max_rps=None):
    """The bound and its terms. calls: [{id, service, region, operation, deps, host}] in any order
    whose deps form a DAG; limits: {(service, operation): (rps, burst[, group])}, operations of one
    service with the same group drawing from one bucket per region (they must agree on rps and burst)."""
    limits = limits or {}
    per_host = per_host or concurrency
    by_id = {c["id"]: c for c in calls}
    order = _topological(calls, by_id)
    depth, height = {}, {}
    children = {c["id"]: [] for c in calls}
    for c in calls:
        for d in c["deps"]:
            children[d].append(c["id"])
    for cid in order:
        deps = by_id[cid]["deps"]
        depth[cid] = 1 + max((depth[d] for d in deps), default=0)
    for cid in reversed(order):
        height[cid] = max((1 + height[k] for k in children[cid]), default=0)

    n = len(calls)
    terms = []
    longest = max(depth.values(), default=0)
    terms.append(dict(kind="critical-path", what=f"{longest} calls in a chain", seconds=longest * latency_s))
    if n:
        terms.append(dict(kind="concurrency", what=f"{n} calls, {concurrency} in flight",
                          seconds=n * latency_s / concurrency))
    host_counts = {}
    for c in calls:
        h = "mockcloud" if hosts == "single" else c["host"]
        host_counts[h] = host_counts.get(h, 0) + 1
    for h, k in sorted(host_counts.items()):
        slots = min(concurrency, per_host)
        terms.append(dict(kind="host", what=f"{k} calls to {h}, {slots} connections",
                          seconds=k * latency_s / slots))
    rules, buckets = {}, {}
    for (svc, op), rule in limits.items():
        b = bucket_of(limits, svc, op)
        if rules.setdefault(b, tuple(rule[:2])) != tuple(rule[:2]):
            raise ValueError(f"{svc}:{b[1]}: the operations of one group have different rates")
    for c in calls:
        b = bucket_of(limits, c["service"], c["operation"])
        if b is not None:
            buckets.setdefault((b[0], b[1], c["region"]), []).append(c)
    for (svc, name, region), group_calls in sorted(buckets.items()):
        rps, burst = rules[(svc, name)]
        ids = [c["id"] for c in group_calls]
        head = min(depth[i] - 1 for i in ids) * latency_s
        tail = min(height[i] for i in ids) * latency_s
        refill = max(0.0, len(ids) - burst) / rps
        ops = {}
        for c in group_calls:
            ops[c["operation"]] = ops.get(c["operation"], 0) + 1
        shared = "" if list(ops) == [name] else "; " + ", ".join(f"{o} {k}" for o, k in sorted(ops.items()))
        terms.append(dict(kind="rate-limit", bucket=f"{svc}:{name}:{region}",
                          what=f"{len(ids)} {svc}:{name} calls in {region} at {rps:g}/s (burst {burst:g}{shared})",
                          seconds=head + refill + latency_s + tail))
    if max_rps:
        terms.append(dict(kind="budget", what=f"{n} calls at --max-rps {max_rps:g}", seconds=n / max_rps))
    best = max(terms, key=lambda t: t["seconds"]) if terms else dict(kind="none", what="no calls", seconds=0.0)
    return dict(seconds=best["seconds"], binding=best, calls=n, chain=longest, terms=terms)


def _topological(calls, by_id):
    indeg = {c["id"]: 0 for c in calls}
    kids = {c["id"]: [] for c in calls}
    for c in calls:
        for d in c["deps"]:
            if d not in by_id:
                raise ValueError(f"call {c['id']} depends on unknown call {d}")
            indeg[c["id"]] += 1
            kids[d].append(c["id"])
    ready = sorted(i for i, k in indeg.items() if k == 0)
    out = []
    while ready:
        i = ready.pop()
        out.append(i)
        for k in kids[i]:
            indeg[k] -= 1
            if indeg[k] == 0:
                ready.append(k)
    if len(out) != len(calls):
        raise ValueError("the plan's dependencies have a cycle")
    return out


def main(argv):
    ap = argparse.ArgumentParser(description="Lower bound on a scan's wall time (see the module docstring).")
    ap.add_argument("plan")
    ap.add_argument("--latency-ms", type=float, required=True)
    ap.add_argument("--concurrency", type=int, required=True)
    ap.add_argument("--per-host", type=int, default=None)
    ap.add_argument("--limits")
    ap.add_argument("--limit-scale", type=float, default=1.0)
    ap.add_argument("--hosts", choices=["single", "aws"], default="single")
    ap.add_argument("--max-rps", type=float, default=None)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv[1:])
    if a.concurrency < 1 or a.latency_ms < 0:
        ap.error("--concurrency must be at least 1 and --latency-ms not negative")
    with open(a.plan) as f:
        plan = json.load(f)
    limits = load_limits(a.limits, a.limit_scale) if a.limits else {}
    r = bound(plan["calls"], a.latency_ms / 1000.0, a.concurrency, a.per_host, limits, a.hosts, a.max_rps)
    if a.json:
        json.dump(r, sys.stdout, indent=2, sort_keys=True)
        print()
        return 0
    print(f"lower bound: {r['seconds']:.3f} s ({r['binding']['kind']}: {r['binding']['what']})")
    top = sorted(r["terms"], key=lambda t: -t["seconds"])[:8]
    for t in top:
        print(f"  {t['seconds']:9.3f} s  {t['kind']:<13} {t['what']}")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main(sys.argv))
