#!/usr/bin/python3
"""Wire-accuracy check for the AWS fixtures that mockcloud serves.

For every response file under fixtures/aws/<scenario>/ this proves, with the AWS SDK's own models
and parsers (Debian's python3-botocore), that:

- the request the file answers is one a real SDK sends: the match lines (method, path, param,
  header) are turned back into operation parameters, validated against the operation's input
  shape (required members present, names and types right) and serialised again with botocore's
  serializer, which must give the same method, path, query string, form or JSON body and headers;
- the response parses with botocore's parser for the service's protocol; an error response
  parses into an Error.Code that the service really sends for that operation;
- the body uses only element and field names the output shape defines, with the right types and
  enum values (botocore silently ignores unknown names, so a misspelt field would otherwise pass),
  and the XML root, namespace and content type are the service's.

Run with /usr/bin/python3 (botocore lives there, not in the pyenv interpreter):

    tests/fixtures_check.py [--self-test] [--no-self-test] [DIR ...]

With no DIR it checks every scenario under fixtures/aws/. The self-test feeds deliberately wrong
files (written to a temporary directory) through the same checks and fails unless each is
rejected with the right file and field named. Exit status 0 when everything holds, 1 otherwise.
"""

import base64
import datetime
import json
import os
import re
import sys
import tempfile
import urllib.parse
import xml.etree.ElementTree as ET

import botocore.awsrequest
import botocore.parsers
import botocore.serialize
import botocore.session
import botocore.validate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The credential-scope service names a fixture may carry, and the botocore models that sign with
# them. Two models share a signing name: S3 Control signs as "s3", API Gateway v2 as "apigateway".
SIGNING_NAMES = {
    "s3": ["s3", "s3control"],
    "apigateway": ["apigateway", "apigatewayv2"],
    "sts": ["sts"],
    "iam": ["iam"],
    "lambda": ["lambda"],
    "sqs": ["sqs"],
    "sns": ["sns"],
    "ec2": ["ec2"],
    "rds": ["rds"],
    "kms": ["kms"],
    "secretsmanager": ["secretsmanager"],
    "ecr": ["ecr"],
    "organizations": ["organizations"],
}

MATCH_KEYS = {"service", "region", "operation", "method", "path", "param", "header", "access-key", "auth"}
RESPONSE_KEYS = {"status", "content-type", "response-header"}

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
S3CONTROL_NS = "http://awss3control.amazonaws.com/doc/2018-08-20/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

# Root elements of REST-XML bodies whose output shape has no payload member: the models do not
# carry these names, the S3 and S3 Control API references do.
REST_XML_ROOTS = {
    ("s3", "ListBuckets"): "ListAllMyBucketsResult",
    ("s3", "GetBucketAcl"): "AccessControlPolicy",
    ("s3", "GetBucketLocation"): "LocationConstraint",
    ("s3", "GetBucketWebsite"): "WebsiteConfiguration",
    ("s3control", "ListAccessPoints"): "ListAccessPointsResult",
    ("s3control", "GetAccessPoint"): "GetAccessPointResult",
    ("s3control", "GetAccessPointPolicy"): "GetAccessPointPolicyResult",
}

# Error codes the services really send that the models do not list on the operation (the S3 and
# S3 Control models list almost no errors; authorisation errors are never modelled). Each set is
# what the service's API reference documents for these calls.
UNMODELLED_ERRORS = {
    "s3": {
        "AccessDenied",
        "NoSuchBucket",
        "NoSuchBucketPolicy",
        "NoSuchPublicAccessBlockConfiguration",
        "OwnershipControlsNotFoundError",
        "NoSuchWebsiteConfiguration",
    },
    "s3control": {"AccessDenied", "NoSuchPublicAccessBlockConfiguration", "NoSuchAccessPointPolicy"},
    "lambda": {"AccessDeniedException"},
    "apigateway": {"AccessDeniedException"},
    "apigatewayv2": {"AccessDeniedException"},
    "iam": {"AccessDenied"},
    "sts": {"AccessDenied"},
    "sqs": {"AccessDenied"},
    "sns": {"AccessDenied"},
    "ec2": {"UnauthorizedOperation"},
    "rds": {"AccessDenied"},
    "kms": {"AccessDeniedException"},
    "secretsmanager": {"AccessDeniedException"},
    "ecr": {"AccessDeniedException"},
    "organizations": set(),
}


# A match line "param: NAME" with no value: the parameter is present with any value.
PRESENT = object()


class CheckError(Exception):
    """One wire-accuracy failure: the file and the field at fault."""

    def __init__(self, where, message):
        super().__init__(f"{where}: {message}")
        self.where = where


class Fixture:
    def __init__(self, path):
        self.path = path
        self.match = []  # (key, value) in file order
        self.response = []
        self.comments = []
        with open(path, "rb") as f:
            raw = f.read()
        sep = raw.find(b"\n\n")
        if sep < 0:
            head, self.body = raw, b""
            if not raw.endswith(b"\n"):
                raise CheckError("head", "no blank line between the head and the body")
        else:
            head, self.body = raw[:sep], raw[sep + 2 :]
        for lineno, line in enumerate(head.decode("utf-8").split("\n"), 1):
            if not line:
                continue
            if line.startswith("#"):
                self.comments.append(line)
                continue
            if "\r" in line:
                raise CheckError(f"line {lineno}", "carriage return in the head")
            key, colon, value = line.partition(":")
            if not colon:
                raise CheckError(f"line {lineno}", f"not a 'key: value' line: {line!r}")
            key = key.strip()
            value = value.strip()
            if key in MATCH_KEYS:
                self.match.append((key, value))
            elif key in RESPONSE_KEYS:
                self.response.append((key, value))
            else:
                raise CheckError(f"line {lineno}", f"unknown key {key!r}")

    def one(self, key, default=None):
        values = [v for k, v in self.match + self.response if k == key]
        if len(values) > 1:
            raise CheckError(key, f"'{key}' given {len(values)} times")
        return values[0] if values else default

    def many(self, key):
        return [v for k, v in self.match + self.response if k == key]

    def params(self):
        out = {}
        for raw in self.many("param"):
            name, eq, value = raw.partition("=")
            if name in out:
                raise CheckError(f"param {name}", "parameter given twice")
            out[name] = value if eq else None
        return out

    def headers(self):
        out = {}
        for raw in self.many("header"):
            name, eq, value = raw.partition("=")
            if not eq:
                raise CheckError(f"header {raw}", "header match needs NAME=VALUE")
            out[name.strip().lower()] = value.strip()
        return out

    def response_headers(self):
        out = botocore.awsrequest.HeadersDict()
        for raw in self.many("response-header"):
            m = re.match(r"^([A-Za-z0-9-]+)\s*[:=]\s*(.*)$", raw)
            if not m:
                raise CheckError("response-header", f"not NAME: VALUE: {raw!r}")
            out[m.group(1)] = m.group(2)
        ctype = self.one("content-type")
        if ctype is not None:
            out["Content-Type"] = ctype
        out["Content-Length"] = str(len(self.body))
        return out


class Checker:
    def __init__(self):
        self.session = botocore.session.get_session()
        self.models = {}

    def model(self, name):
        if name not in self.models:
            self.models[name] = self.session.get_service_model(name)
        return self.models[name]

    # ---- request side ---------------------------------------------------------------------

    @staticmethod
    def _template_regex(request_uri):
        path = request_uri.split("?", 1)[0]
        out = "^"
        pos = 0
        for m in re.finditer(r"\{([A-Za-z0-9_]+)(\+?)\}", path):
            out += re.escape(path[pos : m.start()])
            out += f"(?P<{m.group(1)}>{'.+' if m.group(2) else '[^/]+'})"
            pos = m.end()
        return re.compile(out + re.escape(path[pos:]) + "$")

    def resolve(self, fx):
        service = fx.one("service")
        op_name = fx.one("operation")
        if service is None or op_name is None:
            raise CheckError("service/operation", "every AWS fixture names its service and operation")
        if service not in SIGNING_NAMES:
            raise CheckError("service", f"unknown service {service!r}")
        path = fx.one("path")
        candidates = []
        for name in SIGNING_NAMES[service]:
            model = self.model(name)
            if op_name not in model.operation_names:
                continue
            op = model.operation_model(op_name)
            if path is not None and self._template_regex(op.http["requestUri"]).match(path):
                candidates.append((model, op))
            elif path is None:
                candidates.append((model, op))
        if not candidates:
            raise CheckError(
                "operation", f"{op_name} with path {path!r} is not an operation of {SIGNING_NAMES[service]}"
            )
        if len(candidates) > 1:
            raise CheckError("operation", f"{op_name} is ambiguous between {[m.service_name for m, _ in candidates]}")
        model, op = candidates[0]
        signing = model.metadata.get("signingName", model.metadata["endpointPrefix"])
        if signing != service:
            raise CheckError("service", f"{model.service_name} signs as {signing!r}, not {service!r}")
        return model, op

    @staticmethod
    def _member_by_serialized_name(shape, name, protocol, location=None):
        for member_name, member in shape.members.items():
            ser = member.serialization
            if location is not None:
                if ser.get("location") != location:
                    continue
                wire = ser.get("name", member_name)
                if location == "header":
                    if wire.lower() == name.lower():
                        return member_name, member
                elif wire == name:
                    return member_name, member
                continue
            if ser.get("location"):
                continue
            if protocol == "ec2":
                wire = ser.get("queryName") or (ser["name"][0].upper() + ser["name"][1:] if "name" in ser else member_name)
            elif protocol == "query":
                wire = ser.get("name", member_name)
                if member.type_name == "list" and ser.get("flattened"):
                    wire = member.member.serialization.get("name", wire)
            else:
                wire = ser.get("name", member_name)
            if wire == name:
                return member_name, member
        return None, None

    @staticmethod
    def _typed(member, value, where):
        t = member.type_name
        if value is None:
            return PRESENT
        if t in ("integer", "long"):
            if not re.fullmatch(r"-?[0-9]+", value):
                raise CheckError(where, f"{value!r} is not an integer")
            return int(value)
        if t == "boolean":
            if value not in ("true", "false"):
                raise CheckError(where, f"{value!r} is not a boolean as the SDK sends it")
            return value == "true"
        if t == "list":
            return [Checker._typed(member.member, value, where)]
        if t in ("string", "timestamp"):
            if t == "string" and member.enum and value not in member.enum:
                raise CheckError(where, f"{value!r} is not one of {member.enum}")
            return value
        raise CheckError(where, f"cannot express a {t} member as a match line")

    def request_params(self, fx, model, op):
        """Turn the match lines back into the operation's input parameters."""
        protocol = model.metadata["protocol"]
        shape = op.input_shape
        params = {}
        literals = set()
        uri = op.http["requestUri"]
        if "?" in uri:
            for part in uri.split("?", 1)[1].split("&"):
                literals.add(part.split("=", 1)[0])
        fx_params = fx.params()
        if protocol in ("rest-xml", "rest-json"):
            m = self._template_regex(uri).match(fx.one("path", ""))
            if not m:
                raise CheckError("path", f"{fx.one('path')!r} does not fit {uri!r}")
            for var, raw in m.groupdict().items():
                member_name, member = self._member_by_serialized_name(shape, var, protocol, "uri")
                if member is None:
                    raise CheckError("path", f"template variable {var} is not an input member")
                params[member_name] = urllib.parse.unquote(raw)
            for name, value in fx_params.items():
                if name in literals:
                    continue
                member_name, member = self._member_by_serialized_name(shape, name, protocol, "querystring")
                if member is None:
                    raise CheckError(f"param {name}", f"{op.name} has no query-string parameter {name!r}")
                params[member_name] = self._typed(member, value, f"param {name}")
            for lit in literals:
                if lit not in fx_params:
                    raise CheckError("param", f"the request URI {uri!r} carries ?{lit}: add 'param: {lit}'")
            for name, value in fx.headers().items():
                member_name, member = self._member_by_serialized_name(shape, name, protocol, "header")
                if member is None:
                    raise CheckError(f"header {name}", f"{op.name} has no header parameter {name!r}")
                params[member_name] = self._typed(member, value, f"header {name}")
        elif protocol in ("query", "ec2"):
            lists = {}
            for name, value in fx_params.items():
                head, _, rest = name.partition(".")
                member_name, member = self._member_by_serialized_name(shape, head, protocol)
                if member is None:
                    raise CheckError(f"param {name}", f"{op.name} has no parameter {head!r}")
                if member.type_name == "list":
                    flattened = protocol == "ec2" or member.serialization.get("flattened")
                    m = re.fullmatch(r"([0-9]+)" if flattened else r"member\.([0-9]+)", rest)
                    if not m:
                        raise CheckError(f"param {name}", f"list parameter must be {head}.{'' if flattened else 'member.'}N")
                    lists.setdefault(member_name, {})[int(m.group(1))] = self._typed(
                        member.member, value, f"param {name}"
                    )
                else:
                    if rest:
                        raise CheckError(f"param {name}", f"{head} is not a list or structure")
                    params[member_name] = self._typed(member, value, f"param {name}")
            params = {k: v for k, v in params.items() if v is not PRESENT}
            for member_name, items in lists.items():
                if sorted(items) != list(range(1, len(items) + 1)):
                    raise CheckError(f"param {member_name}", "list indexes must run 1..N")
                params[member_name] = [items[i] for i in sorted(items)]
        elif protocol == "json":
            for name, value in fx_params.items():
                member_name, member = self._member_by_serialized_name(shape, name, protocol)
                if member is None:
                    raise CheckError(f"param {name}", f"{op.name} has no parameter {name!r}")
                if member.type_name == "list":
                    raise CheckError(f"param {name}", "mockcloud matches only top-level strings and numbers")
                params[member_name] = self._typed(member, value, f"param {name}")
        else:
            raise CheckError("service", f"unsupported protocol {protocol}")
        return params

    @staticmethod
    def _drop_presence(params):
        return {k: v for k, v in params.items() if v is not PRESENT and v != [PRESENT]}

    def check_request(self, fx, model, op):
        protocol = model.metadata["protocol"]
        method = fx.one("method")
        if method is None:
            raise CheckError("method", "every AWS fixture names the HTTP method")
        if method != op.http["method"]:
            raise CheckError("method", f"{op.name} is {op.http['method']}, not {method}")
        if fx.one("path") is None:
            raise CheckError("path", "every AWS fixture names the request path")
        params = self._drop_presence(self.request_params(fx, model, op))
        if op.input_shape is not None:
            report = botocore.validate.ParamValidator().validate(params, op.input_shape)
            if report.has_errors():
                raise CheckError("param", "the request is not one the SDK can send: " + report.generate_report())
        serializer = botocore.serialize.create_serializer(protocol, include_validation=False)
        req = serializer.serialize_to_request(params, op)
        url_path = req["url_path"].split("?", 1)[0]
        if url_path != fx.one("path"):
            raise CheckError("path", f"the SDK sends {url_path!r}, the fixture says {fx.one('path')!r}")
        fx_params = fx.params()
        if protocol in ("rest-xml", "rest-json"):
            sent = dict(req["query_string"])
            if "?" in req["url_path"]:
                for part in req["url_path"].split("?", 1)[1].split("&"):
                    k, _, v = part.partition("=")
                    sent[k] = v if _ else None
            for k, v in sent.items():
                if isinstance(v, list):
                    v = ",".join(v) if len(v) != 1 else v[0]
                if k not in fx_params:
                    raise CheckError(f"param {k}", "the SDK sends this query parameter; the fixture does not match it")
                if fx_params[k] is not None and v not in (None, "") and fx_params[k] != str(v):
                    raise CheckError(f"param {k}", f"the SDK sends {v!r}, the fixture says {fx_params[k]!r}")
            for name, value in fx.headers().items():
                if req["headers"].get(name) != value:
                    raise CheckError(f"header {name}", f"the SDK sends {req['headers'].get(name)!r}")
        elif protocol in ("query", "ec2"):
            body = dict(req["body"])
            if body.pop("Action") != op.name:
                raise CheckError("operation", "Action differs")
            body.pop("Version")
            for k, v in fx_params.items():
                if v is None:
                    continue  # presence-only: the SDK sends it when the caller sets it
                # The serializer keeps numbers typed (MaxItems=1000 is the int 1000) until it form-encodes
                # the body, where str() is what goes on the wire.
                if k not in body or str(body[k]) != v:
                    raise CheckError(f"param {k}", f"the SDK sends {body.get(k)!r}, the fixture says {v!r}")
        elif protocol == "json":
            body = json.loads(req["body"] or b"{}")
            target = req["headers"].get("X-Amz-Target", "")
            if target.rsplit(".", 1)[-1] != op.name:
                raise CheckError("operation", f"X-Amz-Target {target!r} does not name {op.name}")
            for k, v in fx_params.items():
                if v is None:
                    continue
                if str(body.get(k)) != v and not (isinstance(body.get(k), bool) and str(body.get(k)).lower() == v):
                    raise CheckError(f"param {k}", f"the SDK sends {body.get(k)!r}, the fixture says {v!r}")

    # ---- response side: shape walk ------------------------------------------------------

    @staticmethod
    def _check_enum(shape, value, where):
        if shape.type_name == "string" and shape.enum and value not in shape.enum:
            raise CheckError(where, f"{value!r} is not one of the model's values {shape.enum}")

    def walk_json(self, value, shape, where, timestamp_default):
        t = shape.type_name
        if t == "structure":
            if not isinstance(value, dict):
                raise CheckError(where, f"expected an object for {shape.name}, got {type(value).__name__}")
            if shape.is_document_type:
                return
            names = {}
            for member_name, member in shape.members.items():
                if member.serialization.get("location"):
                    continue
                names[member.serialization.get("name", member_name)] = member
            for key, item in value.items():
                if key not in names:
                    raise CheckError(f"{where}.{key}", f"field {key!r} is not defined by {shape.name}")
                if item is None:
                    raise CheckError(f"{where}.{key}", "null: AWS omits absent fields")
                self.walk_json(item, names[key], f"{where}.{key}", timestamp_default)
        elif t == "list":
            if not isinstance(value, list):
                raise CheckError(where, f"expected a list, got {type(value).__name__}")
            for i, item in enumerate(value):
                self.walk_json(item, shape.member, f"{where}[{i}]", timestamp_default)
        elif t == "map":
            if not isinstance(value, dict):
                raise CheckError(where, f"expected a map, got {type(value).__name__}")
            for key, item in value.items():
                self._check_enum(shape.key, key, f"{where}.{key}")
                self.walk_json(item, shape.value, f"{where}.{key}", timestamp_default)
        elif t == "string":
            if not isinstance(value, str):
                raise CheckError(where, f"expected a string, got {type(value).__name__}")
            self._check_enum(shape, value, where)
        elif t in ("integer", "long"):
            if not isinstance(value, int) or isinstance(value, bool):
                raise CheckError(where, f"expected an integer, got {value!r}")
        elif t in ("float", "double"):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise CheckError(where, f"expected a number, got {value!r}")
        elif t == "boolean":
            if not isinstance(value, bool):
                raise CheckError(where, f"expected a boolean, got {value!r}")
        elif t == "timestamp":
            fmt = shape.serialization.get("timestampFormat", timestamp_default)
            if fmt == "unixTimestamp":
                if not isinstance(value, (int, float)) or isinstance(value, bool):
                    raise CheckError(where, f"expected epoch seconds, got {value!r}")
            else:
                if not isinstance(value, str):
                    raise CheckError(where, f"expected an {fmt} string, got {value!r}")
                self._parse_time(value, where)
        elif t == "blob":
            if not isinstance(value, str):
                raise CheckError(where, "expected base64 text")
            base64.b64decode(value, validate=True)
        else:
            raise CheckError(where, f"unhandled shape type {t}")

    @staticmethod
    def _parse_time(text, where):
        for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
            try:
                return datetime.datetime.strptime(text, fmt)
            except ValueError:
                pass
        if re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
            return text
        raise CheckError(where, f"{text!r} is not a timestamp the SDK parses")

    @staticmethod
    def _local(tag):
        return tag.split("}", 1)[1] if tag.startswith("{") else tag

    def _xml_member_names(self, shape):
        """Element name -> (member, role) for the members carried as child elements."""
        names = {}
        for member_name, member in shape.members.items():
            ser = member.serialization
            if ser.get("location") or ser.get("xmlAttribute"):
                continue
            if member.type_name == "list" and ser.get("flattened"):
                names[member.member.serialization.get("name", ser.get("name", member_name))] = (member, "flat-list")
            elif member.type_name == "map" and ser.get("flattened"):
                names[ser.get("name", member_name)] = (member, "flat-map")
            else:
                names[ser.get("name", member_name)] = (member, "single")
        return names

    def walk_xml(self, elem, shape, where):
        t = shape.type_name
        if t == "structure":
            names = self._xml_member_names(shape)
            attrs = {}
            for member_name, member in shape.members.items():
                if member.serialization.get("xmlAttribute"):
                    attrs[member.serialization["name"].split(":")[-1]] = member
            for key, value in elem.attrib.items():
                local = self._local(key)
                if key.startswith("{http://www.w3.org/2000/xmlns/}") or local.startswith("xmlns"):
                    continue
                if local not in attrs:
                    raise CheckError(f"{where}@{local}", f"attribute {local!r} is not defined by {shape.name}")
                if key.startswith("{") and attrs[local].serialization["name"].startswith("xsi:") and not key.startswith(
                    "{" + XSI_NS + "}"
                ):
                    raise CheckError(f"{where}@{local}", "attribute is not in the XML Schema instance namespace")
                self._check_enum(attrs[local], value, f"{where}@{local}")
            seen = {}
            for child in elem:
                tag = self._local(child.tag)
                if tag not in names:
                    raise CheckError(f"{where}.{tag}", f"element <{tag}> is not defined by {shape.name}")
                member, role = names[tag]
                n = seen.get(tag, 0)
                seen[tag] = n + 1
                if role == "single":
                    if n:
                        raise CheckError(f"{where}.{tag}", f"<{tag}> appears more than once")
                    self.walk_xml(child, member, f"{where}.{tag}")
                elif role == "flat-list":
                    self.walk_xml(child, member.member, f"{where}.{tag}[{n}]")
                else:
                    self._walk_map_entry(child, member, f"{where}.{tag}[{n}]")
        elif t == "list":
            item_name = shape.member.serialization.get("name", "member")
            for i, child in enumerate(elem):
                tag = self._local(child.tag)
                if tag != item_name:
                    raise CheckError(f"{where}.{tag}", f"list items are <{item_name}>, not <{tag}>")
                self.walk_xml(child, shape.member, f"{where}[{i}]")
            if (elem.text or "").strip():
                raise CheckError(where, "text inside a list element")
        elif t == "map":
            for i, entry in enumerate(elem):
                if self._local(entry.tag) != "entry":
                    raise CheckError(f"{where}.{self._local(entry.tag)}", "map entries are <entry>")
                self._walk_map_entry(entry, shape, f"{where}[{i}]")
        else:
            if len(elem):
                raise CheckError(f"{where}.{self._local(elem[0].tag)}", f"a {t} element has child elements")
            text = elem.text or ""
            if t in ("integer", "long"):
                if not re.fullmatch(r"-?[0-9]+", text):
                    raise CheckError(where, f"{text!r} is not an integer")
            elif t in ("float", "double"):
                try:
                    float(text)
                except ValueError:
                    raise CheckError(where, f"{text!r} is not a number")
            elif t == "boolean":
                if text not in ("true", "false"):
                    raise CheckError(where, f"{text!r} is not true/false")
            elif t == "timestamp":
                self._parse_time(text, where)
            elif t == "blob":
                base64.b64decode(text, validate=True)
            elif t == "string":
                self._check_enum(shape, text, where)

    def _walk_map_entry(self, entry, shape, where):
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        tags = [self._local(c.tag) for c in entry]
        if sorted(tags) != sorted([key_name, value_name]):
            raise CheckError(where, f"a map entry holds <{key_name}> and <{value_name}>, not {tags}")
        for c in entry:
            tag = self._local(c.tag)
            self.walk_xml(c, shape.key if tag == key_name else shape.value, f"{where}.{tag}")

    # ---- response side: protocol framing ------------------------------------------------

    def check_response(self, fx, model, op):
        protocol = model.metadata["protocol"]
        status = int(fx.one("status", "200"))
        ctype = fx.one("content-type")
        headers = fx.response_headers()
        response = {"status_code": status, "headers": headers, "body": fx.body, "context": {"operation_name": op.name}}
        parser = botocore.parsers.create_parser(protocol)
        try:
            parsed = parser.parse(response, op.output_shape)
        except Exception as e:  # botocore's own parser refusing the body is the first failure
            raise CheckError("body", f"botocore's {protocol} parser rejects it: {type(e).__name__}: {e}")
        if status >= 300:
            self.check_error(fx, model, op, parsed, protocol, ctype)
            return
        if status != 200 and not (model.service_name == "apigateway" and status in (201, 202)):
            raise CheckError("status", f"{status} is not a success status this operation answers with")
        if protocol in ("query", "ec2"):
            self._expect_ctype(ctype, ("text/xml",))
            root = self._xml_root(fx.body)
            ns = model.metadata["xmlNamespace"].rstrip("/") + "/"
            self._expect_ns(root, ns)
            if self._local(root.tag) != op.name + "Response":
                raise CheckError("body", f"root element is <{self._local(root.tag)}>, not <{op.name}Response>")
            if protocol == "query":
                wrapper = op.output_shape.serialization.get("resultWrapper") if op.output_shape else None
                kids = [self._local(c.tag) for c in root]
                expected = ([wrapper] if wrapper else []) + ["ResponseMetadata"]
                if kids != expected:
                    raise CheckError("body", f"<{op.name}Response> holds {kids}, expected {expected}")
                meta = root[-1]
                if [self._local(c.tag) for c in meta] != ["RequestId"]:
                    raise CheckError("ResponseMetadata", "holds exactly one <RequestId>")
                if wrapper:
                    self.walk_xml(root[0], op.output_shape, op.name)
            else:
                first = root[0] if len(root) else None
                if first is None or self._local(first.tag) != "requestId":
                    raise CheckError("body", "an EC2 response starts with <requestId>")
                stripped = ET.Element(root.tag)
                stripped.extend(list(root)[1:])
                self.walk_xml(stripped, op.output_shape, op.name)
        elif protocol == "rest-xml":
            shape = op.output_shape
            payload = shape.serialization.get("payload") if shape else None
            if payload and shape.members[payload].type_name in ("string", "blob"):
                if payload == "Policy":
                    self._json_text(fx.body.decode("utf-8"), "Policy")
                return
            self._expect_ctype(ctype, ("application/xml",))
            root = self._xml_root(fx.body)
            ns = S3CONTROL_NS if model.service_name == "s3control" else S3_NS
            self._expect_ns(root, ns)
            if payload:
                member = shape.members[payload]
                expected_root = member.serialization.get("name", payload)
                if self._local(root.tag) != expected_root:
                    raise CheckError("body", f"root element is <{self._local(root.tag)}>, not <{expected_root}>")
                self.walk_xml(root, member, op.name)
            else:
                expected_root = REST_XML_ROOTS.get((model.service_name, op.name))
                if expected_root is None:
                    raise CheckError("body", f"no documented root element for {op.name}")
                if self._local(root.tag) != expected_root:
                    raise CheckError("body", f"root element is <{self._local(root.tag)}>, not <{expected_root}>")
                if op.name == "GetBucketLocation":
                    # us-east-1 answers with an empty <LocationConstraint/>, which no enum value spells.
                    if len(root) or (root.text or "").strip():
                        self.walk_xml(root, shape.members["LocationConstraint"], op.name)
                else:
                    self.walk_xml(root, shape, op.name)
        elif protocol in ("json", "rest-json"):
            if protocol == "json":
                self._expect_ctype(ctype, ("application/x-amz-json-" + model.metadata["jsonVersion"],))
            else:
                self._expect_ctype(ctype, ("application/json",))
            if not headers.get("x-amzn-RequestId"):
                raise CheckError("response-header", "JSON services answer with an x-amzn-RequestId header")
            try:
                body = json.loads(fx.body.decode("utf-8"))
            except ValueError as e:
                raise CheckError("body", f"not JSON: {e}")
            shape = op.output_shape
            payload = shape.serialization.get("payload") if shape else None
            if payload:
                shape = shape.members[payload]
            self.walk_json(body, shape, op.name, "unixTimestamp")
        self.check_embedded_documents(parsed, op, model)

    def check_embedded_documents(self, parsed, op, model):
        """Policy documents inside responses must be what the service sends: valid JSON, encoded
        the service's way (IAM: URL-encoded; API Gateway: quotes and slashes backslash-escaped)."""
        def visit(value, where):
            if isinstance(value, dict):
                for k, v in value.items():
                    if k == "ResponseMetadata":
                        continue
                    if isinstance(v, str) and k in DOCUMENT_FIELDS:
                        self._check_document(model.service_name, k, v, f"{where}.{k}")
                    else:
                        visit(v, f"{where}.{k}")
            elif isinstance(value, list):
                for i, v in enumerate(value):
                    visit(v, f"{where}[{i}]")

        visit(parsed, op.name)
        if model.service_name in ("sqs", "sns") and "Attributes" in parsed:
            if "Policy" in parsed["Attributes"]:
                self._json_text(parsed["Attributes"]["Policy"], f"{op.name}.Attributes.Policy")

    def _check_document(self, service, field, text, where):
        if service == "iam":
            if text.startswith("{") or "%7B" not in text[:3]:
                raise CheckError(where, "IAM returns policy documents URL-encoded (RFC 3986)")
            if re.search(r"[^A-Za-z0-9%._~*-]", text):
                raise CheckError(where, "character that URL encoding would have escaped")
            self._json_text(urllib.parse.unquote(text), where)
        elif service == "apigateway" and field == "policy":
            if '"' in text and '\\"' not in text:
                raise CheckError(where, "API Gateway returns the policy with its quotes backslash-escaped")
            self._json_text(text.replace('\\"', '"').replace("\\/", "/"), where)
        else:
            self._json_text(text, where)

    @staticmethod
    def _json_text(text, where):
        try:
            doc = json.loads(text)
        except ValueError as e:
            raise CheckError(where, f"policy is not JSON: {e}")
        if not isinstance(doc, dict) or "Statement" not in doc:
            raise CheckError(where, "policy document without Statement")

    @staticmethod
    def _expect_ctype(ctype, allowed):
        if ctype is None or not any(ctype.split(";")[0].strip() == a for a in allowed):
            raise CheckError("content-type", f"{ctype!r}: the service sends {allowed[0]}")

    @staticmethod
    def _xml_root(body):
        try:
            return ET.fromstring(body)
        except ET.ParseError as e:
            raise CheckError("body", f"not well-formed XML: {e}")

    @staticmethod
    def _expect_ns(root, ns):
        if not root.tag.startswith("{" + ns + "}"):
            got = root.tag[1:].split("}")[0] if root.tag.startswith("{") else "(none)"
            raise CheckError("body", f"namespace {got}, the service uses {ns}")

    def check_error(self, fx, model, op, parsed, protocol, ctype):
        code = parsed.get("Error", {}).get("Code", "")
        if not code or code == str(fx.one("status")):
            raise CheckError("body", "error response does not parse into an Error.Code")
        modelled = set()
        for shape in op.error_shapes:
            modelled.add(shape.name)
            modelled.add(shape.metadata.get("error", {}).get("code", shape.name))
        if code not in modelled and code not in UNMODELLED_ERRORS.get(model.service_name, set()):
            raise CheckError("Error.Code", f"{code!r} is not an error {op.name} answers with")
        for shape in op.error_shapes:
            err = shape.metadata.get("error", {})
            if code in (shape.name, err.get("code")) and err.get("httpStatusCode"):
                if int(err["httpStatusCode"]) != int(fx.one("status")):
                    raise CheckError("status", f"{code} is sent with HTTP {err['httpStatusCode']}")
        if protocol == "query":
            self._expect_ctype(ctype, ("text/xml",))
            root = self._xml_root(fx.body)
            self._expect_ns(root, model.metadata["xmlNamespace"])
            kids = [self._local(c.tag) for c in root]
            if self._local(root.tag) != "ErrorResponse" or kids != ["Error", "RequestId"]:
                raise CheckError("body", "query errors are <ErrorResponse><Error/><RequestId/></ErrorResponse>")
            if [self._local(c.tag) for c in root[0]][:3] != ["Type", "Code", "Message"]:
                raise CheckError("Error", "query errors hold Type, Code, Message")
        elif protocol == "ec2":
            root = self._xml_root(fx.body)
            if self._local(root.tag) != "Response" or [self._local(c.tag) for c in root] != ["Errors", "RequestID"]:
                raise CheckError("body", "EC2 errors are <Response><Errors/><RequestID/></Response>")
        elif protocol == "rest-xml":
            self._expect_ctype(ctype, ("application/xml",))
            root = self._xml_root(fx.body)
            if root.tag != "Error":
                raise CheckError("body", "S3 errors are an un-namespaced <Error> element")
            kids = [self._local(c.tag) for c in root]
            if kids[:2] != ["Code", "Message"] or kids[-2:] != ["RequestId", "HostId"]:
                raise CheckError("body", "S3 errors hold Code, Message, ..., RequestId, HostId")
        elif protocol == "json":
            self._expect_ctype(ctype, ("application/x-amz-json-" + model.metadata["jsonVersion"],))
            body = json.loads(fx.body)
            if set(body) - {"__type", "message", "Message"} or "__type" not in body:
                raise CheckError("body", f"JSON errors hold __type and message, not {sorted(body)}")
        elif protocol == "rest-json":
            self._expect_ctype(ctype, ("application/json",))
            headers = fx.response_headers()
            if headers.get("x-amzn-ErrorType", "").split(":")[0] != code:
                raise CheckError("response-header", "REST-JSON errors carry the code in x-amzn-ErrorType")
            json.loads(fx.body)

    # ---- one file, one tree --------------------------------------------------------------

    def check_file(self, path):
        fx = Fixture(path)
        if fx.one("auth", "sigv4") == "none":
            return "skipped"
        model, op = self.resolve(fx)
        self.check_request(fx, model, op)
        self.check_response(fx, model, op)
        return "ok"

    def check_tree(self, top):
        failures = []
        checked = skipped = 0
        match_sets = {}
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            for name in sorted(filenames):
                if not name.endswith(".http"):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, ROOT)
                try:
                    result = self.check_file(path)
                    key = tuple(sorted(Fixture(path).match))
                    scenario = os.path.relpath(path, top).split(os.sep)[0]
                    other = match_sets.get((scenario, key))
                    if other:
                        raise CheckError("match", f"same match lines as {other}: mockcloud could not choose")
                    match_sets[(scenario, key)] = rel
                except CheckError as e:
                    failures.append(f"{rel}: {e}")
                    continue
                except Exception as e:  # a botocore parser error is a failure of the file, not of the check
                    failures.append(f"{rel}: {type(e).__name__}: {e}")
                    continue
                if result == "skipped":
                    skipped += 1
                else:
                    checked += 1
        return checked, skipped, failures


# Fields that hold a policy document as a string.
DOCUMENT_FIELDS = {
    "AssumeRolePolicyDocument",
    "PolicyDocument",
    "Document",
    "Policy",
    "policy",
    "ResourcePolicy",
    "policyText",
    "Content",
}


def check_scenario_json(path):
    with open(path) as f:
        sc = json.load(f)
    where = os.path.relpath(path, ROOT)
    if not re.fullmatch(r"[0-9]{12}", sc.get("account", "")):
        raise CheckError(where, "account is a 12-digit account id")
    if not sc.get("regions") or not all(re.fullmatch(r"[a-z]{2}(-[a-z]+)+-[0-9]", r) for r in sc["regions"]):
        raise CheckError(where, "regions are region names")
    for cred in sc.get("credentials", []):
        if not re.fullmatch(r"(AKIA|ASIA)[A-Z0-9]{16}", cred.get("access_key_id", "")):
            raise CheckError(where, f"access key id {cred.get('access_key_id')!r}")
        if len(cred.get("secret_access_key", "")) != 40:
            raise CheckError(where, "a secret access key is 40 characters")
        if cred["access_key_id"].startswith("ASIA") != ("session_token" in cred):
            raise CheckError(where, "ASIA keys, and only they, carry a session_token")


# ---- self-test: the check must be able to fail ----------------------------------------------

GOOD_S3 = """service: s3
region: us-east-1
operation: GetPublicAccessBlock
method: GET
path: /demo-bucket
param: publicAccessBlock
status: 200
content-type: application/xml
response-header: x-amz-request-id: 0A49CE4060975EAC

<?xml version="1.0" encoding="UTF-8"?>
<PublicAccessBlockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>true</RestrictPublicBuckets></PublicAccessBlockConfiguration>"""

GOOD_KMS = """service: kms
region: us-east-1
operation: ListKeys
method: POST
path: /
status: 200
content-type: application/x-amz-json-1.1
response-header: x-amzn-RequestId: 6c4d9b0a-7f55-4c2e-9a60-3e7f8b2d1c11

{"Keys":[{"KeyArn":"arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab","KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab"}],"Truncated":false}"""

GOOD_SQS = """service: sqs
region: us-east-1
operation: GetQueueAttributes
method: POST
path: /
param: QueueUrl=https://sqs.us-east-1.amazonaws.com/111122223333/q
param: AttributeName.1=All
status: 200
content-type: text/xml

<?xml version="1.0"?><GetQueueAttributesResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><GetQueueAttributesResult><Attribute><Name>VisibilityTimeout</Name><Value>30</Value></Attribute></GetQueueAttributesResult><ResponseMetadata><RequestId>8f1c2a4e-1d3b-5c6d-9e8f-0a1b2c3d4e5f</RequestId></ResponseMetadata></GetQueueAttributesResponse>"""

GOOD_IAM = """service: iam
region: us-east-1
operation: ListAccountAliases
method: POST
path: /
param: MaxItems=1000
status: 200
content-type: text/xml

<ListAccountAliasesResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListAccountAliasesResult><AccountAliases><member>acme</member></AccountAliases><IsTruncated>false</IsTruncated></ListAccountAliasesResult><ResponseMetadata><RequestId>3e5798e2-69cf-405d-86fb-0cb7f40ce80d</RequestId></ResponseMetadata></ListAccountAliasesResponse>"""

GOOD_LAMBDA_404 = """service: lambda
region: us-east-1
operation: GetPolicy
method: GET
path: /2015-03-31/functions/f/policy
status: 404
content-type: application/json
response-header: x-amzn-RequestId: 0b6f2d3e-1c4a-4b5d-8e6f-7a8b9c0d1e2f
response-header: x-amzn-ErrorType: ResourceNotFoundException

{"Type":"User","Message":"The resource you requested does not exist."}"""

# (name, base, old text, new text, the field the failure must name)
MUTATIONS = [
    ("misspelt XML element", GOOD_S3, "<IgnorePublicAcls>true</IgnorePublicAcls>",
     "<IgnorePublicAcl>true</IgnorePublicAcl>", "IgnorePublicAcl"),
    ("wrong XML namespace", GOOD_S3, "http://s3.amazonaws.com/doc/2006-03-01/",
     "http://s3.amazonaws.com/doc/2006-03-02/", "namespace"),
    ("boolean spelt True", GOOD_S3, "<BlockPublicAcls>true<", "<BlockPublicAcls>True<", "BlockPublicAcls"),
    ("missing literal query parameter", GOOD_S3, "param: publicAccessBlock\n", "", "publicAccessBlock"),
    ("wrong method", GOOD_S3, "method: GET", "method: PUT", "method"),
    ("path of another operation", GOOD_S3, "path: /demo-bucket", "path: /demo-bucket/key", "path"),
    ("misspelt JSON field", GOOD_KMS, '"KeyArn"', '"KeyARN"', "KeyARN"),
    ("JSON field of the wrong type", GOOD_KMS, '"Truncated":false', '"Truncated":"false"', "Truncated"),
    ("JSON content type", GOOD_KMS, "application/x-amz-json-1.1", "application/json", "content-type"),
    ("unknown request parameter", GOOD_KMS, "path: /\n", "path: /\nparam: KeyID=x\n", "KeyID"),
    ("query list not flattened as the SDK sends it", GOOD_SQS, "AttributeName.1=All",
     "AttributeName.member.1=All", "AttributeName"),
    ("required parameter missing", GOOD_SQS, "param: QueueUrl=https://sqs.us-east-1.amazonaws.com/111122223333/q\n",
     "", "QueueUrl"),
    ("numeric query parameter not as the SDK writes it", GOOD_IAM, "MaxItems=1000", "MaxItems=01000", "MaxItems"),
    ("misspelt flattened map element", GOOD_SQS, "<Name>VisibilityTimeout</Name>",
     "<Key>VisibilityTimeout</Key>", "Key"),
    ("query response without its result wrapper", GOOD_SQS, "GetQueueAttributesResult>", "GetQueueAttributesResults>",
     "GetQueueAttributesResult"),
    ("error code the operation never sends", GOOD_LAMBDA_404, "x-amzn-ErrorType: ResourceNotFoundException",
     "x-amzn-ErrorType: NoSuchKey", "NoSuchKey"),
    ("error without its code", GOOD_LAMBDA_404, "response-header: x-amzn-ErrorType: ResourceNotFoundException\n",
     "", "Error"),
]


def self_test(checker):
    failures = []
    with tempfile.TemporaryDirectory(prefix="tmscan-fixtures-selftest-") as tmp:
        for i, good in enumerate((GOOD_S3, GOOD_KMS, GOOD_SQS, GOOD_IAM, GOOD_LAMBDA_404)):
            path = os.path.join(tmp, f"good{i}.http")
            with open(path, "w") as f:
                f.write(good)
            try:
                checker.check_file(path)
            except Exception as e:
                failures.append(f"self-test: a correct file was rejected: {e}")
        for i, (name, base, old, new, field) in enumerate(MUTATIONS):
            if old not in base:
                failures.append(f"self-test: mutation {name!r} does not apply")
                continue
            path = os.path.join(tmp, f"bad{i}.http")
            with open(path, "w") as f:
                f.write(base.replace(old, new))
            try:
                checker.check_file(path)
            except CheckError as e:
                if field.lower() not in str(e).lower():
                    failures.append(f"self-test: {name!r} rejected without naming {field!r}: {e}")
                continue
            except Exception as e:
                failures.append(f"self-test: {name!r} raised {type(e).__name__} instead of a check failure: {e}")
                continue
            failures.append(f"self-test: {name!r} was accepted")
    return len(MUTATIONS), failures


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    flags = {a for a in argv[1:] if a.startswith("--")}
    unknown = flags - {"--self-test", "--no-self-test"}
    if unknown:
        print(f"usage: {argv[0]} [--self-test] [--no-self-test] [DIR ...]", file=sys.stderr)
        return 2
    checker = Checker()
    failures = []
    if "--no-self-test" not in flags:
        n, fails = self_test(checker)
        failures += fails
        print(f"self-test: {n - len(fails)}/{n} wrong files rejected")
        if "--self-test" in flags:
            for f in failures:
                print(f"FAIL {f}")
            return 1 if failures else 0
    tops = args or sorted(
        os.path.join(ROOT, "fixtures", "aws", d)
        for d in os.listdir(os.path.join(ROOT, "fixtures", "aws"))
        if os.path.isdir(os.path.join(ROOT, "fixtures", "aws", d))
    )
    total = 0
    for top in tops:
        sc = os.path.join(top, "scenario.json")
        if os.path.exists(sc):
            try:
                check_scenario_json(sc)
            except CheckError as e:
                failures.append(str(e))
        else:
            failures.append(f"{os.path.relpath(top, ROOT)}: no scenario.json")
        checked, skipped, fails = checker.check_tree(top)
        total += checked
        failures += fails
        print(f"{os.path.relpath(top, ROOT)}: {checked} responses checked, {skipped} unsigned skipped, {len(fails)} failed")
    for f in failures:
        print(f"FAIL {f}")
    if total == 0 and not failures:
        print("FAIL no fixtures found")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
