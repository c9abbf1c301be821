"""Wire v1: the protobuf messages of ``reactor_wire.v1`` on the ``control`` and ``data`` channels.

Public API (used by the SDK and the runtime alike)::

    sniff(first_frame) -> "v0" | "v1"            # how a runtime picks the wire of a connection
    encode_data_client(d) / decode_data_client(b)        # DataClientMessage   <-> dict
    encode_data_server(d) / decode_data_server(b)        # DataServerMessage   <-> dict
    encode_control_client(d) / decode_control_client(b)  # ControlClientMessage <-> dict
    encode_control_server(d) / decode_control_server(b)  # ControlServerMessage <-> dict
    encode(name, d) / decode(name, b); message_class(name)  # any message of the package
    payload_of(d) -> (field, value)              # which ``payload`` oneof member a message carries
    restore_integers(data, schema_properties)    # Struct numbers are doubles: 3.0 -> 3 where integer

Dicts use the protobuf field names; the ``payload`` oneof appears as the one member set,
enums as short lower-case names (``kind: "request"``, ``encoding: "raw"``; numbers and full
names are accepted when encoding), ``Struct`` as a plain dict, ``bytes`` stay ``bytes``,
repeated fields as lists, maps as dicts; unset sub-messages and unset optional fields are left
out. Bad input raises :class:`V1DecodeError` / :class:`V1EncodeError` naming what failed.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, struct_pb2
from google.protobuf.message import DecodeError, Message

from .v1_schema import ENUMS, MESSAGES, PACKAGE

Wire = Literal["v0", "v1"]

__all__ = [
    "V1DecodeError",
    "V1EncodeError",
    "decode",
    "decode_control_client",
    "decode_control_server",
    "decode_data_client",
    "decode_data_server",
    "encode",
    "encode_control_client",
    "encode_control_server",
    "encode_data_client",
    "encode_data_server",
    "message_class",
    "payload_of",
    "restore_integers",
    "sniff",
]


class V1DecodeError(ValueError):
    """Bytes that are not a valid message of the expected ``reactor_wire.v1`` type."""


class V1EncodeError(ValueError):
    """A dict that cannot become the requested ``reactor_wire.v1`` message (names the field)."""


def sniff(frame: str | bytes | bytearray | memoryview) -> Wire:
    """The wire of a connection from its first data-channel frame, as the reference runtime decides.

    A text frame, or a binary frame whose first non-space byte is ``{`` or ``[`` (JSON), is v0; any other
    binary frame is v1 protobuf.
    """
    if isinstance(frame, str):
        return "v0"
    head = bytes(frame).lstrip()[:1]  # the first non-space byte, as the reference reads it
    return "v0" if head in (b"{", b"[") else "v1"


# --- descriptors built from the table ------------------------------------------------------------
_SCALARS = {
    "string": descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
    "bytes": descriptor_pb2.FieldDescriptorProto.TYPE_BYTES,
    "bool": descriptor_pb2.FieldDescriptorProto.TYPE_BOOL,
    "double": descriptor_pb2.FieldDescriptorProto.TYPE_DOUBLE,
    "int64": descriptor_pb2.FieldDescriptorProto.TYPE_INT64,
    "uint64": descriptor_pb2.FieldDescriptorProto.TYPE_UINT64,
    "uint32": descriptor_pb2.FieldDescriptorProto.TYPE_UINT32,
}
_FDP = descriptor_pb2.FieldDescriptorProto


def _snake_upper(name: str) -> str:
    return "".join(("_" + c if c.isupper() and i else c) for i, c in enumerate(name)).upper()


def _set_type(fp: Any, type_: str) -> None:
    if type_ in _SCALARS:
        fp.type = _SCALARS[type_]
    elif type_ in ENUMS:
        fp.type, fp.type_name = _FDP.TYPE_ENUM, f".{PACKAGE}.{type_}"
    elif type_ == "Struct":
        fp.type, fp.type_name = _FDP.TYPE_MESSAGE, ".google.protobuf.Struct"
    else:
        fp.type, fp.type_name = _FDP.TYPE_MESSAGE, f".{PACKAGE}.{type_}"


def _add_message(fdp: Any, name: str, fields: list[tuple]) -> None:
    mp = fdp.message_type.add(name=name)
    oneofs: list[str] = []
    for spec in fields:
        fname, number, type_ = spec[:3]
        flag = spec[3] if len(spec) > 3 else ""
        fp = mp.field.add(name=fname, number=number, label=_FDP.LABEL_OPTIONAL)
        if flag.startswith("map:"):
            entry = "".join(p.capitalize() for p in fname.split("_")) + "Entry"
            ep = mp.nested_type.add(name=entry)
            ep.options.map_entry = True
            ep.field.add(name="key", number=1, label=_FDP.LABEL_OPTIONAL, type=_FDP.TYPE_STRING)
            _set_type(ep.field.add(name="value", number=2, label=_FDP.LABEL_OPTIONAL), flag[4:])
            fp.label, fp.type, fp.type_name = _FDP.LABEL_REPEATED, _FDP.TYPE_MESSAGE, f".{PACKAGE}.{name}.{entry}"
            continue
        _set_type(fp, type_)
        if flag == "repeated":
            fp.label = _FDP.LABEL_REPEATED
        elif flag == "optional":  # proto3 explicit presence: a synthetic oneof of its own
            fp.proto3_optional = True
            fp.oneof_index = len(mp.oneof_decl)
            mp.oneof_decl.add(name=f"_{fname}")
        elif flag.startswith("oneof:"):
            group = flag[6:]
            if group not in oneofs:
                oneofs.append(group)
                mp.oneof_decl.add(name=group)
            fp.oneof_index = [o.name for o in mp.oneof_decl].index(group)


def _build_pool() -> descriptor_pool.DescriptorPool:
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(struct_pb2.DESCRIPTOR.serialized_pb)
    fdp = descriptor_pb2.FileDescriptorProto(
        name="reactor_notebook/reactor_wire_v1.proto", package=PACKAGE, syntax="proto3",
        dependency=["google/protobuf/struct.proto"],
    )
    for ename, values in ENUMS.items():
        ep = fdp.enum_type.add(name=ename)
        prefix = _snake_upper(ename)
        for number, value in enumerate(values):
            ep.value.add(name=f"{prefix}_{value}", number=number)
    for mname, fields in MESSAGES.items():
        _add_message(fdp, mname, fields)
    pool.Add(fdp)
    return pool


_POOL = _build_pool()
_CLASSES: dict[str, type[Message]] = {
    name: message_factory.GetMessageClass(_POOL.FindMessageTypeByName(f"{PACKAGE}.{name}")) for name in MESSAGES
}


def message_class(name: str) -> type[Message]:
    """The protobuf class of ``reactor_wire.v1.<name>`` (e.g. ``"StepResult"``)."""
    try:
        return _CLASSES[name]
    except KeyError:
        raise KeyError(f"no reactor_wire.v1 message named {name!r}") from None


# --- dict <-> message ------------------------------------------------------------------------------
def _enum_prefix(fd: Any) -> str:
    return _snake_upper(fd.enum_type.name) + "_"


def _enum_out(fd: Any, number: int) -> str | int:
    value = fd.enum_type.values_by_number.get(number)
    return value.name[len(_enum_prefix(fd)):].lower() if value is not None else number


def _enum_in(fd: Any, value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise V1EncodeError(f"{where}: expected an enum name or number, got a bool")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        key = value.upper()
        for cand in (key, _enum_prefix(fd) + key):
            ev = fd.enum_type.values_by_name.get(cand)
            if ev is not None:
                return ev.number
        names = ", ".join(v.name[len(_enum_prefix(fd)):].lower() for v in fd.enum_type.values)
        raise V1EncodeError(f"{where}: unknown {fd.enum_type.name} {value!r} (expected one of {names})")
    raise V1EncodeError(f"{where}: expected an enum name or number, got {type(value).__name__}")


def _is_struct(fd: Any) -> bool:
    return fd.message_type is not None and fd.message_type.full_name == "google.protobuf.Struct"


def to_dict(msg: Message) -> dict[str, Any]:
    """A message as a dict (see the module docstring for the shape)."""
    out: dict[str, Any] = {}
    for fd in msg.DESCRIPTOR.fields:
        value = getattr(msg, fd.name)
        if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
            vfd = fd.message_type.fields_by_name["value"]
            out[fd.name] = {k: (to_dict(v) if vfd.message_type else v) for k, v in value.items()}
        elif _is_repeated(fd):
            out[fd.name] = [_value_out(fd, v) for v in value]
        elif fd.message_type is not None or fd.containing_oneof is not None:
            if msg.HasField(fd.name):
                out[fd.name] = _value_out(fd, value)
        else:
            out[fd.name] = _value_out(fd, value)
    return out


def _is_repeated(fd: Any) -> bool:
    rep = getattr(fd, "is_repeated", None)
    return bool(rep) if rep is not None else fd.label == _FDP.LABEL_REPEATED


def _value_out(fd: Any, value: Any) -> Any:
    if _is_struct(fd):
        return struct_to_dict(value)
    if fd.message_type is not None:
        return to_dict(value)
    if fd.enum_type is not None:
        return _enum_out(fd, value)
    return value


def struct_to_dict(struct: Any) -> dict[str, Any]:
    """A ``google.protobuf.Struct`` as a plain dict (numbers stay floats: see restore_integers)."""
    from google.protobuf.json_format import MessageToDict

    return MessageToDict(struct)


def fill(msg: Message, data: dict[str, Any], where: str = "") -> Message:
    """Set ``msg``'s fields from a dict (the inverse of :func:`to_dict`); raises V1EncodeError."""
    if not isinstance(data, dict):
        raise V1EncodeError(f"{where or msg.DESCRIPTOR.name}: expected an object, got {type(data).__name__}")
    fields = msg.DESCRIPTOR.fields_by_name
    for key, value in data.items():
        here = f"{where}.{key}" if where else f"{msg.DESCRIPTOR.name}.{key}"
        fd = fields.get(key)
        if fd is None:
            known = ", ".join(fields)
            raise V1EncodeError(f"{here}: no such field in {msg.DESCRIPTOR.full_name} (fields: {known})")
        if value is None:
            continue
        try:
            _set_field(msg, fd, value, here)
        except (TypeError, ValueError) as exc:
            if isinstance(exc, V1EncodeError):
                raise
            raise V1EncodeError(f"{here}: {exc}") from None
    return msg


def _set_field(msg: Message, fd: Any, value: Any, where: str) -> None:
    target = getattr(msg, fd.name)
    if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
        if not isinstance(value, dict):
            raise V1EncodeError(f"{where}: expected an object, got {type(value).__name__}")
        vfd = fd.message_type.fields_by_name["value"]
        for k, v in value.items():
            if vfd.message_type is not None:
                fill(target[str(k)], v, f"{where}[{k!r}]")
            else:
                target[str(k)] = v
    elif _is_repeated(fd):
        if not isinstance(value, (list, tuple)):
            raise V1EncodeError(f"{where}: expected a list, got {type(value).__name__}")
        for i, item in enumerate(value):
            if fd.message_type is not None:
                fill(target.add(), item, f"{where}[{i}]")
            elif fd.enum_type is not None:
                target.append(_enum_in(fd, item, f"{where}[{i}]"))
            else:
                target.append(item)
    elif _is_struct(fd):
        if not isinstance(value, dict):
            raise V1EncodeError(f"{where}: expected an object, got {type(value).__name__}")
        target.update(value)
    elif fd.message_type is not None:
        target.SetInParent()
        fill(target, value, where)
    elif fd.enum_type is not None:
        setattr(msg, fd.name, _enum_in(fd, value, where))
    else:
        setattr(msg, fd.name, value)


def encode(name: str, data: dict[str, Any]) -> bytes:
    """Serialise a dict as ``reactor_wire.v1.<name>``."""
    return fill(message_class(name)(), data).SerializeToString()


def decode(name: str, raw: bytes | bytearray | memoryview) -> dict[str, Any]:
    """Parse bytes as ``reactor_wire.v1.<name>`` into a dict."""
    if isinstance(raw, str):
        raise V1DecodeError(f"{name}: a text frame is not a v1 message")
    msg = message_class(name)()
    try:
        msg.ParseFromString(bytes(raw))
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise V1DecodeError(f"{name}: malformed protobuf ({len(raw)} bytes): {exc}") from None
    return to_dict(msg)


def encode_control_client(data: dict[str, Any]) -> bytes:
    """A ``ControlClientMessage`` (client -> runtime on ``control``)."""
    return encode("ControlClientMessage", data)


def encode_control_server(data: dict[str, Any]) -> bytes:
    """A ``ControlServerMessage`` (runtime -> client on ``control``)."""
    return encode("ControlServerMessage", data)


def encode_data_client(data: dict[str, Any]) -> bytes:
    """A ``DataClientMessage`` (client -> runtime on ``data``)."""
    return encode("DataClientMessage", data)


def encode_data_server(data: dict[str, Any]) -> bytes:
    """A ``DataServerMessage`` (runtime -> client on ``data``)."""
    return encode("DataServerMessage", data)


def decode_control_client(raw: bytes) -> dict[str, Any]:
    """Parse a ``ControlClientMessage``."""
    return decode("ControlClientMessage", raw)


def decode_control_server(raw: bytes) -> dict[str, Any]:
    """Parse a ``ControlServerMessage``."""
    return decode("ControlServerMessage", raw)


def decode_data_client(raw: bytes) -> dict[str, Any]:
    """Parse a ``DataClientMessage``."""
    return decode("DataClientMessage", raw)


def decode_data_server(raw: bytes) -> dict[str, Any]:
    """Parse a ``DataServerMessage``."""
    return decode("DataServerMessage", raw)


def payload_of(message: dict[str, Any]) -> tuple[str | None, Any]:
    """The ``payload`` oneof member a decoded envelope carries: ``(field, value)`` or ``(None, None)``.

    A message whose payload field number this codec does not know (a newer peer) decodes with
    no payload: the caller answers it as an unknown message.
    """
    for key, value in message.items():
        if key not in ("request_id", "kind"):
            return key, value
    return None, None


def restore_integers(data: Any, properties: dict[str, Any] | None) -> Any:
    """Struct numbers travel as doubles: turn integral floats back into ints where the schema says integer.

    ``properties`` is a JSON-schema ``properties`` map (``{"r": {"type": "integer"}}``); other
    values are returned unchanged, so a non-integral ``2.5`` still reaches validation and is
    rejected there with a specific reason.
    """
    if not isinstance(data, dict) or not properties:
        return data
    out = dict(data)
    for key, value in data.items():
        spec = properties.get(key)
        if isinstance(spec, dict) and spec.get("type") == "integer" and isinstance(value, float):
            if math.isfinite(value) and value.is_integer():
                out[key] = int(value)
    return out
