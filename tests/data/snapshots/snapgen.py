"""Helpers to write hand-made test snapshots (the JSON is what gets committed)."""
import json

A = "111122223333"
R = "eu-west-1"

def doc(*stmts, version="2012-10-17"):
    return {"Version": version, "Statement": list(stmts)}

def allow(actions, resources="*", sid=None, **kw):
    s = {"Effect": "Allow", "Action": actions, "Resource": resources}
    if sid: s = {"Sid": sid, **s}
    s.update(kw)
    return s

def deny(actions, resources="*", sid=None, **kw):
    s = allow(actions, resources, sid, **kw)
    s["Effect"] = "Deny"
    return s

def res(id, type, name, attrs=None, policies=None, links=None, account=A, region=R):
    r = {"id": id, "type": type, "name": name, "account": account, "region": region,
         "attrs": attrs or {}, "policies": policies or {}, "links": [{"kind": k, "to": t} for k, t in (links or [])]}
    if account is None: del r["account"]
    return r

def unknown(service, op, resource=None, code="AccessDenied"):
    e = {"service": service, "operation": op, "region": R, "code": code, "message": "Access Denied",
         "attempts": 1, "retried": False}
    if resource: e["resource"] = resource
    return {"$unknown": e}

def error_of(u):
    return dict(u["$unknown"])

def role(name, trust, identity=(), boundary=None, path="/", account=A, attrs=None):
    arn = f"arn:aws:iam::{account}:role{path}{name}"
    a = {"role_id": "AROA" + name.upper()[:12], "path": path, "max_session_duration": 3600, "last_used": None,
         "instance_profiles": [], "permissions_boundary_arn": None, "service_linked": path.startswith("/aws-service-role/")}
    a.update(attrs or {})
    p = {"trust": trust, "identity": list(identity) if not isinstance(identity, dict) else identity, "boundary": boundary}
    return res(arn, "aws:iam:role", name, a, p, region="global", account=account)

def user(name, identity=(), keys=(), groups=(), boundary=None, account=A):
    arn = f"arn:aws:iam::{account}:user/{name}"
    a = {"user_id": "AIDA" + name.upper()[:12], "path": "/", "groups": list(groups), "permissions_boundary_arn": None,
         "access_keys": [dict(access_key_id=k, status=s, create_date="2020-01-01T00:00:00Z", last_used_date=None,
                              last_used_service=None, last_used_region=None) for k, s in keys]}
    if boundary is not None:
        a["permissions_boundary_arn"] = f"arn:aws:iam::{account}:policy/boundary"
    return res(arn, "aws:iam:user", name, a, {"identity": list(identity), "boundary": boundary}, region="global", account=account)

def inline(name, d):
    return {"kind": "inline", "name": name, "document": d}

def managed(arn, d, kind="managed"):
    return {"kind": kind, "name": arn.rsplit("/", 1)[1], "arn": arn, "document": d}

def trust_service(svc, **kw):
    return doc({"Effect": "Allow", "Principal": {"Service": svc}, "Action": "sts:AssumeRole", **kw})

def trust_aws(principal, action="sts:AssumeRole", **kw):
    return doc({"Effect": "Allow", "Principal": {"AWS": principal}, "Action": action, **kw})

def account_res(scps=None, pab=None, org=None, rcps=None, account=A):
    p = {}
    if scps is not None: p["scps"] = scps
    if rcps is not None: p["rcps"] = rcps
    return res(f"arn:aws:iam::{account}:root", "aws:account", account,
               {"alias": "test", "s3_public_access_block": pab, "organization": org, "enabled_regions": [R]}, p,
               region="global", account=account)

def bucket(name, policy=None, pab=None, acl=None, account=A):
    grants = acl if acl is not None else [{"grantee": {"type": "CanonicalUser", "id": "owner"}, "permission": "FULL_CONTROL"}]
    return res(f"arn:aws:s3:::{name}", "aws:s3:bucket", name,
               {"public_access_block": pab, "policy_status": None,
                "acl": {"owner": {"id": "owner", "display_name": "test"}, "grants": grants},
                "ownership_controls": "BucketOwnerEnforced", "website": None, "access_points": []},
               {"resource": policy}, account=account)

def write(path, resources, errors=(), accounts=(A,), regions=(R,)):
    snap = {"schema": "tmscan.snapshot/1", "tool": {"name": "tmscan", "version": "0.1.0"},
            "scope": {"provider": "aws", "accounts": list(accounts), "regions": list(regions),
                      "services": ["apigateway", "ec2", "iam", "kms", "lambda", "s3", "secretsmanager", "sns", "sqs"]},
            "resources": sorted(resources, key=lambda r: r["id"]), "errors": list(errors)}
    with open(path, "w") as f:
        json.dump(snap, f, indent=1, sort_keys=True)
        f.write("\n")
