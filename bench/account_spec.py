"""The synthetic account of tmscan's benchmark, as data.

build(n, seed) returns an Account: lists of dicts in exactly the shapes that
scripts/gen_demo_fixtures.py describes its demo account with (USERS, ROLES, BUCKETS, FUNCTIONS, ...), so
that generator's renderers can turn it into wire-accurate mockcloud responses, and so bench/snapshot.py
can write the same account directly as a snapshot.

The mix follows the shape of real accounts: IAM roles are the largest population, then compute
(instances with their interfaces, functions), storage and messaging, with API Gateway APIs expanding into
many methods and routes. A realistic minority of resource policies is public or open to other accounts,
and most of those that look open are guarded by conditions. Everything is derived from `seed` with
random.Random: the same (n, seed) gives the same account, byte for byte.
"""

import importlib.util
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def load_demo():
    """scripts/gen_demo_fixtures.py as a module: its renderers and helpers read the module's globals."""
    path = os.path.join(ROOT, "scripts", "gen_demo_fixtures.py")
    spec = importlib.util.spec_from_file_location("gen_demo_fixtures", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


D = load_demo()
P, S = D.P, D.S
ACCOUNT = D.ACCOUNT

# Where the account lives: a primary region, a second one, and two smaller footprints.
REGIONS = ["us-east-1", "eu-west-1", "us-west-2", "ap-southeast-2"]
REGION_WEIGHTS = [0.50, 0.25, 0.15, 0.10]

# Accounts outside this one that policies name: partners, vendors and other accounts of the organization.
EXTERNAL_ACCOUNTS = ["999988887777", "210987654321", "444455556666", "555566667777", "666677778888",
                     "123456789012", "210987654320", "313131313131"]

# Share of the account's snapshot resources per kind. Units are created so that each kind contributes
# about this share, given how many resources one unit becomes (an instance is also its network
# interface; a REST API is also its stage and one resource per deployed method).
MIX = {
    "role": 0.19, "user": 0.015, "group": 0.003, "bucket": 0.08, "function": 0.13, "rest_api": 0.06,
    "http_api": 0.03, "queue": 0.07, "topic": 0.035, "instance": 0.14, "security_group": 0.06,
    "service_eni": 0.025, "snapshot": 0.025, "image": 0.006, "db": 0.01, "db_snapshot": 0.012, "key": 0.03,
    "secret": 0.035, "repository": 0.025, "esm": 0.012,
}
PER_UNIT = {"instance": 2.0, "rest_api": 9.0, "http_api": 5.0, "function": 1.05}

RUNTIMES = ["python3.9", "python3.8", "nodejs18.x", "nodejs16.x", "java11", "go1.x", "provided.al2", "dotnet6"]
WORDS = ["orders", "billing", "users", "catalog", "search", "media", "reports", "events", "auth", "audit",
         "payments", "inventory", "shipping", "notify", "analytics", "export", "import", "sync", "gateway", "ledger"]
ENV_NAMES = ["LOG_LEVEL", "TABLE_NAME", "BUCKET", "QUEUE_URL", "STAGE", "API_KEY", "DB_PASSWORD", "SECRET_ARN",
             "SENTRY_DSN", "FEATURE_FLAGS", "REGION_OVERRIDE", "TOPIC_ARN"]


def _ts(rnd, year_from=2017, year_to=2024):
    y = rnd.randint(year_from, year_to)
    return f"{y}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}T{rnd.randint(0, 23):02d}:{rnd.randint(0, 59):02d}:" \
           f"{rnd.randint(0, 59):02d}Z"


def _epoch(rnd):
    return float(rnd.randint(1500000000, 1717000000))


class Account:
    """The spec of one synthetic account (see the module docstring)."""

    def __init__(self, n, seed):
        self.n = n
        self.seed = seed
        self.rnd = random.Random(f"tmscan-bench:{seed}:{n}")
        self.units = {k: max(1, round(n * share / PER_UNIT.get(k, 1.0))) for k, share in MIX.items()}
        self.users, self.groups, self.roles = [], [], []
        self.customer_managed = {}
        self.buckets, self.access_points = [], []
        self.functions, self.event_source_mappings = [], []
        self.rest_apis, self.http_apis = [], []
        self.queues, self.topics, self.subscriptions = [], [], []
        self.sg_ids, self.security_groups = {}, {}
        self.instances, self.service_enis, self.snapshots, self.images = [], [], [], []
        self.db_instances, self.db_snapshots = [], []
        self.keys, self.secrets, self.secret_suffix, self.repositories = [], [], {}, []
        self.vpcs = {}
        self._build()

    # ---- helpers -----------------------------------------------------------------------------

    def region(self):
        return self.rnd.choices(REGIONS, REGION_WEIGHTS)[0]

    def ext(self):
        return self.rnd.choice(EXTERNAL_ACCOUNTS)

    def word(self):
        return self.rnd.choice(WORDS)

    def chance(self, p):
        return self.rnd.random() < p

    def vpc(self, region):
        if region not in self.vpcs:
            v = "vpc-" + D.hexid(17, "bench-vpc", region)
            subnets = ["subnet-" + D.hexid(17, "bench-subnet", region, i) for i in range(4)]
            self.vpcs[region] = (v, subnets)
        return self.vpcs[region]

    # ---- the account -------------------------------------------------------------------------

    def _build(self):
        u = self.units
        self._buckets(u["bucket"])
        self._security_groups(u["security_group"])
        self._keys(u["key"])
        self._queues(u["queue"])
        self._iam_base(u["role"], u["user"], u["group"])
        self._functions(u["function"])
        self._topics(u["topic"])
        self._esms(u["esm"])
        self._apis(u["rest_api"], u["http_api"])
        self._instances(u["instance"], u["service_eni"])
        self._ebs(u["snapshot"], u["image"])
        self._rds(u["db"], u["db_snapshot"])
        self._secrets(u["secret"])
        self._repositories(u["repository"])
        self._lambda_roles_finish()

    def _buckets(self, count):
        bpa_all = D.BPA_ALL
        for i in range(count):
            name = f"acme-{self.word()}-{i:05d}-{D.hexid(6, 'bucket', self.seed, i)}"
            region = self.region()
            arn = f"arn:aws:s3:::{name}"
            b = dict(name=name, region=region, created=_ts(self.rnd).replace("Z", ".000Z"),
                     ownership="BucketOwnerEnforced" if self.chance(0.8) else "ObjectWriter")
            r = self.rnd.random()
            b["bpa"] = bpa_all if r < 0.7 else (None if r < 0.9 else dict(
                BlockPublicAcls=True, IgnorePublicAcls=True, BlockPublicPolicy=False, RestrictPublicBuckets=False))
            if self.chance(0.35):
                kind = self.rnd.random()
                if kind < 0.08:
                    b["policy"] = P(S("Allow", "s3:GetObject", f"{arn}/*", sid="PublicRead", principal="*"))
                    b["policy_public"] = b["bpa"] is None
                elif kind < 0.23:
                    acct = self.ext()
                    b["policy"] = P(S("Allow", ["s3:GetObject", "s3:PutObject"], f"{arn}/*", sid="PartnerObjects",
                                      principal={"AWS": f"arn:aws:iam::{acct}:root"}))
                    b["policy_public"] = False
                elif kind < 0.33:
                    b["policy"] = P(S("Allow", "s3:GetObject", f"{arn}/*", sid="OrganizationRead", principal="*",
                                      condition={"StringEquals": {"aws:PrincipalOrgID": D.ORG_ID}}))
                    b["policy_public"] = False
                elif kind < 0.53:
                    b["policy"] = P(S("Allow", "s3:PutObject", f"{arn}/AWSLogs/{ACCOUNT}/*", sid="LogDelivery",
                                      principal={"Service": "logging.s3.amazonaws.com"},
                                      condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}}))
                    b["policy_public"] = False
                else:
                    b["policy"] = P(S("Deny", "s3:*", [arn, f"{arn}/*"], sid="DenyInsecureTransport", principal="*",
                                      condition={"Bool": {"aws:SecureTransport": "false"}}))
                    b["policy_public"] = False
            if self.chance(0.02):
                b["acl"] = [(D.ALL_USERS, "READ")]
            elif self.chance(0.02):
                b["acl"] = [(D.AUTH_USERS, "READ")]
            if self.chance(0.03):
                b["website"] = ("index.html", "error.html")
            self.buckets.append(b)
        for i, b in enumerate(self.buckets[::200]):
            self.access_points.append(dict(
                name=f"ap-{i:04d}-{b['name'][:20].rstrip('-')}", region=b["region"], bucket=b["name"],
                origin="VPC" if i % 2 else "Internet", vpc=self.vpc(b["region"])[0],
                policy=None if i % 3 else P(S("Allow", "s3:GetObject",
                                              f"arn:aws:s3:{b['region']}:{ACCOUNT}:accesspoint/ap-{i:04d}/object/*",
                                              principal={"AWS": f"arn:aws:iam::{self.ext()}:root"}))))

    def _security_groups(self, count):
        by_region = {}
        for i in range(count):
            region = self.region()
            vpc, _ = self.vpc(region)
            name = f"sg-{self.word()}-{i:05d}"
            sid = "sg-" + D.hexid(17, "bench-sg", self.seed, i)
            self.sg_ids[name] = sid
            r = self.rnd.random()
            if r < 0.06:
                ingress = [D.ingress("tcp", 22, cidrs=[("0.0.0.0/0", "ssh")])]
            elif r < 0.09:
                ingress = [D.ingress("tcp", 3389, cidrs=[("0.0.0.0/0", None)])]
            elif r < 0.30:
                ingress = [D.ingress("tcp", 443, cidrs=[("0.0.0.0/0", None)], cidrs6=[("::/0", None)])]
            elif r < 0.32:
                ingress = [D.ingress("-1", cidrs=[("0.0.0.0/0", None)])]
            else:
                ingress = [D.ingress("tcp", self.rnd.choice([443, 5432, 6379, 8080]), cidrs=[("10.0.0.0/8", None)])]
            by_region.setdefault(region, []).append(dict(id=sid, name=name, description=f"{name} group", vpc=vpc,
                                                         ingress=ingress, egress=D.EGRESS_ALL))
        for region in REGIONS:
            groups = by_region.get(region, [])
            vpc, _ = self.vpc(region)
            self.security_groups[region] = [D.default_sg_spec(region), D.default_sg_spec(region, vpc)] + groups

    def sg_names(self, region):
        return [g["name"] for g in self.security_groups[region] if g["name"] != "default"]

    def _keys(self, count):
        # The demo renderer encrypts EBS snapshots with the key aliased customer-data in us-east-1 and
        # etl-staging elsewhere: the first keys carry those aliases, one per region.
        fixed = [(REGIONS[0], "customer-data")] + [(r, "etl-staging") for r in REGIONS[1:]]
        for i in range(max(count, len(fixed))):
            region, alias = fixed[i] if i < len(fixed) else (self.region(), f"{self.word()}-{i:05d}")
            kid = "%s-%s-%s-%s-%s" % (D.hexid(8, "k", self.seed, i), D.hexid(4, "k1", self.seed, i),
                                      "4" + D.hexid(3, "k2", self.seed, i), "8" + D.hexid(3, "k3", self.seed, i),
                                      D.hexid(12, "k4", self.seed, i))
            root = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
            stmts = [S("Allow", "kms:*", "*", sid="Enable IAM User Permissions", principal=root)]
            r = self.rnd.random()
            if r < 0.12:
                stmts.append(S("Allow", ["kms:Decrypt", "kms:DescribeKey"], "*", sid="Allow use by the partner",
                               principal={"AWS": f"arn:aws:iam::{self.ext()}:root"}))
            elif r < 0.17:
                stmts.append(S("Allow", ["kms:Decrypt", "kms:DescribeKey"], "*", sid="Allow use through Secrets Manager",
                               principal={"AWS": "*"},
                               condition={"StringEquals": {"kms:CallerAccount": ACCOUNT,
                                                           "kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}}))
            self.keys.append(dict(alias=alias, id=kid, region=region,
                                  description=f"Key {i}", created=_epoch(self.rnd) + 0.25,
                                  style="console" if self.chance(0.6) else "jackson",
                                  policy=P(*stmts, pid="key-consolepolicy-3")))

    def key_alias_in(self, region):
        ks = [k for k in self.keys if k["region"] == region]
        return self.rnd.choice(ks)["alias"] if ks else None

    def _queues(self, count):
        for i in range(count):
            region = self.region()
            name = f"{self.word()}-{i:05d}-queue"
            arn = D.queue_arn(region, name)
            q = dict(name=name, region=region, created=int(_epoch(self.rnd)), sse=self.chance(0.7), policy=None)
            r = self.rnd.random()
            if r < 0.03:
                q["policy"] = P(S("Allow", "sqs:SendMessage", arn, sid="public", principal="*"),
                                pid=f"{arn}/SQSDefaultPolicy")
            elif r < 0.10:
                q["policy"] = P(S("Allow", ["sqs:SendMessage", "sqs:ReceiveMessage"], arn, sid="partner",
                                  principal={"AWS": f"arn:aws:iam::{self.ext()}:root"}), pid=f"{arn}/SQSDefaultPolicy")
            elif r < 0.35:
                q["policy"] = P(S("Allow", "sqs:SendMessage", arn, sid="topic", principal={"Service": "sns.amazonaws.com"},
                                  condition={"ArnLike": {"aws:SourceArn": f"arn:aws:sns:{region}:{ACCOUNT}:*"}}),
                                pid=f"{arn}/SQSDefaultPolicy")
            if self.chance(0.1):
                alias = self.key_alias_in(region)
                if alias:
                    q["kms"] = f"alias/{alias}"
            self.queues.append(q)

    # ---- IAM ---------------------------------------------------------------------------------

    def _iam_base(self, n_roles, n_users, n_groups):
        audit = next(r for r in D.ROLES if r["name"] == "tmscan-audit")
        self.customer_managed["TmscanReadOnly"] = D.CUSTOMER_MANAGED["TmscanReadOnly"]
        self.roles.append(dict(audit))
        n_policies = max(3, n_roles // 3)
        policy_names = []
        for i in range(n_policies):
            name = f"{self.word()}-access-{i:05d}"
            r = self.rnd.random()
            if r < 0.04:
                doc = P(S("Allow", "*", "*", sid="Broad"))
            elif r < 0.10:
                doc = P(S("Allow", ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"], "*", sid="Deploy"))
            else:
                b = self.rnd.choice(self.buckets)["name"]
                q = self.rnd.choice(self.queues)
                doc = P(S("Allow", ["s3:GetObject", "s3:PutObject"], f"arn:aws:s3:::{b}/*", sid="Objects"),
                        S("Allow", ["sqs:SendMessage", "sqs:ReceiveMessage"], D.queue_arn(q["region"], q["name"]),
                          sid="Queue"))
            self.customer_managed[name] = dict(created=_ts(self.rnd), style=self.rnd.choice(["console", "compact"]),
                                               description=f"Access for {name}", versions=[doc])
            policy_names.append(name)
        self.policy_names = policy_names
        for i in range(n_groups):
            self.groups.append(dict(name=f"{self.word()}-team-{i:04d}", created=_ts(self.rnd),
                                    managed=[(self.rnd.choice(policy_names), "customer")]))
        self.groups.sort(key=lambda g: g["name"])
        for i in range(n_users):
            name = f"user-{i:05d}"
            keys = []
            for k in range(self.rnd.choice([0, 0, 1, 1, 2])):
                keys.append(dict(id="AKIA" + D.hexid(16, "bench-key", self.seed, i, k).upper(),
                                 status="Active" if self.chance(0.8) else "Inactive", created=_ts(self.rnd),
                                 last_used=_ts(self.rnd, 2023, 2024), service=self.rnd.choice(["s3", "sts", "ec2"]),
                                 region=self.rnd.choice(REGIONS)))
            groups = [self.rnd.choice(self.groups)["name"]] if self.groups and self.chance(0.7) else []
            user = dict(name=name, path="/", created=_ts(self.rnd), groups=groups, tags=[("team", self.word())],
                        keys=keys)
            if self.chance(0.3):
                user["managed"] = [(self.rnd.choice(policy_names), "customer")]
            self.users.append(user)
        # Roles that are not execution or instance roles: people, automation and other accounts.
        self.lambda_roles, self.ec2_roles = [], []
        n_other = max(1, n_roles // 3)
        for i in range(n_other):
            name = f"{self.word()}-role-{i:05d}"
            r = self.rnd.random()
            role = dict(name=name, created=_ts(self.rnd), last_used=(_ts(self.rnd, 2024, 2024), self.rnd.choice(REGIONS)))
            if r < 0.25:
                cond = {"StringEquals": {"sts:ExternalId": D.hexid(12, "ext", i)}} if self.chance(0.5) else None
                role["trust"] = P(S("Allow", "sts:AssumeRole", principal={"AWS": f"arn:aws:iam::{self.ext()}:root"},
                                    condition=cond))
            elif r < 0.255:
                role["trust"] = P(S("Allow", "sts:AssumeRole", principal={"AWS": "*"}))
            elif r < 0.55:
                role["trust"] = D.TRUST_SAML
            elif r < 0.65:
                role["trust"] = P(S("Allow", "sts:AssumeRoleWithWebIdentity", principal={"Federated": D.OIDC_GITHUB},
                                    condition={"StringLike": {"token.actions.githubusercontent.com:sub":
                                                              f"repo:acme-corp/{self.word()}:*"}}))
            elif r < 0.85:
                svc = self.rnd.choice(["glue", "states", "events", "codebuild", "ecs-tasks"])
                role["trust"] = P(S("Allow", "sts:AssumeRole", principal={"Service": f"{svc}.amazonaws.com"}))
                role["path"] = "/service-role/"
            else:
                svc = self.rnd.choice(["elasticloadbalancing", "rds", "autoscaling", "ecs"])
                role["trust"] = P(S("Allow", "sts:AssumeRole", principal={"Service": f"{svc}.amazonaws.com"}))
                role["path"] = f"/aws-service-role/{svc}.amazonaws.com/"
            role["managed"] = [(self.rnd.choice(policy_names), "customer")]
            if self.chance(0.03):
                role["managed"].append(("AdministratorAccess", "aws"))
            if self.chance(0.3):
                role["inline"] = {"extra": P(S("Allow", ["s3:ListBucket"], "*"))}
            self.roles.append(role)
        self.n_lambda_roles = max(1, n_roles - n_other - max(1, n_roles // 12))
        self.n_ec2_roles = max(1, n_roles // 12)

    def _lambda_roles_finish(self):
        self.roles.extend(self.lambda_roles)
        self.roles.extend(self.ec2_roles)

    def lambda_role(self):
        """An execution role: new until the account has its share of them, then shared."""
        if len(self.lambda_roles) < self.n_lambda_roles:
            i = len(self.lambda_roles)
            b = self.rnd.choice(self.buckets)["name"]
            role = dict(name=f"{self.word()}-lambda-{i:05d}", created=_ts(self.rnd), trust=D.TRUST_LAMBDA,
                        path="/service-role/", managed=[D.LAMBDA_BASIC],
                        inline={"data": P(S("Allow", ["s3:GetObject"], f"arn:aws:s3:::{b}/*"))},
                        last_used=(_ts(self.rnd, 2024, 2024), self.rnd.choice(REGIONS)))
            if self.chance(0.05):
                role["managed"] = role["managed"] + [("AdministratorAccess", "aws")]
            self.lambda_roles.append(role)
            return role
        return self.rnd.choice(self.lambda_roles)

    def ec2_role(self):
        if len(self.ec2_roles) < self.n_ec2_roles:
            i = len(self.ec2_roles)
            name = f"{self.word()}-ec2-{i:05d}"
            role = dict(name=name, created=_ts(self.rnd), trust=D.TRUST_EC2, profile=f"{name}-profile",
                        managed=[(self.rnd.choice(self.policy_names), "customer")],
                        last_used=(_ts(self.rnd, 2024, 2024), self.rnd.choice(REGIONS)))
            self.ec2_roles.append(role)
            return role
        return self.rnd.choice(self.ec2_roles)

    # ---- compute and APIs --------------------------------------------------------------------

    def _functions(self, count):
        for i in range(count):
            region = self.region()
            name = f"{self.word()}-fn-{i:05d}"
            role = self.lambda_role()
            f = dict(name=name, region=region, runtime=self.rnd.choice(RUNTIMES), handler="index.handler",
                     memory=self.rnd.choice([128, 256, 512, 1024]), timeout=self.rnd.choice([3, 15, 30, 60]),
                     role=D.role_arn(role["name"], role.get("path", "/")), code_size=self.rnd.randint(1000, 9000000),
                     modified="2024-%02d-%02dT10:00:00.000+0000" % (self.rnd.randint(1, 12), self.rnd.randint(1, 28)),
                     description=f"{name} handler",
                     env={k: "x" for k in self.rnd.sample(ENV_NAMES, self.rnd.randint(0, 4))}, policy=None)
            if self.chance(0.2) and self.sg_names(region):
                vpc, subnets = self.vpc(region)
                f["vpc"] = (subnets[:2], [self.sg_ids[self.rnd.choice(self.sg_names(region))]], vpc)
            r = self.rnd.random()
            if r < 0.04:
                f["policy"] = lambda arn: D.fn_policy(D.lambda_permission("public", "*", arn))
            elif r < 0.10:
                acct = self.ext()
                f["policy"] = lambda arn, acct=acct: D.fn_policy(D.lambda_permission(
                    "partner", {"AWS": f"arn:aws:iam::{acct}:root"}, arn))
            elif r < 0.45:
                svc = self.rnd.choice(["apigateway", "s3", "sns", "events"])
                f["policy"] = lambda arn, svc=svc, region=region: D.fn_policy(D.lambda_permission(
                    f"{svc}-invoke", {"Service": f"{svc}.amazonaws.com"}, arn,
                    {"ArnLike": {"AWS:SourceArn": f"arn:aws:{'execute-api' if svc == 'apigateway' else svc}:"
                                                  f"{region}:{ACCOUNT}:*"}}))
            if self.chance(0.06):
                auth = "NONE" if self.chance(0.5) else "AWS_IAM"
                f["url"] = dict(auth=auth, id=D.hexid(32, "url", self.seed, i), created="2023-05-01T10:00:00.000000Z",
                                cors=dict(AllowOrigins=["*"], AllowMethods=["POST"], MaxAge=300) if self.chance(0.5)
                                else None)
                if auth == "NONE":
                    f["policy"] = lambda arn: D.fn_policy(D.lambda_permission(
                        "FunctionURLAllowPublicAccess", "*", arn,
                        {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}, action="lambda:InvokeFunctionUrl"))
            if self.chance(0.05):
                f["aliases"] = [dict(name="live", version=str(self.rnd.randint(1, 40)), description="live traffic",
                                     policy=lambda a: D.fn_policy(D.lambda_permission(
                                         "apigw", {"Service": "apigateway.amazonaws.com"}, a)))]
            self.functions.append(f)

    def functions_in(self, region):
        return [f for f in self.functions if f["region"] == region]

    def _topics(self, count):
        for i in range(count):
            region = self.region()
            name = f"{self.word()}-{i:05d}-topic"
            arn = D.topic_arn(region, name)
            extra = []
            r = self.rnd.random()
            if r < 0.05:
                extra.append(S("Allow", ["SNS:Subscribe", "SNS:Receive"], arn, sid="public-subscribe",
                               principal={"AWS": "*"}))
            elif r < 0.10:
                extra.append(S("Allow", "SNS:Publish", arn, sid="partner-publish",
                               principal={"AWS": f"arn:aws:iam::{self.ext()}:root"}))
            t = dict(name=name, region=region, display="", policy=D.sns_policy(region, name, *extra))
            self.topics.append(t)
            for k in range(self.rnd.choice([0, 1, 1, 2])):
                qs = [q for q in self.queues if q["region"] == region]
                fns = self.functions_in(region)
                kind = self.rnd.random()
                if kind < 0.4 and qs:
                    sub = dict(protocol="sqs", endpoint=D.queue_arn(region, self.rnd.choice(qs)["name"]))
                elif kind < 0.7 and fns:
                    sub = dict(protocol="lambda", endpoint=D.fn_arn(region, self.rnd.choice(fns)["name"]))
                elif kind < 0.9:
                    sub = dict(protocol="email", endpoint=f"team-{i}-{k}@example.com")
                else:
                    sub = dict(protocol="https", endpoint=f"https://hooks.example.com/{i}/{k}")
                sub.update(topic=name, region=region, owner=ACCOUNT)
                self.subscriptions.append(sub)

    def _esms(self, count):
        for i in range(count):
            f = self.rnd.choice(self.functions)
            qs = [q for q in self.queues if q["region"] == f["region"]]
            if not qs:
                continue
            q = self.rnd.choice(qs)
            self.event_source_mappings.append(dict(
                region=f["region"], uuid="%s-%s-4%s-8%s-%s" % (D.hexid(8, "esm", self.seed, i), D.hexid(4, "e1", i),
                                                               D.hexid(3, "e2", i), D.hexid(3, "e3", i),
                                                               D.hexid(12, "e4", i)),
                function=f["name"], source=D.queue_arn(q["region"], q["name"]), batch=10, modified=_epoch(self.rnd)))

    def _apis(self, n_rest, n_http):
        for i in range(n_rest):
            region = self.region()
            api_id = D.hexid(10, "restapi", self.seed, i)
            fns = self.functions_in(region)
            resources = [dict(id=D.hexid(10, "res", api_id, "/"), path="/", methods={})]
            authorizers = []
            if self.chance(0.3):
                authorizers.append({"id": D.hexid(6, "auth", api_id), "name": "users", "type": "COGNITO_USER_POOLS",
                                    "providerARNs": [f"arn:aws:cognito-idp:{region}:{ACCOUNT}:userpool/{region}_abc{i}"],
                                    "identitySource": "method.request.header.Authorization",
                                    "authorizerResultTtlInSeconds": 300})
            for p in range(self.rnd.randint(2, 4)):
                path = f"/{self.word()}{p}"
                methods = {}
                for verb in self.rnd.sample(["GET", "POST", "PUT", "DELETE"], self.rnd.randint(1, 3)):
                    auth = self.rnd.choices(["NONE", "AWS_IAM", "COGNITO_USER_POOLS"], [0.45, 0.25, 0.3])[0]
                    if auth == "COGNITO_USER_POOLS" and not authorizers:
                        auth = "NONE"
                    if fns:
                        integ = D.proxy_integration(region, self.rnd.choice(fns)["name"], D.hexid(6, "ns", api_id, p))
                    else:
                        integ = {"type": "HTTP_PROXY", "httpMethod": verb, "uri": f"https://backend.example.com{path}",
                                 "connectionType": "INTERNET", "passthroughBehavior": "WHEN_NO_MATCH",
                                 "timeoutInMillis": 29000, "cacheNamespace": D.hexid(6, "ns", api_id, p),
                                 "cacheKeyParameters": []}
                    methods[verb] = D.method(verb, auth, integ,
                                             authorizer=authorizers[0]["id"] if auth == "COGNITO_USER_POOLS" else None)
                resources.append(dict(id=D.hexid(10, "res", api_id, path), path=path, methods=methods))
            private = self.chance(0.1)
            policy = None
            if private:
                vpce = "vpce-" + D.hexid(17, "vpce", region)
                policy = P(S("Deny", "execute-api:Invoke", f"arn:aws:execute-api:{region}:{ACCOUNT}:{api_id}/*",
                             principal="*", condition={"StringNotEquals": {"aws:SourceVpce": vpce}}),
                           S("Allow", "execute-api:Invoke", f"arn:aws:execute-api:{region}:{ACCOUNT}:{api_id}/*",
                             principal="*"))
            self.rest_apis.append(dict(
                id=api_id, name=f"{self.word()}-api-{i:04d}", region=region, created=int(_epoch(self.rnd)),
                description="", endpoint=["PRIVATE"] if private else ["REGIONAL"], policy=policy,
                vpce=["vpce-" + D.hexid(17, "vpce", region)] if private else None, resources=resources,
                authorizers=authorizers,
                stages=[{"deploymentId": D.hexid(6, "dep", api_id), "stageName": "prod", "cacheClusterEnabled": False,
                         "cacheClusterStatus": "NOT_AVAILABLE", "methodSettings": {}, "tracingEnabled": False,
                         "createdDate": 1676887800, "lastUpdatedDate": 1676887800}]))
        for i in range(n_http):
            region = self.region()
            api_id = D.hexid(10, "httpapi", self.seed, i)
            fns = self.functions_in(region)
            integrations, routes = [], []
            if fns:
                integrations.append({"connectionType": "INTERNET", "integrationId": D.hexid(7, "int", api_id),
                                     "integrationMethod": "POST", "integrationType": "AWS_PROXY",
                                     "integrationUri": D.fn_arn(region, self.rnd.choice(fns)["name"]),
                                     "payloadFormatVersion": "2.0", "timeoutInMillis": 30000})
            authorizers = [{"authorizerId": D.hexid(7, "jwt", api_id), "authorizerType": "JWT",
                            "identitySource": ["$request.header.Authorization"],
                            "jwtConfiguration": {"audience": ["aud" + D.hexid(8, "aud", api_id)],
                                                 "issuer": f"https://cognito-idp.{region}.amazonaws.com/{region}_x{i}"},
                            "name": "users"}]
            for r in range(self.rnd.randint(2, 6)):
                auth = self.rnd.choices(["NONE", "JWT", "AWS_IAM"], [0.5, 0.35, 0.15])[0]
                route = {"apiKeyRequired": False, "authorizationType": auth, "routeId": D.hexid(7, "route", api_id, r),
                         "routeKey": f"{self.rnd.choice(['GET', 'POST'])} /{self.word()}{r}"}
                if auth == "JWT":
                    route["authorizerId"] = authorizers[0]["authorizerId"]
                if integrations:
                    route["target"] = "integrations/" + integrations[0]["integrationId"]
                routes.append(route)
            self.http_apis.append(dict(
                id=api_id, name=f"{self.word()}-http-{i:04d}", region=region, created="2023-05-19T17:05:31Z",
                routes=routes, integrations=integrations, authorizers=authorizers,
                stages=[{"autoDeploy": True, "createdDate": "2023-05-19T17:05:40Z", "defaultRouteSettings": {
                    "detailedMetricsEnabled": False}, "deploymentId": D.hexid(6, "dep", api_id),
                    "lastUpdatedDate": "2024-06-07T13:25:09Z", "routeSettings": {}, "stageName": "$default",
                    "stageVariables": {}, "tags": {}}]))

    def _instances(self, count, n_service_enis):
        ip = 0
        for i in range(count):
            region = self.region()
            vpc, subnets = self.vpc(region)
            ip += 1
            running = self.chance(0.85)
            public = running and self.chance(0.25)
            profile = self.ec2_role()["profile"] if self.chance(0.4) else None
            names = self.sg_names(region)
            sgs = self.rnd.sample(names, min(len(names), self.rnd.randint(1, 2))) if names else []
            self.instances.append(dict(
                id="i-" + D.hexid(17, "inst", self.seed, i), name=f"{self.word()}-{i:05d}", region=region,
                az=region + "a", type=self.rnd.choice(["t3.small", "m6i.large", "c5.xlarge"]),
                state="running" if running else "stopped", ami="ami-" + D.hexid(17, "ami", region),
                subnet=subnets[i % 2], vpc=vpc, private_ip=f"10.{(ip >> 16) & 255}.{(ip >> 8) & 255}.{ip & 255}",
                public_ip=f"198.51.{(i >> 8) & 255}.{i & 255}" if public else None, sgs=sgs, profile=profile,
                http_tokens="optional" if self.chance(0.35) else "required", key=None,
                launched="2024-02-20T11:03:19.000Z", eni="eni-" + D.hexid(17, "eni", self.seed, i)))
        for i in range(n_service_enis):
            region = self.region()
            vpc, subnets = self.vpc(region)
            ip += 1
            kind = self.rnd.choice(["amazon-elb", "amazon-rds", None])
            names = self.sg_names(region)
            self.service_enis.append(dict(
                id="eni-" + D.hexid(17, "seni", self.seed, i), region=region, az=region + "b", subnet=subnets[2],
                vpc=vpc, private_ip=f"10.{(ip >> 16) & 255}.{(ip >> 8) & 255}.{ip & 255}",
                public_ip=f"203.0.{(i >> 8) & 255}.{i & 255}" if kind == "amazon-elb" and self.chance(0.5) else None,
                sgs=[self.rnd.choice(names)] if names else [], requester=kind,
                description="ELB app/x" if kind == "amazon-elb" else "RDSNetworkInterface" if kind else "Lambda ENI",
                type="interface" if kind else "lambda", ip_owner="amazon"))

    def _ebs(self, n_snap, n_img):
        for i in range(n_snap):
            region = self.region()
            r = self.rnd.random()
            shared = ["all"] if r < 0.02 else [self.ext()] if r < 0.07 else []
            self.snapshots.append(dict(id="snap-" + D.hexid(17, "snap", self.seed, i), region=region,
                                       volume="vol-" + D.hexid(17, "vol", self.seed, i), size=self.rnd.choice([8, 30, 100]),
                                       description=f"backup {i}", started="2024-06-09T03:00:11.000Z",
                                       encrypted=self.chance(0.7), shared=shared))
        for i in range(n_img):
            region = self.region()
            self.images.append(dict(id="ami-" + D.hexid(17, "img", self.seed, i), region=region, name=f"golden-{i:04d}",
                                    description="image", created="2024-02-20T10:40:00.000Z",
                                    snapshot="snap-" + D.hexid(17, "imgsnap", i), encrypted=self.chance(0.5),
                                    public=self.chance(0.03)))

    def _rds(self, n_db, n_snap):
        for i in range(n_db):
            region = self.region()
            vpc, subnets = self.vpc(region)
            names = self.sg_names(region)
            if not names:
                continue
            encrypted = self.chance(0.7)
            alias = self.key_alias_in(region) if encrypted else None
            self.db_instances.append(dict(
                id=f"{self.word()}-db-{i:04d}", region=region, engine="postgres", version="15.5", cls="db.r6g.large",
                public=self.chance(0.06), sg=self.rnd.choice(names), subnets=subnets[:2], subnet_group="db-subnets",
                az=region + "a", encrypted=encrypted and alias is not None, kms=alias,
                created="2020-02-03T10:15:00.000Z", storage=100))
        for i in range(n_snap):
            if not self.db_instances:
                break
            d = self.rnd.choice(self.db_instances)
            r = self.rnd.random()
            restore = ["all"] if r < 0.03 else [self.ext()] if r < 0.11 else []
            self.db_snapshots.append(dict(id=f"{d['id']}-snap-{i:04d}", region=d["region"], db=d["id"], type="manual",
                                          created="2024-06-02T03:00:00.000Z", restore=restore))

    def _secrets(self, count):
        for i in range(count):
            region = self.region()
            name = f"{self.word()}/{i:05d}/credentials"
            self.secret_suffix[name] = D.hexid(6, "suffix", self.seed, i)
            r = self.rnd.random()
            policy = None
            if r < 0.02:
                policy = P(S("Allow", "secretsmanager:GetSecretValue", "*", sid="Public", principal={"AWS": "*"}))
            elif r < 0.10:
                policy = P(S("Allow", "secretsmanager:GetSecretValue", "*", sid="Partner",
                             principal={"AWS": f"arn:aws:iam::{self.ext()}:root"}))
            elif r < 0.12:
                policy = P(S("Allow", "secretsmanager:GetSecretValue", "*", sid="Org", principal={"AWS": "*"},
                             condition={"StringEquals": {"aws:PrincipalOrgID": D.ORG_ID}}))
            kms = self.key_alias_in(region) if self.chance(0.3) else None
            self.secrets.append(dict(name=name, region=region, description=f"secret {i}", kms=kms,
                                     created=_epoch(self.rnd), changed=_epoch(self.rnd), accessed=1717977600.0,
                                     policy=policy))

    def _repositories(self, count):
        for i in range(count):
            region = self.region()
            r = self.rnd.random()
            pull = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
            policy = None
            if r < 0.04:
                policy = P(S("Allow", pull, sid="AllowPull", principal="*"))
            elif r < 0.12:
                policy = P(S("Allow", pull, sid="PartnerPull", principal={"AWS": f"arn:aws:iam::{self.ext()}:root"}))
            elif r < 0.22:
                policy = P(S("Allow", ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], sid="LambdaPull",
                             principal={"Service": "lambda.amazonaws.com"},
                             condition={"StringLike": {"aws:sourceArn": f"arn:aws:lambda:{region}:{ACCOUNT}:function:*"}}))
            self.repositories.append(dict(name=f"{self.word()}/app-{i:05d}", region=region, created=_epoch(self.rnd),
                                          policy=policy))


def install(acct):
    """Points the demo generator's account globals (read by its renderers and ARN helpers) at acct."""
    D.HOME_REGIONS = list(REGIONS)
    D.USERS = acct.users
    D.GROUPS = acct.groups
    D.ROLES = acct.roles
    D.ROLELESS_PROFILES = []  # every profile of the synthetic account holds its role
    D.CUSTOMER_MANAGED = acct.customer_managed
    D.BUCKETS = acct.buckets
    D.ACCESS_POINTS = acct.access_points
    D.FUNCTIONS = acct.functions
    D.EVENT_SOURCE_MAPPINGS = acct.event_source_mappings
    D.REST_APIS = acct.rest_apis
    D.USAGE_PLANS = []
    D.HTTP_APIS = acct.http_apis
    D.QUEUES = acct.queues
    D.TOPICS = acct.topics
    D.SUBSCRIPTIONS = acct.subscriptions
    D.SG = acct.sg_ids
    D.SECURITY_GROUPS = acct.security_groups
    D.INSTANCES = acct.instances
    D.SERVICE_ENIS = acct.service_enis
    D.SNAPSHOTS = acct.snapshots
    D.IMAGES = acct.images
    D.DB_INSTANCES = acct.db_instances
    D.DB_SNAPSHOTS = acct.db_snapshots
    D.CLUSTER_SNAPSHOTS = []
    D.KEYS = acct.keys
    D.SECRETS = acct.secrets
    D.SECRET_SUFFIX = acct.secret_suffix
    D.REPOSITORIES = acct.repositories


def build(n, seed):
    return Account(n, seed)
