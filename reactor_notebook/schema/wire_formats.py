"""The two wire formats of a command schema: produced by the runtime, normalised by clients.

The runtime serves a model's :class:`CommandSpec` list as legacy capabilities (format A) and as
an OpenAPI 3.1 document (format B); clients turn whichever they receive back into CommandSpecs.
"""

from __future__ import annotations

import copy
from typing import Any

from .spec import UPLOAD_REF_NAME, CommandSpec, ParamSpec


# ---------------------------------------------------------------------------------------------
# Producing the wire formats (runtime side)
# ---------------------------------------------------------------------------------------------
def _fragment(p: ParamSpec, *, legacy: bool) -> dict[str, Any]:
    frag: dict[str, Any] = {}
    if p.is_upload:
        frag = {"$ref": f"#/components/schemas/{UPLOAD_REF_NAME}"}
        if p.description:
            frag["description"] = p.description
        return frag
    frag["type"] = p.type if p.type in ("integer", "number", "string", "boolean") else "string"
    if p.description or legacy:
        frag["description"] = p.description
    for key, value in (
        ("minimum", p.minimum),
        ("maximum", p.maximum),
        ("minLength", p.min_length),
        ("maxLength", p.max_length),
    ):
        if value is not None:
            frag[key] = value
    if p.enum is not None:
        frag["enum"] = list(p.enum)
    if not p.required:
        frag["default"] = p.default
    if p.format:
        frag["format"] = p.format
    if legacy:
        frag["required"] = p.required
    return frag


def legacy_capabilities(
    commands: list[CommandSpec],
    tracks: list[dict[str, str]],
    emission_fps: float | None,
    messages: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Format A capabilities (the legacy ``modelCapabilities`` answer): flat per-command param maps, uploads left out."""
    return {
        "protocol_version": "1.1",
        "tracks": tracks,
        "commands": [
            {
                "name": c.name,
                "description": c.description or "",
                "schema": {p.name: _fragment(p, legacy=True) for p in c.params if not p.is_upload},
            }
            for c in commands
        ],
        "messages": messages or [],
        "emission_fps": emission_fps,
    }


def _component(message: str) -> str:
    """Component name of an outbound message's schema (``color_set`` → ``Color_set``)."""
    return message[:1].upper() + message[1:]


def _responses(c: CommandSpec) -> dict[str, Any]:
    """A bare 202, or a 200 naming the reply message (the same ``$ref`` as its webhook)."""
    if not c.reply:
        return {"202": {"description": "Command accepted"}}
    ref = {"$ref": f"#/components/schemas/{_component(c.reply)}"}
    return {"200": {"description": c.reply, "content": {"application/json": {"schema": ref}}}}


def _command_paths(commands: list[CommandSpec]) -> dict[str, Any]:
    """``paths["/events/<name>"].post`` of every command: its JSON body schema and responses."""
    paths: dict[str, Any] = {}
    for c in commands:
        body: dict[str, Any] = {
            "type": "object",
            "properties": {p.name: _fragment(p, legacy=False) for p in c.params},
            "additionalProperties": False,
        }
        grouped = {n for group in c.one_of for n in group}
        required = [p.name for p in c.params if p.required and p.name not in grouped]
        if required:
            body["required"] = required
        paths[f"/events/{c.name}"] = {
            "post": {
                "operationId": c.name,
                "summary": c.description or "",
                "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
                "responses": _responses(c),
            }
        }
    return paths


_UPLOAD_REF_SCHEMA: dict[str, Any] = {
    "type": "object",
    "format": "reactor-upload-reference",
    "properties": {
        "upload_id": {"type": "string", "format": "uuid"},
        "name": {"type": "string"},
        "mime_type": {"type": "string"},
        "size": {"type": "integer"},
    },
    "required": ["upload_id", "name", "mime_type", "size"],
}


def _webhooks(message_schemas: dict[str, dict[str, Any]], schemas: dict[str, Any]) -> dict[str, Any]:
    """One webhook per outbound message, its schema added to ``schemas`` as a component."""
    webhooks: dict[str, Any] = {}
    for name, sch in message_schemas.items():
        comp = _component(name)
        schemas[comp] = sch
        webhooks[name] = {
            "post": {
                "operationId": name,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{comp}"}}},
                },
            }
        }
    return webhooks


def openapi_schema(
    model_name: str,
    version: str,
    description: str,
    commands: list[CommandSpec],
    tracks: list[dict[str, str]],
    message_schemas: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Format B: an OpenAPI 3.1 "model schema" (commands as paths, outbound messages as webhooks)."""
    schemas: dict[str, Any] = {UPLOAD_REF_NAME: copy.deepcopy(_UPLOAD_REF_SCHEMA)}
    webhooks = _webhooks(message_schemas or {}, schemas)
    x_tracks = [
        {"name": t["name"], "kind": t["kind"], "direction": "out" if t["direction"] == "recvonly" else "in"}
        for t in tracks
    ]
    return {
        "openapi": "3.1.0",
        "info": {"title": model_name, "version": version, "description": description},
        "x-reactor": {"tracks": x_tracks},
        "paths": _command_paths(commands),
        "webhooks": webhooks,
        "components": {"schemas": schemas},
    }


# ---------------------------------------------------------------------------------------------
# Normalising what a server sends (client side)
# ---------------------------------------------------------------------------------------------
def _resolve(doc: dict[str, Any], node: Any, depth: int = 0) -> Any:
    if depth > 20 or not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = doc
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        merged = dict(_resolve(doc, target, depth + 1) or {})
        merged.update({k: v for k, v in node.items() if k != "$ref"})
        merged["x-ref"] = ref
        return merged
    return node


def _is_upload(frag: dict[str, Any]) -> bool:
    ref = str(frag.get("x-ref", frag.get("$ref", "")))
    fmt = frag.get("format")
    return (
        ref.endswith(UPLOAD_REF_NAME)
        or fmt == "reactor-upload-reference"
        or frag.get("type") == "file"
        or (frag.get("type") == "object" and fmt == "file-reference")
    )


def _param_from_fragment(name: str, frag: dict[str, Any], required: bool) -> ParamSpec:
    nullable = False
    typ = frag.get("type")
    if "anyOf" in frag and isinstance(frag["anyOf"], list):
        options = [o for o in frag["anyOf"] if isinstance(o, dict)]
        nullable = any(o.get("type") == "null" for o in options)
        non_null = [o for o in options if o.get("type") != "null"]
        if len(non_null) == 1:
            frag = {**non_null[0], **{k: v for k, v in frag.items() if k != "anyOf"}}
            typ = frag.get("type")
    if isinstance(typ, list):
        nullable = "null" in typ
        rest = [t for t in typ if t != "null"]
        typ = rest[0] if len(rest) == 1 else None
    upload = _is_upload(frag)
    if upload:
        typ = "upload"
    elif typ not in ("integer", "number", "string", "boolean"):
        typ = "json"  # a shape the forms cannot render: kept as raw JSON, never dropped
    enum = frag.get("enum")
    fmt = frag.get("format") if isinstance(frag.get("format"), str) else None
    if fmt is None and typ == "string" and (name.endswith("_b64") or name in ("image_b64",)):
        fmt = "image-base64"
    if fmt is None and typ == "string" and "prompt" in name:
        fmt = "multiline"
    return ParamSpec(
        name=name,
        type=typ,
        required=required,
        default=frag.get("default"),
        minimum=frag.get("minimum"),
        maximum=frag.get("maximum"),
        min_length=frag.get("minLength"),
        max_length=frag.get("maxLength"),
        enum=tuple(enum) if isinstance(enum, list) else None,
        description=str(frag.get("description") or ""),
        is_upload=upload,
        format=fmt,
        nullable=nullable,
    )


def commands_from_legacy(capabilities: dict[str, Any]) -> list[CommandSpec]:
    """Format A → CommandSpecs; ``required`` inferred from a missing default (as reactor-runtime 2.0.0 sends it)."""
    out: list[CommandSpec] = []
    for cmd in capabilities.get("commands") or []:
        if not isinstance(cmd, dict) or not isinstance(cmd.get("name"), str):
            continue
        schema = cmd.get("schema") or {}
        params = []
        for pname, frag in schema.items() if isinstance(schema, dict) else []:
            if not isinstance(frag, dict):
                frag = {}
            req = frag.get("required")
            required = bool(req) if isinstance(req, bool) else "default" not in frag
            params.append(_param_from_fragment(pname, frag, required))
        out.append(CommandSpec(cmd["name"], str(cmd.get("description") or ""), tuple(params)))
    return out


def commands_from_openapi(doc: dict[str, Any]) -> list[CommandSpec]:
    """Format B → CommandSpecs: one per ``paths["/events/<name>"].post``, local ``$ref``s resolved."""
    out: list[CommandSpec] = []
    for path, item in (doc.get("paths") or {}).items():
        if not isinstance(item, dict) or not isinstance(item.get("post"), dict):
            continue
        op = item["post"]
        name = op.get("operationId") or path.rsplit("/", 1)[-1]
        body = (((op.get("requestBody") or {}).get("content") or {}).get("application/json") or {}).get("schema")
        body = _resolve(doc, body or {})
        props = body.get("properties") or {} if isinstance(body, dict) else {}
        required = set(body.get("required") or []) if isinstance(body, dict) else set()
        params = tuple(
            _param_from_fragment(pname, _resolve(doc, frag) or {}, pname in required) for pname, frag in props.items()
        )
        # No required list while several params lack defaults: the runtime enforces one-of groups.
        out.append(CommandSpec(str(name), str(op.get("summary") or op.get("description") or ""), params))
    return out


def tracks_from_openapi(doc: dict[str, Any]) -> list[dict[str, str]]:
    """``x-reactor.tracks`` (model's direction) → client-view track capabilities."""
    tracks = []
    for t in (doc.get("x-reactor") or {}).get("tracks") or []:
        if isinstance(t, dict) and "name" in t:
            direction = "recvonly" if t.get("direction") in ("out", "recvonly") else "sendonly"
            tracks.append({"name": t["name"], "kind": t.get("kind", "video"), "direction": direction})
    return tracks


def normalize_commands(capabilities: dict[str, Any] | None, schema: dict[str, Any] | None) -> list[CommandSpec]:
    """Prefer format B when it has commands, else format A."""
    if isinstance(schema, dict) and schema.get("paths"):
        cmds = commands_from_openapi(schema)
        if cmds:
            return cmds
    if isinstance(capabilities, dict):
        return commands_from_legacy(capabilities)
    return []
