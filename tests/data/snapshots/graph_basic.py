import os, sys; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapgen import *

ADMIN = doc(allow("*", "*"))
fn = f"arn:aws:lambda:{R}:{A}:function:api"
app_role = f"arn:aws:iam::{A}:role/app-role"
resources = [
    account_res(scps=[
        {"id": "p-full", "name": "FullAWSAccess", "arn": "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
         "target": "r-root", "document": ADMIN},
        {"id": "p-full", "name": "FullAWSAccess", "arn": "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
         "target": "ou-apps", "document": ADMIN},
        {"id": "p-nodelete", "name": "DenyQueueDeletion", "arn": "arn:aws:organizations::444455556666:policy/o-1/service_control_policy/p-nodelete",
         "target": "ou-apps", "document": doc(deny("sqs:DeleteQueue"))},
    ], org={"id": "o-1", "arn": "arn:aws:organizations::444455556666:organization/o-1", "master_account_id": "444455556666"}),
    role("app-role", trust_service("lambda.amazonaws.com"), [inline("app", doc(
        allow("s3:GetObject", "arn:aws:s3:::data-bucket/*", "ReadData"),
        allow(["sqs:SendMessage", "sqs:DeleteQueue"], f"arn:aws:sqs:{R}:{A}:jobs", "Queue"),
        allow("sqs:DeleteQueue", f"arn:aws:sqs:{R}:{A}:audit", "DeleteAudit"),
        allow(["s3:ListAllMyBuckets", "s3:ListBucket"], "*", "ListAll"),
        allow("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:{R}:{A}:secret:db-*", "DbSecrets"),
        deny("s3:GetObject", "arn:aws:s3:::data-bucket/private/*", "NotPrivate"),
    ))]),
    res(fn, "aws:lambda:function", "api", {"runtime": "python3.12", "role": app_role, "vpc": None,
        "environment_variable_names": ["TABLE"], "layers": [], "url": None, "package_type": "Zip"},
        {"resource": None}, [("executes-as", app_role)]),
    res(f"arn:aws:apigateway:{R}::/restapis/a1", "aws:apigateway:restapi", "shop",
        {"endpoint_types": ["REGIONAL"], "vpc_endpoint_ids": [], "disable_execute_api_endpoint": False,
         "api_key_source": "HEADER", "stages": ["prod"]}, {"resource": None}, account=None),
    res(f"arn:aws:execute-api:{R}:{A}:a1/prod/GET/items", "aws:apigateway:method", "GET /items",
        {"api_id": "a1", "stage": "prod", "http_method": "GET", "path": "/items", "authorization_type": "NONE",
         "authorizer": None, "api_key_required": False, "integration": {"type": "AWS_PROXY", "uri": fn, "http_method": "POST"}},
        {}, [("integrates-with", fn), ("member-of", f"arn:aws:apigateway:{R}::/restapis/a1")]),
    bucket("data-bucket"),
    bucket("logs-bucket", policy=unknown("s3", "GetBucketPolicy", "arn:aws:s3:::logs-bucket")),
    res(f"arn:aws:sqs:{R}:{A}:jobs", "aws:sqs:queue", "jobs", {"url": "https://sqs/jobs", "kms_master_key_id": None,
        "sqs_managed_sse": True, "redrive_policy": None}, {"resource": None}),
    res(f"arn:aws:sqs:{R}:{A}:audit", "aws:sqs:queue", "audit", {"url": "https://sqs/audit", "kms_master_key_id": None,
        "sqs_managed_sse": True, "redrive_policy": None}, {"resource": None}),
    res(f"arn:aws:secretsmanager:{R}:{A}:secret:db-password-AbCdEf", "aws:secretsmanager:secret", "db-password",
        {"kms_key_id": None, "rotation_enabled": False}, {"resource": None}),
    res(f"arn:aws:secretsmanager:{R}:{A}:secret:other-XyZ123", "aws:secretsmanager:secret", "other",
        {"kms_key_id": None, "rotation_enabled": False}, {"resource": None}),
    role("admin-role", trust_aws(f"arn:aws:iam::{A}:root"), [managed("arn:aws:iam::aws:policy/AdministratorAccess", ADMIN)]),
    user("alice", [inline("alice", doc(allow("sts:AssumeRole", f"arn:aws:iam::{A}:role/admin-role", "AssumeAdmin"),
                                       allow("sqs:*", "*", "AllQueues")))],
         keys=[("AKIAEXAMPLEALICE0001", "Active"), ("AKIAEXAMPLEALICE0002", "Inactive")],
         boundary=doc(allow(["sts:AssumeRole", "s3:*"], "*"))),
    role("broken-role", trust_aws(f"arn:aws:iam::{A}:root"),
         unknown("iam", "GetAccountAuthorizationDetails")),
    role("web-role", trust_service("ec2.amazonaws.com"), []),
    res(f"arn:aws:iam::{A}:instance-profile/web-profile", "aws:iam:instance-profile", "web-profile",
        {"roles": [f"arn:aws:iam::{A}:role/web-role"]}, {}, [("has-identity", f"arn:aws:iam::{A}:role/web-role")], region="global"),
    res(f"arn:aws:ec2:{R}:{A}:instance/i-0abc", "aws:ec2:instance", "web",
        {"state": "running", "public_ip": "203.0.113.10", "private_ip": "10.0.0.5",
         "instance_profile": f"arn:aws:iam::{A}:instance-profile/web-profile",
         "metadata_options": {"http_tokens": "required", "http_endpoint": "enabled", "http_put_response_hop_limit": 1},
         "security_group_ids": ["sg-0web"], "subnet_id": "subnet-1", "vpc_id": "vpc-1"}, {},
        [("has-identity", f"arn:aws:iam::{A}:instance-profile/web-profile")]),
    res(f"arn:aws:ec2:{R}:{A}:security-group/sg-0web", "aws:ec2:security-group", "web",
        {"group_name": "web", "vpc_id": "vpc-1", "ingress": [
            {"ip_protocol": "tcp", "from_port": 22, "to_port": 22, "ipv4_ranges": ["0.0.0.0/0"], "ipv6_ranges": [],
             "source_groups": [], "prefix_lists": []},
            {"ip_protocol": "tcp", "from_port": 5432, "to_port": 5432, "ipv4_ranges": ["10.0.0.0/8"], "ipv6_ranges": [],
             "source_groups": [], "prefix_lists": []}]}),
]
errors = [error_of(unknown("s3", "GetBucketPolicy", "arn:aws:s3:::logs-bucket")),
          error_of(unknown("iam", "GetAccountAuthorizationDetails"))]
write(sys.argv[1], resources, errors)
