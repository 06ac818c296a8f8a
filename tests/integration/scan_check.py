"""Checks on snapshots written by `tmscan scan aws`, for the scan_*.sh integration tests.

usage: /usr/bin/python3 scan_check.py demo SNAPSHOT FIXTURES   the demo account, complete, with its facts
       /usr/bin/python3 scan_check.py unknowns SNAPSHOT        every failure is in errors, every unknown
                                                               fact has its error, nothing failed is known
       /usr/bin/python3 scan_check.py denied SNAPSHOT OP...    facts the denied operations read are unknown
       /usr/bin/python3 scan_check.py secrets FIXTURES PATH... no environment value of the demo account's
                                                               functions in PATH (files or directories)

Exits 1 with "FAIL: ..." lines on the first failed group of checks.
"""
import json
import os
import sys

ACCT = "111122223333"
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def done():
    for f in failures:
        print("FAIL: " + f)
    if failures:
        sys.exit(1)
    print("ok")


def load(path):
    with open(path) as f:
        return json.load(f)


def resources(snap):
    return {r["id"]: r for r in snap["resources"]}


def is_unknown(v):
    return isinstance(v, dict) and isinstance(v.get("$unknown"), dict)


def markers(node, out):
    """Every unknown marker anywhere under node."""
    if is_unknown(node):
        out.append(node["$unknown"])
        return
    if isinstance(node, dict):
        for v in node.values():
            markers(v, out)
    elif isinstance(node, list):
        for v in node:
            markers(v, out)


# Which scanned service writes a resource, from its ARN's service field.
ARN_SERVICE = {"iam": "iam", "ec2": "ec2", "rds": "rds", "s3": "s3", "lambda": "lambda", "sqs": "sqs",
               "sns": "sns", "kms": "kms", "secretsmanager": "secretsmanager", "ecr": "ecr",
               "execute-api": "apigateway", "apigateway": "apigateway"}


def expected_resources(fixtures):
    flaws = load(os.path.join(fixtures, "flaws.json"))
    ids = set()
    for f in flaws["findings"]:
        ids.add(f["resource"])
        ids.update(p for p in f.get("path", []) if p.startswith("arn:"))
    for l in flaws["lookalikes"]:
        ids.add(l["resource"])
    return ids


def demo(snap_path, fixtures):
    snap = load(snap_path)
    R = resources(snap)
    scope = snap["scope"]
    services = set(scope["services"])
    check(scope["accounts"] == [ACCT], "scope.accounts")
    check(scope["caller"]["arn"] == "arn:aws:sts::111122223333:assumed-role/tmscan-audit/tmscan", "scope.caller")
    # Every resource the demo's flaw list names, for the services that were scanned. Managed policies
    # and pseudo-principals in paths are not resources.
    for rid in sorted(expected_resources(fixtures)):
        svc = rid.split(":")[2]
        if ":policy/" in rid or svc not in ARN_SERVICE:
            continue
        want = ARN_SERVICE[svc]
        if want == "apigateway" and not ({"apigateway", "apigatewayv2"} & services):
            continue
        if want != "apigateway" and want not in services:
            continue
        check(rid in R, "resource %s missing" % rid)
    acct = R.get("arn:aws:iam::%s:root" % ACCT, {"attrs": {}, "policies": {}})
    a = acct["attrs"]
    check(len(a.get("enabled_regions", [])) == 17, "account.enabled_regions: the 17 enabled regions")
    check(scope["regions"] == a.get("enabled_regions"), "every enabled region scanned")
    if "iam" in services:
        check(a.get("alias") == "acme-demo", "account.alias")
        ci = R["arn:aws:iam::%s:user/service/ci-deploy" % ACCT]["attrs"]["access_keys"]
        check(ci == [{"access_key_id": "AKIAQDEMOCIDEPLOY001", "status": "Active", "create_date": "2020-02-17T15:04:10Z",
                      "last_used_date": "2024-06-09T22:41:00Z", "last_used_service": "sts",
                      "last_used_region": "us-east-1"}], "F27 ci-deploy's active key and its last use: %s" % ci)
        lb = R["arn:aws:iam::%s:user/service/legacy-backup" % ACCT]["attrs"]["access_keys"]
        check(len(lb) == 1 and lb[0]["status"] == "Inactive", "L29 legacy-backup's key is inactive")
        gh = R["arn:aws:iam::%s:role/github-actions-infra" % ACCT]["policies"]["trust"]
        check("token.actions.githubusercontent.com" in json.dumps(gh), "F07 trust policy decoded")
        ls = R["arn:aws:iam::%s:role/legacy-support-access" % ACCT]["policies"]["trust"]
        check(ls["Statement"][0]["Principal"] == {"AWS": "*"}, "F18 trust Principal AWS *")
        dev = R["arn:aws:iam::%s:role/developer" % ACCT]["policies"]["identity"]
        check(any(p["kind"] == "managed" and "iam:PassRole" in json.dumps(p["document"]) for p in dev),
              "F23 developer's DeveloperAccess default version")
        cd = R["arn:aws:iam::%s:role/contractor-dev" % ACCT]
        check(cd["attrs"]["permissions_boundary_arn"].endswith(":policy/ContractorBoundary") and
              isinstance(cd["policies"]["boundary"], dict), "L31 boundary document")
        ip = R["arn:aws:iam::%s:instance-profile/web-instance-profile" % ACCT]
        check({"kind": "has-identity", "to": "arn:aws:iam::%s:role/web-instance-role" % ACCT} in ip["links"],
              "instance profile -> role")
        check(any(r["type"] == "aws:iam:oidc-provider" and r["attrs"].get("url") == "token.actions.githubusercontent.com"
                  for r in R.values()), "GitHub OIDC provider")
        check(any(r["type"] == "aws:iam:saml-provider" for r in R.values()), "SAML provider")
    if "organizations" in services:
        org = a.get("organization") or {}
        check(org.get("id") == "o-a1b2c3d4e5" and org.get("master_account_id") == "444455556666", "organization")
        check(org.get("accounts") == ["111122223333", "444455556666", "555566667777", "666677778888"],
              "organization.accounts")
        scps = acct["policies"].get("scps")
        got = [(p["id"], p["target"]) for p in scps] if isinstance(scps, list) else scps
        check(got == [("p-FullAWSAccess", ACCT), ("p-7k2m9q4x", "ou-a1b2-f9k3x7q2"),
                      ("p-FullAWSAccess", "ou-a1b2-f9k3x7q2"), ("p-FullAWSAccess", "r-a1b2")],
              "SCPs from the account to the root: %s" % (got,))
        check(isinstance(scps, list) and all(isinstance(p["document"], dict) for p in scps), "SCP documents")
        check(acct["policies"].get("rcps") == [], "no RCP policy type enabled: rcps []")
    if "ec2" in services:
        web = R["arn:aws:ec2:us-east-1:%s:instance/i-0a1b2c3d4e5f60718" % ACCT]
        w = web["attrs"]
        check(w["public_ip"] == "203.0.113.10" and w["metadata_options"]["http_tokens"] == "optional" and
              w["instance_profile"] == "arn:aws:iam::%s:instance-profile/web-instance-profile" % ACCT,
              "F08/F25 web-1 facts")
        sg = R["arn:aws:ec2:us-east-1:%s:security-group/%s" % (ACCT, w["security_group_ids"][0])]
        check(any(r["ip_protocol"] == "tcp" and r["from_port"] == 22 and "0.0.0.0/0" in r["ipv4_ranges"]
                  for r in sg["attrs"]["ingress"]), "F08 SSH open to the world")
        api1 = R["arn:aws:ec2:us-east-1:%s:instance/i-0b2c3d4e5f6a71829" % ACCT]["attrs"]
        check(api1["metadata_options"]["http_tokens"] == "required" and api1["public_ip"] is None, "L33 api-1")
        b1 = R["arn:aws:ec2:us-east-1:%s:instance/i-0c3d4e5f6a7b8293a" % ACCT]["attrs"]
        check(b1["state"] == "stopped" and b1["instance_profile"] is None, "L34 batch-1")
        check(R["arn:aws:ec2:us-east-1::snapshot/snap-0a1b2c3d4e5f60711"]["attrs"]["create_volume_permissions"] ==
              [{"group": "all"}], "F09 public snapshot")
        check(R["arn:aws:ec2:us-east-1::snapshot/snap-0b2c3d4e5f6a71822"]["attrs"]["create_volume_permissions"] == [],
              "L37 private snapshot")
        im = R["arn:aws:ec2:us-east-1::image/ami-0a1b2c3d4e5f67890"]["attrs"]
        check(im["public"] is True and im["launch_permissions"] == [{"group": "all"}], "F10 public AMI")
        check(R["arn:aws:ec2:us-east-1::image/ami-0b2c3d4e5f6a78901"]["attrs"]["launch_permissions"] == [],
              "L38 private AMI")
        check(any(r["type"] == "aws:ec2:network-interface" and r["attrs"]["requester_id"] == "amazon-elb"
                  for r in R.values()), "load balancer interfaces")
    if "rds" in services:
        check(R["arn:aws:rds:us-east-1:%s:db:orders-db" % ACCT]["attrs"]["publicly_accessible"] is True, "F11")
        check(R["arn:aws:rds:us-east-1:%s:db:customers-db" % ACCT]["attrs"]["publicly_accessible"] is False, "L39")
        check(R["arn:aws:rds:us-east-1:%s:snapshot:orders-db-pre-migration" % ACCT]["attrs"]["restore"] == ["all"],
              "F12")
        check(R["arn:aws:rds:us-east-1:%s:snapshot:customers-db-weekly-2024-06-02" % ACCT]["attrs"]["restore"] ==
              ["555566667777"], "L40")
        check(R["arn:aws:rds:eu-west-1:%s:cluster-snapshot:analytics-cluster-share-2024-03-15" % ACCT]["attrs"][
            "restore"] == ["999988887777"], "F22")
    done()


def unknowns(snap_path):
    """Unknown facts and errors agree: each unknown marker is a recorded error, each error about a resource
    left a marker (the facts it would have read are unknown, not missing and not guessed)."""
    snap = load(snap_path)
    errs = snap["errors"]
    keys = {(e["service"], e["operation"], e["region"], e.get("resource"), e["code"]) for e in errs}
    found = []
    for r in snap["resources"]:
        markers(r, found)
    markers(snap["scope"], found)
    for m in found:
        k = (m["service"], m["operation"], m["region"], m.get("resource"), m["code"])
        check(k in keys, "unknown marker without a recorded error: %s" % (k,))
    marked = {(m["service"], m["operation"], m.get("resource")) for m in found}
    ids = {r["id"] for r in snap["resources"]}
    for e in errs:
        res = e.get("resource")
        if res and res in ids:
            check((e["service"], e["operation"], res) in marked,
                  "error %s %s on %s left no unknown fact" % (e["service"], e["operation"], res))
        check(e["attempts"] >= 1 and e["retried"] == (e["attempts"] > 1), "error attempts/retried: %s" % e)
    done()


# What each operation reads: (resource type, section, key), or None for listings whose failure leaves the
# resources out (the error says the listing failed).
READS = {
    "ListAccessKeys": ("aws:iam:user", "attrs", "access_keys"),
    "DescribeSnapshotAttribute": ("aws:ec2:snapshot", "attrs", "create_volume_permissions"),
    "DescribeImageAttribute": ("aws:ec2:image", "attrs", "launch_permissions"),
    "DescribeDBSnapshotAttributes": ("aws:rds:snapshot", "attrs", "restore"),
    "DescribeDBClusterSnapshotAttributes": ("aws:rds:cluster-snapshot", "attrs", "restore"),
    "GetOpenIDConnectProvider": ("aws:iam:oidc-provider", "attrs", "url"),
    "ListRoles": ("aws:iam:role", "attrs", "max_session_duration"),
    "ListAccountAliases": ("aws:account", "attrs", "alias"),
    "DescribeOrganization": ("aws:account", "attrs", "organization"),
    "ListParents": ("aws:account", "policies", "scps"),
    "ListPoliciesForTarget": ("aws:account", "policies", "scps"),
}
LISTS = {"DescribeInstances": "aws:ec2:instance", "DescribeSecurityGroups": "aws:ec2:security-group",
         "DescribeNetworkInterfaces": "aws:ec2:network-interface", "DescribeSnapshots": "aws:ec2:snapshot",
         "DescribeImages": "aws:ec2:image", "DescribeDBInstances": "aws:rds:db",
         "DescribeDBSnapshots": "aws:rds:snapshot", "DescribeDBClusterSnapshots": "aws:rds:cluster-snapshot"}


def denied(snap_path, ops):
    snap = load(snap_path)
    errs = snap["errors"]
    for op in ops:
        mine = [e for e in errs if e["operation"] == op]
        check(mine and all(e["code"] in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")
                           for e in mine), "%s: denied and recorded (%d errors)" % (op, len(mine)))
        if op in READS:
            rtype, section, key = READS[op]
            rs = [r for r in snap["resources"] if r["type"] == rtype]
            check(rs, "%s: there are %s resources to check" % (op, rtype))
            for r in rs:
                check(is_unknown(r[section].get(key)), "%s: %s %s.%s is known" % (op, r["id"], section, key))
        elif op in LISTS:
            check(not [r for r in snap["resources"] if r["type"] == LISTS[op]],
                  "%s: resources from a denied listing" % op)
    done()


def env_values(fixtures):
    vals = set()
    for root, _, files in os.walk(os.path.join(fixtures, "lambda")):
        for name in files:
            text = open(os.path.join(root, name)).read()
            body = text.split("\n\n", 1)[1] if "\n\n" in text else ""
            try:
                doc = json.loads(body)
            except ValueError:
                continue
            for fn in doc.get("Functions", []):
                for k, v in (fn.get("Environment") or {}).get("Variables", {}).items():
                    # The secret ones: other values (a database host) may rightly appear elsewhere.
                    if any(w in k.upper() for w in ("PASSWORD", "SECRET", "TOKEN", "WEBHOOK", "PRIVATE")) and \
                            not v.startswith("arn:"):
                        vals.add(v)
    return vals


def secrets(fixtures, paths):
    vals = env_values(fixtures)
    check(vals, "the demo account has environment values to look for")
    scenario = load(os.path.join(fixtures, "scenario.json"))
    for c in scenario["credentials"]:
        vals.add(c["secret_access_key"])
        if c.get("session_token"):
            vals.add(c["session_token"])
    for p in paths:
        files = [p] if os.path.isfile(p) else [os.path.join(r, f) for r, _, fs in os.walk(p) for f in fs]
        for f in files:
            text = open(f, errors="replace").read()
            for v in vals:
                check(v not in text, "%s holds a secret value (%s...)" % (f, v[:4]))
            check("Authorization:" not in text and "X-Amz-Signature" not in text, "%s holds a signature" % f)
    done()


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "demo":
        demo(sys.argv[2], sys.argv[3])
    elif cmd == "unknowns":
        unknowns(sys.argv[2])
    elif cmd == "denied":
        denied(sys.argv[2], sys.argv[3:])
    elif cmd == "secrets":
        secrets(sys.argv[2], sys.argv[3:])
    else:
        print(__doc__)
        sys.exit(2)
