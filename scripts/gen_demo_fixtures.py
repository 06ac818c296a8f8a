#!/usr/bin/python3
"""Render the demo account (fixtures/aws/demo) into mockcloud response files.

The account is described once, as data, in the ACCOUNT SPEC section below; the renderers turn it
into one wire-accurate response per API call a scanner makes (fixtures/README.md is the file
format, the botocore models in Debian's python3-botocore are the reference for every name), plus
scenario.json, flaws.json (the planted flaws, safe look-alikes and coverage gaps, for the
analyzers' tests) and README.md (the same list for people).

Deterministic: no clock, no randomness; identifiers that the spec does not fix are derived from
a hash of what they identify. Run it with Debian's interpreter:

    /usr/bin/python3 scripts/gen_demo_fixtures.py [--out DIR]

Without --out it rewrites fixtures/aws/demo in place (removing response files it no longer
produces). tests/integration/fixtures_botocore.sh regenerates into a temporary directory and
fails if the committed fixtures differ.
"""

import base64
import hashlib
import json
import os
import sys
import urllib.parse
import uuid
from xml.sax.saxutils import escape as xml_escape

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# =================================================================================================
# Identity of the scenario
# =================================================================================================

ACCOUNT = "111122223333"
ALIAS = "acme-demo"
HOME_REGIONS = ["us-east-1", "eu-west-1"]

ORG_ID = "o-a1b2c3d4e5"
ORG_ROOT = "r-a1b2"
ORG_OU = "ou-a1b2-f9k3x7q2"
ORG_MGMT = "444455556666"  # the organization's management account
ORG_BACKUP = "555566667777"  # a member account: backups
ORG_LOGS = "666677778888"  # a member account: log archive
EXT_PARTNER = "999988887777"  # outside the organization: a business partner
EXT_VENDOR = "210987654321"  # outside the organization: a monitoring vendor (uses an ExternalId)

# The credentials mockcloud accepts: a session of the tmscan-audit role (SecurityAudit-like).
SCAN_ACCESS_KEY = "ASIAQDEMOTMSCAN00001"
SCAN_SECRET_KEY = "tmscanDemoSecretKey/K7MDENG+bPxRfiCY0001"
SCAN_SESSION_TOKEN = (
    "IQoJb3JpZ2luX2VjEDEaCXVzLWVhc3QtMSJHMEUCIQD6demoTmscanAuditSessionTokenNotARealToken0AiBx"
    "Kf2demoFakeSessionTokenForMockcloudOnlyq7ZWxzZSBpcyBhIGZha2UgdG9rZW4gZm9yIHRlc3Rz"
)

# Every region of the commercial partition, with its opt-in status for this account. Regions
# that need no opt-in are always enabled: an account cannot disable them. None of the opt-in
# regions is opted in, so the enabled regions are exactly the seventeen standard ones.
STANDARD_REGIONS = [
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1",
    "ap-southeast-2", "ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2",
    "eu-west-3", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
]
OPT_IN_REGIONS = [
    "af-south-1", "ap-east-1", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "ca-west-1",
    "eu-central-2", "eu-south-1", "eu-south-2", "il-central-1", "me-central-1", "me-south-1",
]
EMPTY_REGIONS = [r for r in STANDARD_REGIONS if r not in HOME_REGIONS]

S3_OWNER_ID = hashlib.sha256(b"acme-demo canonical user").hexdigest()
S3_OWNER_NAME = "aws-acme-demo"

# =================================================================================================
# Deterministic identifiers
# =================================================================================================


def digest(*parts):
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()


def unique_id(prefix, *parts):
    """An IAM-style unique id (AROA..., AIDA..., ANPA...): prefix and 17 base32 characters."""
    return prefix + base64.b32encode(digest(prefix, *parts)).decode()[:17]


def hexid(n, *parts):
    return digest(*parts).hex()[:n]


def request_id(*parts):
    return str(uuid.UUID(bytes=digest("request", *parts)[:16], version=4))


def token(*parts, n=48):
    """An opaque pagination token, the way services make them (base64 of something private)."""
    return base64.b64encode(digest("token", *parts) + digest("token2", *parts)).decode()[:n]


def s3_request_id(*parts):
    return hexid(16, "s3req", *parts).upper()


def s3_host_id(*parts):
    return base64.b64encode(digest("s3host", *parts) + digest("s3host2", *parts)[:28]).decode()


# =================================================================================================
# Rendering helpers
# =================================================================================================


def el(tag, content=None, **attrs):
    """An XML element: content is text (str/int/bool), a list of elements, or None (empty)."""
    return (tag, attrs, content)


def text_of(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render_xml(node, indent, level=0):
    tag, attrs, content = node
    attr_text = "".join(f' {k.replace("__", ":")}="{xml_escape(v, {chr(34): "&quot;"})}"' for k, v in attrs.items())
    pad = "" if indent is None else "\n" + " " * (indent * level)
    if content is None or (isinstance(content, list) and not content):
        return f"{pad}<{tag}{attr_text}/>"
    if isinstance(content, list):
        inner = "".join(render_xml(c, indent, level + 1) for c in content)
        close = "" if indent is None else "\n" + " " * (indent * level)
        return f"{pad}<{tag}{attr_text}>{inner}{close}</{tag}>"
    return f"{pad}<{tag}{attr_text}>{xml_escape(text_of(content), {chr(34): '&quot;'})}</{tag}>"


def xml_doc(root, indent=None, declaration=None, trailing_newline=False):
    body = render_xml(root, indent)
    if indent is not None:
        body = body.lstrip("\n")
    if declaration:
        body = declaration + ("\n" if indent is not None else "") + body
    return body + ("\n" if trailing_newline else "")


def members(tag, items, item_tag="member"):
    """A query-protocol list: <Tag><member>...</member>...</Tag>."""
    return el(tag, [el(item_tag, i) if not isinstance(i, tuple) else el(item_tag, [i]) for i in items])


def compact(doc):
    return json.dumps(doc, separators=(",", ":"))


def pretty4(doc):
    """A policy as the IAM console saves it: four-space indent."""
    return json.dumps(doc, indent=4)


def jackson(doc, level=0):
    """A policy as Secrets Manager and ECR return it (Jackson's default pretty printer)."""
    pad = "  " * level
    if isinstance(doc, dict):
        if not doc:
            return "{ }"
        items = [f'{pad}  {json.dumps(k)} : {jackson(v, level + 1)}' for k, v in doc.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(doc, list):
        if not doc:
            return "[ ]"
        return "[ " + ", ".join(jackson(v, level) for v in doc) + " ]"
    return json.dumps(doc)


def iam_encode(document_text):
    """IAM returns policy documents URL-encoded (RFC 3986)."""
    return urllib.parse.quote(document_text, safe="")


def apigw_policy(doc):
    """API Gateway returns a REST API's policy with its quotes and slashes backslash-escaped."""
    return compact(doc).replace('"', '\\"').replace("/", "\\/")


# =================================================================================================
# The fixture set being built
# =================================================================================================


class Fixtures:
    def __init__(self):
        self.files = {}

    def add(self, rel, comment, match, body, status=200, content_type=None, headers=()):
        if rel in self.files:
            raise SystemExit(f"gen_demo_fixtures: {rel} produced twice")
        lines = [f"# {c}" for c in ([comment] if isinstance(comment, str) else comment)]
        for key, value in match:
            if value is None:
                continue
            lines.append(f"{key}: {value}")
        lines.append(f"status: {status}")
        if content_type:
            lines.append(f"content-type: {content_type}")
        for name, value in headers:
            lines.append(f"response-header: {name}: {value}")
        self.files[rel] = "\n".join(lines) + "\n\n" + body

    # -- per protocol --------------------------------------------------------------------------

    def query(self, service, ns, region, op, result_children, slug=None, params=(), comment=None,
              indent=2, declaration=None, trailing_newline=True, dirregion=None, extra_match=()):
        """A query-protocol (IAM, STS, SQS, SNS, RDS) success response."""
        rid = request_id(service, region, op, slug, params)
        children = []
        if result_children is not None:
            children.append(el(f"{op}Result", result_children))
        children.append(el("ResponseMetadata", [el("RequestId", rid)]))
        body = xml_doc(el(f"{op}Response", children, xmlns=ns), indent, declaration, trailing_newline)
        match = [("service", service), ("region", region), ("operation", op), ("method", "POST"), ("path", "/")]
        match += list(extra_match)
        match += [("param", p) for p in params]
        rel = f"{service}/{dirregion or region or 'global'}/{op}{'--' + slug if slug else ''}.http"
        self.add(rel, comment or f"{service} {op}", match, body, content_type="text/xml",
                 headers=[("x-amzn-RequestId", rid)])

    def query_error(self, service, ns, region, op, status, code, message, slug, params=(), comment=None):
        rid = request_id(service, region, op, slug, params, code)
        body = xml_doc(el("ErrorResponse", [
            el("Error", [el("Type", "Sender"), el("Code", code), el("Message", message)]),
            el("RequestId", rid)], xmlns=ns), None, None, True)
        match = [("service", service), ("region", region), ("operation", op), ("method", "POST"), ("path", "/")]
        match += [("param", p) for p in params]
        self.add(f"{service}/{region or 'global'}/{op}--{slug}.http", comment or f"{service} {op}: {code}", match, body,
                 status=status, content_type="text/xml", headers=[("x-amzn-RequestId", rid)])

    def ec2(self, region, op, children, slug=None, params=(), comment=None):
        rid = request_id("ec2", region, op, slug, params)
        body = xml_doc(el(f"{op}Response", [el("requestId", rid)] + children,
                          xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"),
                       4, '<?xml version="1.0" encoding="UTF-8"?>', True)
        match = [("service", "ec2"), ("region", region), ("operation", op), ("method", "POST"), ("path", "/")]
        match += [("param", p) for p in params]
        self.add(f"ec2/{region or 'global'}/{op}{'--' + slug if slug else ''}.http", comment or f"ec2 {op}", match, body,
                 content_type="text/xml;charset=UTF-8", headers=[("x-amzn-RequestId", rid)])

    def json(self, service, target_version, region, op, doc, slug=None, params=(), comment=None, status=200):
        rid = request_id(service, region, op, slug, params, status)
        match = [("service", service), ("region", region), ("operation", op), ("method", "POST"), ("path", "/")]
        match += [("param", p) for p in params]
        self.add(f"{service}/{region}/{op}{'--' + slug if slug else ''}.http", comment or f"{service} {op}", match,
                 compact(doc), status=status, content_type=f"application/x-amz-json-{target_version}",
                 headers=[("x-amzn-RequestId", rid)])

    def rest_json(self, service, region, op, method, path, doc, slug=None, params=(), comment=None, status=200,
                  error_type=None, dirname=None):
        rid = request_id(service, region, op, path, params, status)
        match = [("service", service), ("region", region), ("operation", op), ("method", method), ("path", path)]
        match += [("param", p) for p in params]
        headers = [("x-amzn-RequestId", rid)]
        if error_type:
            headers.append(("x-amzn-ErrorType", error_type))
        self.add(f"{dirname or service}/{region}/{op}{'--' + slug if slug else ''}.http", comment or f"{service} {op}",
                 match, compact(doc), status=status, content_type="application/json", headers=headers)

    def s3(self, region, op, path, params, root, slug, comment=None, status=200, headers=(), body_text=None,
           content_type="application/xml", dirregion=None, extra_match=(), top="s3"):
        rid = s3_request_id(op, path, params)
        hid = s3_host_id(op, path, params)
        if body_text is None:
            body_text = xml_doc(root, None, '<?xml version="1.0" encoding="UTF-8"?>', False).replace("?>", "?>\n", 1)
        match = [("service", "s3"), ("region", region), ("operation", op), ("method", "GET"), ("path", path)]
        match += list(extra_match)
        match += [("param", p) for p in params]
        self.add(f"{top}/{dirregion or region or 'global'}/{op}{'--' + slug if slug else ''}.http",
                 comment or f"s3 {op}", match, body_text, status=status, content_type=content_type,
                 headers=[("x-amz-id-2", hid), ("x-amz-request-id", rid)] + list(headers))

    def s3_error(self, region, op, path, params, status, code, message, slug, extra=(), comment=None,
                 dirregion=None, extra_match=(), top="s3"):
        rid = s3_request_id(op, path, params, code)
        hid = s3_host_id(op, path, params, code)
        root = el("Error", [el("Code", code), el("Message", message)] + [el(k, v) for k, v in extra]
                  + [el("RequestId", rid), el("HostId", hid)])
        body = xml_doc(root, None, '<?xml version="1.0" encoding="UTF-8"?>', False).replace("?>", "?>\n", 1)
        match = [("service", "s3"), ("region", region), ("operation", op), ("method", "GET"), ("path", path)]
        match += list(extra_match)
        match += [("param", p) for p in params]
        self.add(f"{top}/{dirregion or region or 'global'}/{op}--{slug}.http", comment or f"s3 {op}: {code}", match,
                 body, status=status, content_type="application/xml",
                 headers=[("x-amz-id-2", hid), ("x-amz-request-id", rid)])

    def write(self, out_dir):
        os.makedirs(out_dir, exist_ok=True)
        keep = set(self.files)
        for dirpath, dirnames, filenames in os.walk(out_dir):
            for name in filenames:
                rel = os.path.relpath(os.path.join(dirpath, name), out_dir)
                if rel.endswith(".http") and rel not in keep:
                    os.remove(os.path.join(dirpath, name))
        for dirpath, dirnames, filenames in sorted(os.walk(out_dir, topdown=False)):
            if dirpath != out_dir and not os.listdir(dirpath):
                os.rmdir(dirpath)
        for rel, content in sorted(self.files.items()):
            path = os.path.join(out_dir, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", newline="\n") as f:
                f.write(content)


IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
SQS_NS = "http://queue.amazonaws.com/doc/2012-11-05/"
SNS_NS = "http://sns.amazonaws.com/doc/2010-03-31/"
RDS_NS = "http://rds.amazonaws.com/doc/2014-10-31/"
S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
S3C_NS = "http://awss3control.amazonaws.com/doc/2018-08-20/"

# =================================================================================================
# ACCOUNT SPEC: policy documents
# =================================================================================================


def P(*statements, version="2012-10-17", pid=None):
    doc = {"Version": version}
    if pid:
        doc["Id"] = pid
    doc["Statement"] = list(statements)
    return doc


def S(effect, action=None, resource=None, sid=None, principal=None, condition=None, not_action=None):
    st = {}
    if sid is not None:
        st["Sid"] = sid
    st["Effect"] = effect
    if principal is not None:
        st["Principal"] = principal
    if action is not None:
        st["Action"] = action
    if not_action is not None:
        st["NotAction"] = not_action
    if resource is not None:
        st["Resource"] = resource
    if condition is not None:
        st["Condition"] = condition
    return st


def role_arn(name, path="/"):
    return f"arn:aws:iam::{ACCOUNT}:role{path}{name}"


def user_arn(name, path="/"):
    return f"arn:aws:iam::{ACCOUNT}:user{path}{name}"


def policy_arn(name, path="/"):
    return f"arn:aws:iam::{ACCOUNT}:policy{path}{name}"


def aws_policy_arn(name, path="/"):
    return f"arn:aws:iam::aws:policy{path}{name}"


def bucket_arn(name):
    return f"arn:aws:s3:::{name}"


def fn_arn(region, name):
    return f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"


def secret_arn(region, name):
    return f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{name}-{SECRET_SUFFIX[name]}"


OIDC_GITHUB = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
SAML_OKTA = f"arn:aws:iam::{ACCOUNT}:saml-provider/okta"

# Secrets Manager appends six random characters to a secret's name in its ARN.
SECRET_SUFFIX = {
    "prod/payments/stripe-api-key": "Xq3vZp",
    "prod/customers-db/credentials": "a8KfR2",
    "shared/partner-api-token": "mT7wQe",
    "shared/org-config": "Lp4sNd",
    "analytics/warehouse-credentials": "c2VhRz",
}

TRUST_LAMBDA = P(S("Allow", "sts:AssumeRole", principal={"Service": "lambda.amazonaws.com"}))
TRUST_EC2 = P(S("Allow", "sts:AssumeRole", principal={"Service": "ec2.amazonaws.com"}))
TRUST_GLUE = P(S("Allow", "sts:AssumeRole", principal={"Service": "glue.amazonaws.com"}))
TRUST_SAML = P(S("Allow", "sts:AssumeRoleWithSAML", principal={"Federated": SAML_OKTA},
                 condition={"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}))

# The AWS managed policies attached in this account, with their default version as AWS publishes it.
AWS_MANAGED = {
    "AdministratorAccess": dict(
        path="/", id="ANPAIWMBCKSKIEE64ZLYK", version="v1", created="2015-02-06T18:39:46Z",
        updated="2015-02-06T18:39:46Z", description="Provides full access to AWS services and resources.",
        doc=P(S("Allow", "*", "*"))),
    "AWSLambdaBasicExecutionRole": dict(
        path="/service-role/", id="ANPAJNCQGXC42545SKXIK", version="v1", created="2015-04-09T15:03:43Z",
        updated="2015-04-09T15:03:43Z", description="Provides write permissions to CloudWatch Logs.",
        doc=P(S("Allow", ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "*"))),
    "AWSLambdaSQSQueueExecutionRole": dict(
        path="/service-role/", id="ANPAJFWJZI6JNND4TSELK", version="v2", created="2016-11-21T20:28:52Z",
        updated="2021-12-03T19:47:38Z",
        description="Provides receive message, delete message, and read attribute access to SQS queues, "
                    "and write permissions to CloudWatch logs.",
        doc=P(S("Allow", ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                          "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "*"))),
    "AWSSupportAccess": dict(
        path="/", id="ANPAJSNKQX2OW67GF4S7E", version="v1", created="2015-02-06T18:41:11Z",
        updated="2015-02-06T18:41:11Z", description="Allow users to access the AWS Support Center.",
        doc=P(S("Allow", ["support:*"], "*"))),
}

# Customer managed policies: name -> versions (oldest first; the last one listed is the default
# unless "default" says otherwise), how the document was written (console: 4-space JSON; IaC: compact).
CUSTOMER_MANAGED = {
    "TmscanReadOnly": dict(
        created="2023-09-04T08:00:00Z", style="compact", description="Read-only calls tmscan makes.",
        versions=[P(S("Allow", [
            "sts:GetCallerIdentity", "iam:GetAccountAuthorizationDetails", "iam:ListAccessKeys",
            "iam:GetAccessKeyLastUsed", "iam:ListRoles", "iam:ListInstanceProfiles", "iam:ListAccountAliases",
            "iam:ListOpenIDConnectProviders",
            "iam:GetOpenIDConnectProvider", "iam:ListSAMLProviders", "s3:ListAllMyBuckets", "s3:GetBucketLocation",
            "s3:GetBucketPolicy", "s3:GetBucketPolicyStatus", "s3:GetBucketAcl", "s3:GetBucketPublicAccessBlock",
            "s3:GetAccountPublicAccessBlock", "s3:GetBucketOwnershipControls", "s3:GetBucketWebsite",
            "s3:ListAccessPoints", "s3:GetAccessPoint", "s3:GetAccessPointPolicy", "lambda:ListFunctions", "lambda:GetPolicy",
            "lambda:GetFunctionUrlConfig", "lambda:ListEventSourceMappings", "lambda:ListAliases", "apigateway:GET",
            "sqs:ListQueues", "sqs:GetQueueAttributes", "sns:ListTopics", "sns:GetTopicAttributes",
            "sns:ListSubscriptions", "ec2:DescribeRegions", "ec2:DescribeInstances", "ec2:DescribeSecurityGroups",
            "ec2:DescribeNetworkInterfaces", "ec2:DescribeSnapshots", "ec2:DescribeSnapshotAttribute",
            "ec2:DescribeImages", "ec2:DescribeImageAttribute", "rds:DescribeDBInstances",
            "rds:DescribeDBSnapshots", "rds:DescribeDBSnapshotAttributes", "rds:DescribeDBClusterSnapshots",
            "rds:DescribeDBClusterSnapshotAttributes", "kms:ListKeys", "kms:ListAliases", "kms:DescribeKey", "kms:GetKeyPolicy",
            "secretsmanager:ListSecrets", "secretsmanager:GetResourcePolicy", "ecr:DescribeRepositories",
            "ecr:GetRepositoryPolicy", "organizations:DescribeOrganization", "organizations:ListAccounts",
            "organizations:ListParents", "organizations:ListPoliciesForTarget", "organizations:DescribePolicy"],
            "*", sid="TmscanReadOnly"))]),
    "DeveloperBaseline": dict(
        created="2021-02-15T10:20:00Z", style="console", description="Read access for every developer.",
        versions=[P(S("Allow", ["lambda:Get*", "lambda:List*", "logs:Describe*", "logs:Get*", "logs:FilterLogEvents",
                                "cloudwatch:GetMetricData"], "*", sid="ReadOnlyObservability"))]),
    "DeveloperAccess": dict(
        created="2021-02-15T10:24:00Z", style="console", description="What the developer role may do.",
        versions=[
            P(S("Allow", ["lambda:CreateFunction", "lambda:InvokeFunction", "lambda:Get*", "lambda:List*"], "*",
                sid="Lambda"),
              S("Allow", "logs:*", "*", sid="Logs")),
            P(S("Allow", ["lambda:CreateFunction", "lambda:InvokeFunction", "lambda:Get*", "lambda:List*"], "*",
                sid="Lambda"),
              S("Allow", "lambda:UpdateFunctionCode", f"arn:aws:lambda:*:{ACCOUNT}:function:dev-*",
                sid="UpdateOwnFunctions"),
              S("Allow", ["iam:PassRole", "iam:GetRole", "iam:ListRoles"], "*", sid="ChooseExecutionRole"),
              S("Allow", "logs:*", "*", sid="Logs")),
        ]),
    "ContractorBoundary": dict(
        created="2022-07-01T12:00:00Z", style="console", description="Permissions boundary for contractors.",
        versions=[P(S("Allow", ["lambda:CreateFunction", "lambda:InvokeFunction", "lambda:Get*", "lambda:List*",
                                "logs:*"], "*", sid="LambdaAndLogsOnly"),
                    S("Allow", "s3:GetObject", "arn:aws:s3:::demo-etl-staging/*", sid="StagingRead"))]),
    "DataEngineerAccess": dict(
        created="2022-03-08T09:00:00Z", style="compact", description="ETL development.",
        versions=[P(
            S("Allow", "iam:PassRole", role_arn("etl-lambda-exec"), sid="PassOnlyTheEtlRoleToLambda",
              condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}),
            S("Allow", ["lambda:CreateFunction", "lambda:InvokeFunction", "lambda:UpdateFunctionCode",
                        "lambda:GetFunction"], f"arn:aws:lambda:*:{ACCOUNT}:function:etl-*", sid="EtlFunctions"),
            S("Allow", ["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::demo-etl-staging/*", sid="StagingObjects"),
            S("Allow", "s3:ListBucket", "arn:aws:s3:::demo-etl-staging", sid="StagingList"),
            S("Allow", "logs:*", "*", sid="Logs"))]),
    "IamPolicyAutomation": dict(
        created="2020-11-02T14:30:00Z", style="compact", description="Rolls out policy updates from CI.",
        versions=[
            P(S("Allow", ["iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions"], "*", sid="Read")),
            P(S("Allow", ["iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions"], "*", sid="Read"),
              S("Allow", ["iam:CreatePolicyVersion", "iam:DeletePolicyVersion"], "*", sid="RollOut")),
        ]),
    "InfraDeployer": dict(
        created="2022-05-19T16:45:00Z", style="compact", description="Static site deployment from GitHub Actions.",
        versions=[P(
            S("Allow", ["s3:PutObject", "s3:DeleteObject", "s3:GetObject"],
              ["arn:aws:s3:::demo-public-assets/*", "arn:aws:s3:::demo-marketing-site/*"], sid="SiteObjects"),
            S("Allow", "s3:ListBucket", ["arn:aws:s3:::demo-public-assets", "arn:aws:s3:::demo-marketing-site"],
              sid="SiteList"),
            S("Allow", "cloudfront:CreateInvalidation", "*", sid="Invalidate"))]),
    "VendorMonitoringRead": dict(
        created="2021-09-13T11:00:00Z", style="console", description="Metrics read access for the vendor.",
        versions=[P(S("Allow", ["cloudwatch:GetMetricData", "cloudwatch:ListMetrics", "ec2:DescribeInstances",
                                "tag:GetResources"], "*", sid="Metrics"))]),
    "OrgConfigRead": dict(
        created="2022-01-10T08:30:00Z", style="compact", description="Shared configuration for the organization.",
        versions=[P(S("Allow", "s3:GetObject", "arn:aws:s3:::demo-org-shared-config/*", sid="Read"))]),
    "AnalyticsDeployer": dict(
        created="2021-06-21T13:15:00Z", style="console", description="Glue development endpoints for analytics.",
        versions=[P(S("Allow", "iam:PassRole", "*", sid="PassGlueRoles"),
                    S("Allow", ["glue:CreateDevEndpoint", "glue:GetDevEndpoint", "glue:GetDevEndpoints",
                                "glue:DeleteDevEndpoint"], "*", sid="DevEndpoints"),
                    S("Allow", "s3:GetObject", "arn:aws:s3:::demo-etl-staging/*", sid="StagingRead"))]),
}

LAMBDA_BASIC = ("AWSLambdaBasicExecutionRole", "aws")

USERS = [
    dict(name="alice", path="/", created="2019-06-11T09:12:44Z", groups=["admins"], tags=[("team", "platform")]),
    dict(name="bob", path="/", created="2021-02-15T10:31:07Z", groups=["developers"], tags=[("team", "orders")]),
    dict(name="ci-deploy", path="/service/", created="2020-02-17T15:02:33Z", groups=[], tags=[("owner", "platform")],
         inline={
             "assume-policy-automation": P(S("Allow", "sts:AssumeRole", role_arn("iam-policy-automation"))),
             "deploy-artifacts": P(S("Allow", ["s3:PutObject", "s3:GetObject"], "arn:aws:s3:::demo-build-artifacts/*"),
                                   S("Allow", "s3:ListBucket", "arn:aws:s3:::demo-build-artifacts")),
         },
         keys=[dict(id="AKIAQDEMOCIDEPLOY001", status="Active", created="2020-02-17T15:04:10Z",
                    last_used="2024-06-09T22:41:00Z", service="sts", region="us-east-1")]),
    dict(name="legacy-backup", path="/service/", created="2018-05-02T07:45:19Z", groups=[],
         tags=[("owner", "data")],
         inline={"backup-read": P(S("Allow", ["s3:GetObject", "s3:ListBucket"],
                                    ["arn:aws:s3:::demo-customer-data", "arn:aws:s3:::demo-customer-data/*"]))},
         keys=[dict(id="AKIAQDEMOLEGACYBKP01", status="Inactive", created="2018-05-02T07:46:02Z",
                    last_used="2022-11-30T03:12:00Z", service="s3", region="us-east-1")]),
]

GROUPS = [
    dict(name="admins", created="2019-06-11T09:10:02Z", managed=[("AdministratorAccess", "aws")]),
    dict(name="developers", created="2021-02-15T10:28:40Z", managed=[("DeveloperBaseline", "customer")],
         inline={"assume-developer": P(S("Allow", "sts:AssumeRole", role_arn("developer")))}),
]

ROLES = [
    dict(name="OrganizationAccountAccessRole", created="2019-06-10T18:02:11Z",
         trust=P(S("Allow", "sts:AssumeRole", principal={"AWS": f"arn:aws:iam::{ORG_MGMT}:root"})),
         managed=[("AdministratorAccess", "aws")], last_used=("2024-05-28T09:14:00Z", "us-east-1")),
    dict(name="tmscan-audit", created="2023-09-04T08:02:00Z",
         trust=P(S("Allow", "sts:AssumeRole", principal={"AWS": f"arn:aws:iam::{ORG_MGMT}:root"})),
         managed=[("TmscanReadOnly", "customer")], last_used=("2024-06-10T06:00:00Z", "us-east-1")),
    dict(name="github-actions-deploy", created="2022-05-19T16:50:00Z",
         trust=P(S("Allow", "sts:AssumeRoleWithWebIdentity", principal={"Federated": OIDC_GITHUB},
                   condition={"StringEquals": {
                       "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                       "token.actions.githubusercontent.com:sub": "repo:acme-corp/storefront:ref:refs/heads/main"}})),
         inline={"deploy-storefront": P(
             S("Allow", "lambda:UpdateFunctionCode", f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:storefront-api"),
             S("Allow", "s3:PutObject", "arn:aws:s3:::demo-public-assets/storefront/*"))},
         last_used=("2024-06-07T13:22:00Z", "eu-west-1")),
    dict(name="github-actions-infra", created="2022-05-19T16:47:00Z",
         trust=P(S("Allow", "sts:AssumeRoleWithWebIdentity", principal={"Federated": OIDC_GITHUB},
                   condition={"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}})),
         managed=[("InfraDeployer", "customer")], last_used=("2024-06-08T17:03:00Z", "us-east-1")),
    dict(name="vendor-monitoring", created="2021-09-13T11:05:00Z",
         trust=P(S("Allow", "sts:AssumeRole", principal={"AWS": f"arn:aws:iam::{EXT_VENDOR}:root"},
                   condition={"StringEquals": {"sts:ExternalId": "acme-demo-7Fq2Lw9x"}})),
         managed=[("VendorMonitoringRead", "customer")], last_used=("2024-06-10T05:55:00Z", "us-east-1")),
    dict(name="partner-data-exchange", created="2020-08-24T10:00:00Z",
         trust=P(S("Allow", "sts:AssumeRole", principal={"AWS": f"arn:aws:iam::{EXT_PARTNER}:root"})),
         inline={"exchange-bucket": P(
             S("Allow", ["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::demo-partner-exchange/*"),
             S("Allow", "s3:ListBucket", "arn:aws:s3:::demo-partner-exchange"))},
         last_used=("2024-06-03T02:18:00Z", "eu-west-1")),
    dict(name="legacy-support-access", created="2018-03-14T12:00:00Z",
         trust=P(S("Allow", "sts:AssumeRole", principal={"AWS": "*"})),
         managed=[("AWSSupportAccess", "aws")],
         inline={"support-diagnostics": P(
             S("Allow", ["ec2:Describe*", "logs:GetLogEvents"], "*"),
             S("Allow", "s3:GetObject", "arn:aws:s3:::demo-customer-data/*"))},
         last_used=("2023-01-19T16:40:00Z", "us-east-1")),
    dict(name="org-readonly-access", created="2022-01-10T08:35:00Z",
         trust=P(S("Allow", "sts:AssumeRole", principal={"AWS": "*"},
                   condition={"StringEquals": {"aws:PrincipalOrgID": ORG_ID}})),
         managed=[("OrgConfigRead", "customer")], last_used=("2024-06-09T11:11:00Z", "eu-west-1")),
    dict(name="developer", created="2021-02-15T10:26:00Z", trust=TRUST_SAML,
         managed=[("DeveloperAccess", "customer")], last_used=("2024-06-10T08:30:00Z", "us-east-1")),
    dict(name="contractor-dev", created="2022-07-01T12:05:00Z", trust=TRUST_SAML,
         managed=[("DeveloperAccess", "customer")], boundary="ContractorBoundary",
         last_used=("2024-06-06T14:02:00Z", "us-east-1")),
    dict(name="data-engineer", created="2022-03-08T09:05:00Z", trust=TRUST_SAML,
         managed=[("DataEngineerAccess", "customer")], last_used=("2024-06-10T07:45:00Z", "eu-west-1")),
    dict(name="analytics-deployer", created="2021-06-21T13:20:00Z", trust=TRUST_SAML,
         managed=[("AnalyticsDeployer", "customer")], last_used=("2024-04-02T10:12:00Z", "eu-west-1")),
    dict(name="iam-policy-automation", created="2020-11-02T14:35:00Z",
         trust=P(S("Allow", "sts:AssumeRole", principal={"AWS": user_arn("ci-deploy", "/service/")})),
         managed=[("IamPolicyAutomation", "customer")], last_used=("2024-06-09T22:41:00Z", "us-east-1")),
    dict(name="ops-automation-role", created="2019-11-20T09:00:00Z", trust=TRUST_LAMBDA, path="/service-role/",
         managed=[("AdministratorAccess", "aws")], last_used=("2024-06-10T03:00:00Z", "us-east-1")),
    dict(name="glue-etl-service", created="2021-06-21T13:25:00Z", trust=TRUST_GLUE, path="/service-role/",
         inline={"etl-data": P(
             S("Allow", "s3:*", ["arn:aws:s3:::demo-customer-data", "arn:aws:s3:::demo-customer-data/*",
                                 "arn:aws:s3:::demo-etl-staging", "arn:aws:s3:::demo-etl-staging/*"]),
             S("Allow", ["glue:*", "logs:*"], "*"))},
         last_used=("2024-03-28T21:00:00Z", "eu-west-1")),
    dict(name="web-instance-role", created="2020-04-07T10:00:00Z", trust=TRUST_EC2, profile="web-instance-profile",
         inline={"web-app-data": P(
             S("Allow", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], "arn:aws:s3:::demo-customer-data/*"),
             S("Allow", "s3:ListBucket", "arn:aws:s3:::demo-customer-data"),
             S("Allow", "secretsmanager:GetSecretValue",
               f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:prod/customers-db/credentials-*"))},
         last_used=("2024-06-10T09:58:00Z", "us-east-1")),
    dict(name="api-instance-role", created="2023-02-20T10:00:00Z", trust=TRUST_EC2, profile="api-instance-profile",
         inline={"api-data": P(
             S("Allow", "s3:GetObject", "arn:aws:s3:::demo-customer-data/*"),
             S("Allow", "secretsmanager:GetSecretValue",
               f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:prod/customers-db/credentials-*"))},
         last_used=("2024-06-10T09:59:00Z", "us-east-1")),
    dict(name="orders-api-lambda-role", created="2021-03-01T12:00:00Z", trust=TRUST_LAMBDA, path="/service-role/",
         managed=[LAMBDA_BASIC],
         inline={"read-stripe-key": P(S("Allow", "secretsmanager:GetSecretValue",
                                        secret_arn("us-east-1", "prod/payments/stripe-api-key")),
                                      S("Allow", ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces",
                                                  "ec2:DeleteNetworkInterface"], "*"))},
         last_used=("2024-06-10T09:59:30Z", "us-east-1")),
    dict(name="legacy-webhook-role", created="2019-08-12T08:00:00Z", trust=TRUST_LAMBDA, path="/service-role/",
         managed=[LAMBDA_BASIC], last_used=("2024-06-10T09:40:00Z", "us-east-1")),
    dict(name="partner-callback-role", created="2020-10-05T08:00:00Z", trust=TRUST_LAMBDA, path="/service-role/",
         managed=[LAMBDA_BASIC], last_used=("2024-06-09T18:20:00Z", "us-east-1")),
    dict(name="internal-reports-role", created="2023-01-16T08:00:00Z", trust=TRUST_LAMBDA, path="/service-role/",
         managed=[LAMBDA_BASIC],
         inline={"read-reports": P(S("Allow", "s3:GetObject", "arn:aws:s3:::demo-finance-reports/*"))},
         last_used=("2024-06-10T07:00:00Z", "us-east-1")),
    dict(name="image-resize-role", created="2021-07-22T08:00:00Z", trust=TRUST_LAMBDA, path="/service-role/",
         managed=[LAMBDA_BASIC],
         inline={"images": P(S("Allow", "s3:GetObject", "arn:aws:s3:::demo-image-uploads/*"),
                             S("Allow", "s3:PutObject", "arn:aws:s3:::demo-public-assets/thumbnails/*"))},
         last_used=("2024-06-10T09:12:00Z", "us-east-1")),
    dict(name="order-events-consumer-role", created="2021-03-01T12:05:00Z", trust=TRUST_LAMBDA,
         path="/service-role/", managed=[LAMBDA_BASIC, ("AWSLambdaSQSQueueExecutionRole", "aws")],
         last_used=("2024-06-10T09:59:50Z", "us-east-1")),
    dict(name="etl-lambda-exec", created="2022-03-08T09:10:00Z", trust=TRUST_LAMBDA,
         managed=[LAMBDA_BASIC],
         inline={"staging": P(S("Allow", ["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::demo-etl-staging/*"),
                              S("Allow", "s3:ListBucket", "arn:aws:s3:::demo-etl-staging"))},
         last_used=("2024-06-10T04:00:00Z", "eu-west-1")),
    dict(name="storefront-api-role", created="2022-05-19T17:00:00Z", trust=TRUST_LAMBDA, path="/service-role/",
         managed=[LAMBDA_BASIC], last_used=("2024-06-10T09:59:59Z", "eu-west-1")),
]

# GetAccountAuthorizationDetails answers in two pages: the first ends after this many roles.
GAAD_PAGE1_ROLES = 12

# An instance profile whose role was deleted: no role names it, so GetAccountAuthorizationDetails does not;
# an instance launched with it gets no credentials.
ROLELESS_PROFILES = [dict(name="legacy-batch-profile", created="2019-11-04T09:30:00Z")]

# =================================================================================================
# ACCOUNT SPEC: S3
# =================================================================================================

ACCOUNT_BPA = dict(BlockPublicAcls=True, IgnorePublicAcls=False, BlockPublicPolicy=False, RestrictPublicBuckets=False)
BPA_ALL = dict(BlockPublicAcls=True, IgnorePublicAcls=True, BlockPublicPolicy=True, RestrictPublicBuckets=True)

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTH_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"

BUCKETS = [
    dict(name="demo-public-assets", region="us-east-1", created="2020-04-07T09:31:12.000Z", ownership="BucketOwnerEnforced",
         policy=P(S("Allow", "s3:GetObject", "arn:aws:s3:::demo-public-assets/*", sid="PublicReadGetObject",
                    principal="*")),
         policy_public=True, bpa=None, website=("index.html", "error.html")),
    dict(name="demo-marketing-site", region="us-east-1", created="2021-05-12T14:02:55.000Z",
         ownership="BucketOwnerEnforced",
         policy=P(S("Allow", "s3:GetObject", "arn:aws:s3:::demo-marketing-site/*", sid="PublicReadGetObject",
                    principal="*")),
         policy_public=True, bpa=BPA_ALL, website=("index.html", "404.html")),
    dict(name="demo-legacy-downloads", region="us-east-1", created="2016-09-30T11:20:41.000Z", ownership="ObjectWriter",
         acl=[(ALL_USERS, "READ")], bpa=None),
    dict(name="demo-build-artifacts", region="us-east-1", created="2018-01-22T16:45:03.000Z", ownership="ObjectWriter",
         acl=[(AUTH_USERS, "READ")], bpa=None),
    dict(name="demo-access-logs", region="us-east-1", created="2017-03-08T08:12:19.000Z", ownership="ObjectWriter",
         acl=[(LOG_DELIVERY, "WRITE"), (LOG_DELIVERY, "READ_ACP")], bpa=BPA_ALL),
    dict(name="demo-old-press-kit", region="us-east-1", created="2015-11-04T10:05:33.000Z", ownership="ObjectWriter",
         acl=[(ALL_USERS, "READ")],
         bpa=dict(BlockPublicAcls=True, IgnorePublicAcls=True, BlockPublicPolicy=False, RestrictPublicBuckets=False)),
    dict(name="demo-customer-data", region="us-east-1", created="2019-06-12T13:44:27.000Z",
         ownership="BucketOwnerEnforced", bpa=BPA_ALL, policy_public=False,
         policy=P(
             S("Deny", "s3:*", ["arn:aws:s3:::demo-customer-data", "arn:aws:s3:::demo-customer-data/*"],
               sid="DenyInsecureTransport", principal="*", condition={"Bool": {"aws:SecureTransport": "false"}}),
             S("Allow", "*", ["arn:aws:s3:::demo-customer-data", "arn:aws:s3:::demo-customer-data/*"],
               sid="DelegateToAccessPoints", principal={"AWS": "*"},
               condition={"StringEquals": {"s3:DataAccessPointAccount": ACCOUNT}}))),
    dict(name="demo-cloudtrail-logs", region="us-east-1", created="2019-06-12T13:50:02.000Z",
         ownership="BucketOwnerEnforced", bpa=BPA_ALL, policy_public=False,
         policy=P(
             S("Allow", "s3:GetBucketAcl", "arn:aws:s3:::demo-cloudtrail-logs", sid="AWSCloudTrailAclCheck",
               principal={"Service": "cloudtrail.amazonaws.com"},
               condition={"StringEquals": {"aws:SourceArn": f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/org-trail"}}),
             S("Allow", "s3:PutObject", f"arn:aws:s3:::demo-cloudtrail-logs/AWSLogs/{ACCOUNT}/*",
               sid="AWSCloudTrailWrite", principal={"Service": "cloudtrail.amazonaws.com"},
               condition={"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control",
                                           "aws:SourceArn": f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/org-trail"}}))),
    dict(name="demo-finance-reports", region="us-east-1", created="2022-01-31T09:00:00.000Z",
         ownership="BucketOwnerEnforced", bpa=BPA_ALL, policy="AccessDenied", policy_public=False),
    dict(name="demo-image-uploads", region="us-east-1", created="2021-07-22T07:58:10.000Z",
         ownership="BucketOwnerEnforced", bpa=BPA_ALL),
    dict(name="demo-partner-exchange", region="eu-west-1", created="2020-08-24T09:55:41.000Z",
         ownership="BucketOwnerEnforced", bpa=BPA_ALL, policy_public=False,
         policy=P(
             S("Allow", ["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::demo-partner-exchange/*",
               sid="PartnerObjects", principal={"AWS": f"arn:aws:iam::{EXT_PARTNER}:root"}),
             S("Allow", "s3:ListBucket", "arn:aws:s3:::demo-partner-exchange", sid="PartnerList",
               principal={"AWS": f"arn:aws:iam::{EXT_PARTNER}:root"}))),
    dict(name="demo-org-shared-config", region="eu-west-1", created="2022-01-10T08:20:15.000Z",
         ownership="BucketOwnerEnforced", bpa=None, policy_public=False,
         policy=P(S("Allow", "s3:GetObject", "arn:aws:s3:::demo-org-shared-config/*", sid="OrganizationRead",
                    principal="*", condition={"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}))),
    dict(name="demo-etl-staging", region="eu-west-1", created="2022-03-08T08:50:00.000Z",
         ownership="BucketOwnerEnforced", bpa=BPA_ALL),
]

# Block Public Access of an access point: S3 turns all four settings on unless its creator turns them off,
# and they cannot be changed afterwards.
ACCESS_POINT_BPA = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                    "RestrictPublicBuckets": True}
ACCESS_POINT_CREATED = "2023-03-14T10:21:07Z"
ACCESS_POINTS_PAGE = 1000  # ListAccessPoints' largest page (MaxResults)

ACCESS_POINTS = [
    dict(name="customer-data-analytics", region="us-east-1", bucket="demo-customer-data", origin="VPC",
         vpc="vpc-0c2d9e4f8a1b3c5d7",
         policy=P(S("Allow", "s3:GetObject",
                    f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/customer-data-analytics/object/*",
                    principal={"AWS": role_arn("data-engineer")}))),
    dict(name="marketing-uploads", region="us-east-1", bucket="demo-marketing-site", origin="Internet", policy=None),
]


# =================================================================================================
# ACCOUNT SPEC: network identifiers shared by EC2, Lambda, RDS and API Gateway
# =================================================================================================

VPC_PROD = "vpc-0c2d9e4f8a1b3c5d7"
SUBNET_PUBLIC_A = "subnet-0a1f2e3d4c5b6a798"
SUBNET_PUBLIC_B = "subnet-0b2e3d4c5f6a7b809"
SUBNET_PRIVATE_A = "subnet-0c3d4e5f6a7b8c91a"
SUBNET_PRIVATE_B = "subnet-0d4e5f6a7b8c9d02b"
VPC_EU = "vpc-0e5f6a7b8c9d0e13c"
SUBNET_EU_A = "subnet-0f6a7b8c9d0e1f24d"
SUBNET_EU_B = "subnet-01a7b8c9d0e1f235e"
VPCE_EXECUTE_API = "vpce-0a1b2c3d4e5f60789"

SG = {
    "web-public": "sg-0b51e8a2c7d94f310",
    "alb-public": "sg-0c62f9b3d8ea50421",
    "api-from-alb": "sg-0d73a0c4e9fb61532",
    "orders-db-public": "sg-0e84b1d5fa0c72643",
    "customers-db-private": "sg-0f95c2e60b1d83754",
    "lambda-vpc": "sg-01a6d3f71c2e94865",
    "ssh-open-unused": "sg-02b7e4082d3fa5976",
    "vpce-execute-api": "sg-03c8f5193e40b6a87",
    "etl-runner": "sg-04d9a62a4f51c7b98",
    "analytics-db": "sg-05eab73b5062d8ca9",
}

# =================================================================================================
# ACCOUNT SPEC: Lambda
# =================================================================================================


def lambda_permission(sid, principal, fn, condition=None, action="lambda:InvokeFunction"):
    return S("Allow", action, fn, sid=sid, principal=principal, condition=condition)


def fn_policy(*statements):
    return P(*statements, pid="default")


ORDERS_API = "a1b2c3d4e5"
INVENTORY_API = "p9q8r7s6t5"
STOREFRONT_API = "h7t8p9a0b1"

FUNCTIONS = [
    dict(name="orders-api", region="us-east-1", runtime="nodejs18.x", handler="index.handler", memory=512, timeout=15,
         role=role_arn("orders-api-lambda-role", "/service-role/"), code_size=2481337,
         modified="2024-05-30T14:12:09.117+0000", description="Orders REST API backend",
         env={"TABLE_NAME": "orders", "STRIPE_KEY_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:111122223333:secret:"
              "prod/payments/stripe-api-key-Xq3vZp", "LOG_LEVEL": "info"},
         vpc=([SUBNET_PRIVATE_A, SUBNET_PRIVATE_B], [SG["lambda-vpc"]], VPC_PROD),
         layers=[(f"arn:aws:lambda:us-east-1:{ACCOUNT}:layer:shared-deps:7", 1843211)],
         policy=lambda f: fn_policy(lambda_permission(
             "apigw-orders-get", {"Service": "apigateway.amazonaws.com"}, f,
             {"ArnLike": {"AWS:SourceArn": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{ORDERS_API}/*/GET/orders"}}),
             lambda_permission(
             "apigw-orders-post", {"Service": "apigateway.amazonaws.com"}, f,
             {"ArnLike": {"AWS:SourceArn": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{ORDERS_API}/*/POST/orders"}}),
             lambda_permission(
             "apigw-orders-get-one", {"Service": "apigateway.amazonaws.com"}, f,
             {"ArnLike": {"AWS:SourceArn":
                          f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{ORDERS_API}/*/GET/orders/*"}}))),
    dict(name="legacy-webhook", region="us-east-1", runtime="python3.9", handler="app.handler", memory=256, timeout=30,
         role=role_arn("legacy-webhook-role", "/service-role/"), code_size=48213,
         modified="2022-03-17T09:44:51.902+0000", description="Receives payment provider webhooks (legacy)",
         # Secret-looking values, as careless deployments really carry them. A scan must record the
         # names only; none of these values may reach a snapshot or a report.
         env={"DB_HOST": "customers-db.c9akciq32rlm.us-east-1.rds.amazonaws.com", "DB_USER": "webhook",
              "DB_PASSWORD": "Wq8#Lz2!vRt6-legacy-webhook", "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
              "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
              "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
              "SIGNING_SECRET": "whsec_demo_5f4dcc3b5aa765d61d8327deb882cf99"},
         url=dict(auth="NONE", id="7v2kq4xm3rbn5dzg6hpw8yjc2t9sfl4e", created="2022-03-17T09:50:12.301558Z",
                  cors=dict(AllowOrigins=["*"], AllowMethods=["POST"], MaxAge=300)),
         policy=lambda f: fn_policy(lambda_permission(
             "FunctionURLAllowPublicAccess", "*", f, {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}},
             action="lambda:InvokeFunctionUrl"))),
    dict(name="internal-reports", region="us-east-1", runtime="python3.9", handler="reports.main", memory=1024,
         timeout=120, role=role_arn("internal-reports-role", "/service-role/"), code_size=91822,
         modified="2023-01-16T08:30:00.000+0000", description="Monthly finance reports for employees",
         env={"REPORT_BUCKET": "demo-finance-reports"},
         url=dict(auth="AWS_IAM", id="3m8nq2zr6tkx4bvc9wdy5hfs7gj2pl1a", created="2023-01-16T08:41:27.118204Z",
                  cors=None),
         policy=None),
    dict(name="partner-callback", region="us-east-1", runtime="nodejs16.x", handler="index.handler", memory=128,
         timeout=10, role=role_arn("partner-callback-role", "/service-role/"), code_size=15220,
         modified="2020-10-05T08:20:00.000+0000", description="Partners call this after settling a batch",
         env={"LOG_LEVEL": "warn"},
         policy=lambda f: fn_policy(lambda_permission("partner-invoke", "*", f))),
    dict(name="image-resize", region="us-east-1", runtime="python3.9", handler="resize.handler", memory=1536,
         timeout=60, role=role_arn("image-resize-role", "/service-role/"), code_size=18234567,
         modified="2023-11-02T16:05:41.000+0000", description="Thumbnails for uploaded images",
         env={"THUMBNAIL_BUCKET": "demo-public-assets", "THUMBNAIL_PREFIX": "thumbnails/"},
         policy=lambda f: fn_policy(lambda_permission(
             "s3-image-uploads", {"Service": "s3.amazonaws.com"}, f,
             {"StringEquals": {"AWS:SourceAccount": ACCOUNT},
              "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::demo-image-uploads"}}))),
    dict(name="order-events-consumer", region="us-east-1", runtime="java11", handler="com.acme.orders.Consumer::handle",
         memory=1024, timeout=60, role=role_arn("order-events-consumer-role", "/service-role/"), code_size=14328011,
         modified="2024-02-12T10:00:00.000+0000", description="Consumes order events from SQS",
         env={"JAVA_TOOL_OPTIONS": "-XX:+TieredCompilation -XX:TieredStopAtLevel=1"}, policy=None),
    dict(name="ops-automation", region="us-east-1", runtime="python3.9", handler="ops.handler", memory=256,
         timeout=300, role=role_arn("ops-automation-role", "/service-role/"), code_size=33107,
         modified="2023-06-30T07:15:00.000+0000", description="Nightly clean-up and alarm responses",
         env={"DRY_RUN": "false"},
         policy=lambda f: fn_policy(
             lambda_permission("events-nightly-cleanup", {"Service": "events.amazonaws.com"}, f,
                               {"ArnLike": {"AWS:SourceArn":
                                            f"arn:aws:events:us-east-1:{ACCOUNT}:rule/nightly-cleanup"}}),
             lambda_permission("sns-alarms", {"Service": "sns.amazonaws.com"}, f,
                               {"ArnLike": {"AWS:SourceArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:alarms"}}))),
    dict(name="etl-transform", region="eu-west-1", runtime="python3.9", handler="transform.run", memory=3008,
         timeout=900, role=role_arn("etl-lambda-exec"), code_size=40122880, arch="arm64",
         modified="2024-06-01T04:00:00.000+0000", description="Nightly transform of staged data",
         env={"STAGING_BUCKET": "demo-etl-staging"}, policy=None),
    dict(name="storefront-api", region="eu-west-1", runtime="nodejs18.x", handler="dist/handler.main", memory=512,
         timeout=10, role=role_arn("storefront-api-role", "/service-role/"), code_size=3120455,
         modified="2024-06-07T13:25:02.551+0000", description="Storefront HTTP API",
         env={"NODE_OPTIONS": "--enable-source-maps"}, policy=None,
         aliases=[dict(name="live", version="7", description="Production traffic",
                       policy=lambda a: fn_policy(lambda_permission(
                           "apigw-storefront", {"Service": "apigateway.amazonaws.com"}, a,
                           {"ArnLike": {"AWS:SourceArn":
                                        f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:{STOREFRONT_API}/*"}})))]),
]

LAMBDA_PAGE_SIZE = 4  # ListFunctions answers us-east-1 in two pages

EVENT_SOURCE_MAPPINGS = [
    dict(region="us-east-1", uuid="6f0c4b3e-9b5d-4e2a-8c1f-2d7a9e3b5c40", function="order-events-consumer",
         source=f"arn:aws:sqs:us-east-1:{ACCOUNT}:order-events", batch=10, modified=1707732000.0),
]

# =================================================================================================
# ACCOUNT SPEC: API Gateway
# =================================================================================================


def lambda_uri(region, fn):
    return f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{fn_arn(region, fn)}/invocations"


def proxy_integration(region, fn, cache_ns):
    return {"type": "AWS_PROXY", "httpMethod": "POST", "uri": lambda_uri(region, fn),
            "passthroughBehavior": "WHEN_NO_MATCH", "timeoutInMillis": 29000, "cacheNamespace": cache_ns,
            "cacheKeyParameters": []}


CORS_HEADERS = ["Access-Control-Allow-Headers", "Access-Control-Allow-Methods", "Access-Control-Allow-Origin"]


def mock_cors_integration(cache_ns):
    return {"type": "MOCK", "requestTemplates": {"application/json": '{"statusCode": 200}'},
            "passthroughBehavior": "WHEN_NO_MATCH", "timeoutInMillis": 29000, "cacheNamespace": cache_ns,
            "cacheKeyParameters": [],
            "integrationResponses": {"200": {"statusCode": "200", "responseParameters": {
                "method.response.header.Access-Control-Allow-Headers": "'Content-Type,Authorization'",
                "method.response.header.Access-Control-Allow-Methods": "'GET,POST,OPTIONS'",
                "method.response.header.Access-Control-Allow-Origin": "'https://shop.example.com'"},
                "responseTemplates": {"application/json": ""}}}}


def method(http_method, auth, integration, authorizer=None, api_key=False, scopes=None, responses=None):
    m = {"httpMethod": http_method, "authorizationType": auth}
    if authorizer:
        m["authorizerId"] = authorizer
    m["apiKeyRequired"] = api_key
    if scopes:
        m["authorizationScopes"] = scopes
    if responses:
        m["methodResponses"] = responses
    m["methodIntegration"] = integration
    return m


CORS_METHOD_RESPONSES = {"200": {"statusCode": "200", "responseParameters": {
    f"method.response.header.{h}": False for h in CORS_HEADERS}, "responseModels": {"application/json": "Empty"}}}

REST_APIS = [
    dict(id=ORDERS_API, name="orders-api", region="us-east-1", created=1614600000,
         description="Public orders API for the web shop", endpoint=["REGIONAL"], policy=None,
         resources=[
             dict(id="8zq2rvb1x9", path="/", methods={}),
             dict(id="k3j9v2", path="/orders", methods={
                 "GET": method("GET", "NONE", proxy_integration("us-east-1", "orders-api", "k3j9v2")),
                 "OPTIONS": method("OPTIONS", "NONE", mock_cors_integration("k3j9v2"),
                                   responses=CORS_METHOD_RESPONSES),
                 "POST": method("POST", "COGNITO_USER_POOLS", proxy_integration("us-east-1", "orders-api", "k3j9v2"),
                                authorizer="c0gn1t", scopes=["orders/write"]),
             }),
             dict(id="w7x8y9", path="/orders/{orderId}", methods={
                 "GET": method("GET", "COGNITO_USER_POOLS", proxy_integration("us-east-1", "orders-api", "w7x8y9"),
                               authorizer="c0gn1t"),
             }),
             dict(id="q1r2s3", path="/admin", methods={}),
             dict(id="t4u5v6", path="/admin/reports", methods={
                 "GET": method("GET", "AWS_IAM", {
                     "type": "HTTP_PROXY", "httpMethod": "GET",
                     "uri": "https://internal-reports.corp.example.com/reports", "connectionType": "INTERNET",
                     "passthroughBehavior": "WHEN_NO_MATCH", "timeoutInMillis": 29000, "cacheNamespace": "t4u5v6",
                     "cacheKeyParameters": []}),
             }),
         ],
         authorizers=[{"id": "c0gn1t", "name": "orders-users", "type": "COGNITO_USER_POOLS",
                       "providerARNs": [f"arn:aws:cognito-idp:us-east-1:{ACCOUNT}:userpool/us-east-1_Q8rT2vXyZ"],
                       "identitySource": "method.request.header.Authorization", "authorizerResultTtlInSeconds": 300}],
         stages=[{"deploymentId": "d3pl0y", "stageName": "prod", "description": "Production",
                  "cacheClusterEnabled": False, "cacheClusterStatus": "NOT_AVAILABLE",
                  "methodSettings": {"*/*": {"metricsEnabled": True, "loggingLevel": "ERROR", "dataTraceEnabled": False,
                                             "throttlingBurstLimit": 500, "throttlingRateLimit": 1000.0,
                                             "cachingEnabled": False, "cacheTtlInSeconds": 300,
                                             "cacheDataEncrypted": False,
                                             "requireAuthorizationForCacheControl": True,
                                             "unauthorizedCacheControlHeaderStrategy": "SUCCEED_WITH_RESPONSE_HEADER"}},
                  "tracingEnabled": True,
                  "webAclArn": f"arn:aws:wafv2:us-east-1:{ACCOUNT}:regional/webacl/orders-api-acl/"
                               "2f8e4c1a-6b3d-4e9f-a7c5-1d0b8e6f4a23",
                  "createdDate": 1614600500, "lastUpdatedDate": 1717077129}]),
    dict(id=INVENTORY_API, name="internal-inventory", region="us-east-1", created=1676887200,
         description="Inventory lookups, reachable only through the VPC endpoint", endpoint=["PRIVATE"],
         vpce=[VPCE_EXECUTE_API],
         policy=P(
             S("Deny", "execute-api:Invoke", f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{INVENTORY_API}/*",
               principal="*", condition={"StringNotEquals": {"aws:SourceVpce": VPCE_EXECUTE_API}}),
             S("Allow", "execute-api:Invoke", f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{INVENTORY_API}/*",
               principal="*")),
         resources=[
             dict(id="z0y9x8w7v6", path="/", methods={}),
             dict(id="m5n6o7", path="/items", methods={
                 "GET": method("GET", "NONE", {
                     "type": "HTTP_PROXY", "httpMethod": "GET", "uri": "http://inventory.internal.example.com/items",
                     "connectionType": "VPC_LINK", "connectionId": "vl8k2m", "passthroughBehavior": "WHEN_NO_MATCH",
                     "timeoutInMillis": 29000, "cacheNamespace": "m5n6o7", "cacheKeyParameters": []}),
             }),
         ],
         authorizers=[],
         stages=[{"deploymentId": "inv3nt", "stageName": "v1", "cacheClusterEnabled": False,
                  "cacheClusterStatus": "NOT_AVAILABLE", "methodSettings": {}, "tracingEnabled": False,
                  "createdDate": 1676887800, "lastUpdatedDate": 1676887800}]),
]

APIGW_RESOURCES_PAGE = 3  # GetResources answers orders-api in two pages, though limit=500 is asked
APIGW_LARGEST_PAGE = 500  # API Gateway's listings: limit, 25 when not asked, at most 500

USAGE_PLANS = [
    {"id": "x9y8z7", "name": "partner-basic", "description": "Throttling for partner integrations",
     "apiStages": [{"apiId": ORDERS_API, "stage": "prod"}],
     "throttle": {"burstLimit": 200, "rateLimit": 100.0}, "quota": {"limit": 100000, "offset": 0, "period": "MONTH"}},
]

HTTP_APIS = [
    dict(id=STOREFRONT_API, name="storefront-http", region="eu-west-1", created="2022-05-19T17:05:31Z",
         routes=[
             {"apiKeyRequired": False, "authorizationType": "NONE", "routeId": "r0ut3a1",
              "routeKey": "POST /orders", "target": "integrations/1nt3gr8"},
             {"apiKeyRequired": False, "authorizationScopes": ["storefront/account.read"], "authorizationType": "JWT",
              "authorizerId": "jwt4u7h", "routeId": "r0ut3b2", "routeKey": "GET /account",
              "target": "integrations/1nt3gr8"},
         ],
         integrations=[
             {"connectionType": "INTERNET", "integrationId": "1nt3gr8", "integrationMethod": "POST",
              "integrationType": "AWS_PROXY", "integrationUri": fn_arn("eu-west-1", "storefront-api") + ":live",
              "payloadFormatVersion": "2.0", "timeoutInMillis": 30000},
         ],
         authorizers=[
             {"authorizerId": "jwt4u7h", "authorizerType": "JWT",
              "identitySource": ["$request.header.Authorization"],
              "jwtConfiguration": {"audience": ["6q1v8r3k2m9n4b7c5x0z1a2s3d"],
                                   "issuer": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Zk9Lm2Np4"},
              "name": "storefront-users"},
         ],
         stages=[
             {"autoDeploy": True, "createdDate": "2022-05-19T17:05:40Z", "defaultRouteSettings": {
                 "detailedMetricsEnabled": False, "throttlingBurstLimit": 1000, "throttlingRateLimit": 500.0},
              "deploymentId": "dp7x2k", "lastDeploymentStatusMessage": "Successfully deployed stage with deployment "
                                                                      "ID 'dp7x2k'",
              "lastUpdatedDate": "2024-06-07T13:25:09Z", "routeSettings": {}, "stageName": "$default",
              "stageVariables": {}, "tags": {}},
         ]),
]


# =================================================================================================
# ACCOUNT SPEC: SQS and SNS
# =================================================================================================


def queue_arn(region, name):
    return f"arn:aws:sqs:{region}:{ACCOUNT}:{name}"


def topic_arn(region, name):
    return f"arn:aws:sns:{region}:{ACCOUNT}:{name}"


QUEUES = [
    dict(name="email-jobs", region="us-east-1", created=1614605000, kms="alias/aws/sqs", policy=None),
    dict(name="image-jobs", region="us-east-1", created=1626940800, sse=True,
         policy=P(S("Allow", "sqs:SendMessage", queue_arn("us-east-1", "image-jobs"), sid="s3-image-uploads",
                    principal={"Service": "s3.amazonaws.com"},
                    condition={"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::demo-image-uploads"},
                               "StringEquals": {"aws:SourceAccount": ACCOUNT}}),
                  pid=f"{queue_arn('us-east-1', 'image-jobs')}/SQSDefaultPolicy")),
    dict(name="order-events", region="us-east-1", created=1614604800, sse=True, visibility=360,
         redrive=("order-events-dlq", 5),
         policy=P(S("Allow", "sqs:SendMessage", queue_arn("us-east-1", "order-events"), sid="topic-order-events",
                    principal={"AWS": "*"},
                    condition={"ArnEquals": {"aws:SourceArn": topic_arn("us-east-1", "order-events")}}),
                  pid=f"{queue_arn('us-east-1', 'order-events')}/SQSDefaultPolicy")),
    dict(name="order-events-dlq", region="us-east-1", created=1614604700, sse=True, retention=1209600,
         redrive_allow=("byQueue", ["order-events"]), policy=None),
    dict(name="partner-inbound", region="us-east-1", created=1601894400, sse=True,
         policy=P(S("Allow", ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"],
                    queue_arn("us-east-1", "partner-inbound"), sid="partners", principal="*"),
                  pid=f"{queue_arn('us-east-1', 'partner-inbound')}/SQSDefaultPolicy")),
    dict(name="audit-events", region="eu-west-1", created=1646726400, kms="alias/aws/sqs", policy=None),
]

SQS_PAGE_SIZE = 3  # ListQueues with MaxResults answers us-east-1 in two pages


def sns_default_statement(region, topic):
    return S("Allow", ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                       "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic",
                       "SNS:Publish"], topic_arn(region, topic), sid="__default_statement_ID",
             principal={"AWS": "*"}, condition={"StringEquals": {"AWS:SourceOwner": ACCOUNT}})


def sns_policy(region, topic, *extra):
    return P(sns_default_statement(region, topic), *extra, version="2008-10-17", pid="__default_policy_ID")


TOPICS = [
    dict(name="alarms", region="us-east-1", display="", policy=sns_policy("us-east-1", "alarms")),
    dict(name="customer-notifications", region="us-east-1", display="Acme notifications",
         policy=sns_policy("us-east-1", "customer-notifications",
                           S("Allow", ["SNS:Subscribe", "SNS:Receive", "SNS:Publish"],
                             topic_arn("us-east-1", "customer-notifications"), sid="partner-integration",
                             principal={"AWS": "*"}))),
    dict(name="order-events", region="us-east-1", display="", policy=sns_policy("us-east-1", "order-events")),
    dict(name="audit-alerts", region="eu-west-1", display="", kms="alias/aws/sns",
         policy=sns_policy("eu-west-1", "audit-alerts")),
]

SUBSCRIPTIONS = [
    dict(topic="order-events", region="us-east-1", protocol="sqs", endpoint=queue_arn("us-east-1", "order-events"),
         owner=ACCOUNT),
    dict(topic="order-events", region="us-east-1", protocol="email", endpoint="orders-team@example.com",
         owner=ACCOUNT),
    dict(topic="alarms", region="us-east-1", protocol="lambda", endpoint=fn_arn("us-east-1", "ops-automation"),
         owner=ACCOUNT),
    dict(topic="customer-notifications", region="us-east-1", protocol="https",
         endpoint="https://hooks.partner.example.com/acme/notifications", owner=ACCOUNT),
    # Subscribed from outside the organization: the public Subscribe grant at work.
    dict(topic="customer-notifications", region="us-east-1", protocol="sqs",
         endpoint=f"arn:aws:sqs:us-east-1:{EXT_PARTNER}:acme-notifications-mirror", owner=EXT_PARTNER),
    dict(topic="audit-alerts", region="eu-west-1", protocol="email", endpoint="security@example.com", owner=ACCOUNT,
         pending=True),
]

# =================================================================================================
# ACCOUNT SPEC: EC2
# =================================================================================================


def ingress(proto, port=None, cidrs=(), groups=(), cidrs6=(), to_port=None):
    return dict(proto=proto, port=port, to_port=to_port if to_port is not None else port, cidrs=list(cidrs),
                groups=list(groups), cidrs6=list(cidrs6))


EGRESS_ALL = [ingress("-1", cidrs=[("0.0.0.0/0", None)])]


def default_vpc(region):
    return "vpc-" + hexid(17, "default-vpc", region)


def default_sg(region):
    return "sg-" + hexid(17, "default-sg", region)


def default_sg_spec(region, vpc=None):
    sid = default_sg(region) if vpc is None else "sg-" + hexid(17, "default-sg", region, vpc)
    return dict(id=sid, name="default", description="default VPC security group", vpc=vpc or default_vpc(region),
                ingress=[ingress("-1", groups=[sid])], egress=EGRESS_ALL)


SECURITY_GROUPS = {
    "us-east-1": [
        default_sg_spec("us-east-1"),
        default_sg_spec("us-east-1", VPC_PROD),
        dict(id=SG["web-public"], name="web-public", description="Legacy web server", vpc=VPC_PROD,
             ingress=[ingress("tcp", 22, cidrs=[("0.0.0.0/0", "admin ssh")]),
                      ingress("tcp", 80, cidrs=[("0.0.0.0/0", None)]),
                      ingress("tcp", 443, cidrs=[("0.0.0.0/0", None)], cidrs6=[("::/0", None)])],
             egress=EGRESS_ALL),
        dict(id=SG["alb-public"], name="alb-public", description="Internet-facing load balancer", vpc=VPC_PROD,
             ingress=[ingress("tcp", 443, cidrs=[("0.0.0.0/0", "HTTPS from anywhere")], cidrs6=[("::/0", None)])],
             egress=EGRESS_ALL),
        dict(id=SG["api-from-alb"], name="api-from-alb", description="API servers behind the load balancer",
             vpc=VPC_PROD, ingress=[ingress("tcp", 443, groups=[SG["alb-public"]])], egress=EGRESS_ALL),
        dict(id=SG["orders-db-public"], name="orders-db-public", description="orders-db (temporary access)",
             vpc=VPC_PROD, ingress=[ingress("tcp", 5432, cidrs=[("0.0.0.0/0", "temporary: migration")])],
             egress=EGRESS_ALL),
        dict(id=SG["customers-db-private"], name="customers-db-private", description="customers-db",
             vpc=VPC_PROD, ingress=[ingress("tcp", 5432, groups=[SG["api-from-alb"], SG["lambda-vpc"]])],
             egress=EGRESS_ALL),
        dict(id=SG["lambda-vpc"], name="lambda-vpc", description="Lambda functions in the VPC", vpc=VPC_PROD,
             ingress=[], egress=EGRESS_ALL),
        dict(id=SG["ssh-open-unused"], name="ssh-open-unused", description="old bastion, not attached",
             vpc=VPC_PROD, ingress=[ingress("tcp", 22, cidrs=[("0.0.0.0/0", None)])], egress=EGRESS_ALL),
        dict(id=SG["vpce-execute-api"], name="vpce-execute-api", description="execute-api interface endpoint",
             vpc=VPC_PROD, ingress=[ingress("tcp", 443, cidrs=[("10.20.0.0/16", None)])], egress=EGRESS_ALL),
    ],
    "eu-west-1": [
        default_sg_spec("eu-west-1"),
        default_sg_spec("eu-west-1", VPC_EU),
        dict(id=SG["etl-runner"], name="etl-runner", description="ETL batch runner", vpc=VPC_EU, ingress=[],
             egress=EGRESS_ALL),
        dict(id=SG["analytics-db"], name="analytics-db", description="analytics cluster", vpc=VPC_EU,
             ingress=[ingress("tcp", 5432, cidrs=[("10.30.0.0/16", None)])], egress=EGRESS_ALL),
    ],
}

INSTANCES = [
    dict(id="i-0a1b2c3d4e5f60718", name="web-1", region="us-east-1", az="us-east-1a", type="t3.small",
         state="running", ami="ami-0a1b2c3d4e5f67890", subnet=SUBNET_PUBLIC_A, vpc=VPC_PROD,
         private_ip="10.20.1.15", public_ip="203.0.113.10", sgs=["web-public"], profile="web-instance-profile",
         http_tokens="optional", key="legacy-admin", launched="2023-08-14T09:12:45.000Z",
         eni="eni-0a11b22c33d44e556"),
    dict(id="i-0b2c3d4e5f6a71829", name="api-1", region="us-east-1", az="us-east-1b", type="m6i.large",
         state="running", ami="ami-0b2c3d4e5f6a78901", subnet=SUBNET_PRIVATE_B, vpc=VPC_PROD,
         private_ip="10.20.11.20", public_ip=None, sgs=["api-from-alb"], profile="api-instance-profile",
         http_tokens="required", key=None, launched="2024-02-20T11:03:19.000Z", eni="eni-0b22c33d44e55f667"),
    dict(id="i-0c3d4e5f6a7b8293a", name="batch-1", region="us-east-1", az="us-east-1a", type="c5.xlarge",
         state="stopped", ami="ami-0b2c3d4e5f6a78901", subnet=SUBNET_PRIVATE_A, vpc=VPC_PROD,
         private_ip="10.20.10.31", public_ip=None, sgs=["lambda-vpc"], profile=None, http_tokens="optional",
         key=None, launched="2023-11-30T22:00:04.000Z", eni="eni-0c33d44e55f66a778"),
    dict(id="i-0d4e5f6a7b8c9304b", name="etl-runner", region="eu-west-1", az="eu-west-1a", type="r6g.large",
         state="running", ami="ami-0e5f6a7b8c9d01234", subnet=SUBNET_EU_A, vpc=VPC_EU, arch="arm64",
         private_ip="10.30.1.40", public_ip=None, sgs=["etl-runner"], profile=None, http_tokens="required",
         key=None, launched="2024-05-02T04:00:11.000Z", eni="eni-0d44e55f66a77b889"),
]

# Interfaces that belong to no instance: load balancer, database, Lambda and endpoint interfaces.
SERVICE_ENIS = [
    dict(id="eni-0e55f66a77b88c99a", region="us-east-1", az="us-east-1a", subnet=SUBNET_PUBLIC_A, vpc=VPC_PROD,
         private_ip="10.20.1.100", public_ip="203.0.113.21", sgs=["alb-public"], requester="amazon-elb",
         description="ELB app/api-alb/50dc6c495c0c9188", type="interface", ip_owner="amazon"),
    dict(id="eni-0f66a77b88c99d0ab", region="us-east-1", az="us-east-1b", subnet=SUBNET_PUBLIC_B, vpc=VPC_PROD,
         private_ip="10.20.2.100", public_ip="203.0.113.22", sgs=["alb-public"], requester="amazon-elb",
         description="ELB app/api-alb/50dc6c495c0c9188", type="interface", ip_owner="amazon"),
    dict(id="eni-01a77b88c99d0e1bc", region="us-east-1", az="us-east-1a", subnet=SUBNET_PUBLIC_A, vpc=VPC_PROD,
         private_ip="10.20.1.50", public_ip="203.0.113.30", sgs=["orders-db-public"], requester="amazon-rds",
         description="RDSNetworkInterface", type="interface", ip_owner="amazon"),
    dict(id="eni-02b88c99d0e1f2cd", region="us-east-1", az="us-east-1b", subnet=SUBNET_PRIVATE_B, vpc=VPC_PROD,
         private_ip="10.20.11.60", public_ip=None, sgs=["customers-db-private"], requester="amazon-rds",
         description="RDSNetworkInterface", type="interface"),
    dict(id="eni-03c99d0e1f2a3de", region="us-east-1", az="us-east-1a", subnet=SUBNET_PRIVATE_A, vpc=VPC_PROD,
         private_ip="10.20.10.77", public_ip=None, sgs=["lambda-vpc"], requester=None, type="lambda",
         description="AWS Lambda VPC ENI-orders-api-2c6a1e9f-4b3d-4f8a-9e7c-5d1b0a2f3e4c"),
    dict(id="eni-04d0e1f2a3b4ef0", region="us-east-1", az="us-east-1b", subnet=SUBNET_PRIVATE_B, vpc=VPC_PROD,
         private_ip="10.20.11.88", public_ip=None, sgs=["vpce-execute-api"], requester=None, type="vpc_endpoint",
         description=f"VPC Endpoint Interface {VPCE_EXECUTE_API}"),
    dict(id="eni-05e1f2a3b4c5f01", region="eu-west-1", az="eu-west-1b", subnet=SUBNET_EU_B, vpc=VPC_EU,
         private_ip="10.30.2.15", public_ip=None, sgs=["analytics-db"], requester="amazon-rds",
         description="RDSNetworkInterface", type="interface"),
]

SNAPSHOTS = [
    dict(id="snap-0a1b2c3d4e5f60711", region="us-east-1", volume="vol-0a1b2c3d4e5f60722", size=30,
         description="web-1 root volume before upgrade", started="2023-08-14T08:55:02.000Z", encrypted=False,
         shared=["all"]),
    dict(id="snap-0b2c3d4e5f6a71822", region="us-east-1", volume="vol-0b2c3d4e5f6a71833", size=100,
         description="api-1 data volume nightly", started="2024-06-09T03:00:11.000Z", encrypted=True, shared=[]),
    dict(id="snap-0c3d4e5f6a7b82933", region="us-east-1", volume="vol-ffffffff", size=30,
         description="Created by CreateImage(i-0b2c3d4e5f6a71829) for ami-0b2c3d4e5f6a78901",
         started="2024-02-20T10:40:00.000Z", encrypted=True, shared=[]),
    dict(id="snap-0d4e5f6a7b8c93a44", region="us-east-1", volume="vol-ffffffff", size=30,
         description="Created by CreateImage(i-0a1b2c3d4e5f60718) for ami-0a1b2c3d4e5f67890",
         started="2023-08-14T09:00:00.000Z", encrypted=False, shared=[]),
    dict(id="snap-0e5f6a7b8c9d04b55", region="eu-west-1", volume="vol-0e5f6a7b8c9d04b66", size=200,
         description="etl-runner scratch volume", started="2024-06-01T05:00:00.000Z", encrypted=True, shared=[]),
]

IMAGES = [
    dict(id="ami-0a1b2c3d4e5f67890", region="us-east-1", name="web-golden-2023-08",
         description="Web server image with application and configuration", created="2023-08-14T09:00:00.000Z",
         snapshot="snap-0d4e5f6a7b8c93a44", encrypted=False, public=True),
    dict(id="ami-0b2c3d4e5f6a78901", region="us-east-1", name="api-golden-2024-02",
         description="API server image", created="2024-02-20T10:40:00.000Z", snapshot="snap-0c3d4e5f6a7b82933",
         encrypted=True, public=False),
]

# =================================================================================================
# ACCOUNT SPEC: RDS
# =================================================================================================

DB_INSTANCES = [
    dict(id="orders-db", region="us-east-1", engine="postgres", version="14.10", cls="db.t3.medium", public=True,
         sg="orders-db-public", subnets=[SUBNET_PUBLIC_A, SUBNET_PUBLIC_B], subnet_group="public-db-subnets",
         az="us-east-1a", encrypted=False, created="2020-02-03T10:15:00.000Z", storage=100, dbname="orders"),
    dict(id="customers-db", region="us-east-1", engine="postgres", version="15.5", cls="db.r6g.large", public=False,
         sg="customers-db-private", subnets=[SUBNET_PRIVATE_A, SUBNET_PRIVATE_B],
         subnet_group="private-db-subnets", az="us-east-1b", encrypted=True, kms="customer-data",
         created="2019-06-12T14:00:00.000Z", storage=500, dbname="customers", multi_az=True),
    dict(id="analytics-cluster-instance-1", region="eu-west-1", engine="aurora-postgresql", version="15.4",
         cls="db.r6g.xlarge", public=False, sg="analytics-db", subnets=[SUBNET_EU_A, SUBNET_EU_B],
         subnet_group="analytics-subnets", az="eu-west-1b", encrypted=False, created="2022-03-08T10:00:00.000Z",
         storage=1, cluster="analytics-cluster"),
]

DB_SNAPSHOTS = [
    dict(id="orders-db-pre-migration", region="us-east-1", db="orders-db", type="manual",
         created="2023-10-01T02:00:00.000Z", restore=["all"]),
    dict(id="customers-db-weekly-2024-06-02", region="us-east-1", db="customers-db", type="manual",
         created="2024-06-02T03:00:00.000Z", restore=[ORG_BACKUP]),
    dict(id="rds:orders-db-2024-06-09-04-12", region="us-east-1", db="orders-db", type="automated",
         created="2024-06-09T04:12:33.000Z", restore=[]),
]

CLUSTER_SNAPSHOTS = [
    dict(id="analytics-cluster-manual-2024-05-01", region="eu-west-1", cluster="analytics-cluster", type="manual",
         created="2024-05-01T01:00:00.000Z", restore=[]),
    dict(id="analytics-cluster-share-2024-03-15", region="eu-west-1", cluster="analytics-cluster", type="manual",
         created="2024-03-15T01:00:00.000Z", restore=[EXT_PARTNER]),
    dict(id="rds:analytics-cluster-2024-06-09-03-05", region="eu-west-1", cluster="analytics-cluster",
         type="automated", created="2024-06-09T03:05:44.000Z", restore=[]),
]

# =================================================================================================
# ACCOUNT SPEC: KMS, Secrets Manager, ECR
# =================================================================================================


def key_arn(region, key_id):
    return f"arn:aws:kms:{region}:{ACCOUNT}:key/{key_id}"


ROOT_PRINCIPAL = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}

KEYS = [
    dict(alias="customer-data", id="0d7f9a1c-2b3e-4f5a-8c6d-7e8f9a0b1c2d", region="us-east-1",
         description="Customer data at rest", created=1560347000.512, style="console",
         policy=P(S("Allow", "kms:*", "*", sid="Enable IAM User Permissions", principal=ROOT_PRINCIPAL),
                  S("Allow", ["kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant"], "*",
                    sid="Allow the backup account to restore shared snapshots",
                    principal={"AWS": f"arn:aws:iam::{ORG_BACKUP}:root"}),
                  pid="key-consolepolicy-3")),
    dict(alias="partner-share", id="1e8a0b2d-3c4f-4a6b-9d7e-8f9a0b1c2d3e", region="us-east-1",
         description="Files exchanged with the partner", created=1598263200.104, style="console",
         policy=P(S("Allow", "kms:*", "*", sid="Enable IAM User Permissions", principal=ROOT_PRINCIPAL),
                  S("Allow", ["kms:Decrypt", "kms:DescribeKey"], "*", sid="Allow use of the key by the partner",
                    principal={"AWS": f"arn:aws:iam::{EXT_PARTNER}:root"}),
                  pid="key-consolepolicy-3")),
    dict(alias="secrets-cmk", id="2f9b1c3e-4d5a-4b7c-8e9f-9a0b1c2d3e4f", region="us-east-1",
         description="Secrets Manager secrets", created=1614590000.771, style="console",
         policy=P(S("Allow", "kms:*", "*", sid="Enable IAM User Permissions", principal=ROOT_PRINCIPAL),
                  S("Allow", ["kms:Decrypt", "kms:DescribeKey"], "*",
                    sid="Allow use through Secrets Manager for principals in the account", principal={"AWS": "*"},
                    condition={"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com",
                                                "kms:CallerAccount": ACCOUNT}}),
                  pid="key-consolepolicy-3")),
    dict(alias="partner-token-cmk", id="6d3f5a7c-8b9e-4f1a-8c3d-3e4f5a6b7c8d", region="us-east-1",
         description="Tokens shared with partners", created=1601899000.66, style="console",
         policy=P(S("Allow", "kms:*", "*", sid="Enable IAM User Permissions", principal=ROOT_PRINCIPAL),
                  S("Allow", ["kms:Decrypt", "kms:DescribeKey"], "*",
                    sid="Allow use through Secrets Manager", principal={"AWS": "*"},
                    condition={"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}),
                  pid="key-consolepolicy-3")),
    dict(alias="aws/secretsmanager", id="3a0c2d4f-5e6b-4c8d-9f0a-0b1c2d3e4f5a", region="us-east-1",
         description="Default key that protects my Secrets Manager data when no other key is defined",
         created=1560350000.0, style="jackson", manager="AWS",
         policy=P(S("Allow", ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:CreateGrant", "kms:DescribeKey"],
                    "*", sid="Allow access through AWS Secrets Manager for all principals in the account that are "
                              "authorized to use AWS Secrets Manager", principal={"AWS": "*"},
                    condition={"StringEquals": {"kms:CallerAccount": ACCOUNT,
                                                "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}),
                  S("Allow", "kms:GenerateDataKey*", "*",
                    sid="Allow access through AWS Secrets Manager for all principals in the account that are "
                        "authorized to use AWS Secrets Manager", principal={"AWS": "*"},
                    condition={"StringEquals": {"kms:CallerAccount": ACCOUNT},
                               "StringLike": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}),
                  S("Allow", ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"], "*",
                    sid="Allow direct access to key metadata to the account", principal=ROOT_PRINCIPAL),
                  pid="auto-secretsmanager-2")),
    dict(alias="audit-logs", id="4b1d3e5a-6f7c-4d9e-8a1b-1c2d3e4f5a6b", region="eu-west-1", denied=True,
         description=None, created=None, policy=None),
    dict(alias="etl-staging", id="5c2e4f6b-7a8d-4e0f-9b2c-2d3e4f5a6b7c", region="eu-west-1",
         description="ETL staging data", created=1646729000.305, style="jackson",
         policy=P(S("Allow", "kms:*", "*", sid="Enable IAM User Permissions", principal=ROOT_PRINCIPAL),
                  pid="key-default-1")),
]

SECRETS = [
    dict(name="prod/payments/stripe-api-key", region="us-east-1", description="Payment provider API key",
         kms="secrets-cmk", created=1614591000.118, changed=1704067200.0, accessed=1717977600.0, policy=None),
    dict(name="prod/customers-db/credentials", region="us-east-1", description="customers-db master credentials",
         kms=None, created=1560351000.442, changed=1717200000.0, accessed=1717977600.0, policy=None),
    dict(name="shared/partner-api-token", region="us-east-1", description="Token partners use to call the orders API",
         kms="partner-token-cmk", created=1601899200.02, changed=1601899200.02, accessed=1717891200.0,
         policy=P(S("Allow", "secretsmanager:GetSecretValue", "*", sid="PartnersRead", principal={"AWS": "*"}))),
    dict(name="shared/org-config", region="us-east-1", description="Configuration shared with the organization",
         kms=None, created=1641803400.9, changed=1708000000.0, accessed=1717977600.0,
         policy=P(S("Allow", ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], "*",
                    sid="OrganizationRead", principal={"AWS": "*"},
                    condition={"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}))),
    dict(name="analytics/warehouse-credentials", region="eu-west-1", description="Warehouse login for ETL",
         kms=None, created=1646729500.0, changed=1714521600.0, accessed=1717977600.0, policy=None),
]

REPOSITORIES = [
    dict(name="lambda-images", region="us-east-1", created=1688000000.0,
         policy=P(S("Allow", ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], sid="LambdaECRImageRetrievalPolicy",
                    principal={"Service": "lambda.amazonaws.com"},
                    condition={"StringLike": {"aws:sourceArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:*"}}))),
    dict(name="public-base-images", region="us-east-1", created=1621500000.0,
         policy=P(S("Allow", ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                    sid="AllowPull", principal="*"))),
    dict(name="shared-tools", region="us-east-1", created=1643000000.0,
         policy=P(S("Allow", ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                    sid="OrganizationPull", principal="*",
                    condition={"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}))),
    dict(name="web-app", region="us-east-1", created=1585000000.0, policy=None),
    dict(name="etl-jobs", region="eu-west-1", created=1646730000.0, policy=None),
]

# =================================================================================================
# ACCOUNT SPEC: Organizations
# =================================================================================================

FULL_AWS_ACCESS = dict(id="p-FullAWSAccess", name="FullAWSAccess", aws=True,
                       arn="arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
                       description="Allows access to every operation",
                       content=json.dumps(P(S("Allow", "*", "*")), indent=2))
GUARDRAILS = dict(id="p-7k2m9q4x", name="workload-guardrails", aws=False,
                  arn=f"arn:aws:organizations::{ORG_MGMT}:policy/{ORG_ID}/service_control_policy/p-7k2m9q4x",
                  description="Guardrails for workload accounts",
                  content=pretty4(P(
                      S("Deny", "organizations:LeaveOrganization", "*", sid="DenyLeavingTheOrganization"),
                      S("Deny", ["glue:CreateDevEndpoint", "glue:UpdateDevEndpoint"], "*",
                        sid="DenyGlueDevelopmentEndpoints"),
                      S("Deny", ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy"], "*",
                        sid="DenyBucketPolicyChangesOutsideHomeRegions",
                        condition={"StringNotEquals": {"aws:RequestedRegion": HOME_REGIONS}}))))
SCP_TARGETS = {ACCOUNT: [FULL_AWS_ACCESS], ORG_OU: [FULL_AWS_ACCESS, GUARDRAILS], ORG_ROOT: [FULL_AWS_ACCESS]}
ORG_PARENTS = {ACCOUNT: (ORG_OU, "ORGANIZATIONAL_UNIT"), ORG_OU: (ORG_ROOT, "ROOT")}
ORG_ACCOUNTS = [
    (ORG_MGMT, "acme-management", "aws-root@example.com", "INVITED", 1560000000.0),
    (ACCOUNT, "acme-demo", "aws-demo@example.com", "CREATED", 1560170000.0),
    (ORG_BACKUP, "acme-backup", "aws-backup@example.com", "CREATED", 1575000000.0),
    (ORG_LOGS, "acme-log-archive", "aws-logs@example.com", "CREATED", 1575000100.0),
]


# =================================================================================================
# Renderers: STS, IAM
# =================================================================================================

IAM_REGION = "us-east-1"  # IAM and Organizations are global: requests are signed for us-east-1
# The largest pages the listings allow, as a complete scan asks for them: IAM MaxItems (100 when not asked),
# KMS Limit (100), ECR maxResults (100). The demo answers some in smaller pages all the same (IAM and API
# Gateway may return fewer items than asked), so that a client must follow the tokens.
IAM_LARGEST_PAGE = 1000
KMS_LARGEST_PAGE = 1000
ECR_LARGEST_PAGE = 1000


def iam_sort(items):
    return sorted(items, key=lambda x: x["name"].lower())


def add_days(stamp, days):
    import datetime

    base = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")
    return (base + datetime.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def policy_text(doc, style):
    if style == "console":
        return pretty4(doc)
    if style == "aws":
        return json.dumps(doc, indent=2)
    return compact(doc)


def managed_arn(ref):
    name, kind = ref
    if kind == "aws":
        return aws_policy_arn(name, AWS_MANAGED[name]["path"])
    return policy_arn(name)


def render_sts(fx):
    role = next(r for r in ROLES if r["name"] == "tmscan-audit")
    rid = unique_id("AROA", "role", role["name"])
    fx.query("sts", STS_NS, None, "GetCallerIdentity", [
        el("Arn", f"arn:aws:sts::{ACCOUNT}:assumed-role/tmscan-audit/tmscan"),
        el("UserId", f"{rid}:tmscan"),
        el("Account", ACCOUNT),
    ], comment="STS GetCallerIdentity: the scan runs as a session of the tmscan-audit role",
        # mockcloud answers per identity: this file is for the scan credentials of scenario.json.
        extra_match=[("access-key", SCAN_ACCESS_KEY)])


def inline_list(tag, inline):
    return el(tag, [el("member", [el("PolicyName", name), el("PolicyDocument", iam_encode(compact(doc)))])
                    for name, doc in sorted((inline or {}).items())])


def attached_list(refs):
    return el("AttachedManagedPolicies", [el("member", [el("PolicyName", n), el("PolicyArn", managed_arn((n, k)))])
                                          for n, k in sorted(refs or [], key=lambda r: r[0].lower())])


def tags_list(tags):
    return el("Tags", [el("member", [el("Key", k), el("Value", v)]) for k, v in tags or []])


def role_core(r):
    path = r.get("path", "/")
    return [
        el("Path", path),
        el("RoleName", r["name"]),
        el("RoleId", unique_id("AROA", "role", r["name"])),
        el("Arn", role_arn(r["name"], path)),
        el("CreateDate", r["created"]),
        el("AssumeRolePolicyDocument", iam_encode(compact(r["trust"]))),
    ]


def instance_profile(r):
    return profile_member(r["profile"], r["created"], [r])


def profile_member(name, created, roles):
    return el("member", [
        el("Path", "/"),
        el("InstanceProfileName", name),
        el("InstanceProfileId", unique_id("AIPA", "profile", name)),
        el("Arn", f"arn:aws:iam::{ACCOUNT}:instance-profile/{name}"),
        el("CreateDate", created),
        el("Roles", [el("member", role_core(r)) for r in roles]),
    ])


def user_detail(u):
    return el("member", [
        el("Path", u["path"]),
        el("UserName", u["name"]),
        el("UserId", unique_id("AIDA", "user", u["name"])),
        el("Arn", user_arn(u["name"], u["path"])),
        el("CreateDate", u["created"]),
        inline_list("UserPolicyList", u.get("inline")),
        el("GroupList", [el("member", g) for g in u["groups"]]),
        attached_list(u.get("managed")),
        tags_list(u.get("tags")),
    ])


def group_detail(g):
    return el("member", [
        el("Path", "/"),
        el("GroupName", g["name"]),
        el("GroupId", unique_id("AGPA", "group", g["name"])),
        el("Arn", f"arn:aws:iam::{ACCOUNT}:group/{g['name']}"),
        el("CreateDate", g["created"]),
        inline_list("GroupPolicyList", g.get("inline")),
        attached_list(g.get("managed")),
    ])


def role_detail(r):
    children = role_core(r)
    children.append(el("InstanceProfileList", [instance_profile(r)] if r.get("profile") else []))
    children.append(inline_list("RolePolicyList", r.get("inline")))
    children.append(attached_list(r.get("managed")))
    if r.get("boundary"):
        children.append(el("PermissionsBoundary", [
            el("PermissionsBoundaryType", "PermissionsBoundaryPolicy"),
            el("PermissionsBoundaryArn", policy_arn(r["boundary"]))]))
    children.append(tags_list(r.get("tags")))
    if r.get("last_used"):
        children.append(el("RoleLastUsed", [el("LastUsedDate", r["last_used"][0]), el("Region", r["last_used"][1])]))
    return el("member", children)


def attachment_counts():
    counts = {}
    for entity in USERS + GROUPS + ROLES:
        for ref in entity.get("managed", []):
            counts[ref] = counts.get(ref, 0) + 1
    return counts


def managed_policy_details():
    counts = attachment_counts()
    boundaries = {}
    for r in ROLES:
        if r.get("boundary"):
            boundaries[r["boundary"]] = boundaries.get(r["boundary"], 0) + 1
    out = []
    for name, p in AWS_MANAGED.items():
        n = counts.get((name, "aws"), 0)
        if not n:
            continue
        out.append((name, el("member", [
            el("PolicyName", name), el("PolicyId", p["id"]), el("Arn", aws_policy_arn(name, p["path"])),
            el("Path", p["path"]), el("DefaultVersionId", p["version"]), el("AttachmentCount", n),
            el("PermissionsBoundaryUsageCount", 0), el("IsAttachable", True), el("Description", p["description"]),
            el("CreateDate", p["created"]), el("UpdateDate", p["updated"]),
            el("PolicyVersionList", [el("member", [
                el("Document", iam_encode(policy_text(p["doc"], "aws"))), el("VersionId", p["version"]),
                el("IsDefaultVersion", True), el("CreateDate", p["updated"])])]),
        ])))
    for name, p in CUSTOMER_MANAGED.items():
        versions = p["versions"]
        default = len(versions)
        stamps = [add_days(p["created"], 97 * i) for i in range(len(versions))]
        out.append((name, el("member", [
            el("PolicyName", name), el("PolicyId", unique_id("ANPA", "policy", name)), el("Arn", policy_arn(name)),
            el("Path", "/"), el("DefaultVersionId", f"v{default}"),
            el("AttachmentCount", counts.get((name, "customer"), 0)),
            el("PermissionsBoundaryUsageCount", boundaries.get(name, 0)), el("IsAttachable", True),
            el("Description", p["description"]),
            el("CreateDate", p["created"]), el("UpdateDate", stamps[-1]),
            el("PolicyVersionList", [el("member", [
                el("Document", iam_encode(policy_text(doc, p["style"]))), el("VersionId", f"v{i + 1}"),
                el("IsDefaultVersion", i + 1 == default), el("CreateDate", stamps[i])])
                for i, doc in reversed(list(enumerate(versions)))]),
        ])))
    return [m for _, m in sorted(out, key=lambda x: x[0].lower())]


def render_iam(fx):
    roles = iam_sort(ROLES)
    marker = token("iam", "gaad", "page2", n=64)
    page1 = [
        el("UserDetailList", [user_detail(u) for u in iam_sort(USERS)]),
        el("GroupDetailList", [group_detail(g) for g in iam_sort(GROUPS)]),
        el("RoleDetailList", [role_detail(r) for r in roles[:GAAD_PAGE1_ROLES]]),
        el("Policies", []),
        el("IsTruncated", True),
        el("Marker", marker),
    ]
    page2 = [
        el("UserDetailList", []),
        el("GroupDetailList", []),
        el("RoleDetailList", [role_detail(r) for r in roles[GAAD_PAGE1_ROLES:]]),
        el("Policies", managed_policy_details()),
        el("IsTruncated", False),
    ]
    fx.query("iam", IAM_NS, IAM_REGION, "GetAccountAuthorizationDetails", page1, slug="page1",
             params=[f"MaxItems={IAM_LARGEST_PAGE}"], comment="IAM GetAccountAuthorizationDetails, page 1 of 2 (users, groups, first roles)")
    fx.query("iam", IAM_NS, IAM_REGION, "GetAccountAuthorizationDetails", page2, slug="page2",
             params=[f"MaxItems={IAM_LARGEST_PAGE}", f"Marker={marker}"],
             comment="IAM GetAccountAuthorizationDetails, page 2 of 2 (remaining roles, managed policies)")

    # ListRoles: the one place IAM tells a role's MaxSessionDuration (GetAccountAuthorizationDetails omits it).
    fx.query("iam", IAM_NS, IAM_REGION, "ListRoles", [
        el("Roles", [el("member", role_core(r) + [el("MaxSessionDuration", r.get("max_session", 3600))])
                     for r in roles]),
        el("IsTruncated", False),
    ], params=[f"MaxItems={IAM_LARGEST_PAGE}"], comment="IAM ListRoles (one page)")

    # ListInstanceProfiles: the roles' profiles, and those without a role, which only this call names.
    profiles = sorted([(r["profile"], r["created"], [r]) for r in roles if r.get("profile")]
                      + [(p["name"], p["created"], []) for p in ROLELESS_PROFILES])
    fx.query("iam", IAM_NS, IAM_REGION, "ListInstanceProfiles", [
        el("InstanceProfiles", [profile_member(*p) for p in profiles]),
        el("IsTruncated", False),
    ], params=[f"MaxItems={IAM_LARGEST_PAGE}"], comment="IAM ListInstanceProfiles (one page)")

    for u in USERS:
        keys = u.get("keys", [])
        fx.query("iam", IAM_NS, IAM_REGION, "ListAccessKeys", [
            el("AccessKeyMetadata", [el("member", [el("UserName", u["name"]), el("AccessKeyId", k["id"]),
                                                   el("Status", k["status"]), el("CreateDate", k["created"])])
                                     for k in keys]),
            el("IsTruncated", False),
        ], slug=u["name"], params=[f"UserName={u['name']}"], comment=f"IAM ListAccessKeys for {u['name']}")
        for k in keys:
            fx.query("iam", IAM_NS, IAM_REGION, "GetAccessKeyLastUsed", [
                el("UserName", u["name"]),
                el("AccessKeyLastUsed", [el("LastUsedDate", k["last_used"]), el("ServiceName", k["service"]),
                                         el("Region", k["region"])]),
            ], slug=k["id"], params=[f"AccessKeyId={k['id']}"],
                comment=f"IAM GetAccessKeyLastUsed for {u['name']}'s {k['status'].lower()} key")

    fx.query("iam", IAM_NS, IAM_REGION, "ListAccountAliases", [
        el("AccountAliases", [el("member", ALIAS)]), el("IsTruncated", False)])
    fx.query("iam", IAM_NS, IAM_REGION, "ListOpenIDConnectProviders", [
        el("OpenIDConnectProviderList", [el("member", [el("Arn", OIDC_GITHUB)])])])
    fx.query("iam", IAM_NS, IAM_REGION, "GetOpenIDConnectProvider", [
        el("ClientIDList", [el("member", "sts.amazonaws.com")]),
        el("ThumbprintList", [el("member", "6938fd4d98bab03faadb97b34396831e3780aea1"),
                              el("member", "1c58a3a8518e8759bf075b76b750d4f2df264fcd")]),
        el("CreateDate", "2022-05-19T16:40:12Z"),
        el("Url", "token.actions.githubusercontent.com"),
        el("Tags", []),
    ], slug="github", params=[f"OpenIDConnectProviderArn={OIDC_GITHUB}"],
        comment="IAM GetOpenIDConnectProvider: GitHub Actions")
    fx.query("iam", IAM_NS, IAM_REGION, "ListSAMLProviders", [
        el("SAMLProviderList", [el("member", [el("Arn", SAML_OKTA), el("ValidUntil", "2119-06-11T09:00:00Z"),
                                             el("CreateDate", "2019-06-11T09:00:00Z")])])])


# =================================================================================================
# Renderers: S3 and S3 Control
# =================================================================================================


def acl_grant(grantee, permission):
    if grantee == "owner":
        g = el("Grantee", [el("ID", S3_OWNER_ID), el("DisplayName", S3_OWNER_NAME)],
               xmlns__xsi="http://www.w3.org/2001/XMLSchema-instance", xsi__type="CanonicalUser")
    else:
        g = el("Grantee", [el("URI", grantee)], xmlns__xsi="http://www.w3.org/2001/XMLSchema-instance",
               xsi__type="Group")
    return el("Grant", [g, el("Permission", permission)])


def bpa_xml(cfg, ns):
    return el("PublicAccessBlockConfiguration", [el(k, cfg[k]) for k in (
        "BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")], xmlns=ns)


def render_s3(fx):
    fx.s3(None, "ListBuckets", "/", [], el("ListAllMyBucketsResult", [
        el("Owner", [el("ID", S3_OWNER_ID), el("DisplayName", S3_OWNER_NAME)]),
        el("Buckets", [el("Bucket", [el("Name", b["name"]), el("CreationDate", b["created"])])
                       for b in sorted(BUCKETS, key=lambda b: b["name"])]),
    ], xmlns=S3_NS), slug=None, comment="S3 ListBuckets")

    for b in BUCKETS:
        name, region, path = b["name"], b["region"], "/" + b["name"]
        loc = None if region == "us-east-1" else region
        fx.s3(None, "GetBucketLocation", path, ["location"], el("LocationConstraint", loc, xmlns=S3_NS), slug=name,
              comment=f"S3 GetBucketLocation {name} ({region})")

        policy = b.get("policy")
        if policy == "AccessDenied":
            fx.s3_error(region, "GetBucketPolicy", path, ["policy"], 403, "AccessDenied", "Access Denied", name,
                        comment=f"S3 GetBucketPolicy {name}: its own policy denies reading the policy to all but "
                                "the finance administrators, so the scan cannot see it (a coverage gap)")
        elif policy is None:
            fx.s3_error(region, "GetBucketPolicy", path, ["policy"], 404, "NoSuchBucketPolicy",
                        "The bucket policy does not exist", name, extra=[("BucketName", name)])
        else:
            fx.s3(region, "GetBucketPolicy", path, ["policy"], None, name, body_text=compact(policy),
                  content_type="application/json", comment=f"S3 GetBucketPolicy {name}")
        if policy is None:
            fx.s3_error(region, "GetBucketPolicyStatus", path, ["policyStatus"], 404, "NoSuchBucketPolicy",
                        "The bucket policy does not exist", name, extra=[("BucketName", name)])
        else:
            fx.s3(region, "GetBucketPolicyStatus", path, ["policyStatus"],
                  el("PolicyStatus", [el("IsPublic", b["policy_public"])], xmlns=S3_NS), name)

        grants = [acl_grant("owner", "FULL_CONTROL")] + [acl_grant(g, p) for g, p in b.get("acl", [])]
        fx.s3(region, "GetBucketAcl", path, ["acl"], el("AccessControlPolicy", [
            el("Owner", [el("ID", S3_OWNER_ID), el("DisplayName", S3_OWNER_NAME)]),
            el("AccessControlList", grants)], xmlns=S3_NS), name)

        if b.get("bpa"):
            fx.s3(region, "GetPublicAccessBlock", path, ["publicAccessBlock"], bpa_xml(b["bpa"], S3_NS), name)
        else:
            fx.s3_error(region, "GetPublicAccessBlock", path, ["publicAccessBlock"], 404,
                        "NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found",
                        name, extra=[("BucketName", name)])

        if b.get("ownership"):
            fx.s3(region, "GetBucketOwnershipControls", path, ["ownershipControls"], el("OwnershipControls", [
                el("Rule", [el("ObjectOwnership", b["ownership"])])], xmlns=S3_NS), name)
        else:
            fx.s3_error(region, "GetBucketOwnershipControls", path, ["ownershipControls"], 404,
                        "OwnershipControlsNotFoundError", "The bucket ownership controls were not found", name,
                        extra=[("BucketName", name)])

        if b.get("website"):
            index, error = b["website"]
            fx.s3(region, "GetBucketWebsite", path, ["website"], el("WebsiteConfiguration", [
                el("IndexDocument", [el("Suffix", index)]), el("ErrorDocument", [el("Key", error)])], xmlns=S3_NS),
                name)
        else:
            fx.s3_error(region, "GetBucketWebsite", path, ["website"], 404, "NoSuchWebsiteConfiguration",
                        "The specified bucket does not have a website configuration", name,
                        extra=[("BucketName", name)])

    # S3 Control: the account's Block Public Access and the access points of each region.
    account_header = [("header", f"x-amz-account-id={ACCOUNT}")]
    fx.s3(None, "GetPublicAccessBlock", "/v20180820/configuration/publicAccessBlock", [],
          bpa_xml(ACCOUNT_BPA, S3C_NS), slug="account", dirregion="global", extra_match=account_header, top="s3control",
          comment="S3 Control GetPublicAccessBlock for the account: only BlockPublicAcls is on")
    for region in STANDARD_REGIONS:
        aps = [a for a in ACCESS_POINTS if a["region"] == region]
        items = []
        for a in aps:
            kids = [el("Name", a["name"]), el("NetworkOrigin", a["origin"])]
            if a["origin"] == "VPC":
                kids.append(el("VpcConfiguration", [el("VpcId", a["vpc"])]))
            kids += [el("Bucket", a["bucket"]),
                     el("AccessPointArn", f"arn:aws:s3:{region}:{ACCOUNT}:accesspoint/{a['name']}"),
                     el("Alias", f"{a['name']}-{hexid(34, 'alias', a['name'])}-s3alias")]
            items.append(el("AccessPoint", kids))
        fx.s3(region, "ListAccessPoints", "/v20180820/accesspoint", [f"maxResults={ACCESS_POINTS_PAGE}"],
              el("ListAccessPointsResult", [el("AccessPointList", items)], xmlns=S3C_NS), slug=None,
              extra_match=account_header, top="s3control",
              comment=f"S3 Control ListAccessPoints in {region}: every access point of the account there")
        for a in aps:
            kids = [el("Name", a["name"]), el("Bucket", a["bucket"]), el("NetworkOrigin", a["origin"])]
            if a["origin"] == "VPC":
                kids.append(el("VpcConfiguration", [el("VpcId", a["vpc"])]))
            bpa = a.get("bpa", ACCESS_POINT_BPA)
            kids += [el("PublicAccessBlockConfiguration", [el(k, bpa[k]) for k in (
                         "BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")]),
                     el("CreationDate", a.get("created", ACCESS_POINT_CREATED)),
                     el("Alias", f"{a['name']}-{hexid(34, 'alias', a['name'])}-s3alias"),
                     el("AccessPointArn", f"arn:aws:s3:{region}:{ACCOUNT}:accesspoint/{a['name']}"),
                     el("Endpoints", [el("entry", [el("key", k), el("value", v)]) for k, v in (
                         ("dualstack", f"s3-accesspoint.dualstack.{region}.amazonaws.com"),
                         ("fips", f"s3-accesspoint-fips.{region}.amazonaws.com"),
                         ("fips_dualstack", f"s3-accesspoint-fips.dualstack.{region}.amazonaws.com"),
                         ("ipv4", f"s3-accesspoint.{region}.amazonaws.com"))]),
                     el("BucketAccountId", ACCOUNT)]
            fx.s3(region, "GetAccessPoint", f"/v20180820/accesspoint/{a['name']}", [],
                  el("GetAccessPointResult", kids, xmlns=S3C_NS), slug=a["name"], extra_match=account_header,
                  top="s3control", comment=f"S3 Control GetAccessPoint {a['name']}: its Block Public Access")
            path = f"/v20180820/accesspoint/{a['name']}/policy"
            if a["policy"]:
                fx.s3(region, "GetAccessPointPolicy", path, [], el("GetAccessPointPolicyResult", [
                    el("Policy", compact(a["policy"]))], xmlns=S3C_NS), slug=a["name"], extra_match=account_header,
                    top="s3control", comment=f"S3 Control GetAccessPointPolicy {a['name']}")
            else:
                fx.s3_error(region, "GetAccessPointPolicy", path, [], 404, "NoSuchAccessPointPolicy",
                            "The specified accesspoint does not have an accesspoint policy", a["name"],
                            extra_match=account_header, top="s3control")


# =================================================================================================
# Renderers: Lambda
# =================================================================================================

LAMBDA_NOT_FOUND = {"Type": "User", "Message": "The resource you requested does not exist."}


def function_config(f):
    arn = fn_arn(f["region"], f["name"])
    cfg = {
        "FunctionName": f["name"], "FunctionArn": arn, "Runtime": f["runtime"], "Role": f["role"],
        "Handler": f["handler"], "CodeSize": f["code_size"], "Description": f["description"],
        "Timeout": f["timeout"], "MemorySize": f["memory"], "LastModified": f["modified"],
        "CodeSha256": base64.b64encode(digest("code", f["name"])).decode(), "Version": "$LATEST",
    }
    if f.get("vpc"):
        subnets, sgs, vpc = f["vpc"]
        cfg["VpcConfig"] = {"SubnetIds": subnets, "SecurityGroupIds": sgs, "VpcId": vpc}
    if f.get("env"):
        cfg["Environment"] = {"Variables": f["env"]}
    cfg["TracingConfig"] = {"Mode": "PassThrough"}
    cfg["RevisionId"] = str(uuid.UUID(bytes=digest("revision", f["name"])[:16], version=4))
    if f.get("layers"):
        cfg["Layers"] = [{"Arn": a, "CodeSize": n} for a, n in f["layers"]]
    cfg["PackageType"] = "Zip"
    cfg["Architectures"] = [f.get("arch", "x86_64")]
    cfg["EphemeralStorage"] = {"Size": 512}
    cfg["SnapStart"] = {"ApplyOn": "None", "OptimizationStatus": "Off"}
    return cfg


def lambda_get(fx, region, op, path, doc, slug, params=(), comment=None, status=200, error_type=None):
    fx.rest_json("lambda", region, op, "GET", path, doc, slug=slug, params=params, comment=comment, status=status,
                 error_type=error_type)


def render_lambda(fx):
    for region in STANDARD_REGIONS:
        fns = [f for f in FUNCTIONS if f["region"] == region]
        pages = [fns[i:i + LAMBDA_PAGE_SIZE] for i in range(0, len(fns), LAMBDA_PAGE_SIZE)] or [[]]
        marker = None
        for n, page in enumerate(pages, 1):
            doc = {}
            next_marker = token("lambda", region, "page", n + 1, n=56) if n < len(pages) else None
            if next_marker:
                doc["NextMarker"] = next_marker
            doc["Functions"] = [function_config(f) for f in page]
            lambda_get(fx, region, "ListFunctions", "/2015-03-31/functions/", doc,
                       slug=f"page{n}" if len(pages) > 1 else None,
                       params=[f"Marker={marker}"] if marker else (),
                       comment=f"Lambda ListFunctions in {region}" + (f", page {n} of {len(pages)}"
                                                                       if len(pages) > 1 else ""))
            marker = next_marker

        mappings = [m for m in EVENT_SOURCE_MAPPINGS if m["region"] == region]
        lambda_get(fx, region, "ListEventSourceMappings", "/2015-03-31/event-source-mappings/", {
            "EventSourceMappings": [{
                "UUID": m["uuid"], "BatchSize": m["batch"], "MaximumBatchingWindowInSeconds": 0,
                "EventSourceArn": m["source"], "FunctionArn": fn_arn(region, m["function"]),
                "LastModified": m["modified"], "State": "Enabled", "StateTransitionReason": "USER_INITIATED",
                "FunctionResponseTypes": []} for m in mappings]}, slug=None,
            comment=f"Lambda ListEventSourceMappings in {region} (every mapping of the region)")

        for f in fns:
            name = f["name"]
            arn = fn_arn(region, name)
            base = f"/2015-03-31/functions/{name}"
            if f["policy"]:
                lambda_get(fx, region, "GetPolicy", base + "/policy", {
                    "Policy": compact(f["policy"](arn)),
                    "RevisionId": str(uuid.UUID(bytes=digest("revision", name)[:16], version=4))}, slug=name,
                    comment=f"Lambda GetPolicy {name}")
            else:
                lambda_get(fx, region, "GetPolicy", base + "/policy", LAMBDA_NOT_FOUND, slug=name, status=404,
                           error_type="ResourceNotFoundException", comment=f"Lambda GetPolicy {name}: no policy")
            url = f.get("url")
            if url:
                doc = {"FunctionUrl": f"https://{url['id']}.lambda-url.{region}.on.aws/", "FunctionArn": arn,
                       "AuthType": url["auth"]}
                if url["cors"]:
                    doc["Cors"] = url["cors"]
                doc["CreationTime"] = url["created"]
                doc["LastModifiedTime"] = url["created"]
                fx.rest_json("lambda", region, "GetFunctionUrlConfig", "GET", f"/2021-10-31/functions/{name}/url", doc,
                             slug=name, comment=f"Lambda GetFunctionUrlConfig {name}: AuthType {url['auth']}")
            else:
                fx.rest_json("lambda", region, "GetFunctionUrlConfig", "GET", f"/2021-10-31/functions/{name}/url",
                             LAMBDA_NOT_FOUND, slug=name, status=404, error_type="ResourceNotFoundException",
                             comment=f"Lambda GetFunctionUrlConfig {name}: no function URL")
            aliases = f.get("aliases", [])
            lambda_get(fx, region, "ListAliases", base + "/aliases", {"Aliases": [{
                "AliasArn": f"{arn}:{a['name']}", "Name": a["name"], "FunctionVersion": a["version"],
                "Description": a["description"],
                "RevisionId": str(uuid.UUID(bytes=digest("revision", name, a["name"])[:16], version=4))}
                for a in aliases]}, slug=name, comment=f"Lambda ListAliases {name}")
            for a in aliases:
                alias_arn = f"{arn}:{a['name']}"
                lambda_get(fx, region, "GetPolicy", base + "/policy", {
                    "Policy": compact(a["policy"](alias_arn)),
                    "RevisionId": str(uuid.UUID(bytes=digest("revision", name, a["name"])[:16], version=4))},
                    slug=f"{name}--{a['name']}", params=[f"Qualifier={a['name']}"],
                    comment=f"Lambda GetPolicy {name}:{a['name']} (the alias has its own policy)")


# =================================================================================================
# Renderers: API Gateway (REST v1 and HTTP v2)
# =================================================================================================


def apigw(fx, region, op, path, doc, slug=None, params=(), comment=None, v2=False):
    fx.rest_json("apigateway", region, op, "GET", path, doc, slug=slug, params=params, comment=comment,
                 dirname="apigatewayv2" if v2 else "apigateway")


def render_apigateway(fx):
    for region in STANDARD_REGIONS:
        apis = [a for a in REST_APIS if a["region"] == region]
        items = []
        for a in apis:
            item = {"id": a["id"], "name": a["name"], "description": a["description"], "createdDate": a["created"],
                    "apiKeySource": "HEADER", "endpointConfiguration": {"types": a["endpoint"]}}
            if a.get("vpce"):
                item["endpointConfiguration"]["vpcEndpointIds"] = a["vpce"]
            if a["policy"]:
                item["policy"] = apigw_policy(a["policy"])
            item["disableExecuteApiEndpoint"] = False
            items.append(item)
        apigw(fx, region, "GetRestApis", "/restapis", {"item": items}, params=[f"limit={APIGW_LARGEST_PAGE}"],
              comment=f"API Gateway GetRestApis in {region}")
        plans = USAGE_PLANS if region == "us-east-1" else []
        apigw(fx, region, "GetUsagePlans", "/usageplans", {"item": plans}, params=[f"limit={APIGW_LARGEST_PAGE}"],
              comment=f"API Gateway GetUsagePlans in {region}")
        for a in apis:
            base = f"/restapis/{a['id']}"
            by_path = {r["path"]: r for r in a["resources"]}
            resources = []
            for r in a["resources"]:
                item = {"id": r["id"]}
                if r["path"] != "/":
                    parent = r["path"].rsplit("/", 1)[0] or "/"
                    item["parentId"] = by_path[parent]["id"]
                    item["pathPart"] = r["path"].rsplit("/", 1)[1]
                item["path"] = r["path"]
                if r["methods"]:
                    item["resourceMethods"] = {m: r["methods"][m] for m in sorted(r["methods"])}
                resources.append(item)
            pages = [resources[i:i + APIGW_RESOURCES_PAGE] for i in range(0, len(resources), APIGW_RESOURCES_PAGE)]
            position = None
            for n, page in enumerate(pages, 1):
                doc = {}
                next_position = token("apigw", a["id"], n + 1, n=24) if n < len(pages) else None
                if next_position:
                    doc["position"] = next_position
                doc["item"] = page
                params = ["embed=methods"] + ([f"position={position}"] if position else [])
                apigw(fx, region, "GetResources", base + "/resources", doc,
                      slug=f"{a['name']}" + (f"--page{n}" if len(pages) > 1 else ""), params=params,
                      comment=f"API Gateway GetResources {a['name']} with methods embedded"
                              + (f", page {n} of {len(pages)}" if len(pages) > 1 else ""))
                position = next_position
            apigw(fx, region, "GetAuthorizers", base + "/authorizers", {"item": a["authorizers"]}, slug=a["name"],
                  params=[f"limit={APIGW_LARGEST_PAGE}"],
                  comment=f"API Gateway GetAuthorizers {a['name']}")
            apigw(fx, region, "GetStages", base + "/stages", {"item": a["stages"]}, slug=a["name"],
                  comment=f"API Gateway GetStages {a['name']}")

        http_apis = [a for a in HTTP_APIS if a["region"] == region]
        apigw(fx, region, "GetApis", "/v2/apis", {"items": [{
            "apiEndpoint": f"https://{a['id']}.execute-api.{region}.amazonaws.com", "apiId": a["id"],
            "apiKeySelectionExpression": "$request.header.x-api-key", "createdDate": a["created"],
            "disableExecuteApiEndpoint": False, "name": a["name"], "protocolType": "HTTP",
            "routeSelectionExpression": "$request.method $request.path", "tags": {}} for a in http_apis]},
            v2=True, comment=f"API Gateway v2 GetApis in {region}")
        for a in http_apis:
            base = f"/v2/apis/{a['id']}"
            for op, key in (("GetRoutes", "routes"), ("GetIntegrations", "integrations"),
                            ("GetAuthorizers", "authorizers"), ("GetStages", "stages")):
                apigw(fx, region, op, f"{base}/{key}", {"items": a[key]}, slug=a["name"], v2=True,
                      comment=f"API Gateway v2 {op} {a['name']}")


# =================================================================================================
# Renderers: SQS and SNS
# =================================================================================================


def sqs(fx, region, op, children, slug=None, params=(), comment=None):
    fx.query("sqs", SQS_NS, region, op, children, slug=slug, params=params, comment=comment, indent=None,
             declaration='<?xml version="1.0"?>', trailing_newline=False)


def queue_url(region, name):
    return f"https://sqs.{region}.amazonaws.com/{ACCOUNT}/{name}"


def queue_attributes(q):
    region = q["region"]
    attrs = [
        ("QueueArn", queue_arn(region, q["name"])),
        ("ApproximateNumberOfMessages", "0"),
        ("ApproximateNumberOfMessagesNotVisible", "0"),
        ("ApproximateNumberOfMessagesDelayed", "0"),
        ("CreatedTimestamp", str(q["created"])),
        ("LastModifiedTimestamp", str(q["created"] + 86400)),
        ("VisibilityTimeout", str(q.get("visibility", 30))),
        ("MaximumMessageSize", "262144"),
        ("MessageRetentionPeriod", str(q.get("retention", 345600))),
        ("DelaySeconds", "0"),
    ]
    if q["policy"]:
        attrs.append(("Policy", compact(q["policy"])))
    if q.get("redrive"):
        dlq, count = q["redrive"]
        attrs.append(("RedrivePolicy", compact({"deadLetterTargetArn": queue_arn(region, dlq),
                                                "maxReceiveCount": count})))
    if q.get("redrive_allow"):
        permission, sources = q["redrive_allow"]
        attrs.append(("RedriveAllowPolicy", compact({"redrivePermission": permission,
                                                     "sourceQueueArns": [queue_arn(region, x) for x in sources]})))
    attrs.append(("ReceiveMessageWaitTimeSeconds", "0"))
    if q.get("kms"):
        attrs.append(("KmsMasterKeyId", q["kms"]))
        attrs.append(("KmsDataKeyReusePeriodSeconds", "300"))
    else:
        attrs.append(("SqsManagedSseEnabled", "true" if q.get("sse") else "false"))
    return attrs


def render_sqs(fx):
    for region in STANDARD_REGIONS:
        queues = sorted((q for q in QUEUES if q["region"] == region), key=lambda q: q["name"])
        urls = [queue_url(region, q["name"]) for q in queues]
        sqs(fx, region, "ListQueues", [el("QueueUrl", u) for u in urls],
            comment=f"SQS ListQueues in {region} (without MaxResults SQS returns every queue, up to 1000)")
        if len(urls) > SQS_PAGE_SIZE:
            next_token = token("sqs", region, "page2", n=88)
            sqs(fx, region, "ListQueues", [el("QueueUrl", u) for u in urls[:SQS_PAGE_SIZE]]
                + [el("NextToken", next_token)], slug="page1", params=["MaxResults"],
                comment=f"SQS ListQueues in {region} with MaxResults, page 1 of 2")
            sqs(fx, region, "ListQueues", [el("QueueUrl", u) for u in urls[SQS_PAGE_SIZE:]], slug="page2",
                params=["MaxResults", f"NextToken={next_token}"],
                comment=f"SQS ListQueues in {region} with MaxResults, page 2 of 2")
        for q in queues:
            sqs(fx, region, "GetQueueAttributes", [
                el("Attribute", [el("Name", k), el("Value", v)]) for k, v in queue_attributes(q)],
                slug=q["name"], params=[f"QueueUrl={queue_url(region, q['name'])}", "AttributeName.1=All"],
                comment=f"SQS GetQueueAttributes {q['name']} (AttributeName.1=All)")


def sns(fx, region, op, children, slug=None, params=(), comment=None):
    fx.query("sns", SNS_NS, region, op, children, slug=slug, params=params, comment=comment)


SNS_DELIVERY_POLICY = compact({"http": {"defaultHealthyRetryPolicy": {
    "minDelayTarget": 20, "maxDelayTarget": 20, "numRetries": 3, "numMaxDelayRetries": 0, "numNoDelayRetries": 0,
    "numMinDelayRetries": 0, "backoffFunction": "linear"}, "disableSubscriptionOverrides": False,
    "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"}}})


def subscription_arn(sub):
    if sub.get("pending"):
        return "PendingConfirmation"
    return topic_arn(sub["region"], sub["topic"]) + ":" + str(uuid.UUID(bytes=digest("sub", sub["endpoint"],
                                                                                     sub["topic"])[:16], version=4))


def render_sns(fx):
    for region in STANDARD_REGIONS:
        topics = sorted((t for t in TOPICS if t["region"] == region), key=lambda t: t["name"])
        sns(fx, region, "ListTopics", [el("Topics", [el("member", [el("TopicArn", topic_arn(region, t["name"]))])
                                                     for t in topics])], comment=f"SNS ListTopics in {region}")
        subs = [x for x in SUBSCRIPTIONS if x["region"] == region]
        sns(fx, region, "ListSubscriptions", [el("Subscriptions", [el("member", [
            el("SubscriptionArn", subscription_arn(x)), el("Owner", x["owner"]), el("Protocol", x["protocol"]),
            el("Endpoint", x["endpoint"]), el("TopicArn", topic_arn(region, x["topic"]))]) for x in subs])],
            comment=f"SNS ListSubscriptions in {region}")
        for t in topics:
            arn = topic_arn(region, t["name"])
            mine = [x for x in subs if x["topic"] == t["name"]]
            attrs = [("Policy", compact(t["policy"])), ("Owner", ACCOUNT),
                     ("SubscriptionsPending", str(sum(1 for x in mine if x.get("pending")))),
                     ("TopicArn", arn), ("EffectiveDeliveryPolicy", SNS_DELIVERY_POLICY),
                     ("SubscriptionsConfirmed", str(sum(1 for x in mine if not x.get("pending")))),
                     ("DisplayName", t["display"]), ("SubscriptionsDeleted", "0")]
            if t.get("kms"):
                attrs.append(("KmsMasterKeyId", t["kms"]))
            sns(fx, region, "GetTopicAttributes", [el("Attributes", [
                el("entry", [el("key", k), el("value", v)]) for k, v in attrs])],
                slug=t["name"], params=[f"TopicArn={arn}"], comment=f"SNS GetTopicAttributes {t['name']}")


# =================================================================================================
# Renderers: EC2
# =================================================================================================


def tag_set(tags):
    return el("tagSet", [el("item", [el("key", k), el("value", v)]) for k, v in tags])


def group_set(region, names):
    sgs = {g["id"]: g for g in SECURITY_GROUPS.get(region, [])}
    return el("groupSet", [el("item", [el("groupId", SG[n]), el("groupName", sgs[SG[n]]["name"])]) for n in names])


def permission(rule):
    kids = [el("ipProtocol", rule["proto"])]
    if rule["port"] is not None:
        kids.append(el("fromPort", rule["port"]))
        kids.append(el("toPort", rule["to_port"]))
    kids.append(el("groups", [el("item", [el("userId", ACCOUNT), el("groupId", g)]) for g in rule["groups"]]))
    kids.append(el("ipRanges", [el("item", [el("cidrIp", c)] + ([el("description", d)] if d else []))
                                for c, d in rule["cidrs"]]))
    kids.append(el("ipv6Ranges", [el("item", [el("cidrIpv6", c)] + ([el("description", d)] if d else []))
                                  for c, d in rule["cidrs6"]]))
    kids.append(el("prefixListIds", []))
    return el("item", kids)


def public_dns(region, ip):
    host = "ec2-" + ip.replace(".", "-")
    return f"{host}.compute-1.amazonaws.com" if region == "us-east-1" else f"{host}.{region}.compute.amazonaws.com"


def private_dns(region, ip):
    host = "ip-" + ip.replace(".", "-")
    return f"{host}.ec2.internal" if region == "us-east-1" else f"{host}.{region}.compute.internal"


def mac(eni):
    h = hexid(12, "mac", eni)
    return "0e:" + ":".join(h[i:i + 2] for i in range(2, 12, 2))


def instance_item(i):
    region = i["region"]
    running = i["state"] == "running"
    assoc = []
    if i["public_ip"] and running:
        assoc = [el("association", [el("publicIp", i["public_ip"]),
                                    el("publicDnsName", public_dns(region, i["public_ip"])),
                                    el("ipOwnerId", "amazon")])]
    eni = el("item", [
        *assoc,
        el("attachment", [el("attachTime", i["launched"]), el("attachmentId", "eni-attach-" + hexid(17, i["eni"])),
                          el("deleteOnTermination", True), el("deviceIndex", 0), el("status", "attached"),
                          el("networkCardIndex", 0)]),
        el("description", ""),
        group_set(region, i["sgs"]),
        el("ipv6AddressesSet", []),
        el("macAddress", mac(i["eni"])),
        el("networkInterfaceId", i["eni"]),
        el("ownerId", ACCOUNT),
        el("privateDnsName", private_dns(region, i["private_ip"])),
        el("privateIpAddress", i["private_ip"]),
        el("privateIpAddressesSet", [el("item", [
            *assoc, el("primary", True), el("privateDnsName", private_dns(region, i["private_ip"])),
            el("privateIpAddress", i["private_ip"])])]),
        el("sourceDestCheck", True),
        el("status", "in-use"),
        el("subnetId", i["subnet"]),
        el("vpcId", i["vpc"]),
        el("interfaceType", "interface"),
    ])
    kids = [
        el("instanceId", i["id"]),
        el("imageId", i["ami"]),
        el("instanceState", [el("code", 16 if running else 80), el("name", i["state"])]),
        el("privateDnsName", private_dns(region, i["private_ip"])),
        el("dnsName", public_dns(region, i["public_ip"]) if i["public_ip"] and running else None),
        el("reason", None if running else "User initiated (2024-01-15 10:00:00 GMT)"),
    ]
    if i.get("key"):
        kids.append(el("keyName", i["key"]))
    kids += [
        el("amiLaunchIndex", 0),
        el("productCodes", []),
        el("instanceType", i["type"]),
        el("launchTime", i["launched"]),
        el("placement", [el("availabilityZone", i["az"]), el("groupName", None), el("tenancy", "default")]),
        el("monitoring", [el("state", "disabled")]),
        el("subnetId", i["subnet"]),
        el("vpcId", i["vpc"]),
        el("privateIpAddress", i["private_ip"]),
    ]
    if i["public_ip"] and running:
        kids.append(el("ipAddress", i["public_ip"]))
    kids += [
        el("sourceDestCheck", True),
        group_set(region, i["sgs"]),
    ]
    if not running:
        kids.append(el("stateReason", [el("code", "Client.UserInitiatedShutdown"),
                                       el("message", "Client.UserInitiatedShutdown: User initiated shutdown")]))
    kids += [
        el("architecture", i.get("arch", "x86_64")),
        el("rootDeviceType", "ebs"),
        el("rootDeviceName", "/dev/xvda"),
        el("blockDeviceMapping", [el("item", [el("deviceName", "/dev/xvda"), el("ebs", [
            el("volumeId", "vol-" + hexid(17, "root", i["id"])), el("status", "attached"),
            el("attachTime", i["launched"]), el("deleteOnTermination", True)])])]),
        el("virtualizationType", "hvm"),
        el("clientToken", str(uuid.UUID(bytes=digest("client", i["id"])[:16], version=4))),
        tag_set([("Name", i["name"])]),
        el("hypervisor", "xen"),  # EC2 reports "xen" for Nitro instances too
        el("networkInterfaceSet", [eni]),
    ]
    if i.get("profile"):
        kids.append(el("iamInstanceProfile", [
            el("arn", f"arn:aws:iam::{ACCOUNT}:instance-profile/{i['profile']}"),
            el("id", unique_id("AIPA", "profile", i["profile"]))]))
    kids += [
        el("ebsOptimized", not i["type"].startswith("t3")),
        el("enaSupport", True),
        el("cpuOptions", [el("coreCount", 1 if i["type"].endswith("small") else 2), el("threadsPerCore", 2)]),
        el("capacityReservationSpecification", [el("capacityReservationPreference", "open")]),
        el("hibernationOptions", [el("configured", False)]),
        el("metadataOptions", [el("state", "applied"), el("httpTokens", i["http_tokens"]),
                               el("httpPutResponseHopLimit", 1 if i["http_tokens"] == "optional" else 2),
                               el("httpEndpoint", "enabled"), el("httpProtocolIpv6", "disabled"),
                               el("instanceMetadataTags", "disabled")]),
        el("enclaveOptions", [el("enabled", False)]),
        el("platformDetails", "Linux/UNIX"),
        el("usageOperation", "RunInstances"),
        el("usageOperationUpdateTime", i["launched"]),
        el("privateDnsNameOptions", [el("hostnameType", "ip-name"), el("enableResourceNameDnsARecord", False),
                                     el("enableResourceNameDnsAAAARecord", False)]),
        el("maintenanceOptions", [el("autoRecovery", "default")]),
    ]
    return el("item", kids)


def eni_item(e, region):
    assoc = []
    if e.get("public_ip"):
        assoc = [el("association", [el("ipOwnerId", e.get("ip_owner", ACCOUNT)),
                                    el("publicDnsName", public_dns(region, e["public_ip"])),
                                    el("publicIp", e["public_ip"])])]
    attach = []
    if e.get("instance"):
        attach = [el("attachment", [el("attachTime", e["attached"]),
                                    el("attachmentId", "eni-attach-" + hexid(17, e["id"])),
                                    el("deleteOnTermination", True), el("deviceIndex", 0),
                                    el("networkCardIndex", 0), el("instanceId", e["instance"]),
                                    el("instanceOwnerId", ACCOUNT), el("status", "attached")])]
    elif e.get("requester"):
        attach = [el("attachment", [el("attachTime", "2023-02-20T10:00:00.000Z"),
                                    el("attachmentId", "ela-attach-" + hexid(8, e["id"])),
                                    el("deleteOnTermination", False), el("deviceIndex", 1),
                                    el("networkCardIndex", 0), el("instanceOwnerId", e["requester"]),
                                    el("status", "attached")])]
    kids = [
        *assoc,
        *attach,
        el("availabilityZone", e["az"]),
        el("description", e["description"]),
        group_set(region, e["sgs"]),
        el("interfaceType", e["type"]),
        el("ipv6AddressesSet", []),
        el("macAddress", mac(e["id"])),
        el("networkInterfaceId", e["id"]),
        el("ownerId", ACCOUNT),
        el("privateDnsName", private_dns(region, e["private_ip"])),
        el("privateIpAddress", e["private_ip"]),
        el("privateIpAddressesSet", [el("item", [
            *assoc, el("primary", True), el("privateDnsName", private_dns(region, e["private_ip"])),
            el("privateIpAddress", e["private_ip"])])]),
        el("ipv4PrefixSet", []),
        el("ipv6PrefixSet", []),
    ]
    if e.get("requester"):
        kids.append(el("requesterId", e["requester"]))
    kids += [
        el("requesterManaged", bool(e.get("requester")) or e["type"] in ("lambda", "vpc_endpoint")),
        el("sourceDestCheck", True),
        el("status", "in-use"),
        el("subnetId", e["subnet"]),
        tag_set([]),
        el("vpcId", e["vpc"]),
    ]
    return el("item", kids)


def instance_enis(region):
    out = []
    for i in INSTANCES:
        if i["region"] != region:
            continue
        out.append(dict(id=i["eni"], az=i["az"], subnet=i["subnet"], vpc=i["vpc"], private_ip=i["private_ip"],
                        public_ip=i["public_ip"] if i["state"] == "running" else None, sgs=i["sgs"],
                        description="", type="interface", instance=i["id"], attached=i["launched"],
                        ip_owner="amazon"))
    return out


def render_ec2(fx):
    def region_item(name):
        status = "opt-in-not-required" if name in STANDARD_REGIONS else "not-opted-in"
        return el("item", [el("regionName", name), el("regionEndpoint", f"ec2.{name}.amazonaws.com"),
                           el("optInStatus", status)])

    fx.ec2(None, "DescribeRegions", [el("regionInfo", [region_item(r) for r in sorted(STANDARD_REGIONS)])],
           comment="EC2 DescribeRegions: the regions enabled for the account")
    fx.ec2(None, "DescribeRegions", [el("regionInfo", [region_item(r) for r in
                                                        sorted(STANDARD_REGIONS + OPT_IN_REGIONS)])],
           slug="all", params=["AllRegions=true"],
           comment="EC2 DescribeRegions AllRegions=true: every region with its opt-in status")

    for region in STANDARD_REGIONS:
        reservations = [el("item", [
            el("reservationId", "r-" + hexid(17, "reservation", i["id"])),
            el("ownerId", ACCOUNT),
            el("groupSet", []),
            el("instancesSet", [instance_item(i)]),
        ]) for i in INSTANCES if i["region"] == region]
        fx.ec2(region, "DescribeInstances", [el("reservationSet", reservations)],
               comment=f"EC2 DescribeInstances in {region}")

        groups = SECURITY_GROUPS.get(region, [default_sg_spec(region)])
        fx.ec2(region, "DescribeSecurityGroups", [el("securityGroupInfo", [el("item", [
            el("ownerId", ACCOUNT), el("groupId", g["id"]), el("groupName", g["name"]),
            el("groupDescription", g["description"]), el("vpcId", g["vpc"]),
            el("ipPermissions", [permission(r) for r in g["ingress"]]),
            el("ipPermissionsEgress", [permission(r) for r in g["egress"]]),
        ]) for g in groups])], comment=f"EC2 DescribeSecurityGroups in {region}")

        enis = instance_enis(region) + [e for e in SERVICE_ENIS if e["region"] == region]
        fx.ec2(region, "DescribeNetworkInterfaces", [el("networkInterfaceSet", [
            eni_item(e, region) for e in sorted(enis, key=lambda e: e["id"])])],
            comment=f"EC2 DescribeNetworkInterfaces in {region}")

        snaps = [x for x in SNAPSHOTS if x["region"] == region]
        fx.ec2(region, "DescribeSnapshots", [el("snapshotSet", [el("item", [
            el("snapshotId", x["id"]), el("volumeId", x["volume"]), el("status", "completed"),
            el("startTime", x["started"]), el("progress", "100%"), el("ownerId", ACCOUNT),
            el("volumeSize", x["size"]), el("description", x["description"]), el("encrypted", x["encrypted"]),
            *([el("kmsKeyId", rds_key(region, "customer-data" if region == "us-east-1" else "etl-staging"))]
              if x["encrypted"] else []),
            el("storageTier", "standard"),
        ]) for x in snaps])], params=["Owner.1=self"], comment=f"EC2 DescribeSnapshots OwnerIds=self in {region}")
        for x in snaps:
            fx.ec2(region, "DescribeSnapshotAttribute", [
                el("snapshotId", x["id"]),
                el("createVolumePermission", [el("item", [el("group", "all")]) if a == "all" else
                                              el("item", [el("userId", a)]) for a in x["shared"]]),
            ], slug=x["id"], params=["Attribute=createVolumePermission", f"SnapshotId={x['id']}"],
                comment=f"EC2 DescribeSnapshotAttribute createVolumePermission {x['id']}")

        images = [m for m in IMAGES if m["region"] == region]
        fx.ec2(region, "DescribeImages", [el("imagesSet", [el("item", [
            el("imageId", m["id"]), el("imageLocation", f"{ACCOUNT}/{m['name']}"), el("imageState", "available"),
            el("imageOwnerId", ACCOUNT), el("creationDate", m["created"]), el("isPublic", m["public"]),
            el("architecture", "x86_64"), el("imageType", "machine"), el("sriovNetSupport", "simple"),
            el("name", m["name"]), el("description", m["description"]), el("rootDeviceType", "ebs"),
            el("rootDeviceName", "/dev/xvda"),
            el("blockDeviceMapping", [el("item", [el("deviceName", "/dev/xvda"), el("ebs", [
                el("snapshotId", m["snapshot"]), el("volumeSize", 30), el("deleteOnTermination", True),
                el("volumeType", "gp3"), el("iops", 3000), el("throughput", 125), el("encrypted", m["encrypted"])])])]),
            el("virtualizationType", "hvm"), tag_set([("Name", m["name"])]), el("hypervisor", "xen"),
            el("enaSupport", True), el("platformDetails", "Linux/UNIX"), el("usageOperation", "RunInstances"),
        ]) for m in images])], params=["Owner.1=self"], comment=f"EC2 DescribeImages Owners=self in {region}")
        for m in images:
            fx.ec2(region, "DescribeImageAttribute", [
                el("imageId", m["id"]),
                el("launchPermission", [el("item", [el("group", "all")])] if m["public"] else []),
            ], slug=m["id"], params=["Attribute=launchPermission", f"ImageId={m['id']}"],
                comment=f"EC2 DescribeImageAttribute launchPermission {m['id']}")


# =================================================================================================
# Renderers: RDS
# =================================================================================================


def rds(fx, region, op, children, slug=None, params=(), comment=None):
    fx.query("rds", RDS_NS, region, op, children, slug=slug, params=params, comment=comment)


def rds_host(db, region):
    return f"{db}.{hexid(12, 'rds-host', region)}.{region}.rds.amazonaws.com"


def rds_key(region, name):
    k = next(k for k in KEYS if k["alias"] == name and k["region"] == region)
    return key_arn(region, k["id"])


def db_instance(d):
    region = d["region"]
    sg = next(g for g in SECURITY_GROUPS[region] if g["id"] == SG[d["sg"]])
    vpc = sg["vpc"]
    kids = [
        el("DBInstanceIdentifier", d["id"]), el("DBInstanceClass", d["cls"]), el("Engine", d["engine"]),
        el("DBInstanceStatus", "available"), el("MasterUsername", "postgres"),
    ]
    if d.get("dbname"):
        kids.append(el("DBName", d["dbname"]))
    kids += [
        el("Endpoint", [el("Address", rds_host(d["id"], region)), el("Port", 5432),
                        el("HostedZoneId", "Z2R2ITUGPM61AM" if region == "us-east-1" else "Z29XKXDKYMONMX")]),
        el("AllocatedStorage", d["storage"]), el("InstanceCreateTime", d["created"]),
        el("PreferredBackupWindow", "04:00-04:30"), el("BackupRetentionPeriod", 7),
        el("DBSecurityGroups", []),
        el("VpcSecurityGroups", [el("VpcSecurityGroupMembership", [
            el("VpcSecurityGroupId", SG[d["sg"]]), el("Status", "active")])]),
        el("DBParameterGroups", [el("DBParameterGroup", [
            el("DBParameterGroupName", f"default.{d['engine']}{d['version'].split('.')[0]}"),
            el("ParameterApplyStatus", "in-sync")])]),
        el("AvailabilityZone", d["az"]),
        el("DBSubnetGroup", [
            el("DBSubnetGroupName", d["subnet_group"]), el("DBSubnetGroupDescription", d["subnet_group"]),
            el("VpcId", vpc), el("SubnetGroupStatus", "Complete"),
            el("Subnets", [el("Subnet", [el("SubnetIdentifier", sn), el("SubnetAvailabilityZone", [
                el("Name", f"{region}{'ab'[n]}")]), el("SubnetOutpost", []), el("SubnetStatus", "Active")])
                for n, sn in enumerate(d["subnets"])])]),
        el("PreferredMaintenanceWindow", "sun:05:00-sun:05:30"),
        el("PendingModifiedValues", []),
        el("LatestRestorableTime", "2024-06-10T09:55:00Z"),
        el("MultiAZ", d.get("multi_az", False)), el("EngineVersion", d["version"]),
        el("AutoMinorVersionUpgrade", True), el("ReadReplicaDBInstanceIdentifiers", []),
        el("LicenseModel", "postgresql-license"),
        el("OptionGroupMemberships", [el("OptionGroupMembership", [
            el("OptionGroupName", f"default:{d['engine']}-{d['version'].split('.')[0]}"), el("Status", "in-sync")])]),
        el("PubliclyAccessible", d["public"]), el("StorageType", "gp3" if not d.get("cluster") else "aurora"),
        el("DbInstancePort", 0),
    ]
    if d.get("cluster"):
        kids.append(el("DBClusterIdentifier", d["cluster"]))
    kids.append(el("StorageEncrypted", d["encrypted"]))
    if d["encrypted"]:
        kids.append(el("KmsKeyId", rds_key(region, d["kms"])))
    kids += [
        el("DbiResourceId", "db-" + base64.b32encode(digest("dbi", d["id"])).decode()[:26]),
        el("CACertificateIdentifier", "rds-ca-rsa2048-g1"), el("DomainMemberships", []),
        el("CopyTagsToSnapshot", True), el("MonitoringInterval", 0),
        el("DBInstanceArn", f"arn:aws:rds:{region}:{ACCOUNT}:db:{d['id']}"),
        el("IAMDatabaseAuthenticationEnabled", False), el("PerformanceInsightsEnabled", False),
        el("DeletionProtection", True), el("AssociatedRoles", []), el("TagList", []),
        el("CustomerOwnedIpEnabled", False), el("BackupTarget", "region"), el("NetworkType", "IPV4"),
    ]
    return el("DBInstance", kids)


def render_rds(fx):
    for region in STANDARD_REGIONS:
        dbs = [d for d in DB_INSTANCES if d["region"] == region]
        rds(fx, region, "DescribeDBInstances", [el("DBInstances", [db_instance(d) for d in dbs])],
            comment=f"RDS DescribeDBInstances in {region}")

        snaps = [x for x in DB_SNAPSHOTS if x["region"] == region]
        db_by_id = {d["id"]: d for d in DB_INSTANCES}
        items = []
        for x in snaps:
            d = db_by_id[x["db"]]
            vpc = next(g for g in SECURITY_GROUPS[region] if g["id"] == SG[d["sg"]])["vpc"]
            kids = [
                el("DBSnapshotIdentifier", x["id"]), el("DBInstanceIdentifier", d["id"]),
                el("SnapshotCreateTime", x["created"]), el("Engine", d["engine"]),
                el("AllocatedStorage", d["storage"]), el("Status", "available"), el("Port", 5432),
                el("AvailabilityZone", d["az"]), el("VpcId", vpc), el("InstanceCreateTime", d["created"]),
                el("MasterUsername", "postgres"), el("EngineVersion", d["version"]),
                el("LicenseModel", "postgresql-license"), el("SnapshotType", x["type"]),
                el("OptionGroupName", f"default:{d['engine']}-{d['version'].split('.')[0]}"),
                el("PercentProgress", 100), el("StorageType", "gp3"), el("Encrypted", d["encrypted"]),
            ]
            if d["encrypted"]:
                kids.append(el("KmsKeyId", rds_key(region, d["kms"])))
            kids += [
                el("DBSnapshotArn", f"arn:aws:rds:{region}:{ACCOUNT}:snapshot:{x['id']}"),
                el("IAMDatabaseAuthenticationEnabled", False), el("ProcessorFeatures", []),
                el("DbiResourceId", "db-" + base64.b32encode(digest("dbi", d["id"])).decode()[:26]),
                el("TagList", []), el("OriginalSnapshotCreateTime", x["created"]),
                el("SnapshotTarget", "region"),
            ]
            items.append(el("DBSnapshot", kids))
        rds(fx, region, "DescribeDBSnapshots", [el("DBSnapshots", items)],
            comment=f"RDS DescribeDBSnapshots in {region}")
        for x in snaps:
            rds(fx, region, "DescribeDBSnapshotAttributes", [el("DBSnapshotAttributesResult", [
                el("DBSnapshotIdentifier", x["id"]),
                el("DBSnapshotAttributes", [el("DBSnapshotAttribute", [
                    el("AttributeName", "restore"),
                    el("AttributeValues", [el("AttributeValue", v) for v in x["restore"]])])])])],
                slug=x["id"].replace(":", "_"), params=[f"DBSnapshotIdentifier={x['id']}"],
                comment=f"RDS DescribeDBSnapshotAttributes {x['id']}")

        csnaps = [x for x in CLUSTER_SNAPSHOTS if x["region"] == region]
        rds(fx, region, "DescribeDBClusterSnapshots", [el("DBClusterSnapshots", [el("DBClusterSnapshot", [
            el("AvailabilityZones", [el("AvailabilityZone", f"{region}{z}") for z in "abc"]),
            el("DBClusterSnapshotIdentifier", x["id"]), el("DBClusterIdentifier", x["cluster"]),
            el("SnapshotCreateTime", x["created"]), el("Engine", "aurora-postgresql"), el("EngineMode", "provisioned"),
            el("AllocatedStorage", 0), el("Status", "available"), el("Port", 0), el("VpcId", VPC_EU),
            el("ClusterCreateTime", "2022-03-08T09:55:00.000Z"), el("MasterUsername", "postgres"),
            el("EngineVersion", "15.4"), el("LicenseModel", "postgresql-license"), el("SnapshotType", x["type"]),
            el("PercentProgress", 100), el("StorageEncrypted", False),
            el("DBClusterSnapshotArn", f"arn:aws:rds:{region}:{ACCOUNT}:cluster-snapshot:{x['id']}"),
            el("IAMDatabaseAuthenticationEnabled", False), el("TagList", []),
        ]) for x in csnaps])], comment=f"RDS DescribeDBClusterSnapshots in {region}")
        for x in csnaps:
            rds(fx, region, "DescribeDBClusterSnapshotAttributes", [el("DBClusterSnapshotAttributesResult", [
                el("DBClusterSnapshotIdentifier", x["id"]),
                el("DBClusterSnapshotAttributes", [el("DBClusterSnapshotAttribute", [
                    el("AttributeName", "restore"),
                    el("AttributeValues", [el("AttributeValue", v) for v in x["restore"]])])])])],
                slug=x["id"].replace(":", "_"), params=[f"DBClusterSnapshotIdentifier={x['id']}"],
                comment=f"RDS DescribeDBClusterSnapshotAttributes {x['id']}")


# =================================================================================================
# Renderers: KMS, Secrets Manager, ECR, Organizations
# =================================================================================================


def render_kms(fx):
    for region in STANDARD_REGIONS:
        keys = sorted((k for k in KEYS if k["region"] == region), key=lambda k: k["id"])
        fx.json("kms", "1.1", region, "ListKeys", {"Keys": [{"KeyArn": key_arn(region, k["id"]), "KeyId": k["id"]}
                                                            for k in keys], "Truncated": False},
                params=[f"Limit={KMS_LARGEST_PAGE}"], comment=f"KMS ListKeys in {region}")
        aliases = sorted(keys, key=lambda k: k["alias"])
        entries = []
        for k in aliases:
            entry = {"AliasName": f"alias/{k['alias']}", "AliasArn": f"arn:aws:kms:{region}:{ACCOUNT}:alias/{k['alias']}",
                     "TargetKeyId": k["id"]}
            if k.get("created") is not None:
                entry["CreationDate"] = k["created"]
            entries.append(entry)
        fx.json("kms", "1.1", region, "ListAliases", {"Aliases": entries, "Truncated": False},
                params=[f"Limit={KMS_LARGEST_PAGE}"], comment=f"KMS ListAliases in {region}")
        for k in keys:
            arn = key_arn(region, k["id"])
            if k.get("denied"):
                for op, action in (("DescribeKey", "kms:DescribeKey"), ("GetKeyPolicy", "kms:GetKeyPolicy")):
                    params = [f"KeyId={k['id']}"] + (["PolicyName=default"] if op == "GetKeyPolicy" else [])
                    fx.json("kms", "1.1", region, op, {
                        "__type": "AccessDeniedException",
                        "message": f"User: arn:aws:sts::{ACCOUNT}:assumed-role/tmscan-audit/tmscan is not authorized "
                                   f"to perform: {action} on resource: {arn} because no resource-based policy "
                                   f"allows the {action} action"},
                        slug=k["alias"].replace("/", "_"), params=params, status=400,
                        comment=f"KMS {op} {k['alias']}: the key policy does not let the account in (a coverage gap)")
                continue
            manager = k.get("manager", "CUSTOMER")
            fx.json("kms", "1.1", region, "DescribeKey", {"KeyMetadata": {
                "AWSAccountId": ACCOUNT, "KeyId": k["id"], "Arn": arn, "CreationDate": k["created"], "Enabled": True,
                "Description": k["description"], "KeyUsage": "ENCRYPT_DECRYPT", "KeyState": "Enabled",
                "Origin": "AWS_KMS", "KeyManager": manager, "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT",
                "KeySpec": "SYMMETRIC_DEFAULT", "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"], "MultiRegion": False}},
                slug=k["alias"].replace("/", "_"), params=[f"KeyId={k['id']}"],
                comment=f"KMS DescribeKey {k['alias']}")
            text = jackson(k["policy"]) if k["style"] == "jackson" else pretty4(k["policy"])
            fx.json("kms", "1.1", region, "GetKeyPolicy", {"Policy": text}, slug=k["alias"].replace("/", "_"),
                    params=[f"KeyId={k['id']}", "PolicyName=default"], comment=f"KMS GetKeyPolicy {k['alias']}")


def render_secretsmanager(fx):
    for region in STANDARD_REGIONS:
        secrets = sorted((x for x in SECRETS if x["region"] == region), key=lambda x: x["name"])
        entries = []
        for x in secrets:
            entry = {"ARN": secret_arn(region, x["name"]), "Name": x["name"], "Description": x["description"]}
            if x["kms"]:
                entry["KmsKeyId"] = rds_key(region, x["kms"])
            entry.update({"LastChangedDate": x["changed"], "LastAccessedDate": x["accessed"], "Tags": [],
                          "SecretVersionsToStages": {str(uuid.UUID(bytes=digest("version", x["name"])[:16],
                                                                   version=4)): ["AWSCURRENT"]},
                          "CreatedDate": x["created"]})
            entries.append(entry)
        fx.json("secretsmanager", "1.1", region, "ListSecrets", {"SecretList": entries},
                comment=f"Secrets Manager ListSecrets in {region}")
        for x in secrets:
            arn = secret_arn(region, x["name"])
            doc = {"ARN": arn, "Name": x["name"]}
            if x["policy"]:
                doc["ResourcePolicy"] = jackson(x["policy"])
            fx.json("secretsmanager", "1.1", region, "GetResourcePolicy", doc, slug=x["name"].replace("/", "_"),
                    params=[f"SecretId={arn}"],
                    comment=f"Secrets Manager GetResourcePolicy {x['name']}" + ("" if x["policy"] else
                                                                                ": no resource policy"))


def render_ecr(fx):
    for region in STANDARD_REGIONS:
        repos = sorted((r for r in REPOSITORIES if r["region"] == region), key=lambda r: r["name"])
        fx.json("ecr", "1.1", region, "DescribeRepositories", {"repositories": [{
            "repositoryArn": f"arn:aws:ecr:{region}:{ACCOUNT}:repository/{r['name']}", "registryId": ACCOUNT,
            "repositoryName": r["name"], "repositoryUri": f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{r['name']}",
            "createdAt": r["created"], "imageTagMutability": "MUTABLE",
            "imageScanningConfiguration": {"scanOnPush": r["name"] != "public-base-images"},
            "encryptionConfiguration": {"encryptionType": "AES256"}} for r in repos]},
            params=[f"maxResults={ECR_LARGEST_PAGE}"], comment=f"ECR DescribeRepositories in {region}")
        for r in repos:
            if r["policy"]:
                fx.json("ecr", "1.1", region, "GetRepositoryPolicy", {
                    "registryId": ACCOUNT, "repositoryName": r["name"], "policyText": jackson(r["policy"])},
                    slug=r["name"], params=[f"repositoryName={r['name']}"],
                    comment=f"ECR GetRepositoryPolicy {r['name']}")
            else:
                fx.json("ecr", "1.1", region, "GetRepositoryPolicy", {
                    "__type": "RepositoryPolicyNotFoundException",
                    "message": f"Repository policy does not exist for the repository with name '{r['name']}' in the "
                               f"registry with id '{ACCOUNT}'"}, slug=r["name"], status=400,
                    params=[f"repositoryName={r['name']}"], comment=f"ECR GetRepositoryPolicy {r['name']}: none")


def render_organizations(fx):
    def org(op, doc, slug=None, params=(), comment=None):
        fx.json("organizations", "1.1", IAM_REGION, op, doc, slug=slug, params=params, comment=comment)

    org("DescribeOrganization", {"Organization": {
        "Id": ORG_ID, "Arn": f"arn:aws:organizations::{ORG_MGMT}:organization/{ORG_ID}", "FeatureSet": "ALL",
        "MasterAccountArn": f"arn:aws:organizations::{ORG_MGMT}:account/{ORG_ID}/{ORG_MGMT}",
        "MasterAccountId": ORG_MGMT, "MasterAccountEmail": "aws-root@example.com",
        "AvailablePolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}]}},
        comment="Organizations DescribeOrganization")
    org("ListAccounts", {"Accounts": [{
        "Id": a, "Arn": f"arn:aws:organizations::{ORG_MGMT}:account/{ORG_ID}/{a}", "Email": email, "Name": name,
        "Status": "ACTIVE", "JoinedMethod": method_, "JoinedTimestamp": joined}
        for a, name, email, method_, joined in ORG_ACCOUNTS]},
        comment="Organizations ListAccounts (the account is a delegated administrator for Organizations)")
    for child, (parent, kind) in ORG_PARENTS.items():
        org("ListParents", {"Parents": [{"Id": parent, "Type": kind}]}, slug=child, params=[f"ChildId={child}"],
            comment=f"Organizations ListParents of {child}")
    for target, policies in SCP_TARGETS.items():
        org("ListPoliciesForTarget", {"Policies": [{
            "Id": p["id"], "Arn": p["arn"], "Name": p["name"], "Description": p["description"],
            "Type": "SERVICE_CONTROL_POLICY", "AwsManaged": p["aws"]} for p in policies]}, slug=target,
            params=[f"TargetId={target}", "Filter=SERVICE_CONTROL_POLICY"],
            comment=f"Organizations ListPoliciesForTarget {target} (service control policies)")
    for p in (FULL_AWS_ACCESS, GUARDRAILS):
        org("DescribePolicy", {"Policy": {"PolicySummary": {
            "Id": p["id"], "Arn": p["arn"], "Name": p["name"], "Description": p["description"],
            "Type": "SERVICE_CONTROL_POLICY", "AwsManaged": p["aws"]}, "Content": p["content"]}},
            slug=p["id"], params=[f"PolicyId={p['id']}"], comment=f"Organizations DescribePolicy {p['name']}")


# =================================================================================================
# ACCOUNT SPEC: what is planted (flaws.json and README.md are rendered from this)
# =================================================================================================


def instance_arn(i):
    return f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{i}"


def sg_arn(region, name):
    return f"arn:aws:ec2:{region}:{ACCOUNT}:security-group/{SG[name]}"


def key_by_alias(alias):
    k = next(k for k in KEYS if k["alias"] == alias)
    return key_arn(k["region"], k["id"])


def api_arn(region, api, stage, method_, path):
    return f"arn:aws:execute-api:{region}:{ACCOUNT}:{api}/{stage}/{method_}/{path.lstrip('/')}"


GET_ORDERS = api_arn("us-east-1", ORDERS_API, "prod", "GET", "/orders")
POST_STOREFRONT_ORDERS = api_arn("eu-west-1", STOREFRONT_API, "$default", "POST", "/orders")
WEB_1 = instance_arn("i-0a1b2c3d4e5f60718")
ADMIN = aws_policy_arn("AdministratorAccess")


def F(fid, category, source, resource, title, why, evidence, path=None):
    return dict(id=fid, category=category, source=source, resource=resource, title=title, why=why,
                evidence=evidence, path=path or [source, resource])


FLAWS = [
    # ---- public exposure: from the internet ------------------------------------------------
    F("F01", "public-exposure", "internet", bucket_arn("demo-public-assets"),
      "Bucket readable by anyone through its policy",
      "The bucket policy allows s3:GetObject to Principal \"*\" without a condition. The bucket has no Block "
      "Public Access configuration and the account's only blocks public ACLs (BlockPublicPolicy and "
      "RestrictPublicBuckets are off), so the policy is in force. GetBucketPolicyStatus says IsPublic.",
      ["s3/us-east-1/GetBucketPolicy--demo-public-assets.http", "s3/us-east-1/GetPublicAccessBlock--demo-public-assets.http",
       "s3control/global/GetPublicAccessBlock--account.http"]),
    F("F02", "public-exposure", "internet", bucket_arn("demo-legacy-downloads"),
      "Bucket listable by anyone through its ACL",
      "The bucket ACL grants READ to the AllUsers group (anyone can list the keys). The account's Block Public "
      "Access has BlockPublicAcls on, which only refuses new public ACLs; IgnorePublicAcls is off at both the "
      "account and the bucket (which has no configuration), so the existing grant is honoured.",
      ["s3/us-east-1/GetBucketAcl--demo-legacy-downloads.http", "s3control/global/GetPublicAccessBlock--account.http"]),
    F("F03", "public-exposure", "internet", queue_arn("us-east-1", "partner-inbound"),
      "Queue anyone can send to, read and delete from",
      "The queue policy allows sqs:SendMessage, sqs:ReceiveMessage and sqs:DeleteMessage to Principal \"*\" "
      "with no condition; SQS accepts anonymous requests when a policy grants \"*\".",
      ["sqs/us-east-1/GetQueueAttributes--partner-inbound.http"]),
    F("F04", "public-exposure", "internet", fn_arn("us-east-1", "legacy-webhook"),
      "Function URL without authentication",
      "The function URL has AuthType NONE and the function policy allows lambda:InvokeFunctionUrl to "
      "Principal \"*\" (condition lambda:FunctionUrlAuthType = NONE, which only scopes the grant to the URL).",
      ["lambda/us-east-1/GetFunctionUrlConfig--legacy-webhook.http", "lambda/us-east-1/GetPolicy--legacy-webhook.http"]),
    F("F05", "public-exposure", "internet", GET_ORDERS,
      "API method without authorisation on a public REST API",
      "GET /orders on the REGIONAL API orders-api (stage prod) has authorizationType NONE, no API key, and the "
      "API has no resource policy and keeps its execute-api endpoint; it is integrated (AWS_PROXY) with the "
      "orders-api function.",
      ["apigateway/us-east-1/GetRestApis.http", "apigateway/us-east-1/GetResources--orders-api--page1.http",
       "apigateway/us-east-1/GetStages--orders-api.http"]),
    F("F06", "public-exposure", "internet", POST_STOREFRONT_ORDERS,
      "HTTP API route without authorisation",
      "Route POST /orders of the HTTP API storefront-http has AuthorizationType NONE; it is served by the "
      "auto-deployed $default stage on the default endpoint and integrated with storefront-api:live.",
      ["apigatewayv2/eu-west-1/GetRoutes--storefront-http.http", "apigatewayv2/eu-west-1/GetApis.http",
       "apigatewayv2/eu-west-1/GetStages--storefront-http.http"]),
    F("F07", "public-exposure", "internet", role_arn("github-actions-infra"),
      "Role any GitHub Actions workflow can assume",
      "The trust policy federates token.actions.githubusercontent.com and checks only the audience "
      "(aud = sts.amazonaws.com), not the subject: a workflow in any repository of any GitHub user gets the "
      "role, which can write the demo-public-assets and demo-marketing-site buckets.",
      ["iam/us-east-1/GetAccountAuthorizationDetails--page1.http"]),
    F("F08", "public-exposure", "internet", WEB_1,
      "Instance with a public address and SSH open to the world",
      "web-1 is running with public IP 203.0.113.10 and security group web-public, which allows TCP 22 (and 80, "
      "443) from 0.0.0.0/0.",
      ["ec2/us-east-1/DescribeInstances.http", "ec2/us-east-1/DescribeSecurityGroups.http"]),
    F("F09", "public-exposure", "internet", "arn:aws:ec2:us-east-1::snapshot/snap-0a1b2c3d4e5f60711",
      "Public EBS snapshot",
      "createVolumePermission holds group all: any AWS customer can create a volume from this unencrypted "
      "snapshot of web-1's root volume.",
      ["ec2/us-east-1/DescribeSnapshotAttribute--snap-0a1b2c3d4e5f60711.http"]),
    F("F10", "public-exposure", "internet", "arn:aws:ec2:us-east-1::image/ami-0a1b2c3d4e5f67890",
      "Public AMI",
      "launchPermission holds group all (DescribeImages also says isPublic): anyone can launch web-golden-2023-08 "
      "and read its disk.",
      ["ec2/us-east-1/DescribeImageAttribute--ami-0a1b2c3d4e5f67890.http", "ec2/us-east-1/DescribeImages.http"]),
    F("F11", "public-exposure", "internet", f"arn:aws:rds:us-east-1:{ACCOUNT}:db:orders-db",
      "Database reachable from the internet",
      "orders-db is PubliclyAccessible, sits in public subnets (its interface has public IP 203.0.113.30) and its "
      "security group orders-db-public allows TCP 5432 from 0.0.0.0/0.",
      ["rds/us-east-1/DescribeDBInstances.http", "ec2/us-east-1/DescribeSecurityGroups.http",
       "ec2/us-east-1/DescribeNetworkInterfaces.http"]),
    F("F12", "public-exposure", "internet", f"arn:aws:rds:us-east-1:{ACCOUNT}:snapshot:orders-db-pre-migration",
      "Public database snapshot",
      "The restore attribute of this unencrypted manual snapshot holds all: any AWS account can restore it.",
      ["rds/us-east-1/DescribeDBSnapshotAttributes--orders-db-pre-migration.http"]),
    # ---- public exposure: any AWS account -------------------------------------------------
    F("F13", "public-exposure", "any-aws-account", bucket_arn("demo-build-artifacts"),
      "Bucket listable by any AWS account through its ACL",
      "The bucket ACL grants READ to AuthenticatedUsers, which means any AWS account, not the users of this "
      "one. IgnorePublicAcls is off (see F02).",
      ["s3/us-east-1/GetBucketAcl--demo-build-artifacts.http"]),
    F("F14", "public-exposure", "any-aws-account", topic_arn("us-east-1", "customer-notifications"),
      "Topic any AWS account can subscribe to and publish on",
      "Besides the default statement (restricted by AWS:SourceOwner) the topic policy allows SNS:Subscribe, "
      "SNS:Receive and SNS:Publish to {\"AWS\": \"*\"} without a condition. A queue in account 999988887777 is "
      "already subscribed.",
      ["sns/us-east-1/GetTopicAttributes--customer-notifications.http", "sns/us-east-1/ListSubscriptions.http"]),
    F("F15", "public-exposure", "any-aws-account", fn_arn("us-east-1", "partner-callback"),
      "Function any AWS account can invoke",
      "The function policy allows lambda:InvokeFunction to Principal \"*\" with no condition (Invoke needs a "
      "signed request, so this is any AWS principal rather than anonymous).",
      ["lambda/us-east-1/GetPolicy--partner-callback.http"]),
    F("F16", "public-exposure", "any-aws-account", secret_arn("us-east-1", "shared/partner-api-token"),
      "Secret any AWS account can read",
      "The secret's resource policy allows secretsmanager:GetSecretValue to {\"AWS\": \"*\"} with no condition, "
      "and its key partner-token-cmk lets any account decrypt through Secrets Manager (F28), so the read works "
      "from any account.",
      ["secretsmanager/us-east-1/GetResourcePolicy--shared_partner-api-token.http",
       "secretsmanager/us-east-1/ListSecrets.http"]),
    F("F17", "public-exposure", "any-aws-account", f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/public-base-images",
      "Repository any AWS account can pull",
      "The repository policy allows ecr:BatchGetImage, ecr:GetDownloadUrlForLayer and "
      "ecr:BatchCheckLayerAvailability to Principal \"*\" with no condition.",
      ["ecr/us-east-1/GetRepositoryPolicy--public-base-images.http"]),
    F("F18", "public-exposure", "any-aws-account", role_arn("legacy-support-access"),
      "Role any AWS account can assume",
      "The trust policy allows sts:AssumeRole to {\"AWS\": \"*\"} with no condition. The role can read "
      "demo-customer-data objects and describe EC2 and logs.",
      ["iam/us-east-1/GetAccountAuthorizationDetails--page1.http"],
      path=["any-aws-account", role_arn("legacy-support-access"), bucket_arn("demo-customer-data")]),
    F("F28", "public-exposure", "any-aws-account", key_by_alias("partner-token-cmk"),
      "Key any AWS account can decrypt with through Secrets Manager",
      "The key policy allows kms:Decrypt to {\"AWS\": \"*\"} with only kms:ViaService = "
      "secretsmanager.us-east-1.amazonaws.com: without kms:CallerAccount, principals of any account may use it "
      "through Secrets Manager (compare L43).",
      ["kms/us-east-1/GetKeyPolicy--partner-token-cmk.http"]),
    # ---- cross-account: an account outside the organization -------------------------------
    F("F19", "cross-account", f"account:{EXT_PARTNER}", bucket_arn("demo-partner-exchange"),
      "Bucket shared with an account outside the organization",
      "The bucket policy grants s3:GetObject, s3:PutObject and s3:ListBucket to 999988887777, which is not in "
      "the organization. Block Public Access is fully on, but it does not restrict grants to named accounts.",
      ["s3/eu-west-1/GetBucketPolicy--demo-partner-exchange.http"]),
    F("F20", "cross-account", f"account:{EXT_PARTNER}", role_arn("partner-data-exchange"),
      "Role another account can assume without an external id",
      "The trust policy allows sts:AssumeRole to arn:aws:iam::999988887777:root with no sts:ExternalId "
      "condition (confused deputy); the role reads and writes demo-partner-exchange.",
      ["iam/us-east-1/GetAccountAuthorizationDetails--page1.http"]),
    F("F21", "cross-account", f"account:{EXT_PARTNER}", key_by_alias("partner-share"),
      "Key another account can decrypt with",
      "The key policy allows kms:Decrypt and kms:DescribeKey to arn:aws:iam::999988887777:root.",
      ["kms/us-east-1/GetKeyPolicy--partner-share.http"]),
    F("F22", "cross-account", f"account:{EXT_PARTNER}",
      f"arn:aws:rds:eu-west-1:{ACCOUNT}:cluster-snapshot:analytics-cluster-share-2024-03-15",
      "Cluster snapshot shared with an account outside the organization",
      "The restore attribute of this unencrypted cluster snapshot holds 999988887777.",
      ["rds/eu-west-1/DescribeDBClusterSnapshotAttributes--analytics-cluster-share-2024-03-15.http"]),
    # ---- privilege escalation -------------------------------------------------------------
    F("F23", "privilege-escalation", role_arn("developer"), role_arn("developer"),
      "Developers can become administrator through Lambda",
      "DeveloperAccess (default version v2) allows iam:PassRole on \"*\", lambda:CreateFunction and "
      "lambda:InvokeFunction. ops-automation-role trusts lambda.amazonaws.com and has AdministratorAccess: a "
      "developer creates a function with that role and invokes it.",
      ["iam/us-east-1/GetAccountAuthorizationDetails--page1.http",
       "iam/us-east-1/GetAccountAuthorizationDetails--page2.http"],
      path=[role_arn("developer"), role_arn("ops-automation-role", "/service-role/"), ADMIN]),
    F("F24", "privilege-escalation", role_arn("iam-policy-automation"), role_arn("iam-policy-automation"),
      "Role can rewrite its own policy",
      "IamPolicyAutomation (default version v2) allows iam:CreatePolicyVersion on \"*\". Creating a new default "
      "version of IamPolicyAutomation itself, which is attached to the role, grants anything.",
      ["iam/us-east-1/GetAccountAuthorizationDetails--page2.http"],
      path=[role_arn("iam-policy-automation"), policy_arn("IamPolicyAutomation"), ADMIN]),
    F("F29", "privilege-escalation", user_arn("ci-deploy", "/service/"), user_arn("ci-deploy", "/service/"),
      "CI user can become administrator through a role it may assume",
      "ci-deploy's inline policy allows sts:AssumeRole on iam-policy-automation, whose trust policy names the "
      "user; that role escalates to administrator (F24).",
      ["iam/us-east-1/GetAccountAuthorizationDetails--page1.http"],
      path=[user_arn("ci-deploy", "/service/"), role_arn("iam-policy-automation"),
            policy_arn("IamPolicyAutomation"), ADMIN]),
    # ---- token abuse ----------------------------------------------------------------------
    F("F25", "token-abuse", "internet", WEB_1,
      "Internet to instance credentials to customer data",
      "web-1 is reachable from the internet (F08), allows IMDSv1 (HttpTokens optional, so a request-forgery bug "
      "or a shell yields the credentials) and carries web-instance-profile, whose role web-instance-role reads, "
      "writes and deletes demo-customer-data and reads the prod/customers-db/credentials secret.",
      ["ec2/us-east-1/DescribeInstances.http", "iam/us-east-1/GetAccountAuthorizationDetails--page2.http"],
      path=["internet", WEB_1, f"arn:aws:iam::{ACCOUNT}:instance-profile/web-instance-profile",
            role_arn("web-instance-role"), bucket_arn("demo-customer-data"),
            secret_arn("us-east-1", "prod/customers-db/credentials")]),
    F("F26", "token-abuse", "internet", fn_arn("us-east-1", "orders-api"),
      "Internet to function credentials to the payment provider key",
      "GET /orders (F05) runs orders-api without authentication; its role orders-api-lambda-role can read the "
      "prod/payments/stripe-api-key secret (encrypted with secrets-cmk, usable through Secrets Manager by the "
      "account's principals).",
      ["apigateway/us-east-1/GetResources--orders-api--page1.http", "lambda/us-east-1/ListFunctions--page1.http",
       "iam/us-east-1/GetAccountAuthorizationDetails--page2.http"],
      path=["internet", GET_ORDERS, fn_arn("us-east-1", "orders-api"),
            role_arn("orders-api-lambda-role", "/service-role/"),
            secret_arn("us-east-1", "prod/payments/stripe-api-key")]),
    F("F27", "token-abuse", user_arn("ci-deploy", "/service/"), user_arn("ci-deploy", "/service/"),
      "Long-lived access key that leads to administrator",
      "ci-deploy has an active access key AKIAQDEMOCIDEPLOY001, created 2020-02-17 and last used 2024-06-09 "
      "(sts, us-east-1). The user may assume iam-policy-automation, which escalates to administrator (F24).",
      ["iam/us-east-1/ListAccessKeys--ci-deploy.http", "iam/us-east-1/GetAccessKeyLastUsed--AKIAQDEMOCIDEPLOY001.http"],
      path=["AKIAQDEMOCIDEPLOY001", user_arn("ci-deploy", "/service/"), role_arn("iam-policy-automation"), ADMIN]),
]

GAPS = [
    dict(id="G01", category="coverage-gap", resource=bucket_arn("demo-finance-reports"), service="s3",
         operation="GetBucketPolicy", code="AccessDenied", status=403,
         why="The bucket's own policy denies s3:GetBucketPolicy to everyone but the finance administrators, so "
             "the scan cannot read it. The bucket's exposure is unknown: it must be reported as a coverage gap, "
             "never as public or private. (GetBucketPolicyStatus does answer: IsPublic false.)",
         evidence=["s3/us-east-1/GetBucketPolicy--demo-finance-reports.http"]),
    dict(id="G02", category="coverage-gap", resource=key_by_alias("audit-logs"), service="kms",
         operation="DescribeKey, GetKeyPolicy", code="AccessDeniedException", status=400,
         why="The key policy of this eu-west-1 key does not let the account's principals in, so DescribeKey and "
             "GetKeyPolicy are refused; ListKeys still lists the key. Who can use it is unknown.",
         evidence=["kms/eu-west-1/DescribeKey--audit-logs.http", "kms/eu-west-1/GetKeyPolicy--audit-logs.http"]),
]


def L(lid, resource, resembles, why, categories=None):
    return dict(id=lid, resource=resource, resembles=resembles, why=why, not_categories=categories or "any")


LOOKALIKES = [
    L("L01", bucket_arn("demo-marketing-site"), "F01",
      "Public-read policy like F01 (GetBucketPolicyStatus says IsPublic), but the bucket's Block Public Access "
      "has RestrictPublicBuckets on: only AWS services and principals of this account get in."),
    L("L02", bucket_arn("demo-old-press-kit"), "F02",
      "AllUsers READ grant like F02, but the bucket's Block Public Access has IgnorePublicAcls on."),
    L("L03", bucket_arn("demo-access-logs"), "F02",
      "A group grant in the ACL, but to LogDelivery (S3 server access logging), not to the public."),
    L("L04", bucket_arn("demo-org-shared-config"), "F01",
      "Principal \"*\" restricted by aws:PrincipalOrgID to the account's own organization; no Block Public "
      "Access needed (S3 itself rates it not public)."),
    L("L05", bucket_arn("demo-customer-data"), "F01",
      "Principal {\"AWS\": \"*\"} Allow, but only with s3:DataAccessPointAccount = this account (the documented "
      "delegation to the account's access points), plus a Deny for insecure transport. Reached by the paths of "
      "F18 and F25, never exposed itself."),
    L("L06", bucket_arn("demo-cloudtrail-logs"), "F19",
      "Grants to the service principal cloudtrail.amazonaws.com restricted by aws:SourceArn to this account's "
      "trail."),
    L("L07", queue_arn("us-east-1", "order-events"), "F03",
      "Principal {\"AWS\": \"*\"} may only sqs:SendMessage with aws:SourceArn equal to the account's own "
      "order-events topic (the classic SNS-to-SQS policy; a false positive if conditions are ignored)."),
    L("L08", queue_arn("us-east-1", "image-jobs"), "F03",
      "Service principal s3.amazonaws.com restricted by aws:SourceArn (demo-image-uploads) and "
      "aws:SourceAccount."),
    L("L09", topic_arn("us-east-1", "order-events"), "F14",
      "The default topic policy: {\"AWS\": \"*\"} restricted by AWS:SourceOwner to this account. Same for the "
      "alarms topic and eu-west-1 audit-alerts."),
    L("L10", topic_arn("us-east-1", "alarms"), "F14", "Default topic policy (AWS:SourceOwner)."),
    L("L11", topic_arn("eu-west-1", "audit-alerts"), "F14", "Default topic policy (AWS:SourceOwner)."),
    L("L12", fn_arn("us-east-1", "internal-reports"), "F04",
      "Function URL with AuthType AWS_IAM and no resource policy: only signed callers of this account with "
      "lambda:InvokeFunctionUrl."),
    L("L13", fn_arn("us-east-1", "image-resize"), "F15",
      "Permission for s3.amazonaws.com restricted by AWS:SourceArn (demo-image-uploads) and AWS:SourceAccount."),
    L("L14", fn_arn("us-east-1", "ops-automation"), "F15",
      "Runs as an administrator role but is invoked only by the account's EventBridge rule and alarms topic "
      "(service principals with AWS:SourceArn)."),
    L("L15", fn_arn("eu-west-1", "storefront-api"), "F26",
      "Reached from the internet through F06, but its role only writes its own logs: no token worth abusing."),
    L("L16", fn_arn("us-east-1", "legacy-webhook"), "F26",
      "Public through F04, but its role only writes its own logs: no token-abuse finding (F04 stands).",
      ["token-abuse"]),
    L("L17", fn_arn("us-east-1", "partner-callback"), "F26",
      "Invocable by any account through F15, but its role only writes its own logs: no token-abuse finding "
      "(F15 stands).", ["token-abuse"]),
    L("L18", api_arn("us-east-1", INVENTORY_API, "v1", "GET", "/items"), "F05",
      "authorizationType NONE, but the API is PRIVATE and its policy denies every caller not coming through "
      f"the VPC endpoint {VPCE_EXECUTE_API}."),
    L("L19", api_arn("us-east-1", ORDERS_API, "prod", "OPTIONS", "/orders"), "F05",
      "authorizationType NONE on the CORS preflight, but the integration is MOCK: it reaches nothing."),
    L("L20", api_arn("us-east-1", ORDERS_API, "prod", "POST", "/orders"), "F05",
      "Same API as F05, protected by the Cognito user pool authorizer."),
    L("L21", api_arn("us-east-1", ORDERS_API, "prod", "GET", "/orders/{orderId}"), "F05",
      "GET /orders/{orderId}, protected by the Cognito user pool authorizer."),
    L("L22", api_arn("us-east-1", ORDERS_API, "prod", "GET", "/admin/reports"), "F05",
      "authorizationType AWS_IAM: only signed callers allowed execute-api:Invoke."),
    L("L23", api_arn("eu-west-1", STOREFRONT_API, "$default", "GET", "/account"), "F06",
      "Route protected by the JWT authorizer (Cognito issuer and audience)."),
    L("L24", role_arn("github-actions-deploy"), "F07",
      "GitHub OIDC trust with token.actions.githubusercontent.com:sub pinned to "
      "repo:acme-corp/storefront:ref:refs/heads/main."),
    L("L25", role_arn("vendor-monitoring"), "F20",
      "Trusts an account outside the organization, but requires sts:ExternalId (the vendor's documented "
      "cross-account pattern)."),
    L("L26", role_arn("org-readonly-access"), "F18",
      "Trusts {\"AWS\": \"*\"} restricted by aws:PrincipalOrgID to the account's organization."),
    L("L27", role_arn("OrganizationAccountAccessRole"), "F20",
      "Trusts the organization's management account 444455556666 (DescribeOrganization's MasterAccountId): the "
      "role AWS Organizations creates in every member account."),
    L("L28", role_arn("tmscan-audit"), "F20", "Trusts the organization's management account (read-only scan role)."),
    L("L29", user_arn("legacy-backup", "/service/"), "F27",
      "Has an access key, but it is Inactive (last used 2022-11-30): not a usable token."),
    L("L30", role_arn("data-engineer"), "F23",
      "iam:PassRole, but only on etl-lambda-exec and only to lambda.amazonaws.com (iam:PassedToService); that "
      "role can do nothing data-engineer cannot already do (demo-etl-staging and logs)."),
    L("L31", role_arn("contractor-dev"), "F23",
      "Same DeveloperAccess policy as the developer role, but its permissions boundary ContractorBoundary does "
      "not allow iam:PassRole, so lambda:CreateFunction cannot be given a role."),
    L("L32", role_arn("analytics-deployer"), "F23",
      "iam:PassRole on \"*\" with glue:CreateDevEndpoint (a known escalation to glue-etl-service), but the "
      "organization's workload-guardrails SCP denies glue:CreateDevEndpoint and glue:UpdateDevEndpoint."),
    L("L33", instance_arn("i-0b2c3d4e5f6a71829"), "F25",
      "api-1 carries a role that reads demo-customer-data too, but it has no public address, its security group "
      "allows only 443 from the load balancer's group, and it requires IMDSv2 (HttpTokens required)."),
    L("L34", instance_arn("i-0c3d4e5f6a7b8293a"), "F25",
      "batch-1 allows IMDSv1 but is stopped, has no public address and no instance profile."),
    L("L35", sg_arn("us-east-1", "ssh-open-unused"), "F08",
      "Allows TCP 22 from 0.0.0.0/0 but is attached to no network interface."),
    L("L36", sg_arn("us-east-1", "alb-public"), "F08",
      "Allows 443 from anywhere, attached only to the internet-facing load balancer's interfaces "
      "(requester amazon-elb), not to an instance."),
    L("L37", "arn:aws:ec2:us-east-1::snapshot/snap-0b2c3d4e5f6a71822", "F09",
      "createVolumePermission is empty: shared with no one (encrypted)."),
    L("L38", "arn:aws:ec2:us-east-1::image/ami-0b2c3d4e5f6a78901", "F10",
      "launchPermission is empty: private AMI."),
    L("L39", f"arn:aws:rds:us-east-1:{ACCOUNT}:db:customers-db", "F11",
      "Not PubliclyAccessible, private subnets, 5432 only from the API and Lambda security groups."),
    L("L40", f"arn:aws:rds:us-east-1:{ACCOUNT}:snapshot:customers-db-weekly-2024-06-02", "F12",
      "Shared with 555566667777, the organization's backup account (Organizations ListAccounts)."),
    L("L41", f"arn:aws:rds:eu-west-1:{ACCOUNT}:cluster-snapshot:analytics-cluster-manual-2024-05-01", "F22",
      "The restore attribute is empty: shared with no one."),
    L("L42", key_by_alias("customer-data"), "F21",
      "Besides the account root, grants kms:Decrypt, kms:DescribeKey and kms:CreateGrant only to the "
      "organization's backup account 555566667777 (to restore the shared snapshot of L40)."),
    L("L43", key_by_alias("secrets-cmk"), "F28",
      "{\"AWS\": \"*\"} may decrypt only with kms:ViaService = secretsmanager.us-east-1.amazonaws.com and "
      "kms:CallerAccount = this account."),
    L("L44", key_by_alias("aws/secretsmanager"), "F21",
      "The AWS managed key's policy: {\"AWS\": \"*\"} with kms:CallerAccount and kms:ViaService."),
    L("L45", secret_arn("us-east-1", "shared/org-config"), "F16",
      "{\"AWS\": \"*\"} restricted by aws:PrincipalOrgID to the account's organization."),
    L("L46", f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/shared-tools", "F17",
      "Principal \"*\" restricted by aws:PrincipalOrgID."),
    L("L47", f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/lambda-images", "F17",
      "Service principal lambda.amazonaws.com restricted by aws:sourceArn to this account's functions."),
    L("L48", f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/marketing-uploads", "F01",
      "An access point with network origin Internet, but it has no policy (NoSuchAccessPointPolicy) and its "
      "bucket demo-marketing-site blocks public access."),
    L("L49", f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/customer-data-analytics", "F19",
      "Access point policy grants only the account's own data-engineer role, and only from the VPC."),
]


# =================================================================================================
# flaws.json and README.md
# =================================================================================================


def check_planted(fx):
    """The planted list must name resources the fixtures really hold, and cite files that exist."""
    bodies = "\n".join(fx.files.values())
    errors = []
    seen = {}
    for item in FLAWS + GAPS + LOOKALIKES:
        for ev in item.get("evidence", []):
            if ev not in fx.files:
                errors.append(f"{item['id']}: evidence {ev} is not a fixture")
        res = item["resource"]
        ident = res.rsplit("/", 1)[-1].rsplit(":", 1)[-1] if "execute-api" not in res else res.split(":")[-1].split("/")[0]
        if ident not in bodies:
            errors.append(f"{item['id']}: {res} does not appear in any response")
        if "category" in item:
            key = (item["category"], res)
            if key in seen:
                errors.append(f"{item['id']}: same category and resource as {seen[key]}")
            seen[key] = item["id"]
    flaw_resources = {f["resource"]: f for f in FLAWS + GAPS}
    for lk in LOOKALIKES:
        f = flaw_resources.get(lk["resource"])
        if f and (lk["not_categories"] == "any" or f["category"] in lk["not_categories"]):
            errors.append(f"{lk['id']}: {lk['resource']} is also {f['id']}")
        if lk["resembles"] not in {f["id"] for f in FLAWS}:
            errors.append(f"{lk['id']}: resembles unknown flaw {lk['resembles']}")
    if errors:
        raise SystemExit("gen_demo_fixtures: planted list inconsistent:\n  " + "\n  ".join(errors))


def flaws_json(fx):
    doc = {
        "scenario": "demo",
        "account": ACCOUNT,
        "organization": ORG_ID,
        "matching": "Every entry of findings must be reported with that category and resource (and its path "
                    "from source); no finding may name a lookalikes resource (in the listed categories when "
                    "not_categories is a list). Resources in neither list are not constrained.",
        "findings": [{k: f[k] for k in ("id", "category", "source", "resource", "title", "path", "evidence")}
                     for f in sorted(FLAWS, key=lambda f: f["id"])]
        + [{"id": g["id"], "category": g["category"], "source": None, "resource": g["resource"],
            "title": f"{g['service']} {g['operation']}: {g['code']}", "path": [g["resource"]],
            "evidence": g["evidence"]} for g in GAPS],
        "lookalikes": [{k: lk[k] for k in ("id", "resource", "resembles", "not_categories")} for lk in LOOKALIKES],
    }
    return json.dumps(doc, indent=2) + "\n"


def operations_table(fx):
    ops = {}
    for rel, content in fx.files.items():
        head = content.split("\n\n", 1)[0]
        fields = dict(line.split(": ", 1) for line in head.split("\n") if not line.startswith("#") and ": " in line)
        service = rel.split("/")[0]
        ops.setdefault(service, {}).setdefault(fields["operation"], 0)
        ops[service][fields["operation"]] += 1
    rows = []
    for service in sorted(ops):
        cells = ", ".join(f"{op} ({n})" for op, n in sorted(ops[service].items()))
        rows.append(f"| {service} | {cells} |")
    return "\n".join(rows)


def md_escape(text):
    return text.replace("|", "\\|")


def readme(fx):
    flaw_rows = "\n".join(
        f"| {f['id']} | {f['category']} | {f['source']} | `{f['resource']}` | {md_escape(f['title'])}. "
        f"{md_escape(f['why'])} |" for f in sorted(FLAWS, key=lambda f: f["id"]))
    path_rows = "\n".join(
        f"- **{f['id']}** " + " → ".join(f"`{p}`" for p in f["path"])
        for f in sorted(FLAWS, key=lambda f: f["id"]) if len(f["path"]) > 2)
    gap_rows = "\n".join(
        f"| {g['id']} | `{g['resource']}` | {g['service']} {g['operation']} | {g['code']} ({g['status']}) | "
        f"{md_escape(g['why'])} |" for g in GAPS)
    look_rows = "\n".join(
        f"| {lk['id']} | `{lk['resource']}` | {lk['resembles']} | "
        f"{'any' if lk['not_categories'] == 'any' else ', '.join(lk['not_categories'])} | {md_escape(lk['why'])} |"
        for lk in LOOKALIKES)
    n_resources = (len(USERS) + len(GROUPS) + len(ROLES) + len(CUSTOMER_MANAGED) + len(BUCKETS) + len(ACCESS_POINTS)
                   + len(FUNCTIONS) + len(REST_APIS) + len(HTTP_APIS) + len(QUEUES) + len(TOPICS) + len(INSTANCES)
                   + sum(len(v) for v in SECURITY_GROUPS.values()) + len(SNAPSHOTS) + len(IMAGES)
                   + len(DB_INSTANCES) + len(DB_SNAPSHOTS) + len(CLUSTER_SNAPSHOTS) + len(KEYS) + len(SECRETS)
                   + len(REPOSITORIES))
    return f"""# The demo account

A realistic AWS account, **{ACCOUNT}** (alias `{ALIAS}`), as mockcloud serves it: {len(fx.files)} wire-accurate
responses to every call `tmscan scan aws` makes, holding {n_resources} resources (users, groups, roles, customer
managed policies, buckets, access points, functions, APIs, queues, topics, instances, security groups,
snapshots, images, databases, keys, secrets, repositories) in two regions, us-east-1 and eu-west-1, with
deliberate flaws and, beside each, a look-alike that is safe.

Everything here is generated: edit the account in `scripts/gen_demo_fixtures.py` and run

    /usr/bin/python3 scripts/gen_demo_fixtures.py

`tests/integration/fixtures_botocore.sh` fails when these files differ from the generator's output, and
`tests/fixtures_check.py` proves every response parses with the AWS SDK's own parser (Debian's
python3-botocore 1.29), uses only names the API models define, and answers a request the SDK really sends.
`flaws.json` holds the lists below in machine-readable form for the analyzers' tests.

## The account

- Organization `{ORG_ID}`, feature set ALL, management account {ORG_MGMT}; root `{ORG_ROOT}`, OU `{ORG_OU}`
  (the account's parent). Member accounts (ListAccounts): {ORG_MGMT} management, {ACCOUNT} this one,
  {ORG_BACKUP} backup, {ORG_LOGS} log archive. The account is a delegated administrator for Organizations,
  which is why ListAccounts, ListParents, ListPoliciesForTarget and DescribePolicy answer; a plain member
  account gets AccessDeniedException for them.
- Outside the organization: {EXT_PARTNER} (a business partner) and {EXT_VENDOR} (a monitoring vendor).
- Credentials (scenario.json): a session of the role `tmscan-audit`, access key `{SCAN_ACCESS_KEY}` with its
  session token; GetCallerIdentity answers `arn:aws:sts::{ACCOUNT}:assumed-role/tmscan-audit/tmscan`.
- Regions: all seventeen regions that need no opt-in are enabled (an account cannot disable them); no
  opt-in region is opted in. DescribeRegions without AllRegions lists the enabled ones, with
  `AllRegions=true` all {len(STANDARD_REGIONS) + len(OPT_IN_REGIONS)} with their opt-in status. Resources live
  in us-east-1 and eu-west-1 only; every other enabled region answers every regional list call with what an
  unused region really holds: nothing, except its default VPC's default security group.

## How requests are matched

Each file's match lines are what botocore sends (checked by re-serialising them with botocore). A scanner
must name things the way these files do:

- Global services sign for us-east-1: IAM, Organizations. STS GetCallerIdentity, S3 ListBuckets, S3
  GetBucketLocation, S3 Control GetPublicAccessBlock (account) and EC2 DescribeRegions match any region.
- S3 is addressed path-style (`/bucket?policy`); per-bucket calls are signed for the bucket's own region
  (GetBucketLocation: empty `LocationConstraint` means us-east-1). S3 Control calls carry
  `x-amz-account-id: {ACCOUNT}` and paths under `/v20180820/`; ListAccessPoints is asked once per region
  without a bucket filter and with `maxResults=1000`; GetAccessPoint (each access point's Block Public Access)
  and GetAccessPointPolicy name the access point.
- Lambda functions are named by function name in paths (`/2015-03-31/functions/orders-api/policy`), an
  alias policy by `?Qualifier=live`; ListEventSourceMappings is asked once per region (the answer holds every
  mapping of the region, whatever `FunctionName` says).
- SQS GetQueueAttributes: `QueueUrl` as ListQueues returns it and `AttributeName.1=All`. SNS
  GetTopicAttributes: `TopicArn`. KMS: `KeyId` is the key id (not the ARN); GetKeyPolicy with
  `PolicyName=default`. Secrets Manager GetResourcePolicy: `SecretId` is the secret's full ARN. ECR
  GetRepositoryPolicy: `repositoryName`. EC2 DescribeSnapshots/DescribeImages: `Owner.1=self`; attribute calls
  `Attribute=createVolumePermission` / `Attribute=launchPermission`. RDS attribute calls name the snapshot
  identifier. Organizations ListPoliciesForTarget: `Filter=SERVICE_CONTROL_POLICY`.
- Page sizes: the listings answer a client that asks for the largest page: IAM GetAccountAuthorizationDetails
  and ListRoles with `MaxItems=1000`, KMS ListKeys and ListAliases with `Limit=1000`, ECR DescribeRepositories
  with `maxResults=1000`, API Gateway GetRestApis, GetUsagePlans and GetAuthorizers with `limit=500`, S3
  Control ListAccessPoints with `maxResults=1000`.
- Pagination (pages are smaller than AWS's defaults so every client must follow tokens): IAM
  GetAccountAuthorizationDetails (2 pages, `Marker`, though `MaxItems=1000` is asked: IAM may return fewer),
  Lambda ListFunctions in us-east-1 (2 pages, `Marker`/`NextMarker`), API Gateway GetResources of orders-api
  (2 pages, `position`), SQS ListQueues in us-east-1 when `MaxResults` is sent (2 pages, `NextToken`;
  without MaxResults SQS returns every queue at once, as it really does).
- Policy documents come as each service sends them: IAM URL-encoded (RFC 3986); API Gateway REST API
  policies with quotes and slashes backslash-escaped inside the JSON string; Secrets Manager, ECR and the
  default KMS key policies in Jackson's pretty-printed form; SQS and SNS policies as attribute strings.

## Operations covered

| directory | operations (files) |
| --- | --- |
{operations_table(fx)}

## Planted flaws

Each row must become exactly one finding with this category and resource, from this source. API methods
and routes are named by their execute-api ARN, `arn:aws:execute-api:REGION:ACCOUNT:API_ID/STAGE/METHOD/PATH`,
PATH being the resource path as the API defines it (path parameters in braces). EBS snapshots and AMIs have
no account in their ARN, as AWS writes them. "any-aws-account" means any authenticated principal of any AWS
account.

| id | category | source | resource | what and why |
| --- | --- | --- | --- | --- |
{flaw_rows}

Paths the findings must show (entry, hops, what is reached):

{path_rows}

## Coverage gaps

Real error responses in the fixtures (no fault injection needed). The facts they hide must be reported as
unknown, with a coverage-gap finding on the resource, and never as exposed or safe.

| id | resource | call | error | why |
| --- | --- | --- | --- | --- |
{gap_rows}

## Safe look-alikes

No finding may name these resources ("not" lists the categories excluded when a resource legitimately has
another finding).

| id | resource | resembles | not | why it is safe |
| --- | --- | --- | --- | --- |
{look_rows}

## Service control policies

`FullAWSAccess` is attached to the root, the OU and the account, as Organizations does by default. The OU also
carries `workload-guardrails` (`{GUARDRAILS['id']}`):

- `DenyLeavingTheOrganization`: organizations:LeaveOrganization. No effect on any finding.
- `DenyGlueDevelopmentEndpoints`: glue:CreateDevEndpoint and glue:UpdateDevEndpoint. This is what makes
  L32 (analytics-deployer) safe: without the SCP its iam:PassRole on "*" plus glue:CreateDevEndpoint would
  reach glue-etl-service, which can write demo-customer-data.
- `DenyBucketPolicyChangesOutsideHomeRegions`: s3:PutBucketPolicy and s3:DeleteBucketPolicy when
  aws:RequestedRegion is not us-east-1 or eu-west-1. No effect on any finding: every bucket lives in a home
  region, so bucket policies can still be changed by whoever IAM allows.

## Secrets at rest

ListFunctions returns environment variable values. The function `legacy-webhook` carries secret-looking
values (a database password, AWS's documented example access key pair, a Slack webhook URL, a signing secret).
A snapshot may hold the variable names only; no value may reach a snapshot, a report or a log. This is a test
of the scanner, not a finding the analyzers must produce.

## Where the fixtures simplify or may differ from AWS

- Field sets follow the botocore 1.29 models: fields AWS added later (Lambda `LoggingConfig`, KMS
  `GetKeyPolicy.PolicyName`, S3 ListBuckets pagination, ...) are absent, and enum values are limited to the
  model's (Lambda runtimes up to python3.9 / nodejs18.x / java11).
- SQS is answered in the query protocol (what botocore 1.29 speaks); current SDKs also speak the JSON
  protocol to SQS.
- GetAccountAuthorizationDetails lists the AWS managed policies that are attached in the account, each with
  its default version only; the documents of AWS managed policies are as AWS publishes them at the versions
  shown, to the best of our knowledge.
- GetBucketPolicyStatus reports IsPublic from the bucket policy alone (demo-marketing-site says true although
  its Block Public Access neutralises the policy).
- Addresses use the documentation range 203.0.113.0/24; request ids, unique ids and tokens are derived from
  hashes, not issued by AWS.
"""


def write_planted(out, fx):
    check_planted(fx)
    with open(os.path.join(out, "flaws.json"), "w") as f:
        f.write(flaws_json(fx))
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(readme(fx))


# =================================================================================================
# Output
# =================================================================================================


def scenario_json():
    return json.dumps({
        "account": ACCOUNT,
        "regions": HOME_REGIONS,
        "credentials": [{"access_key_id": SCAN_ACCESS_KEY, "secret_access_key": SCAN_SECRET_KEY,
                         "session_token": SCAN_SESSION_TOKEN}],
    }, indent=2) + "\n"


RENDERERS = [render_sts, render_iam, render_s3, render_lambda, render_apigateway, render_sqs, render_sns, render_ec2,
             render_rds, render_kms, render_secretsmanager, render_ecr, render_organizations]


def main(argv):
    out = os.path.join(ROOT, "fixtures", "aws", "demo")
    args = argv[1:]
    if args[:1] == ["--out"] and len(args) == 2:
        out = args[1]
    elif args:
        print("usage: gen_demo_fixtures.py [--out DIR]", file=sys.stderr)
        return 2
    fx = Fixtures()
    for render in RENDERERS:
        render(fx)
    fx.write(out)
    with open(os.path.join(out, "scenario.json"), "w") as f:
        f.write(scenario_json())
    write_planted(out, fx)
    print(f"gen_demo_fixtures: {len(fx.files)} responses in {os.path.relpath(out, os.getcwd())}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
