"""Checks the served OpenAPI document: valid OpenAPI 3.1 (openapi-spec-validator), and true to the
live server (schemathesis: no 5xx, no reply that contradicts the document, schema-valid requests
accepted, schema-invalid ones rejected), in a bounded run.

    rest_openapi.py --port PORT --secret-file DATA/jwt-secret
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import jwt
import requests
from openapi_spec_validator import validate

passes, failures = [], []


def check(condition, message):
    print(("PASS " if condition else "FAIL ") + message, flush=True)
    (passes if condition else failures).append(message)


# Every check schemathesis has (`--checks all`), with three exceptions for rules no JSON Schema
# keyword expresses; the document states the first two in the fields' descriptions (checked below):
# - a cursor is opaque: a schema-valid string this API never returned is rightly a 400;
# - completedAt must fall between the session's start and five minutes from now;
# - a noteId must name a note of that session (schemathesis infers a wrong link for it).
# The event stream is read up to its first event (it stays open for later changes).
CONFIG = """
[checks]
not_a_server_error.enabled = true
status_code_conformance.enabled = true
content_type_conformance.enabled = true
response_headers_conformance.enabled = true
response_schema_conformance.enabled = true
negative_data_rejection.enabled = true
positive_data_acceptance.enabled = true
missing_required_header.enabled = true
unsupported_method.enabled = true
allow_header_conformance.enabled = true
use_after_free.enabled = true
ensure_resource_availability.enabled = true
ignored_auth.enabled = true

[[operations]]
include-operation-id = "ListSessions"
checks.positive_data_acceptance.enabled = false

[[operations]]
include-operation-id = "CompleteSession"
checks.positive_data_acceptance.enabled = false

[[operations]]
include-operation-id = "UpdateNotes"
checks.ensure_resource_availability.enabled = false

[[operations]]
include-operation-id = "WatchSession"
max-stream-events = 1
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret-file", required=True)
    parser.add_argument("--examples", type=int, default=15)
    args = parser.parse_args()
    secret = open(args.secret_file).read().strip()
    url = f"http://127.0.0.1:{args.port}/openapi.json"

    document = requests.get(url, timeout=10).json()
    try:
        validate(document)
        check(True, "the document is valid OpenAPI 3.1")
    except Exception as error:  # the validator raises its own exception types
        check(False, f"the document is valid OpenAPI 3.1: {error}")
    paths = document.get("paths", {})
    check("/api/sessions/{sessionId}/confirm" in paths and "post" in paths["/api/sessions/{sessionId}/confirm"],
          "the documented routes are in the document")

    listing = paths.get("/api/sessions", {}).get("get", {})
    cursor = [p for p in listing.get("parameters", []) if p.get("name") == "cursor"]
    check(bool(cursor) and "Opaque" in cursor[0].get("schema", {}).get("description", ""),
          "the cursor parameter says it is opaque")
    complete = paths.get("/api/sessions/{sessionId}/complete", {}).get("post", {})
    body = complete.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    completed_at = body.get("properties", {}).get("completedAt", {})
    check("5 minutes" in completed_at.get("description", "") and "startedAt" in completed_at.get("description", ""),
          "completedAt states its time window")

    workdir = tempfile.mkdtemp(prefix="schemathesis-")
    config = os.path.join(workdir, "schemathesis.toml")
    with open(config, "w") as handle:
        handle.write(CONFIG)
    st = os.path.join(os.path.dirname(sys.executable), "st")
    for role in ("admin", "tester"):
        now = int(time.time())
        token = jwt.encode({"sub": f"st-{role}", "role": role, "org": "fuzz", "iat": now, "exp": now + 3600},
                           secret, algorithm="HS256")
        command = [st, "--config-file", config, "--no-color", "run", url, "-H", f"Authorization: Bearer {token}", "-n", str(args.examples), "--seed", "20261129", "--generation-database", "none",
                   "-w", "1", "--max-failures", "20"]
        result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=600)
        output = result.stdout + result.stderr
        summary = [line for line in output.splitlines() if "generated" in line or "passed" in line or "failed" in line]
        print("\n".join(summary[-3:]))
        if result.returncode != 0:
            print(output[-6000:])
        check(result.returncode == 0, f"schemathesis as {role}: no failures (exit {result.returncode})")

    print(f"{len(passes)} passed, {len(failures)} failed")
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()
