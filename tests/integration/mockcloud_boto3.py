"""Calls mockcloud through a real AWS SDK (Debian's boto3): the SDK signs with SigV4, mockcloud verifies
the signature against fixtures/aws/mocktest/scenario.json and answers from the fixtures. The SDK's own
parsers then read the answers, which proves them wire-accurate.

usage: /usr/bin/python3 mockcloud_boto3.py PORT
"""
import sys
import urllib.error
import urllib.request

import boto3
import botocore.config
from botocore.exceptions import ClientError

PORT = int(sys.argv[1])
URL = "http://127.0.0.1:%d" % PORT
KEY = "AKIAMOCKTEST00000001"
SECRET = "mocktest/secret/key/00000000000000000001"
CFG = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"},
                             s3={"addressing_style": "path"})


def client(service, key=KEY, secret=SECRET, token=None, region="us-east-1"):
    return boto3.client(service, endpoint_url=URL, region_name=region, aws_access_key_id=key,
                        aws_secret_access_key=secret, aws_session_token=token, config=CFG)


def check(cond, what):
    if not cond:
        print("FAIL: " + what)
        sys.exit(1)
    print("ok: " + what)


def error_code(fn):
    try:
        fn()
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, 200


who = client("sts").get_caller_identity()
check(who["Account"] == "111122223333" and who["Arn"].endswith(":user/mocktest"), "sts GetCallerIdentity (query)")

roles = [r["RoleName"] for p in client("iam").get_paginator("list_roles").paginate() for r in p["Roles"]]
check(roles == ["mocktest-lambda", "mocktest-web"], "iam ListRoles over two pages (Marker): %s" % roles)

keys = [k["KeyId"] for p in client("kms").get_paginator("list_keys").paginate() for k in p["Keys"]]
check(len(keys) == 2, "kms ListKeys over two pages (JSON body Marker)")

s3 = client("s3")
names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
check(names == ["mocktest-logs", "mocktest-public"], "s3 ListBuckets (rest-xml)")
pol = s3.get_bucket_policy(Bucket="mocktest-public")["Policy"]
check('"Principal":"*"' in pol, "s3 GetBucketPolicy ?policy")
check(error_code(lambda: s3.get_bucket_policy(Bucket="mocktest-logs"))[0] == "NoSuchBucketPolicy",
      "s3 NoSuchBucketPolicy fixture")

fns = client("lambda").list_functions()["Functions"]
check(fns[0]["FunctionName"] == "mocktest-fn", "lambda ListFunctions (rest-json)")

res = client("ec2").describe_instances()["Reservations"]
check(res[0]["Instances"][0]["InstanceId"] == "i-0mocktest0000001", "ec2 DescribeInstances (ec2)")

check(error_code(lambda: client("sts", secret="wrong-secret").get_caller_identity()) ==
      ("SignatureDoesNotMatch", 403), "wrong secret: SignatureDoesNotMatch 403")
check(error_code(lambda: client("sts", key="AKIANOTINSCENARIO001").get_caller_identity()) ==
      ("InvalidClientTokenId", 403), "unknown key: InvalidClientTokenId 403")
check(error_code(lambda: client("s3", key="AKIANOTINSCENARIO001").list_buckets()) == ("InvalidAccessKeyId", 403),
      "s3 unknown key: InvalidAccessKeyId 403")
check(error_code(lambda: client("s3", secret="wrong-secret").list_buckets()) == ("SignatureDoesNotMatch", 403),
      "s3 wrong secret: SignatureDoesNotMatch 403")
check(error_code(lambda: client("kms", secret="wrong-secret").list_keys())[0] == "InvalidSignatureException",
      "kms wrong secret: InvalidSignatureException")

web = boto3.client("sts", endpoint_url=URL, region_name="us-east-1", config=CFG,
                   aws_access_key_id="", aws_secret_access_key="")
cred = web.assume_role_with_web_identity(RoleArn="arn:aws:iam::111122223333:role/mocktest-web",
                                         RoleSessionName="session", WebIdentityToken="eyJ.mocktest.jwt")["Credentials"]
check(cred["AccessKeyId"] == "ASIAMOCKTEST00000001", "sts AssumeRoleWithWebIdentity (unsigned)")
who = client("sts", key=cred["AccessKeyId"], secret=cred["SecretAccessKey"],
             token=cred["SessionToken"]).get_caller_identity()
check(who["Arn"].endswith("assumed-role/mocktest-web/session"), "session credentials: access-key match line")
check(error_code(lambda: client("sts", key=cred["AccessKeyId"], secret=cred["SecretAccessKey"],
                                token="not-the-token").get_caller_identity())[0] == "InvalidClientTokenId",
      "wrong session token: InvalidClientTokenId")

s3v4 = boto3.client("s3", endpoint_url=URL, region_name="us-east-1", aws_access_key_id=KEY,
                    aws_secret_access_key=SECRET,
                    config=CFG.merge(botocore.config.Config(signature_version="s3v4")))
url = s3v4.generate_presigned_url("get_bucket_policy", Params={"Bucket": "mocktest-public"}, ExpiresIn=300)
with urllib.request.urlopen(url) as r:
    check(r.status == 200 and b"PublicRead" in r.read(), "s3 presigned URL verifies")

try:
    flipped = url[:-1] + ("0" if url[-1] != "0" else "1")  # X-Amz-Signature comes last
    urllib.request.urlopen(flipped)
    check(False, "tampered presigned URL refused")
except urllib.error.HTTPError as e:
    check(e.code == 403 and b"SignatureDoesNotMatch" in e.read(), "tampered presigned URL: SignatureDoesNotMatch")
print("all ok")
