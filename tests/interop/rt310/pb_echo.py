"""Run with reactor-runtime 3.10's python: decode/encode reactor_wire.v1 messages with the official stubs.

stdin: one JSON object per line, {"op": "decode"|"encode", "message": NAME, "hex": ..., "json": {...}};
stdout: one JSON line per input: {"json": MessageToDict(...)} or {"hex": bytes.hex()}.
"""

import json
import sys

from google.protobuf import json_format
from reactor_wire.v1 import control_pb2, data_pb2

TYPES = {
    "DataClientMessage": data_pb2.DataClientMessage,
    "DataServerMessage": data_pb2.DataServerMessage,
    "ControlClientMessage": control_pb2.ControlClientMessage,
    "ControlServerMessage": control_pb2.ControlServerMessage,
}

for line in sys.stdin:
    req = json.loads(line)
    cls = TYPES[req["message"]]
    if req["op"] == "decode":
        msg = cls.FromString(bytes.fromhex(req["hex"]))
        out = {"json": json_format.MessageToDict(msg, preserving_proto_field_name=True)}
    else:
        msg = json_format.ParseDict(req["json"], cls())
        out = {"hex": msg.SerializeToString().hex()}
    print(json.dumps(out), flush=True)
