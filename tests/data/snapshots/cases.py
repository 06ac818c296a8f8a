#!/usr/bin/python3
"""Writes the hand-made snapshots of the analyzers' unit tests (tests/unit/test_exposure.c, test_tokens.c,
test_privesc.c): each resource is one case, named for what it shows. Deterministic.

    /usr/bin/python3 tests/data/snapshots/cases.py
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapgen import *  # noqa: E402,F403

HERE = os.path.dirname(os.path.abspath(__file__))
ORG = {"id": "o-test", "arn": "arn:aws:organizations::444455556666:organization/o-test",
       "master_account_id": "444455556666", "accounts": ["111122223333", "444455556666", "555566667777"]}
PARTNER = "999988887777"
MEMBER = "555566667777"


def sg(id_, rules, region=R):
    return res(f"arn:aws:ec2:{region}:{A}:security-group/{id_}", "aws:ec2:security-group", id_,
               {"group_name": id_, "vpc_id": "vpc-1", "ingress": [
                   {"ip_protocol": "tcp", "from_port": p, "to_port": p, "ipv4_ranges": [{"cidr_ip": c}],
                    "ipv6_ranges": [], "source_groups": [], "prefix_lists": []} for p, c in rules]}, region=region)


def instance(id_, public_ip, sgs, state="running", profile=None, tokens="required", attrs=None):
    a = {"state": state, "public_ip": public_ip, "private_ip": "10.0.0.9",
         "instance_profile": f"arn:aws:iam::{A}:instance-profile/{profile}" if profile else None,
         "metadata_options": {"http_tokens": tokens, "http_endpoint": "enabled", "http_put_response_hop_limit": 1},
         "security_group_ids": sgs, "subnet_id": "subnet-1", "vpc_id": "vpc-1"}
    a.update(attrs or {})
    links = [("has-identity", a["instance_profile"])] if profile else []
    return res(f"arn:aws:ec2:{R}:{A}:instance/{id_}", "aws:ec2:instance", id_, a, {}, links)


def profile(name, role_name):
    role_arn = f"arn:aws:iam::{A}:role/{role_name}"
    return res(f"arn:aws:iam::{A}:instance-profile/{name}", "aws:iam:instance-profile", name, {"roles": [role_arn]},
               {}, [("has-identity", role_arn)], region="global")


def function(name, role_name, policy=None, url=None):
    arn = f"arn:aws:lambda:{R}:{A}:function:{name}"
    role_arn = f"arn:aws:iam::{A}:role/{role_name}"
    return res(arn, "aws:lambda:function", name,
               {"runtime": "python3.12", "role": role_arn, "vpc": None, "environment_variable_names": [],
                "layers": [], "url": url, "package_type": "Zip"}, {"resource": policy}, [("executes-as", role_arn)])


def secret(name):
    return res(f"arn:aws:secretsmanager:{R}:{A}:secret:{name}-AbCdEf", "aws:secretsmanager:secret", name,
               {"kms_key_id": None, "rotation_enabled": False}, {"resource": None})


def queue(name, policy=None):
    return res(f"arn:aws:sqs:{R}:{A}:{name}", "aws:sqs:queue", name,
               {"url": f"https://sqs/{name}", "kms_master_key_id": None, "sqs_managed_sse": True,
                "redrive_policy": None}, {"resource": policy})


def public_read(name, **cond):
    st = {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
          "Resource": f"arn:aws:s3:::{name}/*"}
    if cond:
        st["Condition"] = cond
    return doc(st)


LAMBDA_TRUST = trust_service("lambda.amazonaws.com")
EC2_TRUST = trust_service("ec2.amazonaws.com")
ADMIN = managed("arn:aws:iam::aws:policy/AdministratorAccess", doc(allow("*", "*")))


def exposure_cases():
    unknown_bpa = unknown("s3", "GetPublicAccessBlock", "arn:aws:s3:::bpa-unknown")
    unknown_sg = unknown("ec2", "DescribeSecurityGroups")
    out = [
        account_res(org=ORG),
        # A public policy in force, and its look-alikes.
        bucket("plain-public", public_read("plain-public")),
        bucket("ip-restricted", public_read("ip-restricted", IpAddress={"aws:SourceIp": "203.0.113.0/24"})),
        bucket("bpa-unknown", public_read("bpa-unknown"), pab=unknown_bpa),
        bucket("deny-outside-org", doc(
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::deny-outside-org/*"},
            {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::deny-outside-org/*",
             "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-test"}}})),
        bucket("policy-unknown", unknown("s3", "GetBucketPolicy", "arn:aws:s3:::policy-unknown")),
        bucket("shared-with-member", doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MEMBER}:root"},
                                          "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shared-with-member/*"})),
        bucket("shared-with-partner", doc({"Sid": "Partner", "Effect": "Allow",
                                           "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:root"},
                                           "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shared-with-partner/*"})),
        # Function URLs: NONE with and without the policy statement AWS requires.
        function("url-public", "fn-role", doc({"Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunctionUrl",
                                              "Resource": f"arn:aws:lambda:{R}:{A}:function:url-public",
                                              "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}}),
                 {"auth_type": "NONE", "function_url": "https://u1.lambda-url.eu-west-1.on.aws/", "cors": None}),
        function("url-no-policy", "fn-role", None,
                 {"auth_type": "NONE", "function_url": "https://u2.lambda-url.eu-west-1.on.aws/", "cors": None}),
        role("fn-role", LAMBDA_TRUST, []),
        # Roles assumable from outside, and safe trusts.
        role("trust-partner", trust_aws(f"arn:aws:iam::{PARTNER}:root"), []),
        role("trust-partner-external-id", trust_aws(f"arn:aws:iam::{PARTNER}:root",
                                                    Condition={"StringEquals": {"sts:ExternalId": "x1"}}), []),
        role("trust-member", trust_aws(f"arn:aws:iam::{MEMBER}:root"), []),
        role("trust-anyone", trust_aws("*"), [inline("read", doc(allow("s3:GetObject", "arn:aws:s3:::secret-data/*")))]),
        bucket("secret-data"),
        # Instances: public with a web port only, stopped, unknown security group.
        sg("sg-web", [(443, "0.0.0.0/0")]),
        sg("sg-ssh", [(22, "0.0.0.0/0")]),
        instance("i-web", "203.0.113.5", ["sg-web"]),
        instance("i-stopped", "203.0.113.6", ["sg-ssh"], state="stopped"),
        instance("i-private", None, ["sg-ssh"]),
        instance("i-unknown-sg", "203.0.113.7", ["sg-missing"]),
        # Snapshots shared inside and outside the organization.
        res(f"arn:aws:ec2:{R}::snapshot/snap-member", "aws:ec2:snapshot", "snap-member",
            {"encrypted": True, "volume_id": "vol-1", "create_volume_permissions": [{"user_id": MEMBER}]}, account=None),
        res(f"arn:aws:ec2:{R}::snapshot/snap-partner", "aws:ec2:snapshot", "snap-partner",
            {"encrypted": True, "volume_id": "vol-2", "create_volume_permissions": [{"user_id": PARTNER}]},
            account=None),
        res(f"arn:aws:ec2:{R}::snapshot/snap-unknown", "aws:ec2:snapshot", "snap-unknown",
            {"encrypted": True, "volume_id": "vol-3", "create_volume_permissions": unknown("ec2", "DescribeSnapshotAttribute")},
            account=None),
    ]
    errors = [error_of(unknown_bpa), error_of(unknown_sg),
              error_of(unknown("s3", "GetBucketPolicy", "arn:aws:s3:::policy-unknown")),
              error_of(unknown("ec2", "DescribeSnapshotAttribute"))]
    write(os.path.join(HERE, "exposure-cases.json"), out, errors)
    # Account-level Block Public Access neutralises the same public policy.
    write(os.path.join(HERE, "exposure-account-bpa.json"), [
        account_res(org=ORG, pab={"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                                  "RestrictPublicBuckets": True}),
        bucket("plain-public", public_read("plain-public")),
    ])


def tokens_cases():
    reader = [inline("read", doc(allow("secretsmanager:GetSecretValue",
                                       f"arn:aws:secretsmanager:{R}:{A}:secret:db-*")))]
    out = [
        account_res(org=ORG),
        secret("db"),
        sg("sg-ssh", [(22, "0.0.0.0/0")]),
        role("v1-role", EC2_TRUST, reader), profile("v1-profile", "v1-role"),
        role("v2-role", EC2_TRUST, reader), profile("v2-profile", "v2-role"),
        instance("i-v1", "203.0.113.11", ["sg-ssh"], profile="v1-profile", tokens="optional"),
        instance("i-v2", "203.0.113.12", ["sg-ssh"], profile="v2-profile", tokens="required"),
        # A public queue feeding a function whose role reads a bucket.
        queue("inbox", doc({"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage",
                            "Resource": f"arn:aws:sqs:{R}:{A}:inbox"})),
        function("consumer", "consumer-role"),
        role("consumer-role", LAMBDA_TRUST, [inline("data", doc(allow("s3:GetObject", "arn:aws:s3:::payroll/*")))]),
        bucket("payroll"),
        res(f"arn:aws:lambda:{R}:{A}:event-source-mapping:esm-1", "aws:lambda:event-source-mapping", "esm-1",
            {"event_source_arn": f"arn:aws:sqs:{R}:{A}:inbox", "function_arn": f"arn:aws:lambda:{R}:{A}:function:consumer",
             "state": "Enabled"}),
        # A public function whose role's policies are unknown.
        function("mystery", "mystery-role", doc({"Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunctionUrl",
                                                "Resource": f"arn:aws:lambda:{R}:{A}:function:mystery"}),
                 {"auth_type": "NONE", "function_url": "https://m.lambda-url.eu-west-1.on.aws/", "cors": None}),
        role("mystery-role", LAMBDA_TRUST, unknown("iam", "GetAccountAuthorizationDetails")),
        # A public function whose role can read every bucket: the set, not each bucket.
        function("wide", "wide-role", doc({"Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunctionUrl",
                                          "Resource": f"arn:aws:lambda:{R}:{A}:function:wide"}),
                 {"auth_type": "NONE", "function_url": "https://w.lambda-url.eu-west-1.on.aws/", "cors": None}),
        role("wide-role", LAMBDA_TRUST, [inline("all-s3", doc(allow("s3:*", "*")))]),
        # Users: an inactive key, and an active key reaching nothing that matters.
        user("old-key", [inline("read", doc(allow("s3:GetObject", "arn:aws:s3:::payroll/*")))],
             keys=[("AKIAOLDKEY0000000001", "Inactive")]),
        user("harmless", [inline("logs", doc(allow("logs:PutLogEvents", "*")))], keys=[("AKIAHARMLESS00000001", "Active")]),
    ] + [bucket(f"bulk-{i:02d}") for i in range(10)]
    write(os.path.join(HERE, "tokens-cases.json"), out, [error_of(unknown("iam", "GetAccountAuthorizationDetails"))])


def privesc_cases():
    admin_user_arn = f"arn:aws:iam::{A}:user/admin-user"
    out = [
        account_res(org=ORG),
        user("admin-user", [ADMIN]),
        role("admin-role", trust_aws(f"arn:aws:iam::{A}:root"), [ADMIN]),
        role("admin-lambda-role", LAMBDA_TRUST, [ADMIN]),
        role("admin-ec2-role", EC2_TRUST, [ADMIN]),
        function("admin-fn", "admin-lambda-role"),
        user("key-maker", [inline("keys", doc(allow("iam:CreateAccessKey", admin_user_arn)))]),
        user("self-attacher", [inline("attach", doc(allow("iam:AttachUserPolicy", f"arn:aws:iam::{A}:user/self-attacher")))]),
        role("bounded", trust_aws(f"arn:aws:iam::{A}:root"),
             [inline("self", doc(allow("iam:PutRolePolicy", f"arn:aws:iam::{A}:role/bounded")))],
             boundary=doc(allow("s3:*", "*"))),
        user("code-pusher", [inline("code", doc(allow("lambda:UpdateFunctionCode",
                                                      f"arn:aws:lambda:{R}:{A}:function:admin-fn")))]),
        user("assumer", [inline("assume", doc(allow("sts:AssumeRole", f"arn:aws:iam::{A}:role/admin-role")))]),
        # PassRole scoped to EC2 by iam:PassedToService: only the EC2 technique works.
        role("ec2-passer", trust_aws(f"arn:aws:iam::{A}:root"), [inline("pass", doc(
            allow("iam:PassRole", "*", Condition={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}),
            allow(["ec2:RunInstances", "lambda:CreateFunction", "lambda:InvokeFunction"], "*")))]),
        role("lambda-passer-denied", trust_aws(f"arn:aws:iam::{A}:root"), [inline("pass", doc(
            allow(["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"], "*"),
            deny("iam:PassRole", f"arn:aws:iam::{A}:role/admin-lambda-role")))]),
    ]
    write(os.path.join(HERE, "privesc-cases.json"), out)


exposure_cases()
tokens_cases()
privesc_cases()
