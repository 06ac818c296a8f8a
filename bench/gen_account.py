#!/usr/bin/python3
"""Generate the benchmark's synthetic AWS account (deterministic, seeded).

    gen_account.py fixtures --resources N [--seed S] --out DIR
        A mockcloud scenario (DIR/scenario.json and DIR/**/*.http, fixtures/README.md) rendered by
        scripts/gen_demo_fixtures.py's own renderers from the account of bench/account_spec.py, with
        pagination at the services' real page sizes, and DIR/plan.json: every call a complete scan must
        make, in dependency order, each bound to the response file that answers it.

    gen_account.py snapshot --resources N [--seed S] --out FILE
        The same kind of account written directly as a tmscan.snapshot/1 file (docs/snapshot.md), for
        the analysis figures at sizes no scan needs to produce.

Run with Debian's interpreter (/usr/bin/python3). Output goes where --out says: never into the
repository's fixtures/.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import account_spec  # noqa: E402
import snapshot as snapshot_writer  # noqa: E402

D = account_spec.D
el = D.el

# Page sizes as the services document them (botocore's service-2.json, see docs/benchmarks.md):
# (default page when the caller does not ask, the largest page a caller may ask for, the parameter).
PAGES = {
    "GetAccountAuthorizationDetails": (100, 1000, "MaxItems"),
    "ListRoles": (100, 1000, "MaxItems"),
    "ListAccessKeys": (100, 1000, "MaxItems"),
    "ListInstanceProfiles": (100, 1000, "MaxItems"),
    "ListAccountAliases": (100, 1000, "MaxItems"),
    "ListAliases": (100, 1000, "Limit"),
    "ListFunctions": (50, 50, "MaxItems"),
    "GetRestApis": (25, 500, "limit"),
    "GetResources": (25, 500, "limit"),
    "GetAuthorizers": (25, 500, "limit"),
    "GetUsagePlans": (25, 500, "limit"),
    "ListKeys": (100, 1000, "Limit"),
    "ListSecrets": (100, 100, "MaxResults"),
    "DescribeRepositories": (100, 1000, "maxResults"),
    "ListTopics": (100, 100, None),
    "ListSubscriptions": (100, 100, None),
    "ListQueues": (1000, 1000, "MaxResults"),
}
# Lists this generator does not paginate: it refuses accounts that would need it, rather than serve a
# page no service would send.
SINGLE_PAGE_CAP = {"DescribeInstances": 1000, "DescribeSecurityGroups": 1000, "DescribeNetworkInterfaces": 1000,
                   "DescribeSnapshots": 1000, "DescribeImages": 1000, "DescribeDBInstances": 100,
                   "DescribeDBSnapshots": 100, "ListEventSourceMappings": 100, "GetApis": 100, "ListAliases": 100}


def apply(acct):
    """Points the demo generator's account globals at the synthetic account, with real page sizes."""
    account_spec.install(acct)
    D.LAMBDA_PAGE_SIZE = PAGES["ListFunctions"][0]
    D.APIGW_RESOURCES_PAGE = PAGES["GetResources"][0]
    D.SQS_PAGE_SIZE = PAGES["ListQueues"][0]


def chunks(items, size):
    return [items[i:i + size] for i in range(0, len(items), size)] or [[]]


# ---- pagination the demo renderers leave to a single page ------------------------------------


def page_iam(fx):
    """GetAccountAuthorizationDetails at its real page size: users, groups, roles and policies in that
    order, MaxItems of them per page, for the default size and for the largest a caller may ask."""
    for rel in [r for r in fx.files if "/GetAccountAuthorizationDetails--" in r]:
        del fx.files[rel]
    items = ([("UserDetailList", D.user_detail(u)) for u in D.iam_sort(D.USERS)]
             + [("GroupDetailList", D.group_detail(g)) for g in D.iam_sort(D.GROUPS)]
             + [("RoleDetailList", D.role_detail(r)) for r in D.iam_sort(D.ROLES)]
             + [("Policies", p) for p in D.managed_policy_details()])
    chains = {}
    for variant, size in (("default", PAGES["GetAccountAuthorizationDetails"][0]),
                          ("max", PAGES["GetAccountAuthorizationDetails"][1])):
        pages = chunks(items, size)
        chains[variant] = []
        marker = None
        for n, page in enumerate(pages, 1):
            lists = {k: [] for k in ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")}
            for kind, node in page:
                lists[kind].append(node)
            children = [el(k, v) for k, v in lists.items()]
            nxt = D.token("iam", "gaad", variant, n + 1, n=64) if n < len(pages) else None
            children.append(el("IsTruncated", nxt is not None))
            if nxt:
                children.append(el("Marker", nxt))
            params = ([f"MaxItems={size}"] if variant == "max" else []) + ([f"Marker={marker}"] if marker else [])
            fx.query("iam", D.IAM_NS, D.IAM_REGION, "GetAccountAuthorizationDetails", children,
                     slug=f"{variant}-page{n}", params=params,
                     comment=f"IAM GetAccountAuthorizationDetails ({variant} page size {size}), page {n} of {len(pages)}")
            chains[variant].append(dict(params=params, items=[(k, node) for k, node in page]))
            marker = nxt
    return chains


def page_list_roles(fx):
    """IAM ListRoles (the roles' MaxSessionDuration, which GetAccountAuthorizationDetails does not
    carry): the role fields ListRoles returns, MaxItems per page, default and largest page size."""
    def member(r):
        kids = D.role_core(r)
        if r.get("description"):
            kids.append(el("Description", r["description"]))
        kids.append(el("MaxSessionDuration", r.get("max_session", 3600)))
        return el("member", kids)

    for rel in [r for r in fx.files if r.startswith("iam/") and "/ListRoles" in r]:
        del fx.files[rel]
    roles = [member(r) for r in D.iam_sort(D.ROLES)]
    chains = {}
    for variant, size in (("default", PAGES["ListRoles"][0]), ("max", PAGES["ListRoles"][1])):
        pages = chunks(roles, size)
        chains[variant] = []
        marker = None
        for n, page in enumerate(pages, 1):
            nxt = D.token("iam", "listroles", variant, n + 1, n=64) if n < len(pages) else None
            children = [el("Roles", page), el("IsTruncated", nxt is not None)] + ([el("Marker", nxt)] if nxt else [])
            params = ([f"MaxItems={size}"] if variant == "max" else []) + ([f"Marker={marker}"] if marker else [])
            fx.query("iam", D.IAM_NS, D.IAM_REGION, "ListRoles", children, slug=f"{variant}-page{n}", params=params,
                     comment=f"IAM ListRoles ({variant} page size {size}), page {n} of {len(pages)}")
            chains[variant].append(dict(params=params))
            marker = nxt
    return chains


def page_instance_profiles(fx):
    """IAM ListInstanceProfiles (the profiles, roleless ones included, which the authorization details
    name only under their roles): MaxItems per page, default and largest page size."""
    for rel in [r for r in fx.files if r.startswith("iam/") and "/ListInstanceProfiles" in r]:
        del fx.files[rel]
    profiles = sorted([(r["profile"], r["created"], [r]) for r in D.ROLES if r.get("profile")]
                      + [(p["name"], p["created"], []) for p in D.ROLELESS_PROFILES])
    members = [D.profile_member(*p) for p in profiles]
    chains = {}
    for variant, size in (("default", PAGES["ListInstanceProfiles"][0]), ("max", PAGES["ListInstanceProfiles"][1])):
        pages = chunks(members, size)
        chains[variant] = []
        marker = None
        for n, page in enumerate(pages, 1):
            nxt = D.token("iam", "profiles", variant, n + 1, n=64) if n < len(pages) else None
            children = ([el("InstanceProfiles", page), el("IsTruncated", nxt is not None)]
                        + ([el("Marker", nxt)] if nxt else []))
            params = ([f"MaxItems={size}"] if variant == "max" else []) + ([f"Marker={marker}"] if marker else [])
            fx.query("iam", D.IAM_NS, D.IAM_REGION, "ListInstanceProfiles", children, slug=f"{variant}-page{n}",
                     params=params, comment=f"IAM ListInstanceProfiles ({variant} page size {size}), page {n} of "
                                            f"{len(pages)}")
            chains[variant].append(dict(params=params))
            marker = nxt
    return chains


def _body(fx, rel):
    return fx.files[rel].split("\n\n", 1)[1]


def page_json_list(fx, service, region, op, list_key, token_key, req_token, emit):
    """Re-serves a demo single-page JSON listing in pages: the default size without a size parameter,
    and the largest size when the caller asks for it."""
    rel = f"{service}/{region}/{op}.http"
    doc = json.loads(_body(fx, rel))
    items = doc[list_key]
    default, largest, size_param = PAGES[op]
    if len(items) <= default and default == largest:
        return {"default": [dict(params=[], n=len(items))], "max": [dict(params=[], n=len(items))]}
    del fx.files[rel]
    chains = {}
    for variant, size in (("default", default), ("max", largest)):
        if variant == "max" and largest == default:
            chains["max"] = chains["default"]
            break
        pages = chunks(items, size)
        chains[variant] = []
        tok = None
        for n, page in enumerate(pages, 1):
            out = {k: v for k, v in doc.items() if k not in (list_key, token_key, "Truncated")}
            out[list_key] = page
            nxt = D.token(service, region, op, variant, n + 1, n=48) if n < len(pages) else None
            if nxt:
                out[token_key] = nxt
            if "Truncated" in doc:
                out["Truncated"] = nxt is not None
            params = ([f"{size_param}={size}"] if variant == "max" else []) + ([f"{req_token}={tok}"] if tok else [])
            emit(out, f"{variant}-page{n}", params,
                 f"{op} in {region} ({variant} page size {size}), page {n} of {len(pages)}")
            chains[variant].append(dict(params=params, n=len(page)))
            tok = nxt
    return chains


def page_resources(fx):
    """API Gateway GetResources: the demo renderer answers at the default page (25); a caller that asks
    for the largest (limit=500) gets one page of up to 500."""
    largest = PAGES["GetResources"][1]
    chains = {}
    for a in D.REST_APIS:
        region, base = a["region"], f"/restapis/{a['id']}"
        prefix = f"apigateway/{region}/GetResources--{a['name']}"
        rels = sorted((r for r in fx.files if r.startswith(prefix + "--page")),
                      key=lambda r: int(r[len(prefix + "--page"):-len(".http")]))
        if not rels:
            chains[a["id"]] = [dict(params=["embed=methods", f"limit={largest}"])]
            continue
        items = [i for r in rels for i in json.loads(_body(fx, r))["item"]]
        pages = chunks(items, largest)
        chains[a["id"]] = []
        position = None
        for n, page in enumerate(pages, 1):
            nxt = D.token("apigw", a["id"], "max", n + 1, n=24) if n < len(pages) else None
            doc = ({"position": nxt} if nxt else {}) | {"item": page}
            params = ["embed=methods", f"limit={largest}"] + ([f"position={position}"] if position else [])
            D.apigw(fx, region, "GetResources", base + "/resources", doc, slug=f"{a['name']}--max-page{n}",
                    params=params, comment=f"API Gateway GetResources {a['name']} (page size {largest}), "
                                           f"page {n} of {len(pages)}")
            chains[a["id"]].append(dict(params=params))
            position = nxt
    return chains


def page_sns(fx, region, op, list_tag, entries):
    """ListTopics / ListSubscriptions: 100 per page with NextToken, as SNS answers."""
    rel = f"sns/{region}/{op}.http"
    size = PAGES[op][0]
    if len(entries) <= size:
        return [dict(params=[])]
    del fx.files[rel]
    pages = chunks(entries, size)
    chain = []
    tok = None
    for n, page in enumerate(pages, 1):
        nxt = D.token("sns", region, op, n + 1, n=64) if n < len(pages) else None
        children = [el(list_tag, page)] + ([el("NextToken", nxt)] if nxt else [])
        params = [f"NextToken={tok}"] if tok else []
        D.sns(fx, region, op, children, slug=f"page{n}", params=params,
              comment=f"SNS {op} in {region}, page {n} of {len(pages)}")
        chain.append(dict(params=params))
        tok = nxt
    return chain


def render(acct):
    apply(acct)
    fx = D.Fixtures()
    for r in D.RENDERERS:
        r(fx)
    pagination = {"iam": page_iam(fx), "iam_roles": page_list_roles(fx), "iam_profiles": page_instance_profiles(fx),
                  "kms": {}, "secretsmanager": {}, "ecr": {},
                  "apigateway": {}, "sns": {}, "resources": page_resources(fx)}
    for region in D.STANDARD_REGIONS:
        pagination["kms"][region] = page_json_list(
            fx, "kms", region, "ListKeys", "Keys", "NextMarker", "Marker",
            lambda doc, slug, params, comment, region=region: fx.json("kms", "1.1", region, "ListKeys", doc, slug=slug,
                                                                      params=params, comment=comment))
        pagination["secretsmanager"][region] = page_json_list(
            fx, "secretsmanager", region, "ListSecrets", "SecretList", "NextToken", "NextToken",
            lambda doc, slug, params, comment, region=region: fx.json("secretsmanager", "1.1", region, "ListSecrets",
                                                                      doc, slug=slug, params=params, comment=comment))
        pagination["ecr"][region] = page_json_list(
            fx, "ecr", region, "DescribeRepositories", "repositories", "nextToken", "nextToken",
            lambda doc, slug, params, comment, region=region: fx.json("ecr", "1.1", region, "DescribeRepositories",
                                                                      doc, slug=slug, params=params, comment=comment))
        pagination["apigateway"][region] = page_json_list(
            fx, "apigateway", region, "GetRestApis", "item", "position", "position",
            lambda doc, slug, params, comment, region=region: D.apigw(fx, region, "GetRestApis", "/restapis", doc,
                                                                      slug=slug, params=params, comment=comment))
        topics = sorted((t for t in D.TOPICS if t["region"] == region), key=lambda t: t["name"])
        subs = [x for x in D.SUBSCRIPTIONS if x["region"] == region]
        pagination["sns"][region] = {
            "ListTopics": page_sns(fx, region, "ListTopics", "Topics", [
                el("member", [el("TopicArn", D.topic_arn(region, t["name"]))]) for t in topics]),
            "ListSubscriptions": page_sns(fx, region, "ListSubscriptions", "Subscriptions", [
                el("member", [el("SubscriptionArn", D.subscription_arn(x)), el("Owner", x["owner"]),
                              el("Protocol", x["protocol"]), el("Endpoint", x["endpoint"]),
                              el("TopicArn", D.topic_arn(region, x["topic"]))]) for x in subs]),
        }
        # KMS ListAliases: the aliases of the region's keys (the snapshot's `aliases` fact), unless the
        # demo renderer already answers it.
        keys = sorted((k for k in D.KEYS if k["region"] == region), key=lambda k: k["id"])
        if f"kms/{region}/ListAliases.http" in fx.files:
            continue
        fx.json("kms", "1.1", region, "ListAliases", {"Aliases": [{
            "AliasName": f"alias/{k['alias']}", "AliasArn": f"arn:aws:kms:{region}:{D.ACCOUNT}:alias/{k['alias']}",
            "TargetKeyId": k["id"], "CreationDate": k["created"], "LastUpdatedDate": k["created"]} for k in keys],
            "Truncated": False}, comment=f"KMS ListAliases in {region}")
    check_single_pages(acct)
    return fx, pagination


def check_single_pages(acct):
    counts = {}

    def bump(op, region, n=1):
        counts[(op, region)] = counts.get((op, region), 0) + n

    for i in acct.instances:
        bump("DescribeInstances", i["region"])
        bump("DescribeNetworkInterfaces", i["region"])
    for e in acct.service_enis:
        bump("DescribeNetworkInterfaces", e["region"])
    for region, groups in acct.security_groups.items():
        bump("DescribeSecurityGroups", region, len(groups))
    for x in acct.snapshots:
        bump("DescribeSnapshots", x["region"])
    for x in acct.images:
        bump("DescribeImages", x["region"])
    for x in acct.db_instances:
        bump("DescribeDBInstances", x["region"])
    for x in acct.db_snapshots:
        bump("DescribeDBSnapshots", x["region"])
    for x in acct.event_source_mappings:
        bump("ListEventSourceMappings", x["region"])
    for x in acct.http_apis:
        bump("GetApis", x["region"])
    for (op, region), n in counts.items():
        if n > SINGLE_PAGE_CAP[op]:
            raise SystemExit(f"gen_account: {n} items for {op} in {region}: more than one page "
                             f"({SINGLE_PAGE_CAP[op]}); use a smaller account")


# ---- the plan: every call a complete scan must make ------------------------------------------


def parse_fixture(text):
    head = text.split("\n\n", 1)[0]
    m = {"params": [], "n_match": 0}
    for line in head.split("\n"):
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(": ")
        if key in ("service", "region", "operation", "method", "path"):
            m[key] = value
            m["n_match"] += 1
        elif key == "param":
            m["params"].append(value)
            m["n_match"] += 1
        elif key in ("header", "access-key", "auth"):
            m["n_match"] += 1
        elif key == "status":
            m["status"] = int(value)
    return m


class Plan:
    """Calls with dependencies, each resolved against the fixture set the way mockcloud chooses a
    response (every match line holds; most lines win; ties to the path that sorts first)."""

    def __init__(self, fx):
        self.calls = []
        self.by_op = {}
        for rel in sorted(fx.files):
            m = parse_fixture(fx.files[rel])
            m["rel"] = rel
            self.by_op.setdefault((m.get("service"), m.get("operation")), []).append(m)

    def resolve(self, service, region, op, method, path, params):
        best = None
        for m in self.by_op.get((service, op), []):
            if m.get("region") not in (None, "*", region):
                continue
            if m.get("method") not in (None, method) or m.get("path") not in (None, path):
                continue
            ok = True
            for p in m["params"]:
                name, eq, value = p.partition("=")
                if name not in params or (eq and params[name] != value):
                    ok = False
                    break
            if ok and (best is None or m["n_match"] > best["n_match"]):
                best = m
        if best is None:
            raise SystemExit(f"gen_account: no response file answers {service} {op} {region} {path} {params}")
        return best

    def add(self, service, region, op, deps=(), method="POST", path="/", params=None, host=None, api=None):
        params = dict(params or {})
        m = self.resolve(service, region, op, method, path, params)
        cid = len(self.calls)
        self.calls.append({"id": cid, "service": service, "region": region, "operation": op, "deps": list(deps),
                           "fixture": m["rel"], "status": m.get("status", 200),
                           "host": host or f"{service}.{region}.amazonaws.com",
                           "request": {"api": api or service, "method": method, "path": path, "params": params}})
        return cid


def _params(lst):
    out = {}
    for p in lst:
        k, _, v = p.partition("=")
        out[k] = v
    return out


def build_plan(acct, fx, pagination):
    pl = Plan(fx)
    g = D.IAM_REGION
    sts = pl.add("sts", g, "GetCallerIdentity", host="sts.amazonaws.com")
    regions_call = pl.add("ec2", g, "DescribeRegions", [sts])
    regions = list(D.STANDARD_REGIONS)

    # IAM (global): the authorization details at the largest page, then per-user keys.
    prev = sts
    user_page = {}
    for page in pagination["iam"]["max"]:
        prev = pl.add("iam", g, "GetAccountAuthorizationDetails", [prev], params=_params(page["params"]),
                      host="iam.amazonaws.com")
        for kind, node in page["items"]:
            if kind == "UserDetailList":
                user_page[node[2][1][2]] = prev  # UserName element
    prev_roles = sts
    for page in pagination["iam_roles"]["max"]:
        prev_roles = pl.add("iam", g, "ListRoles", [prev_roles], params=_params(page["params"]),
                            host="iam.amazonaws.com")
    prev_profiles = sts
    for page in pagination["iam_profiles"]["max"]:
        prev_profiles = pl.add("iam", g, "ListInstanceProfiles", [prev_profiles], params=_params(page["params"]),
                               host="iam.amazonaws.com")
    for u in acct.users:
        lk = pl.add("iam", g, "ListAccessKeys", [user_page[u["name"]]],
                    params={"UserName": u["name"], "MaxItems": str(PAGES["ListAccessKeys"][1])},
                    host="iam.amazonaws.com")
        for k in u.get("keys", []):
            pl.add("iam", g, "GetAccessKeyLastUsed", [lk], params={"AccessKeyId": k["id"]}, host="iam.amazonaws.com")
    pl.add("iam", g, "ListAccountAliases", [sts], params={"MaxItems": str(PAGES["ListAccountAliases"][1])},
           host="iam.amazonaws.com")
    oidc = pl.add("iam", g, "ListOpenIDConnectProviders", [sts], host="iam.amazonaws.com")
    pl.add("iam", g, "GetOpenIDConnectProvider", [oidc], params={"OpenIDConnectProviderArn": D.OIDC_GITHUB},
           host="iam.amazonaws.com")
    pl.add("iam", g, "ListSAMLProviders", [sts], host="iam.amazonaws.com")

    # Organizations (global): the organization, the account's parents, the SCPs of each level.
    org = pl.add("organizations", g, "DescribeOrganization", [sts])
    pl.add("organizations", g, "ListAccounts", [org])
    chain = [(D.ACCOUNT, sts)]
    child_dep = sts
    child = D.ACCOUNT
    while child in D.ORG_PARENTS:
        lp = pl.add("organizations", g, "ListParents", [child_dep], params={"ChildId": child})
        child = D.ORG_PARENTS[child][0]
        child_dep = lp
        chain.append((child, lp))
    described = set()
    for target, dep in chain:
        lpt = pl.add("organizations", g, "ListPoliciesForTarget", [dep],
                     params={"TargetId": target, "Filter": "SERVICE_CONTROL_POLICY"})
        for p in D.SCP_TARGETS.get(target, []):
            if p["id"] not in described:
                described.add(p["id"])
                pl.add("organizations", g, "DescribePolicy", [lpt], params={"PolicyId": p["id"]})

    # S3: buckets, each bucket's region, then its facts in that region; S3 Control.
    lb = pl.add("s3", g, "ListBuckets", [sts], method="GET", path="/", host="s3.amazonaws.com")
    for b in acct.buckets:
        path = "/" + b["name"]
        loc = pl.add("s3", g, "GetBucketLocation", [lb], method="GET", path=path, params={"location": ""},
                     host="s3.amazonaws.com")
        for op, q in (("GetBucketPolicy", "policy"), ("GetBucketPolicyStatus", "policyStatus"), ("GetBucketAcl", "acl"),
                      ("GetPublicAccessBlock", "publicAccessBlock"),
                      ("GetBucketOwnershipControls", "ownershipControls"), ("GetBucketWebsite", "website")):
            pl.add("s3", b["region"], op, [loc], method="GET", path=path, params={q: ""},
                   host=f"s3.{b['region']}.amazonaws.com")
    pl.add("s3", g, "GetPublicAccessBlock", [sts], api="s3control", method="GET", path="/v20180820/configuration/publicAccessBlock",
           host=f"{D.ACCOUNT}.s3-control.us-east-1.amazonaws.com")

    for region in regions:
        host = lambda svc: f"{svc}.{region}.amazonaws.com"  # noqa: E731
        # S3 Control: the region's access points in one listing (largest page), then each one's Block
        # Public Access and policy.
        lap = pl.add("s3", region, "ListAccessPoints", [regions_call], api="s3control", method="GET",
                     path="/v20180820/accesspoint", params={"maxResults": str(D.ACCESS_POINTS_PAGE)},
                     host=f"{D.ACCOUNT}.s3-control.{region}.amazonaws.com")
        for a in (a for a in acct.access_points if a["region"] == region):
            for op, suffix in (("GetAccessPoint", ""), ("GetAccessPointPolicy", "/policy")):
                pl.add("s3", region, op, [lap], api="s3control", method="GET",
                       path=f"/v20180820/accesspoint/{a['name']}{suffix}",
                       host=f"{D.ACCOUNT}.s3-control.{region}.amazonaws.com")

        # Lambda: pages of 50, then per function its policy, URL and aliases.
        fns = [f for f in acct.functions if f["region"] == region]
        prev = regions_call
        marker = None
        for n, page in enumerate(chunks(fns, PAGES["ListFunctions"][0]), 1):
            prev = pl.add("lambda", region, "ListFunctions", [prev], method="GET", path="/2015-03-31/functions/",
                          params={"Marker": marker} if marker else {}, host=host("lambda"))
            marker = D.token("lambda", region, "page", n + 1, n=56)
            for f in page:
                base = f"/2015-03-31/functions/{f['name']}"
                pl.add("lambda", region, "GetPolicy", [prev], method="GET", path=base + "/policy", host=host("lambda"))
                pl.add("lambda", region, "GetFunctionUrlConfig", [prev], method="GET",
                       path=f"/2021-10-31/functions/{f['name']}/url", host=host("lambda"))
                la = pl.add("lambda", region, "ListAliases", [prev], method="GET", path=base + "/aliases",
                            host=host("lambda"))
                for a in f.get("aliases", []):
                    # An alias has its own policy and may have its own function URL.
                    pl.add("lambda", region, "GetPolicy", [la], method="GET", path=base + "/policy",
                           params={"Qualifier": a["name"]}, host=host("lambda"))
                    pl.add("lambda", region, "GetFunctionUrlConfig", [la], method="GET",
                           path=f"/2021-10-31/functions/{f['name']}/url", params={"Qualifier": a["name"]},
                           host=host("lambda"))
        pl.add("lambda", region, "ListEventSourceMappings", [regions_call], method="GET",
               path="/2015-03-31/event-source-mappings/", host=host("lambda"))

        # API Gateway REST: APIs at the largest page, then per API its resources, authorizers, stages.
        apis = [a for a in acct.rest_apis if a["region"] == region]
        prev = regions_call
        api_page = []
        for page in pagination["apigateway"][region]["max"]:
            prev = pl.add("apigateway", region, "GetRestApis", [prev], method="GET", path="/restapis",
                          params=_params(page["params"]), host=host("apigateway"))
            api_page += [prev] * page["n"]
        pl.add("apigateway", region, "GetUsagePlans", [regions_call], method="GET", path="/usageplans",
               params={"limit": str(PAGES["GetUsagePlans"][1])}, host=host("apigateway"))
        for a, dep in zip(apis, api_page):
            base = f"/restapis/{a['id']}"
            prev_res = dep
            for page in pagination["resources"][a["id"]]:
                prev_res = pl.add("apigateway", region, "GetResources", [prev_res], method="GET",
                                  path=base + "/resources", params=_params(page["params"]), host=host("apigateway"))
            pl.add("apigateway", region, "GetAuthorizers", [dep], method="GET", path=base + "/authorizers",
                   params={"limit": str(PAGES["GetAuthorizers"][1])}, host=host("apigateway"))
            pl.add("apigateway", region, "GetStages", [dep], method="GET", path=base + "/stages",
                   host=host("apigateway"))
        ga = pl.add("apigateway", region, "GetApis", [regions_call], api="apigatewayv2", method="GET", path="/v2/apis",
                    host=host("apigateway"))
        for a in (a for a in acct.http_apis if a["region"] == region):
            for op, key in (("GetRoutes", "routes"), ("GetIntegrations", "integrations"),
                            ("GetAuthorizers", "authorizers"), ("GetStages", "stages")):
                pl.add("apigateway", region, op, [ga], api="apigatewayv2", method="GET", path=f"/v2/apis/{a['id']}/{key}",
                       host=host("apigateway"))

        # SQS and SNS.
        lq = pl.add("sqs", region, "ListQueues", [regions_call], params={"MaxResults": "1000"}, host=host("sqs"))
        for q in sorted((q for q in acct.queues if q["region"] == region), key=lambda q: q["name"]):
            pl.add("sqs", region, "GetQueueAttributes", [lq],
                   params={"QueueUrl": D.queue_url(region, q["name"]), "AttributeName.1": "All"}, host=host("sqs"))
        topics = sorted((t for t in acct.topics if t["region"] == region), key=lambda t: t["name"])
        prev = regions_call
        topic_pages = pagination["sns"][region]["ListTopics"]
        size = PAGES["ListTopics"][0]
        for n, page in enumerate(topic_pages):
            prev = pl.add("sns", region, "ListTopics", [prev], params=_params(page["params"]), host=host("sns"))
            for t in topics[n * size:(n + 1) * size]:
                pl.add("sns", region, "GetTopicAttributes", [prev],
                       params={"TopicArn": D.topic_arn(region, t["name"])}, host=host("sns"))
        prev = regions_call
        for page in pagination["sns"][region]["ListSubscriptions"]:
            prev = pl.add("sns", region, "ListSubscriptions", [prev], params=_params(page["params"]), host=host("sns"))

        # EC2 and RDS.
        for op in ("DescribeInstances", "DescribeSecurityGroups", "DescribeNetworkInterfaces"):
            pl.add("ec2", region, op, [regions_call], params={"MaxResults": "1000"}, host=host("ec2"))
        ds = pl.add("ec2", region, "DescribeSnapshots", [regions_call], params={"Owner.1": "self", "MaxResults": "1000"},
                    host=host("ec2"))
        for x in (x for x in acct.snapshots if x["region"] == region):
            pl.add("ec2", region, "DescribeSnapshotAttribute", [ds],
                   params={"Attribute": "createVolumePermission", "SnapshotId": x["id"]}, host=host("ec2"))
        di = pl.add("ec2", region, "DescribeImages", [regions_call], params={"Owner.1": "self"}, host=host("ec2"))
        for m in (m for m in acct.images if m["region"] == region):
            pl.add("ec2", region, "DescribeImageAttribute", [di],
                   params={"Attribute": "launchPermission", "ImageId": m["id"]}, host=host("ec2"))
        pl.add("rds", region, "DescribeDBInstances", [regions_call], params={"MaxRecords": "100"}, host=host("rds"))
        dsn = pl.add("rds", region, "DescribeDBSnapshots", [regions_call], params={"MaxRecords": "100"},
                     host=host("rds"))
        for x in (x for x in acct.db_snapshots if x["region"] == region):
            pl.add("rds", region, "DescribeDBSnapshotAttributes", [dsn], params={"DBSnapshotIdentifier": x["id"]},
                   host=host("rds"))
        pl.add("rds", region, "DescribeDBClusterSnapshots", [regions_call], params={"MaxRecords": "100"},
               host=host("rds"))

        # KMS, Secrets Manager, ECR: lists at the largest page, then per item.
        keys = sorted((k for k in acct.keys if k["region"] == region), key=lambda k: k["id"])
        for svc, op, items, per_item in (
                ("kms", "ListKeys", keys,
                 lambda k, dep: (pl.add("kms", region, "DescribeKey", [dep], params={"KeyId": k["id"]},
                                        host=host("kms")),
                                 pl.add("kms", region, "GetKeyPolicy", [dep],
                                        params={"KeyId": k["id"], "PolicyName": "default"}, host=host("kms")))),
                ("secretsmanager", "ListSecrets",
                 sorted((x for x in acct.secrets if x["region"] == region), key=lambda x: x["name"]),
                 lambda x, dep: pl.add("secretsmanager", region, "GetResourcePolicy", [dep],
                                       params={"SecretId": D.secret_arn(region, x["name"])},
                                       host=host("secretsmanager"))),
                ("ecr", "DescribeRepositories",
                 sorted((r for r in acct.repositories if r["region"] == region), key=lambda r: r["name"]),
                 lambda r, dep: pl.add("ecr", region, "GetRepositoryPolicy", [dep],
                                       params={"repositoryName": r["name"]}, host=f"api.ecr.{region}.amazonaws.com"))):
            prev = regions_call
            i = 0
            for page in pagination[svc][region]["max"]:
                prev = pl.add(svc, region, op, [prev], params=_params(page["params"]),
                              host=host(svc) if svc != "ecr" else f"api.ecr.{region}.amazonaws.com")
                for item in items[i:i + page["n"]]:
                    per_item(item, prev)
                i += page["n"]
        pl.add("kms", region, "ListAliases", [regions_call], params={"Limit": str(PAGES["ListAliases"][1])},
               host=host("kms"))
    return pl


def resource_estimate(acct):
    """Resources a complete scan records (as snapshot.py writes them)."""
    return len(snapshot_writer.resources(acct))


def write_fixtures(acct, out):
    fx, pagination = render(acct)
    plan = build_plan(acct, fx, pagination)
    fx.write(out)
    with open(os.path.join(out, "scenario.json"), "w") as f:
        f.write(D.scenario_json())
    doc = {"schema": "tmscan.bench.plan/1", "account": D.ACCOUNT, "resources": acct.n, "seed": acct.seed,
           "snapshot_resources": resource_estimate(acct), "responses": len(fx.files), "calls": plan.calls}
    with open(os.path.join(out, "plan.json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"), sort_keys=True)
        f.write("\n")
    used = {c["fixture"] for c in plan.calls}
    return dict(responses=len(fx.files), calls=len(plan.calls), unused=len(fx.files) - len(used))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=["fixtures", "snapshot"])
    ap.add_argument("--resources", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv[1:])
    if a.resources < 50:
        ap.error("--resources must be at least 50")
    acct = account_spec.build(a.resources, a.seed)
    if a.mode == "fixtures":
        r = write_fixtures(acct, a.out)
        print(f"gen_account: {r['responses']} responses, {r['calls']} planned calls "
              f"({r['unused']} responses no complete scan needs) in {a.out}")
    else:
        n = snapshot_writer.write(acct, a.out)
        print(f"gen_account: snapshot of {n} resources in {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
