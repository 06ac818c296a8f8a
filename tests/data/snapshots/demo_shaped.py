#!/usr/bin/python3
"""Writes demo-shaped.json: the demo account (fixtures/aws/demo) as a snapshot, built from the account spec in
scripts/gen_demo_fixtures.py and shaped as docs/snapshot.md says a provider records it.

It lets the analyzers be tested against every planted flaw and safe look-alike of the demo without a scanner.
The integration test tests/integration/demo_findings.sh checks the same expectations against a real scan.

    /usr/bin/python3 tests/data/snapshots/demo_shaped.py [OUT]   (default: next to this file)
"""

import importlib.util
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))

spec = importlib.util.spec_from_file_location("demo", os.path.join(ROOT, "scripts", "gen_demo_fixtures.py"))
D = importlib.util.module_from_spec(spec)
spec.loader.exec_module(D)

A = D.ACCOUNT
resources = []
errors = []


def res(id, type, name, region, attrs, policies=None, links=(), account=A):
    r = {"id": id, "type": type, "name": name, "region": region, "attrs": attrs, "policies": policies or {},
         "links": sorted([{"kind": k, "to": t} for k, t in links], key=lambda l: (l["kind"], l["to"]))}
    if account:
        r["account"] = account
    resources.append(r)
    return r


def failure(service, op, region, resource, code, message):
    e = {"service": service, "operation": op, "region": region, "code": code, "message": message, "attempts": 1,
         "retried": False}
    if resource:
        e["resource"] = resource
    errors.append(e)
    return {"$unknown": dict(e)}


def managed_doc(name, kind):
    if kind == "aws":
        return D.AWS_MANAGED[name]["doc"]
    p = D.CUSTOMER_MANAGED[name]
    default = p.get("default")
    if default is None:
        return p["versions"][-1]
    return p["versions"][int(str(default).lstrip("v")) - 1]


def managed_arn(name, kind):
    if kind == "aws":
        return D.aws_policy_arn(name, D.AWS_MANAGED[name]["path"])
    return D.policy_arn(name, D.CUSTOMER_MANAGED[name].get("path", "/"))


def identity(entries_inline, entries_managed, group=None):
    out = []
    for name, doc in sorted((entries_inline or {}).items()):
        e = {"kind": "group-inline" if group else "inline", "name": name, "document": doc}
        if group:
            e["group"] = group
        out.append(e)
    for name, kind in entries_managed or []:
        e = {"kind": "group-managed" if group else "managed", "name": name, "arn": managed_arn(name, kind),
             "document": managed_doc(name, kind)}
        if group:
            e["group"] = group
        out.append(e)
    return out


# ---- the account and its organization ----

levels = [D.ORG_ROOT, D.ORG_OU, A]
scps = []
for target in levels:
    for p in D.SCP_TARGETS[target]:
        scps.append({"id": p["id"], "name": p["name"], "arn": p["arn"], "target": target,
                     "document": json.loads(p["content"])})
res(f"arn:aws:iam::{A}:root", "aws:account", D.ALIAS, "global",
    {"alias": D.ALIAS, "s3_public_access_block": D.ACCOUNT_BPA,
     "organization": {"id": D.ORG_ID, "arn": f"arn:aws:organizations::{D.ORG_MGMT}:organization/{D.ORG_ID}",
                      "master_account_id": D.ORG_MGMT, "accounts": sorted(a[0] for a in D.ORG_ACCOUNTS)},
     "enabled_regions": sorted(D.STANDARD_REGIONS)},
    {"scps": scps})

# ---- IAM ----

groups = {g["name"]: g for g in D.GROUPS}
for g in D.GROUPS:
    res(f"arn:aws:iam::{A}:group/{g['name']}", "aws:iam:group", g["name"], "global",
        {"group_id": D.unique_id("AGPA", g["name"]), "path": "/"},
        {"identity": identity(g.get("inline"), g.get("managed"))})

for u in D.USERS:
    arn = D.user_arn(u["name"], u["path"])
    ident = identity(u.get("inline"), u.get("managed"))
    for gname in u.get("groups", []):
        g = groups[gname]
        ident += identity(g.get("inline"), g.get("managed"), group=gname)
    keys = [{"access_key_id": k["id"], "status": k["status"], "create_date": k["created"],
             "last_used_date": k.get("last_used"), "last_used_service": k.get("service"),
             "last_used_region": k.get("region")} for k in u.get("keys", [])]
    res(arn, "aws:iam:user", u["name"], "global",
        {"user_id": D.unique_id("AIDA", u["name"]), "path": u["path"], "groups": u.get("groups", []),
         "permissions_boundary_arn": None, "access_keys": keys},
        {"identity": ident, "boundary": None},
        [("member-of", f"arn:aws:iam::{A}:group/{g}") for g in u.get("groups", [])])

for r in D.ROLES:
    path = r.get("path", "/")
    arn = D.role_arn(r["name"], path)
    boundary = r.get("boundary")
    profiles = [f"arn:aws:iam::{A}:instance-profile/{r['profile']}"] if r.get("profile") else []
    res(arn, "aws:iam:role", r["name"], "global",
        {"role_id": D.unique_id("AROA", r["name"]), "path": path, "max_session_duration": 3600,
         "last_used": {"date": r["last_used"][0], "region": r["last_used"][1]} if r.get("last_used") else None,
         "instance_profiles": profiles,
         "permissions_boundary_arn": managed_arn(boundary, "customer") if boundary else None,
         "service_linked": path.startswith("/aws-service-role/")},
        {"trust": r["trust"], "identity": identity(r.get("inline"), r.get("managed")),
         "boundary": managed_doc(boundary, "customer") if boundary else None})
    for prof in profiles:
        res(prof, "aws:iam:instance-profile", r["profile"], "global", {"roles": [arn]}, {}, [("has-identity", arn)])

res(D.OIDC_GITHUB, "aws:iam:oidc-provider", "token.actions.githubusercontent.com", "global",
    {"url": "https://token.actions.githubusercontent.com", "client_ids": ["sts.amazonaws.com"],
     "thumbprints": ["6938fd4d98bab03faadb97b34396831e3780aea1"]})
res(D.SAML_OKTA, "aws:iam:saml-provider", "okta", "global", {"valid_until": "2030-01-01T00:00:00Z"})

# ---- S3 ----

for b in D.BUCKETS:
    arn = D.bucket_arn(b["name"])
    grants = [{"grantee": {"type": "CanonicalUser", "id": D.S3_OWNER_ID, "display_name": D.S3_OWNER_NAME},
               "permission": "FULL_CONTROL"}]
    for uri, perm in b.get("acl", []):
        grants.append({"grantee": {"type": "Group", "uri": uri}, "permission": perm})
    policy = b.get("policy")
    if policy == "AccessDenied":
        policy = failure("s3", "GetBucketPolicy", b["region"], arn, "AccessDenied", "Access Denied")
    aps = [f"arn:aws:s3:{ap['region']}:{A}:accesspoint/{ap['name']}" for ap in D.ACCESS_POINTS
           if ap["bucket"] == b["name"]]
    res(arn, "aws:s3:bucket", b["name"], b["region"],
        {"public_access_block": b.get("bpa"),
         "policy_status": {"is_public": b["policy_public"]} if "policy_public" in b else None,
         "acl": {"owner": {"id": D.S3_OWNER_ID, "display_name": D.S3_OWNER_NAME}, "grants": grants},
         "ownership_controls": b.get("ownership"),
         "website": {"index_document": b["website"][0], "error_document": b["website"][1]} if b.get("website")
         else None,
         "access_points": aps},
        {"resource": policy})

for ap in D.ACCESS_POINTS:
    arn = f"arn:aws:s3:{ap['region']}:{A}:accesspoint/{ap['name']}"
    res(arn, "aws:s3:access-point", ap["name"], ap["region"],
        {"bucket": ap["bucket"], "network_origin": ap["origin"], "vpc_id": ap.get("vpc"),
         "public_access_block": D.BPA_ALL},
        {"resource": ap.get("policy")}, [("member-of", D.bucket_arn(ap["bucket"]))])

# ---- Lambda ----

for f in D.FUNCTIONS:
    arn = D.fn_arn(f["region"], f["name"])
    url = None
    if f.get("url"):
        u = f["url"]
        url = {"auth_type": u["auth"], "function_url": f"https://{u['id']}.lambda-url.{f['region']}.on.aws/",
               "cors": u.get("cors")}
    vpc = None
    if f.get("vpc"):
        vpc = {"subnet_ids": f["vpc"][0], "security_group_ids": f["vpc"][1], "vpc_id": f["vpc"][2]}
    links = [("executes-as", f["role"])]
    for m in D.EVENT_SOURCE_MAPPINGS:
        if m["function"] == f["name"] and m["region"] == f["region"]:
            links.append(("triggered-by", m["source"]))
    res(arn, "aws:lambda:function", f["name"], f["region"],
        {"runtime": f["runtime"], "role": f["role"], "vpc": vpc,
         "environment_variable_names": sorted(f.get("env", {})), "layers": [l[0] for l in f.get("layers", [])],
         "url": url, "package_type": "Zip"},
        {"resource": f["policy"](arn) if f.get("policy") else None}, links)
    for al in f.get("aliases", []):
        aarn = f"{arn}:{al['name']}"
        res(aarn, "aws:lambda:alias", f"{f['name']}:{al['name']}", f["region"],
            {"function": arn, "function_version": al["version"], "url": None},
            {"resource": al["policy"](aarn) if al.get("policy") else None},
            [("executes-as", f["role"])])

for m in D.EVENT_SOURCE_MAPPINGS:
    arn = f"arn:aws:lambda:{m['region']}:{A}:event-source-mapping:{m['uuid']}"
    res(arn, "aws:lambda:event-source-mapping", m["uuid"], m["region"],
        {"event_source_arn": m["source"], "function_arn": D.fn_arn(m["region"], m["function"]), "state": "Enabled"})

# ---- API Gateway ----

for api in D.REST_APIS:
    r = api["region"]
    api_arn = f"arn:aws:apigateway:{r}::/restapis/{api['id']}"
    stages = [s["stageName"] for s in api["stages"]]
    res(api_arn, "aws:apigateway:restapi", api["name"], r,
        {"endpoint_types": api["endpoint"], "vpc_endpoint_ids": api.get("vpce", []),
         "disable_execute_api_endpoint": False, "api_key_source": "HEADER", "stages": stages},
        {"resource": api.get("policy")}, account=None)
    authorizers = {a["id"]: a for a in api["authorizers"]}
    for st in api["stages"]:
        res(f"{api_arn}/stages/{st['stageName']}", "aws:apigateway:stage", st["stageName"], r,
            {"deployment_id": st["deploymentId"], "client_certificate_id": None, "web_acl_arn": st.get("webAclArn")},
            {}, [("member-of", api_arn)], account=None)
        for rs in api["resources"]:
            for verb, m in sorted(rs["methods"].items()):
                arn = f"arn:aws:execute-api:{r}:{A}:{api['id']}/{st['stageName']}/{verb}/{rs['path'].lstrip('/')}"
                integ = m["methodIntegration"]
                links = [("member-of", api_arn)]
                if "/functions/" in integ.get("uri", ""):
                    links.append(("integrates-with", integ["uri"].split("/functions/")[1].split("/invocations")[0]))
                az = authorizers.get(m.get("authorizerId"))
                res(arn, "aws:apigateway:method", f"{verb} {rs['path']}", r,
                    {"api_id": api["id"], "stage": st["stageName"], "http_method": verb, "path": rs["path"],
                     "authorization_type": m["authorizationType"],
                     "authorizer": {"id": az["id"], "type": az["type"], "name": az["name"]} if az else None,
                     "api_key_required": m["apiKeyRequired"],
                     "integration": {"type": integ["type"], "uri": integ.get("uri"),
                                     "http_method": integ.get("httpMethod")}},
                    {}, links)

for api in D.HTTP_APIS:
    r = api["region"]
    api_arn = f"arn:aws:apigateway:{r}::/apis/{api['id']}"
    res(api_arn, "aws:apigatewayv2:api", api["name"], r,
        {"protocol_type": "HTTP", "api_endpoint": f"https://{api['id']}.execute-api.{r}.amazonaws.com",
         "disable_execute_api_endpoint": False, "stages": [s["stageName"] for s in api["stages"]]},
        {}, account=None)
    integrations = {i["integrationId"]: i for i in api["integrations"]}
    authorizers = {a["authorizerId"]: a for a in api["authorizers"]}
    for st in api["stages"]:
        for route in api["routes"]:
            verb, path = route["routeKey"].split(" ", 1)
            arn = f"arn:aws:execute-api:{r}:{A}:{api['id']}/{st['stageName']}/{verb}/{path.lstrip('/')}"
            integ = integrations[route["target"].split("/")[1]]
            az = authorizers.get(route.get("authorizerId"))
            res(arn, "aws:apigatewayv2:route", route["routeKey"], r,
                {"api_id": api["id"], "stage": st["stageName"], "route_key": route["routeKey"],
                 "authorization_type": route["authorizationType"],
                 "authorizer": {"id": az["authorizerId"], "type": az["authorizerType"],
                                "issuer": az["jwtConfiguration"]["issuer"],
                                "audience": az["jwtConfiguration"]["audience"]} if az else None,
                 "api_key_required": route["apiKeyRequired"],
                 "integration": {"type": integ["integrationType"], "uri": integ["integrationUri"],
                                 "http_method": integ["integrationMethod"]}},
                {}, [("member-of", api_arn), ("integrates-with", integ["integrationUri"])])

# ---- SQS, SNS ----

for q in D.QUEUES:
    arn = D.queue_arn(q["region"], q["name"])
    res(arn, "aws:sqs:queue", q["name"], q["region"],
        {"url": f"https://sqs.{q['region']}.amazonaws.com/{A}/{q['name']}", "kms_master_key_id": q.get("kms"),
         "sqs_managed_sse": bool(q.get("sse")), "redrive_policy": None},
        {"resource": q.get("policy")})

for t in D.TOPICS:
    arn = D.topic_arn(t["region"], t["name"])
    subs = [s for s in D.SUBSCRIPTIONS if s["topic"] == t["name"] and s["region"] == t["region"]]
    res(arn, "aws:sns:topic", t["name"], t["region"],
        {"subscriptions": [{"protocol": s["protocol"], "endpoint": s["endpoint"],
                            "subscription_arn": f"{arn}:{D.hexid(8, s['endpoint'])}"} for s in subs]},
        {"resource": t.get("policy")},
        [("delivers-to", s["endpoint"]) for s in subs if s["protocol"] in ("sqs", "lambda")])

# ---- EC2 ----

sg_arn = {}
for region, groups_ in D.SECURITY_GROUPS.items():
    for sg in groups_:
        arn = f"arn:aws:ec2:{region}:{A}:security-group/{sg['id']}"
        sg_arn[(region, sg["name"], sg["vpc"])] = arn
        sg_arn[(region, sg["id"])] = arn
        ingress = []
        for rule in sg["ingress"]:
            ingress.append({"ip_protocol": rule["proto"], "from_port": rule["port"], "to_port": rule["to_port"],
                            "ipv4_ranges": [{"cidr_ip": c, "description": d} for c, d in rule["cidrs"]],
                            "ipv6_ranges": [{"cidr_ipv6": c, "description": d} for c, d in rule["cidrs6"]],
                            "source_groups": [{"group_id": g} for g in rule["groups"]], "prefix_lists": []})
        res(arn, "aws:ec2:security-group", sg["name"], region,
            {"group_name": sg["name"], "vpc_id": sg["vpc"], "ingress": ingress})

for i in D.INSTANCES:
    arn = f"arn:aws:ec2:{i['region']}:{A}:instance/{i['id']}"
    sgs = [D.SG[n] for n in i["sgs"]]
    prof = f"arn:aws:iam::{A}:instance-profile/{i['profile']}" if i["profile"] else None
    links = [("protected-by", f"arn:aws:ec2:{i['region']}:{A}:security-group/{s}") for s in sgs]
    if prof:
        links.append(("has-identity", prof))
    res(arn, "aws:ec2:instance", i["name"], i["region"],
        {"state": i["state"], "public_ip": i["public_ip"], "private_ip": i["private_ip"], "instance_profile": prof,
         "metadata_options": {"http_tokens": i["http_tokens"], "http_endpoint": "enabled",
                              "http_put_response_hop_limit": 1 if i["http_tokens"] == "required" else 2},
         "security_group_ids": sgs, "subnet_id": i["subnet"], "vpc_id": i["vpc"]}, {}, links)
    eni = f"arn:aws:ec2:{i['region']}:{A}:network-interface/{i['eni']}"
    res(eni, "aws:ec2:network-interface", i["eni"], i["region"],
        {"public_ip": i["public_ip"], "private_ip": i["private_ip"], "interface_type": "interface",
         "instance_id": i["id"], "security_group_ids": sgs, "description": "Primary network interface"},
        {}, [("attached-to", arn)] + [("protected-by", f"arn:aws:ec2:{i['region']}:{A}:security-group/{s}")
                                      for s in sgs])

for e in D.SERVICE_ENIS:
    arn = f"arn:aws:ec2:{e['region']}:{A}:network-interface/{e['id']}"
    sgs = [D.SG[n] for n in e["sgs"]]
    res(arn, "aws:ec2:network-interface", e["id"], e["region"],
        {"public_ip": e["public_ip"], "private_ip": e["private_ip"], "interface_type": e["type"],
         "instance_id": None, "security_group_ids": sgs, "description": e["description"],
         "requester_id": e.get("requester")},
        {}, [("protected-by", f"arn:aws:ec2:{e['region']}:{A}:security-group/{s}") for s in sgs])


def permissions(shared):
    return [{"group": "all"} if s == "all" else {"user_id": s} for s in shared]


for s in D.SNAPSHOTS:
    res(f"arn:aws:ec2:{s['region']}::snapshot/{s['id']}", "aws:ec2:snapshot", s["id"], s["region"],
        {"encrypted": s["encrypted"], "volume_id": s["volume"], "create_volume_permissions": permissions(s["shared"])})

for im in D.IMAGES:
    res(f"arn:aws:ec2:{im['region']}::image/{im['id']}", "aws:ec2:image", im["id"], im["region"],
        {"public": im["public"], "launch_permissions": permissions(["all"] if im["public"] else [])})

# ---- RDS ----

for db in D.DB_INSTANCES:
    arn = f"arn:aws:rds:{db['region']}:{A}:db:{db['id']}"
    sgs = [D.SG[db["sg"]]]
    res(arn, "aws:rds:db", db["id"], db["region"],
        {"publicly_accessible": db["public"], "endpoint": f"{db['id']}.c9akciq32rlm.{db['region']}.rds.amazonaws.com",
         "port": 5432, "engine": db["engine"], "security_group_ids": sgs, "storage_encrypted": db["encrypted"],
         "iam_database_authentication": False},
        {}, [("protected-by", f"arn:aws:ec2:{db['region']}:{A}:security-group/{s}") for s in sgs])

for s in D.DB_SNAPSHOTS:
    res(f"arn:aws:rds:{s['region']}:{A}:snapshot:{s['id']}", "aws:rds:snapshot", s["id"], s["region"],
        {"encrypted": False, "restore": s["restore"]})
for s in D.CLUSTER_SNAPSHOTS:
    res(f"arn:aws:rds:{s['region']}:{A}:cluster-snapshot:{s['id']}", "aws:rds:cluster-snapshot", s["id"],
        s["region"], {"encrypted": False, "restore": s["restore"]})

# ---- KMS, Secrets Manager, ECR ----

for k in D.KEYS:
    arn = D.key_arn(k["region"], k["id"])
    if k.get("denied"):
        attrs = failure("kms", "DescribeKey", k["region"], arn, "AccessDeniedException",
                        "User is not authorized to perform: kms:DescribeKey")
        pol = failure("kms", "GetKeyPolicy", k["region"], arn, "AccessDeniedException",
                      "User is not authorized to perform: kms:GetKeyPolicy")
        res(arn, "aws:kms:key", k["id"], k["region"], {"key_manager": attrs, "key_state": attrs}, {"resource": pol})
        continue
    res(arn, "aws:kms:key", k["id"], k["region"],
        {"key_manager": k.get("manager", "CUSTOMER"), "key_state": "Enabled", "key_usage": "ENCRYPT_DECRYPT",
         "aliases": [f"alias/{k['alias']}"]},
        {"resource": k["policy"]})

for s in D.SECRETS:
    arn = f"{D.secret_arn(s['region'], s['name'])}"
    res(arn, "aws:secretsmanager:secret", s["name"], s["region"],
        {"kms_key_id": s.get("kms"), "rotation_enabled": False}, {"resource": s.get("policy")})

for rp in D.REPOSITORIES:
    arn = f"arn:aws:ecr:{rp['region']}:{A}:repository/{rp['name']}"
    res(arn, "aws:ecr:repository", rp["name"], rp["region"],
        {"repository_uri": f"{A}.dkr.ecr.{rp['region']}.amazonaws.com/{rp['name']}",
         "image_tag_mutability": "MUTABLE", "scan_on_push": False},
        {"resource": rp.get("policy")})

snap = {
    "schema": "tmscan.snapshot/1",
    "tool": {"name": "tmscan", "version": "0.1.0"},
    "scope": {"provider": "aws", "accounts": [A], "regions": sorted(D.STANDARD_REGIONS),
              "services": ["apigateway", "ec2", "ecr", "iam", "kms", "lambda", "organizations", "rds", "s3",
                           "secretsmanager", "sns", "sqs", "sts"],
              "caller": {"account": A, "arn": f"arn:aws:sts::{A}:assumed-role/tmscan-audit/tmscan",
                         "user_id": D.unique_id("AROA", "tmscan-audit") + ":tmscan"}},
    "resources": sorted(resources, key=lambda r: r["id"]),
    "errors": sorted(errors, key=lambda e: (e["service"], e["operation"], e.get("resource", ""))),
}
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "demo-shaped.json")
with open(out, "w") as fh:
    json.dump(snap, fh, indent=1, sort_keys=True)
    fh.write("\n")
