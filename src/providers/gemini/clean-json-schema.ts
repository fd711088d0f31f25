/**
 * JSON Schema (as OpenAI clients write it for `tools[].function.parameters` and
 * `response_format.json_schema.schema`) → the subset Gemini takes in `parametersJsonSchema` and
 * `responseJsonSchema`.
 *
 * Google documents exactly which keywords those fields support: `$id $defs $ref $anchor type format
 * title description enum items prefixItems minItems maxItems minimum maximum anyOf oneOf properties
 * additionalProperties required` plus its own `propertyOrdering`. Everything else is dropped rather
 * than forwarded, because some extras are rejected outright (AI Studio refuses a schema that
 * declares `$schema`) and the rest are at best ignored. Dropping a constraint only loosens the
 * schema; it never makes a valid argument invalid.
 *
 * Three common spellings are translated instead of dropped, because dropping them would lose
 * meaning or leave a dangling reference:
 * - `const: x` becomes `enum: [x]` (same constraint, supported keyword);
 * - draft-07 `definitions` becomes `$defs`, and `$ref`s into it are rewritten to match (zod-to-json-schema
 *   and pydantic v1 still emit `#/definitions/…`);
 * - `allOf` with a single member (the draft-07 way to put a description next to a `$ref`) is merged
 *   into its parent. A real intersection of several schemas has no Gemini form and is dropped.
 *
 * `additionalProperties` is kept, `false` included: it is on Google's list, and OpenAI strict-mode
 * schemas always carry `additionalProperties: false`, so dropping it would loosen all of them.
 *
 * The input is never mutated, and the output shares no objects with it.
 */

import { isRecord } from "../../formats/is-record.ts";

/** Keywords whose value is data, not a sub-schema: copied as they are. */
const VERBATIM_KEYWORDS = new Set([
  "$id",
  "$anchor",
  "type",
  "format",
  "title",
  "description",
  "enum",
  "minItems",
  "maxItems",
  "minimum",
  "maximum",
  "required",
  "propertyOrdering",
]);

const DRAFT7_DEFINITIONS_PREFIX = "#/definitions/";

export function cleanJsonSchemaForGemini(schema: unknown): unknown {
  if (!isRecord(schema)) return structuredClone(schema);
  const source = mergeSingleAllOf(schema);
  const cleaned: Record<string, unknown> = {};
  for (const [keyword, value] of Object.entries(source)) {
    if (VERBATIM_KEYWORDS.has(keyword)) cleaned[keyword] = structuredClone(value);
  }
  if ("const" in source && !("enum" in source)) cleaned.enum = [structuredClone(source.const)];
  if (typeof source.$ref === "string") cleaned.$ref = rewriteDefinitionsRef(source.$ref);
  copySchemaMap(source.properties, cleaned, "properties");
  copySchemaMap(mergedDefinitions(source), cleaned, "$defs");
  copySchemaList(source.anyOf, cleaned, "anyOf");
  copySchemaList(source.oneOf, cleaned, "oneOf");
  copySchemaList(source.prefixItems, cleaned, "prefixItems");
  copyItems(source.items, cleaned);
  if (source.additionalProperties !== undefined) cleaned.additionalProperties = cleanJsonSchemaForGemini(source.additionalProperties);
  return cleaned;
}

/** `{description, allOf: [member]}` → `{...member, description}`; the parent's own keywords win. */
function mergeSingleAllOf(schema: Record<string, unknown>): Record<string, unknown> {
  const allOf = schema.allOf;
  if (!Array.isArray(allOf) || allOf.length !== 1 || !isRecord(allOf[0])) return schema;
  const parent = { ...schema };
  delete parent.allOf;
  return { ...mergeSingleAllOf(allOf[0]), ...parent };
}

/** `$defs` plus draft-07 `definitions`, with `$defs` winning a name both define. */
function mergedDefinitions(schema: Record<string, unknown>): unknown {
  const legacy = schema.definitions;
  const current = schema.$defs;
  if (!isRecord(legacy)) return current;
  return isRecord(current) ? { ...legacy, ...current } : legacy;
}

function rewriteDefinitionsRef(ref: string): string {
  return ref.startsWith(DRAFT7_DEFINITIONS_PREFIX) ? `#/$defs/${ref.slice(DRAFT7_DEFINITIONS_PREFIX.length)}` : ref;
}

/** `properties` and `$defs`: the keys are names (never filtered), the values are schemas. */
function copySchemaMap(value: unknown, target: Record<string, unknown>, keyword: string): void {
  if (!isRecord(value)) return;
  const cleaned: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(value)) cleaned[name] = cleanJsonSchemaForGemini(schema);
  target[keyword] = cleaned;
}

function copySchemaList(value: unknown, target: Record<string, unknown>, keyword: string): void {
  if (Array.isArray(value)) target[keyword] = value.map(cleanJsonSchemaForGemini);
}

/** Draft-04 tuple form `items: [a, b]` is what 2020-12 (and Gemini) call `prefixItems`. */
function copyItems(items: unknown, target: Record<string, unknown>): void {
  if (items === undefined) return;
  if (Array.isArray(items)) {
    if (target.prefixItems === undefined) target.prefixItems = items.map(cleanJsonSchemaForGemini);
    return;
  }
  target.items = cleanJsonSchemaForGemini(items);
}
