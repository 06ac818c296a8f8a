"""The synthetic account (bench/account_spec.py) written directly as a tmscan.snapshot/1 file.

The resources, attributes, policies and links follow docs/snapshot.md, type by type, so the analysis
phase can be measured at sizes (100,000 resources) no benchmark scan needs to produce. The file is
written the way tmscan writes snapshots: two-space indentation, keys sorted, resources sorted by id,
a final newline; no timestamps.
"""

import json

import account_spec

D = account_spec.D
A = D.ACCOUNT


def _res(rid, rtype, region, name, attrs=None, policies=None, links=None):
    return {"id": rid, "type": rtype, "account": A, "region": region, "name": name, "attrs": attrs or {},
            "policies": policies or {}, "links": sorted(links or [], key=lambda x: (x["kind"], x["to"]))}


def _link(kind, to):
    return {"kind": kind, "to": to}


def _identity(entity, acct):
    docs = []
    for name, doc in sorted((entity.get("inline") or {}).items()):
        docs.append({"kind": "inline", "name": name, "document": doc})
    for ref in sorted(entity.get("managed") or [], key=lambda r: r[0].lower()):
        name, kind = ref
        if kind == "aws":
            doc = D.AWS_MANAGED[name]["doc"]
        else:
            doc = acct.customer_managed[name]["versions"][-1]
        docs.append({"kind": "managed", "name": name, "arn": D.managed_arn(ref), "document": doc})
    return docs


def _ingress(rule):
    return {"ip_protocol": rule["proto"], "from_port": rule["port"], "to_port": rule["to_port"],
            "ipv4_ranges": [c for c, _ in rule["cidrs"]], "ipv6_ranges": [c for c, _ in rule["cidrs6"]],
            "source_groups": [{"group_id": g, "user_id": A} for g in rule["groups"]], "prefix_lists": []}


def resources(acct):
    account_spec.install(acct)
    out = []
    add = out.append

    add(_res(f"arn:aws:iam::{A}:root", "aws:account", "global", A, {
        "alias": D.ALIAS, "s3_public_access_block": dict(D.ACCOUNT_BPA),
        "organization": {"id": D.ORG_ID, "arn": f"arn:aws:organizations::{D.ORG_MGMT}:organization/{D.ORG_ID}",
                         "master_account_id": D.ORG_MGMT, "accounts": sorted(a[0] for a in D.ORG_ACCOUNTS)},
        "enabled_regions": sorted(D.STANDARD_REGIONS)},
        {"scps": sorted(({"id": p["id"], "name": p["name"], "arn": p["arn"], "target": t,
                          "document": json.loads(p["content"])} for t, ps in D.SCP_TARGETS.items() for p in ps),
                        key=lambda x: (x["target"], x["id"])), "rcps": []}))
    add(_res(D.OIDC_GITHUB, "aws:iam:oidc-provider", "global", "token.actions.githubusercontent.com", {
        "url": "token.actions.githubusercontent.com", "client_ids": ["sts.amazonaws.com"],
        "thumbprints": ["6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"]}))
    add(_res(D.SAML_OKTA, "aws:iam:saml-provider", "global", "okta", {"valid_until": "2119-06-11T09:00:00Z"}))

    # IAM
    for u in acct.users:
        arn = D.user_arn(u["name"], u["path"])
        pols = _identity(u, acct)
        for gname in u["groups"]:
            g = next(x for x in acct.groups if x["name"] == gname)
            for d in _identity(g, acct):
                d = dict(d, kind="group-" + d["kind"], group=gname)
                pols.append(d)
        add(_res(arn, "aws:iam:user", "global", u["name"], {
            "user_id": D.unique_id("AIDA", "user", u["name"]), "path": u["path"], "groups": list(u["groups"]),
            "permissions_boundary_arn": None,
            "access_keys": [{"access_key_id": k["id"], "status": k["status"], "create_date": k["created"],
                             "last_used_date": k["last_used"], "last_used_service": k["service"],
                             "last_used_region": k["region"]} for k in sorted(u.get("keys", []), key=lambda k: k["id"])]},
            {"identity": pols, "boundary": None},
            [_link("member-of", f"arn:aws:iam::{A}:group/{g}") for g in u["groups"]]))
    for g in acct.groups:
        add(_res(f"arn:aws:iam::{A}:group/{g['name']}", "aws:iam:group", "global", g["name"], {
            "group_id": D.unique_id("AGPA", "group", g["name"]), "path": "/"}, {"identity": _identity(g, acct)}))
    for r in acct.roles:
        path = r.get("path", "/")
        arn = D.role_arn(r["name"], path)
        profiles = [f"arn:aws:iam::{A}:instance-profile/{r['profile']}"] if r.get("profile") else []
        add(_res(arn, "aws:iam:role", "global", r["name"], {
            "role_id": D.unique_id("AROA", "role", r["name"]), "path": path,
            "max_session_duration": r.get("max_session", 3600),
            "last_used": {"date": r["last_used"][0], "region": r["last_used"][1]} if r.get("last_used") else None,
            "instance_profiles": profiles, "permissions_boundary_arn": None,
            "service_linked": path.startswith("/aws-service-role/")},
            {"trust": r["trust"], "identity": _identity(r, acct), "boundary": None}))
        for p in profiles:
            add(_res(p, "aws:iam:instance-profile", "global", r["profile"], {"roles": [arn]}, {},
                     [_link("has-identity", arn)]))

    # S3
    for b in acct.buckets:
        arn = f"arn:aws:s3:::{b['name']}"
        grants = [{"grantee": {"type": "CanonicalUser", "id": D.S3_OWNER_ID, "display_name": D.S3_OWNER_NAME,
                               "email": None, "uri": None}, "permission": "FULL_CONTROL"}]
        for uri, perm in b.get("acl", []):
            grants.append({"grantee": {"type": "Group", "uri": uri, "id": None, "display_name": None, "email": None},
                           "permission": perm})
        aps = [f"arn:aws:s3:{a['region']}:{A}:accesspoint/{a['name']}" for a in acct.access_points
               if a["bucket"] == b["name"]]
        add(_res(arn, "aws:s3:bucket", b["region"], b["name"], {
            "public_access_block": dict(b["bpa"]) if b.get("bpa") else None,
            "policy_status": {"is_public": b.get("policy_public", False)} if b.get("policy") else None,
            "acl": {"owner": {"id": D.S3_OWNER_ID, "display_name": D.S3_OWNER_NAME}, "grants": grants},
            "ownership_controls": b.get("ownership"),
            "website": {"index_document": b["website"][0], "error_document": b["website"][1],
                        "redirect_all_requests_to": None, "routing_rules": 0} if b.get("website") else None,
            "access_points": aps}, {"resource": b.get("policy")}))
    for a in acct.access_points:
        arn = f"arn:aws:s3:{a['region']}:{A}:accesspoint/{a['name']}"
        add(_res(arn, "aws:s3:access-point", a["region"], a["name"], {
            "bucket": a["bucket"], "bucket_account_id": A, "network_origin": a["origin"],
            "vpc_id": a["vpc"] if a["origin"] == "VPC" else None,
            "public_access_block": dict(a.get("bpa", D.ACCESS_POINT_BPA))}, {"resource": a["policy"]},
            [_link("member-of", f"arn:aws:s3:::{a['bucket']}")]))

    # Lambda
    for f in acct.functions:
        arn = D.fn_arn(f["region"], f["name"])
        url = None
        if f.get("url"):
            cors = f["url"]["cors"]
            url = {"auth_type": f["url"]["auth"], "function_url": f"https://{f['url']['id']}.lambda-url."
                                                                  f"{f['region']}.on.aws/",
                   "cors": {"allow_credentials": False, "allow_headers": [], "allow_methods": cors["AllowMethods"],
                            "allow_origins": cors["AllowOrigins"], "expose_headers": [], "max_age": cors["MaxAge"]}
                   if cors else None}
        vpc = None
        if f.get("vpc"):
            subnets, sgs, vid = f["vpc"]
            vpc = {"vpc_id": vid, "subnet_ids": subnets, "security_group_ids": sgs}
        add(_res(arn, "aws:lambda:function", f["region"], f["name"], {
            "runtime": f["runtime"], "role": f["role"], "vpc": vpc,
            "environment_variable_names": sorted(f.get("env", {})), "layers": [], "url": url,
            "package_type": "Zip", "aliases": [al["name"] for al in f.get("aliases", [])]},
            {"resource": f["policy"](arn) if f["policy"] else None},
            [_link("executes-as", f["role"])] + [_link("triggered-by", m["source"]) for m in acct.event_source_mappings
                                                 if m["region"] == f["region"] and m["function"] == f["name"]]))
        for al in f.get("aliases", []):
            aarn = f"{arn}:{al['name']}"
            add(_res(aarn, "aws:lambda:alias", f["region"], f"{f['name']}:{al['name']}", {
                "function": arn, "function_version": al["version"], "url": None},
                {"resource": al["policy"](aarn) if al.get("policy") else None}))
    for m in acct.event_source_mappings:
        arn = f"arn:aws:lambda:{m['region']}:{A}:event-source-mapping:{m['uuid']}"
        fn = D.fn_arn(m["region"], m["function"])
        add(_res(arn, "aws:lambda:event-source-mapping", m["region"], m["uuid"], {
            "event_source_arn": m["source"], "function_arn": fn, "state": "Enabled"}))

    # API Gateway
    for a in acct.rest_apis:
        region = a["region"]
        api_arn = f"arn:aws:apigateway:{region}::/restapis/{a['id']}"
        stages = [s["stageName"] for s in a["stages"]]
        add(_res(api_arn, "aws:apigateway:restapi", region, a["name"], {
            "endpoint_types": a["endpoint"], "vpc_endpoint_ids": a.get("vpce") or [],
            "disable_execute_api_endpoint": False, "api_key_source": "HEADER", "stages": stages},
            {"resource": a["policy"]}))
        auths = {x["id"]: x for x in a["authorizers"]}
        for s in a["stages"]:
            add(_res(f"{api_arn}/stages/{s['stageName']}", "aws:apigateway:stage", region, s["stageName"], {
                "deployment_id": s["deploymentId"], "client_certificate_id": None, "web_acl_arn": None,
                "usage_plans": []}, {},
                [_link("member-of", api_arn)]))
            for r in a["resources"]:
                for verb, m in sorted(r["methods"].items()):
                    integ = m["methodIntegration"]
                    rid = f"arn:aws:execute-api:{region}:{A}:{a['id']}/{s['stageName']}/{verb}/{r['path'][1:]}"
                    links = [_link("member-of", api_arn)]
                    if ":lambda:path/" in integ.get("uri", ""):
                        links.append(_link("integrates-with", integ["uri"].split("/functions/")[1].split("/")[0]))
                    au = auths.get(m.get("authorizerId"))
                    add(_res(rid, "aws:apigateway:method", region, f"{verb} {r['path']}", {
                        "api_id": a["id"], "stage": s["stageName"], "http_method": verb, "path": r["path"],
                        "authorization_type": m["authorizationType"],
                        "authorizer": {"id": au["id"], "type": au["type"], "name": au["name"], "authorizer_uri": None,
                                       "identity_source": au["identitySource"], "provider_arns": au["providerARNs"]}
                        if au else None,
                        "api_key_required": m["apiKeyRequired"],
                        "integration": {"type": integ["type"], "uri": integ.get("uri"),
                                        "http_method": integ.get("httpMethod"),
                                        "connection_type": integ.get("connectionType"), "credentials": None}},
                        {}, links))
    for a in acct.http_apis:
        region = a["region"]
        api_arn = f"arn:aws:apigateway:{region}::/apis/{a['id']}"
        add(_res(api_arn, "aws:apigatewayv2:api", region, a["name"], {
            "protocol_type": "HTTP", "api_endpoint": f"https://{a['id']}.execute-api.{region}.amazonaws.com",
            "disable_execute_api_endpoint": False, "stages": [s["stageName"] for s in a["stages"]], "cors": None}))
        integ = a["integrations"][0] if a["integrations"] else None
        jwt = a["authorizers"][0]
        for s in a["stages"]:
            for r in a["routes"]:
                verb, path = r["routeKey"].split(" ", 1)
                rid = f"arn:aws:execute-api:{region}:{A}:{a['id']}/{s['stageName']}/{verb}/{path[1:]}"
                links = [_link("member-of", api_arn)]
                if integ:
                    links.append(_link("integrates-with", integ["integrationUri"]))
                add(_res(rid, "aws:apigatewayv2:route", region, r["routeKey"], {
                    "api_id": a["id"], "stage": s["stageName"], "route_key": r["routeKey"],
                    "authorization_type": r["authorizationType"],
                    "authorizer": {"id": jwt["authorizerId"], "type": "JWT", "name": jwt["name"],
                                   "issuer": jwt["jwtConfiguration"]["issuer"],
                                   "audience": jwt["jwtConfiguration"]["audience"], "authorizer_uri": None,
                                   "identity_source": jwt["identitySource"]}
                    if r["authorizationType"] == "JWT" else None,
                    "api_key_required": False,
                    "integration": {"type": integ["integrationType"], "uri": integ["integrationUri"],
                                    "http_method": integ["integrationMethod"], "connection_type": integ["connectionType"],
                                    "credentials_arn": None} if integ else None}, {}, links))

    # SQS, SNS
    for q in acct.queues:
        arn = D.queue_arn(q["region"], q["name"])
        add(_res(arn, "aws:sqs:queue", q["region"], q["name"], {
            "url": D.queue_url(q["region"], q["name"]), "kms_master_key_id": q.get("kms"),
            "sqs_managed_sse": bool(q.get("sse")) and not q.get("kms"), "redrive_policy": None},
            {"resource": q["policy"]}))
    for t in acct.topics:
        arn = D.topic_arn(t["region"], t["name"])
        subs = sorted((x for x in acct.subscriptions if x["region"] == t["region"] and x["topic"] == t["name"]),
                      key=D.subscription_arn)
        add(_res(arn, "aws:sns:topic", t["region"], t["name"], {
            "kms_master_key_id": t.get("kms"), "subscriptions": [{"protocol": x["protocol"], "endpoint": x["endpoint"],
                               "subscription_arn": D.subscription_arn(x)} for x in subs]},
            {"resource": t["policy"]},
            [_link("delivers-to", x["endpoint"]) for x in subs if x["protocol"] in ("sqs", "lambda")]))

    # EC2
    for region in sorted(D.STANDARD_REGIONS):
        # Regions the account does not use still have their default VPC's default group.
        for g in acct.security_groups.get(region, [D.default_sg_spec(region)]):
            add(_res(f"arn:aws:ec2:{region}:{A}:security-group/{g['id']}", "aws:ec2:security-group", region,
                     g["name"], {"group_name": g["name"], "vpc_id": g["vpc"],
                                 "ingress": [_ingress(r) for r in g["ingress"]]}))
    for i in acct.instances:
        region = i["region"]
        arn = f"arn:aws:ec2:{region}:{A}:instance/{i['id']}"
        sg_ids = [acct.sg_ids[n] for n in i["sgs"]]
        prof = f"arn:aws:iam::{A}:instance-profile/{i['profile']}" if i.get("profile") else None
        public = i["public_ip"] if i["state"] == "running" else None
        links = [_link("protected-by", f"arn:aws:ec2:{region}:{A}:security-group/{s}") for s in sg_ids]
        if prof:
            links.append(_link("has-identity", prof))
        add(_res(arn, "aws:ec2:instance", region, i["name"], {
            "state": i["state"], "public_ip": public, "private_ip": i["private_ip"], "instance_profile": prof,
            "metadata_options": {"http_tokens": i["http_tokens"], "http_endpoint": "enabled",
                                 "http_put_response_hop_limit": 1 if i["http_tokens"] == "optional" else 2},
            "security_group_ids": sg_ids, "subnet_id": i["subnet"], "vpc_id": i["vpc"]}, {}, links))
        add(_res(f"arn:aws:ec2:{region}:{A}:network-interface/{i['eni']}", "aws:ec2:network-interface", region,
                 i["eni"], {"public_ip": public, "public_ips": [public] if public else [], "private_ip": i["private_ip"],
                            "interface_type": "interface", "instance_id": i["id"], "security_group_ids": sg_ids,
                            "description": "", "requester_id": None, "requester_managed": False}, {},
                 [_link("attached-to", arn)] + [_link("protected-by", f"arn:aws:ec2:{region}:{A}:security-group/{s}")
                                                for s in sg_ids]))
    for e in acct.service_enis:
        region = e["region"]
        sg_ids = [acct.sg_ids[n] for n in e["sgs"]]
        add(_res(f"arn:aws:ec2:{region}:{A}:network-interface/{e['id']}", "aws:ec2:network-interface", region,
                 e["id"], {"public_ip": e["public_ip"], "public_ips": [e["public_ip"]] if e["public_ip"] else [],
                           "private_ip": e["private_ip"], "interface_type": e["type"], "instance_id": None,
                           "security_group_ids": sg_ids, "description": e["description"],
                           "requester_id": e["requester"], "requester_managed": bool(e["requester"]) or
                           e["type"] in ("lambda", "vpc_endpoint")}, {},
                 [_link("protected-by", f"arn:aws:ec2:{region}:{A}:security-group/{s}") for s in sg_ids]))
    for x in acct.snapshots:
        perms = [{"group": "all"} if v == "all" else {"user_id": v} for v in x["shared"]]
        add(_res(f"arn:aws:ec2:{x['region']}::snapshot/{x['id']}", "aws:ec2:snapshot", x["region"], x["id"], {
            "encrypted": x["encrypted"], "volume_id": x["volume"], "create_volume_permissions": perms}))
    for m in acct.images:
        add(_res(f"arn:aws:ec2:{m['region']}::image/{m['id']}", "aws:ec2:image", m["region"], m["name"], {
            "public": m["public"], "launch_permissions": [{"group": "all"}] if m["public"] else []}))

    # RDS
    for d in acct.db_instances:
        region = d["region"]
        sg = acct.sg_ids[d["sg"]]
        add(_res(f"arn:aws:rds:{region}:{A}:db:{d['id']}", "aws:rds:db", region, d["id"], {
            "publicly_accessible": d["public"], "endpoint": D.rds_host(d["id"], region), "port": 5432,
            "engine": d["engine"], "security_group_ids": [sg], "storage_encrypted": d["encrypted"],
            "iam_database_authentication": False}, {},
            [_link("protected-by", f"arn:aws:ec2:{region}:{A}:security-group/{sg}")]))
    for x in acct.db_snapshots:
        add(_res(f"arn:aws:rds:{x['region']}:{A}:snapshot:{x['id']}", "aws:rds:snapshot", x["region"], x["id"], {
            "encrypted": next(d for d in acct.db_instances if d["id"] == x["db"])["encrypted"],
            "restore": list(x["restore"])}))

    # KMS, Secrets Manager, ECR
    for k in acct.keys:
        add(_res(D.key_arn(k["region"], k["id"]), "aws:kms:key", k["region"], k["id"], {
            "key_manager": k.get("manager", "CUSTOMER"), "key_state": "Enabled", "key_usage": "ENCRYPT_DECRYPT",
            "aliases": [f"alias/{k['alias']}"], "enabled": True, "key_spec": "SYMMETRIC_DEFAULT", "origin": "AWS_KMS"}, {"resource": k["policy"]}))
    for x in acct.secrets:
        arn = D.secret_arn(x["region"], x["name"])
        kms = None
        if x["kms"]:
            kms = D.key_arn(x["region"], next(k["id"] for k in acct.keys
                                              if k["alias"] == x["kms"] and k["region"] == x["region"]))
        add(_res(arn, "aws:secretsmanager:secret", x["region"], x["name"], {
            "kms_key_id": kms, "rotation_enabled": False, "owning_service": None, "rotation_lambda_arn": None}, {"resource": x["policy"]}))
    for r in acct.repositories:
        add(_res(f"arn:aws:ecr:{r['region']}:{A}:repository/{r['name']}", "aws:ecr:repository", r["region"],
                 r["name"], {"repository_uri": f"{A}.dkr.ecr.{r['region']}.amazonaws.com/{r['name']}",
                             "image_tag_mutability": "MUTABLE", "scan_on_push": True}, {"resource": r["policy"]}))
    out.sort(key=lambda r: r["id"])
    for a, b in zip(out, out[1:]):
        if a["id"] == b["id"]:
            raise SystemExit(f"snapshot: resource id {a['id']} generated twice")
    return out


def document(acct):
    res = resources(acct)
    services = ["apigateway", "apigatewayv2", "ec2", "ecr", "iam", "kms", "lambda", "organizations", "rds", "s3",
                "secretsmanager", "sns", "sqs"]
    return {"schema": "tmscan.snapshot/1", "tool": {"name": "tmscan", "version": "0.1.0"},
            "scope": {"provider": "aws", "accounts": [A], "regions": sorted(D.STANDARD_REGIONS), "services": services,
                      "caller": {"account": A, "arn": f"arn:aws:sts::{A}:assumed-role/tmscan-audit/tmscan",
                                 "user_id": D.unique_id("AROA", "role", "tmscan-audit") + ":tmscan"}},
            "resources": res, "errors": []}


def write(acct, path):
    doc = document(acct)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, sort_keys=True, ensure_ascii=False)
        f.write("\n")
    return len(doc["resources"])
