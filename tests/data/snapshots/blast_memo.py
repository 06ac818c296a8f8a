"""tests/data/snapshots/blast-memo.json: administrators whose answers may and may not be shared.

    /usr/bin/python3 tests/data/snapshots/blast_memo.py tests/data/snapshots/blast-memo.json

The blast engine remembers member tests by the policies that decide them (docs/blast-and-queries.md). Here:
- admin-a and admin-c both have AdministratorAccess; admin-c also an inline policy about logs only, which cannot
  change what "*" does to a bucket or a key: they may share answers;
- admin-b has AdministratorAccess and denies everything on logs-bucket, admin-f the same on data-bucket: each must
  miss its own bucket and only that one, whoever asked first;
- key pinned-key trusts admin-a by name only (no statement for the account): admin-a may use it, admin-c may not.
"""
import os, sys; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapgen import *

ADMIN = managed("arn:aws:iam::aws:policy/AdministratorAccess", doc(allow("*", "*")))
key = f"arn:aws:kms:{R}:{A}:key/0a1b2c3d-0000-4000-8000-0000000000aa"
resources = [
    account_res(),
    role("admin-a", trust_service("ec2.amazonaws.com"), [ADMIN]),
    role("admin-b", trust_service("ec2.amazonaws.com"), [ADMIN, inline("no-logs", doc(
        deny("*", ["arn:aws:s3:::logs-bucket", "arn:aws:s3:::logs-bucket/*"], "NoLogs")))]),
    role("admin-c", trust_service("ec2.amazonaws.com"), [ADMIN, inline("logs", doc(allow("logs:*", "*", "Logs")))]),
    role("admin-f", trust_service("ec2.amazonaws.com"), [ADMIN, inline("no-data", doc(
        deny("*", ["arn:aws:s3:::data-bucket", "arn:aws:s3:::data-bucket/*"], "NoData")))]),
    bucket("logs-bucket"),
    bucket("data-bucket"),
    res(key, "aws:kms:key", "pinned-key", {"key_manager": "CUSTOMER", "key_state": "Enabled", "aliases": []},
        {"resource": doc({"Sid": "OnlyAdminA", "Effect": "Allow",
                          "Principal": {"AWS": f"arn:aws:iam::{A}:role/admin-a"}, "Action": "*", "Resource": "*"})}),
]
write(sys.argv[1], resources)
