#!/usr/bin/python3
"""A reference client: replays a generated account's call plan through mockcloud as fast as the plan,
the latency and the rate limits allow.

    replay.py FIXTURES_DIR --port PORT [--concurrency 32] [--limit-scale 1.0] [--json]

It is not a scanner (it parses nothing) and its figures are not tmscan's: it answers two questions
about the benchmark itself. Does every planned call reach the response file the plan bound it to,
through mockcloud's real matcher and signature check? And how close to the lower bound can a client
get that knows the whole plan in advance, sends the call with the longest chain behind it first and
paces itself with the published rates (bench/aws_limits.json, shared buckets included)? Requests are signed with botocore's
SigV4 signer and sent over keep-alive connections, one per worker.
"""

import argparse
import heapq
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.session

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import lower_bound  # noqa: E402

THROTTLE_CODES = (b"Throttling", b"ThrottlingException", b"RequestLimitExceeded", b"TooManyRequestsException",
                  b"SlowDown")


class Apis:
    """Protocol metadata per botocore API name (cached)."""

    def __init__(self):
        self.session = botocore.session.get_session()
        self.meta = {}

    def get(self, name):
        if name not in self.meta:
            self.meta[name] = self.session.get_service_model(name).metadata
        return self.meta[name]


def build_request(apis, call, creds, port, account):
    req = call["request"]
    meta = apis.get(req["api"])
    proto = meta["protocol"]
    url = f"http://127.0.0.1:{port}"
    headers = {}
    if proto in ("query", "ec2"):
        body = urllib.parse.urlencode({"Action": call["operation"], "Version": meta["apiVersion"], **req["params"]})
        headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
        method, path = "POST", "/"
    elif proto == "json":
        body = json.dumps(req["params"])
        headers["Content-Type"] = f"application/x-amz-json-{meta.get('jsonVersion', '1.1')}"
        headers["X-Amz-Target"] = f"{meta['targetPrefix']}.{call['operation']}"
        method, path = "POST", "/"
    else:
        body = b""
        method = req["method"]
        path = req["path"]
        if req["params"]:
            path += "?" + urllib.parse.urlencode(sorted(req["params"].items()), quote_via=urllib.parse.quote)
        if req["api"] == "s3control":
            headers["x-amz-account-id"] = account
    signing = meta.get("signingName", meta["endpointPrefix"])
    aws = botocore.awsrequest.AWSRequest(method=method, url=url + path, data=body, headers=headers)
    signer = (botocore.auth.S3SigV4Auth if signing == "s3" else botocore.auth.SigV4Auth)(creds, signing, call["region"])
    signer.add_auth(aws)
    prepared = aws.prepare()
    return method, path, prepared.body, dict(prepared.headers)


def bucket_key(limits, call):
    """(service, operation or group, region) of the token bucket a call draws from, None without one."""
    b = lower_bound.bucket_of(limits, call["service"], call["operation"])
    return None if b is None else (b[0], b[1], call["region"])


class Pacer:
    """Client-side token buckets with the published rates, one per bucket key (bucket_key: a group's
    operations share theirs): a call is sent only when its bucket has a token, so a client that knows
    the limits is never throttled."""

    def __init__(self, limits):
        self.rules = {}
        for (svc, op), rule in limits.items():
            self.rules[lower_bound.bucket_of(limits, svc, op)] = (rule[0], rule[1])
        self.state = {}

    def ready_at(self, key, now):
        rule = self.rules.get(key[:2]) if key else None
        if not rule:
            return now
        rps, burst = rule
        tokens, t = self.state.get(key, (burst, now))
        tokens = min(burst, tokens + (now - t) * rps)
        self.state[key] = (tokens, now)
        return now if tokens >= 1 else now + (1 - tokens) / rps

    def take(self, key):
        if key and key[:2] in self.rules:
            tokens, t = self.state[key]
            self.state[key] = (tokens - 1, t)


def replay(fixtures, port, concurrency, limit_scale=1.0, limits_path=None):
    with open(os.path.join(fixtures, "plan.json")) as f:
        plan = json.load(f)
    with open(os.path.join(fixtures, "scenario.json")) as f:
        cred = json.load(f)["credentials"][0]
    creds = botocore.credentials.Credentials(cred["access_key_id"], cred["secret_access_key"], cred.get("session_token"))
    limits = lower_bound.load_limits(limits_path, limit_scale) if limits_path else {}
    calls = plan["calls"]
    height = _ranks(calls, limits)
    children = {c["id"]: [] for c in calls}
    waiting = {c["id"]: len(c["deps"]) for c in calls}
    for c in calls:
        for d in c["deps"]:
            children[d].append(c["id"])
    apis = Apis()
    pacer = Pacer(limits)
    lock = threading.Condition()
    ready = [(-height[c["id"]], c["id"]) for c in calls if not c["deps"]]
    heapq.heapify(ready)
    state = {"done": 0, "sent": 0, "throttled": 0, "wrong_status": [], "errors": []}

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                while True:
                    if state["done"] == len(calls) or state["errors"]:
                        conn.close()
                        return
                    now = time.monotonic()
                    pick, wake = None, None
                    skipped = []
                    while ready:
                        item = heapq.heappop(ready)
                        c = calls[item[1]]
                        key = bucket_key(limits, c)
                        at = pacer.ready_at(key, now)
                        if at <= now:
                            pacer.take(key)
                            pick = c
                            break
                        skipped.append(item)
                        wake = at if wake is None else min(wake, at)
                    for item in skipped:
                        heapq.heappush(ready, item)
                    if pick:
                        break
                    lock.wait(None if wake is None else max(0.0005, wake - now))
            try:
                method, path, body, headers = build_request(apis, pick, creds, port, plan["account"])
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                status = resp.status
                error_type = resp.getheader("x-amzn-ErrorType", "") or ""
            except (OSError, http.client.HTTPException, KeyError, ValueError) as e:
                with lock:
                    state["errors"].append(f"call {pick['id']}: {e}")
                    lock.notify_all()
                return
            with lock:
                state["sent"] += 1
                if status == 429 or (status in (400, 503) and (any(code in data for code in THROTTLE_CODES)
                                                                or error_type.startswith("Throttling"))):
                    state["throttled"] += 1
                    heapq.heappush(ready, (-height[pick["id"]], pick["id"]))
                    lock.notify_all()
                    continue
                if status != pick["status"]:
                    state["wrong_status"].append(f"call {pick['id']} {pick['operation']} {pick['fixture']}: "
                                                 f"status {status}, planned {pick['status']}")
                state["done"] += 1
                for k in children[pick["id"]]:
                    waiting[k] -= 1
                    if waiting[k] == 0:
                        heapq.heappush(ready, (-height[k], k))
                lock.notify_all()

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    return dict(wall_s=round(wall, 3), calls=len(calls), sent=state["sent"], throttled=state["throttled"],
                wrong_status=state["wrong_status"], errors=state["errors"])


def _ranks(calls, limits, latency_s=0.03):
    """Upward rank of each call (list scheduling, as in HEFT): its own weight plus the largest rank
    among the calls that wait for it. A call weighs the time its token bucket needs to pass every
    call of that bucket (n / rate, n counting every operation of a shared bucket), or one round trip
    when it has no bucket; so calls on the way to the slowest bucket go first. Ranks are in
    microseconds, as integers for the heap."""
    counts = {}
    for c in calls:
        key = bucket_key(limits, c)
        counts[key] = counts.get(key, 0) + 1
    children = {c["id"]: [] for c in calls}
    for c in calls:
        for d in c["deps"]:
            children[d].append(c["id"])
    rank = {}
    for c in sorted(calls, key=lambda c: -c["id"]):  # plan ids follow dependency order
        rule = limits.get((c["service"], c["operation"]))
        w = latency_s
        if rule:
            w = max(w, counts[bucket_key(limits, c)] / rule[0])
        rank[c["id"]] = w + max((rank[k] for k in children[c["id"]]), default=0.0)
    return {k: int(v * 1e6) for k, v in rank.items()}


def main(argv):
    ap = argparse.ArgumentParser(description="Replay a generated account's call plan through mockcloud.")
    ap.add_argument("fixtures")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--limits", default=os.path.join(HERE, "aws_limits.json"))
    ap.add_argument("--limit-scale", type=float, default=1.0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv[1:])
    r = replay(a.fixtures, a.port, a.concurrency, a.limit_scale, a.limits)
    if a.json:
        json.dump(r, sys.stdout, indent=2, sort_keys=True)
        print()
    else:
        print(f"replay: {r['calls']} calls in {r['wall_s']:.3f} s, {r['sent']} requests, {r['throttled']} throttled, "
              f"{len(r['wrong_status'])} with an unplanned status, {len(r['errors'])} errors")
        for line in (r["wrong_status"] + r["errors"])[:20]:
            print("  " + line)
    return 0 if not r["wrong_status"] and not r["errors"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
