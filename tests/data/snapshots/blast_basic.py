"""tests/data/snapshots/blast-basic.json: the account the blast-radius and query tests walk by hand.

    /usr/bin/python3 tests/data/snapshots/blast_basic.py tests/data/snapshots/blast-basic.json

Paths planted (the expected answers are written out in tests/unit/test_blast.c and test_query.c):
- internet -> GET /orders (no authorisation) -> function orders-api -> role orders-role -> bucket
  orders-data, secret stripe-key, key orders-key;
- access key AKIAEXAMPLEDEPLOY001 -> user deployer -> role automation (trusts the account) -> administrator,
  by iam:CreatePolicyVersion on the customer managed policy attached to automation;
- role analytics: s3:* on "*" reaches every bucket through one set, except vault-bucket, which an SCP denies;
- bucket mystery-bucket: its policy could not be read;
- user intern: s3:GetObject and s3:PutObject on logs-bucket objects, capped by a boundary that allows reading only;
- account 999999999999: reads partner-share through its bucket policy, assumes partner-role, which sends to the
  jobs queue, which triggers function worker, which runs as worker-role, which writes orders-data;
- role reader: only receives from the jobs queue (reading a queue does not run its consumer);
- role ci: only iam:PassRole on every role (handing a role over is not becoming it);
- role office: reads logs-bucket only from the office network (a conditional grant).
"""
import os, sys; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapgen import *

ADMIN = doc(allow("*", "*"))
X = "999999999999"
fn_orders = f"arn:aws:lambda:{R}:{A}:function:orders-api"
fn_worker = f"arn:aws:lambda:{R}:{A}:function:worker"
orders_role = f"arn:aws:iam::{A}:role/orders-role"
worker_role = f"arn:aws:iam::{A}:role/worker-role"
jobs = f"arn:aws:sqs:{R}:{A}:jobs"
stripe = f"arn:aws:secretsmanager:{R}:{A}:secret:stripe-key-AbCdEf"
key = f"arn:aws:kms:{R}:{A}:key/0a1b2c3d-0000-4000-8000-000000000001"
auto_policy = f"arn:aws:iam::{A}:policy/automation-policy"
api = f"arn:aws:apigateway:{R}::/restapis/a1"


def function(arn, name, role_arn):
    return res(arn, "aws:lambda:function", name, {"runtime": "python3.12", "role": role_arn, "vpc": None,
               "environment_variable_names": [], "layers": [], "url": None, "package_type": "Zip"},
               {"resource": None}, [("executes-as", role_arn)])


resources = [
    account_res(scps=[
        {"id": "p-full", "name": "FullAWSAccess", "arn": "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
         "target": "r-root", "document": ADMIN},
        {"id": "p-full", "name": "FullAWSAccess", "arn": "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
         "target": "ou-apps", "document": ADMIN},
        {"id": "p-vault", "name": "ProtectVault", "arn": "arn:aws:organizations::444455556666:policy/o-1/service_control_policy/p-vault",
         "target": "ou-apps", "document": doc(deny("s3:*", ["arn:aws:s3:::vault-bucket", "arn:aws:s3:::vault-bucket/*"], "NoVault"))},
    ], org={"id": "o-1", "arn": "arn:aws:organizations::444455556666:organization/o-1", "master_account_id": "444455556666",
            "accounts": ["444455556666", A]}),

    # internet -> method -> function -> role -> data
    res(api, "aws:apigateway:restapi", "shop", {"endpoint_types": ["REGIONAL"], "vpc_endpoint_ids": [],
        "disable_execute_api_endpoint": False, "api_key_source": "HEADER", "stages": ["prod"]}, {"resource": None}, account=None),
    res(f"arn:aws:execute-api:{R}:{A}:a1/prod/GET/orders", "aws:apigateway:method", "GET /orders",
        {"api_id": "a1", "stage": "prod", "http_method": "GET", "path": "/orders", "authorization_type": "NONE",
         "authorizer": None, "api_key_required": False, "integration": {"type": "AWS_PROXY", "uri": fn_orders, "http_method": "POST"}},
        {}, [("integrates-with", fn_orders), ("member-of", api)]),
    function(fn_orders, "orders-api", orders_role),
    role("orders-role", trust_service("lambda.amazonaws.com"), [inline("orders", doc(
        allow("s3:GetObject", "arn:aws:s3:::orders-data/*", "ReadOrders"),
        allow("secretsmanager:GetSecretValue", stripe, "StripeKey"),
        allow("kms:Decrypt", key, "DecryptOrders"),
    ))]),
    bucket("orders-data"),
    res(stripe, "aws:secretsmanager:secret", "stripe-key", {"kms_key_id": key, "rotation_enabled": False}, {"resource": None}),
    res(key, "aws:kms:key", "orders-key", {"key_manager": "CUSTOMER", "key_state": "Enabled", "aliases": ["alias/orders"]},
        {"resource": doc({"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
                          "Action": "kms:*", "Resource": "*"})}),

    # access key -> user -> role -> administrator
    user("deployer", [inline("deploy", doc(allow("sts:AssumeRole", f"arn:aws:iam::{A}:role/automation", "AssumeAutomation")))],
         keys=[("AKIAEXAMPLEDEPLOY001", "Active"), ("AKIAEXAMPLEDEPLOY002", "Inactive")]),
    role("automation", trust_aws(f"arn:aws:iam::{A}:root"), [managed(auto_policy, doc(
        allow(["iam:CreatePolicyVersion", "iam:GetPolicy", "iam:GetPolicyVersion"], auto_policy, "ManageOwnPolicy")))]),
    res(auto_policy, "aws:iam:policy", "automation-policy", {"default_version_id": "v1", "attachment_count": 1,
        "path": "/"}, {}, region="global"),

    # s3:* on * through a set; the SCP cuts vault-bucket out
    role("analytics", trust_service("ec2.amazonaws.com"), [inline("all-s3", doc(allow("s3:*", "*", "AllS3")))]),
    bucket("logs-bucket"),
    bucket("vault-bucket"),
    bucket("mystery-bucket", policy=unknown("s3", "GetBucketPolicy", "arn:aws:s3:::mystery-bucket")),

    # a boundary caps a grant
    user("intern", [inline("intern", doc(allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::logs-bucket/*", "LogsRW")))],
         boundary=doc(allow("s3:GetObject", "*", "ReadOnly"))),

    # cross-account: a bucket policy and a trust policy name account 999999999999
    bucket("partner-share", policy=doc({"Sid": "PartnerRead", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{X}:root"},
                                        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::partner-share/*"})),
    role("partner-role", trust_aws(f"arn:aws:iam::{X}:root"), [inline("send-jobs", doc(allow("sqs:SendMessage", jobs, "SendJobs")))]),
    res(jobs, "aws:sqs:queue", "jobs", {"url": "https://sqs.eu-west-1.amazonaws.com/111122223333/jobs",
        "kms_master_key_id": None, "sqs_managed_sse": True, "redrive_policy": None}, {"resource": None}),
    res(f"arn:aws:lambda:{R}:{A}:event-source-mapping:5f1e0000-0000-4000-8000-000000000001", "aws:lambda:event-source-mapping",
        "5f1e0000-0000-4000-8000-000000000001", {"event_source_arn": jobs, "function_arn": fn_worker, "state": "Enabled"}, {}),
    function(fn_worker, "worker", worker_role),
    role("worker-role", trust_service("lambda.amazonaws.com"), [inline("write-orders", doc(
        allow("s3:PutObject", "arn:aws:s3:::orders-data/*", "WriteOrders")))]),

    # reading a queue does not run its consumer; passing a role is not becoming it
    role("reader", trust_service("ec2.amazonaws.com"), [inline("receive", doc(allow("sqs:ReceiveMessage", jobs, "Receive")))]),
    role("ci", trust_service("ec2.amazonaws.com"), [inline("pass", doc(allow("iam:PassRole", "*", "PassAny")))]),
    role("office", trust_service("ec2.amazonaws.com"), [inline("office-read", doc(allow(
        "s3:GetObject", "arn:aws:s3:::logs-bucket/*", "FromOffice",
        Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})))]),
]
errors = [error_of(unknown("s3", "GetBucketPolicy", "arn:aws:s3:::mystery-bucket"))]
write(sys.argv[1], resources, errors)
