/**
 * Google's OpenAPI schema subset (`parameters`, `responseSchema`: `type: "OBJECT"`, `nullable`,
 * `propertyOrdering`) → plain JSON Schema, as OpenAI-shaped tools and `response_format` take it.
 * Type names are upper-case in Google's form and lower-case in JSON Schema; `nullable: true`
 * becomes a `"null"` member of the type; Google's ordering hint has no JSON Schema meaning.
 */

import { isRecord } from "../is-record.ts";

const NESTED_MAPS = ["properties", "$defs", "definitions"];
const NESTED_LISTS = ["anyOf", "oneOf", "allOf", "prefixItems"];

export function convertGeminiSchemaToJsonSchema(schema: unknown): unknown {
  if (!isRecord(schema)) return schema;
  const { nullable, propertyOrdering: _ordering, ...rest } = schema;
  const out: Record<string, unknown> = { ...rest };
  if (typeof rest.type === "string") {
    const type = rest.type.toLowerCase();
    out.type = nullable === true ? [type, "null"] : type;
  }
  for (const key of NESTED_MAPS) {
    const map = rest[key];
    if (isRecord(map)) out[key] = Object.fromEntries(Object.entries(map).map(([name, value]) => [name, convertGeminiSchemaToJsonSchema(value)]));
  }
  for (const key of NESTED_LISTS) {
    const list = rest[key];
    if (Array.isArray(list)) out[key] = list.map(convertGeminiSchemaToJsonSchema);
  }
  if (rest.items !== undefined) out.items = convertGeminiSchemaToJsonSchema(rest.items);
  if (isRecord(rest.additionalProperties)) out.additionalProperties = convertGeminiSchemaToJsonSchema(rest.additionalProperties);
  return out;
}
