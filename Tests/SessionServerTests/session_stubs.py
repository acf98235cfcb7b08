"""The Python messages and gRPC stubs of schema/sessions, generated with the official protoc
(grpcio-tools) into a temporary folder, for the test scripts beside this file.

    from session_stubs import pb, rpc
"""
import os
import sys
import tempfile

import grpc_tools
from grpc_tools import protoc

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = os.path.abspath(os.path.join(HERE, "..", "..", "schema"))
WELL_KNOWN = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
_generated = tempfile.mkdtemp(prefix="sessions-py-")
if protoc.main(["protoc", f"-I{SCHEMA}", f"-I{WELL_KNOWN}", f"--python_out={_generated}", f"--grpc_python_out={_generated}",
                "sessions/v1/sessions.proto", "sessions/api/http.proto"]) != 0:
    sys.exit("protoc failed")
sys.path.insert(0, _generated)
from sessions.v1 import sessions_pb2 as pb, sessions_pb2_grpc as rpc  # noqa: E402

__all__ = ["pb", "rpc"]
