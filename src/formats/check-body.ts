/**
 * Checking a request body against its zod schema, with a fast path for the common case. zod builds
 * a checked copy of every object it parses, which on the hot path costs more than everything else
 * the library adds to a call; most bodies are plain and already exactly what the schema would give
 * back. So each schema is compiled once into a predicate over the zod constructs request schemas
 * use (objects, strings, numbers, booleans, arrays, unions, literals, enums, optional, nullable,
 * with length and bound checks): when it says yes, the body passes unchanged, as zod would have
 * returned an equal copy of it. Anything the predicate cannot vouch for — a failing body, or a
 * schema with defaults, transforms or refinements — goes to zod, which parses and words the error.
 */

import type { z } from "zod";

type Accepts = (value: unknown) => boolean;

/** What the compiler reads of a zod schema: its definition, as zod 4 exposes it. */
interface Def {
  type: string;
  checks?: { _zod: { def: { check: string; minimum?: number; maximum?: number; value?: number; inclusive?: boolean; format?: string } } }[];
  shape?: Record<string, { _zod: { def: Def } }>;
  catchall?: { _zod: { def: Def } };
  element?: { _zod: { def: Def } };
  options?: { _zod: { def: Def } }[];
  innerType?: { _zod: { def: Def } };
  values?: readonly unknown[];
  entries?: Record<string, unknown>;
}

/**
 * A compiled schema: `accepts` says yes only for a value zod would return unchanged; `exact` says
 * that its no means zod's no as well (no construct it gives up on, no object that drops keys). A
 * union needs every option exact, since zod returns the first option that parses, not the one that
 * happens to match as-is.
 */
interface Compiled {
  accepts: Accepts;
  exact: boolean;
}

/** A construct the fast path does not know: its predicate never accepts, so zod decides. */
const UNKNOWN: Compiled = { accepts: () => false, exact: false };
const exactly = (accepts: Accepts): Compiled => ({ accepts, exact: true });

function lengthChecks(def: Def): ((length: number) => boolean) | undefined {
  const tests: ((length: number) => boolean)[] = [];
  for (const { _zod } of def.checks ?? []) {
    const check = _zod.def;
    if (check.check === "min_length") tests.push((length) => length >= check.minimum!);
    else if (check.check === "max_length") tests.push((length) => length <= check.maximum!);
    else return undefined;
  }
  return (length) => tests.every((test) => test(length));
}

function numberChecks(def: Def): ((value: number) => boolean) | undefined {
  const tests: ((value: number) => boolean)[] = [];
  for (const { _zod } of def.checks ?? []) {
    const check = _zod.def;
    if (check.check === "number_format" && check.format === "safeint") tests.push(Number.isSafeInteger);
    else if (check.check === "greater_than") tests.push(check.inclusive ? (value) => value >= check.value! : (value) => value > check.value!);
    else if (check.check === "less_than") tests.push(check.inclusive ? (value) => value <= check.value! : (value) => value < check.value!);
    else return undefined;
  }
  return (value) => tests.every((test) => test(value));
}

function compile(def: Def): Compiled {
  switch (def.type) {
    case "unknown":
    case "any":
      return exactly(() => true);
    case "null":
      return exactly((value) => value === null);
    case "boolean":
      return (def.checks ?? []).length === 0 ? exactly((value) => typeof value === "boolean") : UNKNOWN;
    case "string": {
      const length = lengthChecks(def);
      return length ? exactly((value) => typeof value === "string" && length(value.length)) : UNKNOWN;
    }
    case "number": {
      const bounds = numberChecks(def);
      // zod's number takes finite numbers only.
      return bounds ? exactly((value) => typeof value === "number" && Number.isFinite(value) && bounds(value)) : UNKNOWN;
    }
    case "literal":
      return exactly((value) => def.values!.includes(value));
    case "enum": {
      const allowed = new Set(Object.values(def.entries ?? {}));
      return exactly((value) => allowed.has(value));
    }
    case "optional": {
      const inner = compile(def.innerType!._zod.def);
      return { accepts: (value) => value === undefined || inner.accepts(value), exact: inner.exact };
    }
    case "nullable": {
      const inner = compile(def.innerType!._zod.def);
      return { accepts: (value) => value === null || inner.accepts(value), exact: inner.exact };
    }
    case "array": {
      const length = lengthChecks(def);
      if (!length) return UNKNOWN;
      const element = compile(def.element!._zod.def);
      return { accepts: (value) => Array.isArray(value) && length(value.length) && value.every(element.accepts), exact: element.exact };
    }
    case "union": {
      const options = def.options!.map((option) => compile(option._zod.def));
      if (!options.every((option) => option.exact)) return UNKNOWN;
      return exactly((value) => options.some((option) => option.accepts(value)));
    }
    case "object":
      return compileObject(def);
    default:
      // default, prefault, transform, pipe, catch, coercion, …: zod's answer may differ from the input.
      return UNKNOWN;
  }
}

function compileObject(def: Def): Compiled {
  if ((def.checks ?? []).length > 0) return UNKNOWN;
  const catchall = def.catchall?._zod.def.type;
  // A loose object keeps unknown keys as they are; a plain one drops them and a strict one refuses
  // them, so there a body with an unknown key is zod's to handle.
  if (catchall !== undefined && catchall !== "unknown" && catchall !== "never") return UNKNOWN;
  const loose = catchall === "unknown";
  const fields = Object.entries(def.shape ?? {}).map(([key, schema]) => [key, compile(schema._zod.def)] as const);
  const known = new Set(fields.map(([key]) => key));
  const accepts: Accepts = (value) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
    const record = value as Record<string, unknown>;
    for (const [key, field] of fields) if (!field.accepts(record[key])) return false;
    if (!loose) for (const key in record) if (!known.has(key)) return false;
    return true;
  };
  return { accepts, exact: catchall !== undefined && fields.every(([, field]) => field.exact) };
}

const compiled = new WeakMap<z.ZodType, Accepts>();

function acceptsAsIs(schema: z.ZodType): Accepts {
  let accepts = compiled.get(schema);
  if (!accepts) {
    accepts = compile((schema as unknown as { _zod: { def: Def } })._zod.def).accepts;
    compiled.set(schema, accepts);
  }
  return accepts;
}

/** `schema.safeParse(value)`, with a body the fast path vouches for passed through as it is. */
export function checkBody<S extends z.ZodType>(schema: S, value: unknown): z.ZodSafeParseResult<z.output<S>> {
  if (acceptsAsIs(schema)(value)) return { success: true, data: value as z.output<S> } as z.ZodSafeParseResult<z.output<S>>;
  return schema.safeParse(value) as z.ZodSafeParseResult<z.output<S>>;
}
