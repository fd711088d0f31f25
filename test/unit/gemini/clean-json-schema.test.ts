/** JSON Schema → the subset Gemini's `parametersJsonSchema` / `responseJsonSchema` take. */

import { describe, expect, test } from "bun:test";
import { cleanJsonSchemaForGemini } from "../../../src/providers/gemini/clean-json-schema.ts";

describe("cleanJsonSchemaForGemini", () => {
  test("keeps every keyword Google lists and drops the rest, at every depth", () => {
    const schema = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      $id: "https://example.com/order",
      $anchor: "order",
      $comment: "internal",
      title: "Order",
      description: "An order",
      type: "object",
      strict: true,
      default: {},
      examples: [{}],
      propertyOrdering: ["sku", "count", "tags"],
      properties: {
        sku: { type: "string", format: "uuid", pattern: "^[a-f0-9-]+$", minLength: 36, maxLength: 36, examples: ["x"] },
        count: { type: "integer", minimum: 1, maximum: 10, exclusiveMinimum: 0, multipleOf: 1, default: 1 },
        tags: { type: "array", items: { type: "string", enum: ["a", "b"], deprecated: true }, minItems: 1, maxItems: 3, uniqueItems: true },
      },
      required: ["sku"],
      additionalProperties: false,
    };
    expect(cleanJsonSchemaForGemini(schema)).toEqual({
      $id: "https://example.com/order",
      $anchor: "order",
      title: "Order",
      description: "An order",
      type: "object",
      propertyOrdering: ["sku", "count", "tags"],
      properties: {
        sku: { type: "string", format: "uuid" },
        count: { type: "integer", minimum: 1, maximum: 10 },
        tags: { type: "array", items: { type: "string", enum: ["a", "b"] }, minItems: 1, maxItems: 3 },
      },
      required: ["sku"],
      additionalProperties: false,
    });
  });

  test("property names that look like keywords are names, not keywords", () => {
    const schema = { type: "object", properties: { default: { type: "string" }, $schema: { type: "string" }, pattern: { type: "string", default: "x" } } };
    expect(cleanJsonSchemaForGemini(schema)).toEqual({
      type: "object",
      properties: { default: { type: "string" }, $schema: { type: "string" }, pattern: { type: "string" } },
    });
  });

  test("recurses into anyOf, oneOf, prefixItems, $defs and schema-valued additionalProperties", () => {
    const schema = {
      $defs: { Point: { type: "object", properties: { x: { type: "number", default: 0 } }, additionalProperties: { type: "string", examples: ["x"] } } },
      type: "object",
      properties: {
        at: { $ref: "#/$defs/Point", description: "where" },
        value: { anyOf: [{ type: "string", minLength: 1 }, { type: "null" }], default: null },
        shape: { oneOf: [{ type: "object", properties: { r: { type: "number", exclusiveMaximum: 5 } } }, { type: "string", pattern: "." }] },
        pair: { type: "array", prefixItems: [{ type: "string", maxLength: 2 }, { type: "integer", default: 0 }] },
        nullable: { type: ["string", "null"], $comment: "kept as a type list" },
      },
    };
    expect(cleanJsonSchemaForGemini(schema)).toEqual({
      $defs: { Point: { type: "object", properties: { x: { type: "number" } }, additionalProperties: { type: "string" } } },
      type: "object",
      properties: {
        at: { $ref: "#/$defs/Point", description: "where" },
        value: { anyOf: [{ type: "string" }, { type: "null" }] },
        shape: { oneOf: [{ type: "object", properties: { r: { type: "number" } } }, { type: "string" }] },
        pair: { type: "array", prefixItems: [{ type: "string" }, { type: "integer" }] },
        nullable: { type: ["string", "null"] },
      },
    });
  });

  test("const becomes a one-value enum; an explicit enum wins", () => {
    expect(cleanJsonSchemaForGemini({ type: "string", const: "fixed" })).toEqual({ type: "string", enum: ["fixed"] });
    expect(cleanJsonSchemaForGemini({ const: "a", enum: ["a", "b"] })).toEqual({ enum: ["a", "b"] });
    expect(cleanJsonSchemaForGemini({ const: null })).toEqual({ enum: [null] });
  });

  test("draft-07 definitions become $defs, and their refs follow", () => {
    const schema = {
      type: "object",
      properties: { user: { $ref: "#/definitions/User" }, self: { $ref: "#" } },
      definitions: { User: { type: "object", properties: { friend: { $ref: "#/definitions/User" } } }, Old: { type: "string" } },
      $defs: { Old: { type: "integer" } },
    };
    expect(cleanJsonSchemaForGemini(schema)).toEqual({
      type: "object",
      properties: { user: { $ref: "#/$defs/User" }, self: { $ref: "#" } },
      $defs: { User: { type: "object", properties: { friend: { $ref: "#/$defs/User" } } }, Old: { type: "integer" } },
    });
  });

  test("a single-member allOf merges into its parent; an intersection is dropped", () => {
    expect(cleanJsonSchemaForGemini({ description: "the owner", allOf: [{ $ref: "#/$defs/User", description: "a user" }] })).toEqual({
      $ref: "#/$defs/User",
      description: "the owner",
    });
    expect(cleanJsonSchemaForGemini({ type: "object", allOf: [{ required: ["a"] }, { required: ["b"] }] })).toEqual({ type: "object" });
  });

  test("draft-04 tuple items become prefixItems", () => {
    expect(cleanJsonSchemaForGemini({ type: "array", items: [{ type: "string", minLength: 1 }, { type: "number" }] })).toEqual({
      type: "array",
      prefixItems: [{ type: "string" }, { type: "number" }],
    });
  });

  test("boolean schemas and non-schemas pass through", () => {
    expect(cleanJsonSchemaForGemini(true)).toBe(true);
    expect(cleanJsonSchemaForGemini(undefined)).toBeUndefined();
    expect(cleanJsonSchemaForGemini({ type: "object", additionalProperties: true, properties: { any: true } })).toEqual({
      type: "object",
      additionalProperties: true,
      properties: { any: true },
    });
  });

  test("never mutates the input and shares no objects with it", () => {
    const schema = {
      $schema: "x",
      type: "object",
      properties: { kind: { type: "string", enum: ["a"], default: "a" } },
      required: ["kind"],
      definitions: { D: { type: "string" } },
      allOf: [{ description: "d" }],
    };
    const before = structuredClone(schema);
    const cleaned = cleanJsonSchemaForGemini(schema) as { properties: { kind: { enum: string[] } }; required: string[] };
    expect(schema).toEqual(before);
    cleaned.properties.kind.enum.push("b");
    cleaned.required.push("other");
    expect(schema).toEqual(before);
  });

  test("an OpenAI strict-mode tool schema, as clients send it", () => {
    const parameters = {
      type: "object",
      properties: {
        location: { type: "string", description: "City and country e.g. Bogotá, Colombia" },
        units: { type: ["string", "null"], enum: ["celsius", "fahrenheit", null] },
      },
      required: ["location", "units"],
      additionalProperties: false,
      $schema: "http://json-schema.org/draft-07/schema#",
    };
    expect(cleanJsonSchemaForGemini(parameters)).toEqual({
      type: "object",
      properties: {
        location: { type: "string", description: "City and country e.g. Bogotá, Colombia" },
        units: { type: ["string", "null"], enum: ["celsius", "fahrenheit", null] },
      },
      required: ["location", "units"],
      additionalProperties: false,
    });
  });
});
