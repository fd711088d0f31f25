/**
 * Request bodies at the edge: valid JSON, an object, and the shape the route needs — or a 400 that
 * says precisely what is wrong (`messages[0].role: must be a string …`).
 */

import type { Context } from "hono";
import type { z } from "zod";
import { invalidRequest, type ProxyError } from "./errors.ts";

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: ProxyError };

export async function readJsonRequest<S extends z.ZodType>(c: Context, schema: S): Promise<Parsed<z.infer<S>>> {
  const text = await c.req.text();
  // A test for any non-blank character stops at the first one; trim() would copy the whole body.
  if (!/\S/.test(text)) return { ok: false, error: invalidRequest("The request body is empty; send a JSON object.") };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : "parse error";
    return { ok: false, error: invalidRequest(`The request body is not valid JSON (${detail}).`) };
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { ok: false, error: invalidRequest("The request body must be a JSON object.") };
  }
  const result = schema.safeParse(body);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0]!;
  const path = issue.path.map((part, index) => (typeof part === "number" ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`)).join("");
  return { ok: false, error: invalidRequest(path ? `${path}: ${issue.message}` : issue.message, path || null) };
}
