// Browser-side validation: the same rules and wording as reactor_notebook.schema.validate_param,
// so a user sees the kernel's message before the round trip. The kernel validates again.

function show(value, limit = 60) {
  let text;
  if (typeof value === "string") text = `'${value}'`;
  else if (typeof value === "boolean") text = value ? "True" : "False";
  else if (value === null || value === undefined) text = "None";
  else text = JSON.stringify(value);
  return text.length <= limit ? text : text.slice(0, limit - 3) + "...";
}

function pyType(value) {
  if (value === null || value === undefined) return "NoneType";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
  if (typeof value === "string") return "str";
  if (Array.isArray(value)) return "list";
  return "dict";
}

function fmt(x) {
  return Number.isInteger(x) ? String(x) : String(x);
}

function sameEnumValue(value, member) {
  if (typeof value === "boolean" || typeof member === "boolean") return value === member;
  if (typeof value === "number" && typeof member === "number") return value === member;
  return typeof value === typeof member && value === member;
}

/**
 * Return null when valid, else {reason, message} (message without the "command: field" prefix).
 * @param {import("./messages.js").FieldSpec} p
 * @param {*} value
 * @returns {{reason: string, message: string}|null}
 */
export function validateParam(p, value) {
  if (value === null && p.nullable) return null;
  if (Array.isArray(p.enum)) {
    if (!p.enum.some((e) => sameEnumValue(value, e))) {
      return { reason: "not_in_enum", message: `value ${show(value)} is not one of: ${p.enum.map((e) => show(e)).join(", ")}` };
    }
    return null;
  }
  if (p.type === "integer" || p.type === "number") {
    if (typeof value !== "number") {
      return { reason: "wrong_type", message: `expected ${p.type}, got ${pyType(value)} ${show(value)}` };
    }
    if (!Number.isFinite(value)) {
      return { reason: "invalid_value", message: `expected a finite ${p.type}, got ${value}` };
    }
    if (p.type === "integer" && !Number.isInteger(value)) {
      return { reason: "wrong_type", message: `expected integer, got non-integral number ${value}` };
    }
    const lo = p.minimum, hi = p.maximum;
    if ((lo != null && value < lo) || (hi != null && value > hi)) {
      const rng = lo != null && hi != null ? `${fmt(lo)} to ${fmt(hi)}` : lo != null ? `>= ${fmt(lo)}` : `<= ${fmt(hi)}`;
      return { reason: "out_of_range", message: `value ${value} is out of range (${rng})` };
    }
    return null;
  }
  if (p.type === "string") {
    if (typeof value !== "string") {
      return { reason: "wrong_type", message: `expected string, got ${pyType(value)} ${show(value)}` };
    }
    const n = [...value].length;
    if (p.minLength != null && n < p.minLength) {
      return { reason: "out_of_range", message: `length ${n} is below the minimum length ${p.minLength}` };
    }
    if (p.maxLength != null && n > p.maxLength) {
      return { reason: "out_of_range", message: `length ${n} exceeds the maximum length ${p.maxLength}` };
    }
    return null;
  }
  if (p.type === "boolean") {
    if (typeof value !== "boolean") {
      return { reason: "wrong_type", message: `expected boolean, got ${pyType(value)} ${show(value)}` };
    }
  }
  return null;
}

/**
 * Validate a whole command's arguments (values already parsed from the inputs; undefined = left empty).
 * Returns {args, errors}: errors maps field name (or "" for the form) to {reason, message}.
 * @param {import("./messages.js").CommandSpec} cmd
 * @param {Object<string, *>} values
 */
export function validateArgs(cmd, values) {
  const args = {};
  const errors = {};
  const grouped = new Set((cmd.one_of || []).flat());
  for (const p of cmd.params) {
    const v = values[p.name];
    if (v === undefined) {
      if (p.required && !grouped.has(p.name)) {
        errors[p.name] = { reason: "missing_field", message: `required field is missing${p.type !== "json" ? ` (${p.type})` : ""}` };
      }
      continue;
    }
    if (v && typeof v === "object" && v.__parseError) {
      errors[p.name] = { reason: "wrong_type", message: v.__parseError };
      continue;
    }
    const err = validateParam(p, v);
    if (err) errors[p.name] = err;
    else args[p.name] = v;
  }
  for (const group of cmd.one_of || []) {
    const present = group.filter((n) => values[n] !== undefined);
    if (present.length !== 1) {
      const what = present.length ? "both" : "neither";
      const field = present.length ? present[present.length - 1] : group[0];
      errors[field] = {
        reason: "invalid_value",
        message: `give exactly one of ${group.map((n) => `'${n}'`).join(" or ")} (${what} given)`,
      };
    }
  }
  return { args, errors };
}

/**
 * Parse an input's raw text into the parameter's JSON value (undefined when empty).
 * @param {import("./messages.js").FieldSpec} p
 * @param {*} raw
 */
export function parseInput(p, raw) {
  if (p.kind === "checkbox") return raw;
  if (raw === undefined || raw === null || raw === "") return undefined;
  if (p.kind === "select" && Array.isArray(p.enum)) {
    const hit = p.enum.find((e) => String(e) === raw);
    return hit === undefined ? raw : hit;
  }
  if (p.type === "integer" || p.type === "number") {
    const s = String(raw).trim();
    const n = Number(s);
    if (s === "" || Number.isNaN(n)) return { __parseError: `expected ${p.type}, got str ${show(s)}` };
    return n;
  }
  if (p.kind === "json") {
    try {
      return JSON.parse(raw);
    } catch (e) {
      return { __parseError: `not valid JSON: ${e.message}` };
    }
  }
  return raw;
}
