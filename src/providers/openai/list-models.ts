/**
 * `GET {base}/models` on an OpenAI-compatible host. Hosts add their own fields to each entry;
 * only `id`, `created` and `owned_by` are kept.
 */

import { classifyHttpFailure } from "../../engine/classify-failure.ts";
import type { ModelListResult } from "../adapter.ts";
import { callUpstream, readBodyText } from "../upstream-http.ts";
import { openAIHeaders } from "./openai-adapter.ts";

export async function listOpenAIModels(options: {
  baseUrl: string;
  key: string;
  timeoutMs: number;
  signal: AbortSignal;
}): Promise<ModelListResult> {
  const started = Date.now();
  const reply = await callUpstream({
    url: `${options.baseUrl}/models`,
    method: "GET",
    headers: openAIHeaders(options.key, "application/json"),
    signal: options.signal,
    headersTimeoutMs: options.timeoutMs,
  });
  if (!reply.ok) return reply;
  const body = await readBodyText(reply.response, reply.controller, Math.max(1, options.timeoutMs - (Date.now() - started)));
  if (!body.ok) return body;
  const { status, headers } = reply.response;
  if (status < 200 || status >= 300) return { ok: false, failure: classifyHttpFailure({ status, headers, body: body.text, now: Date.now() }) };
  try {
    const parsed = JSON.parse(body.text) as { data?: unknown };
    const entries = Array.isArray(parsed.data) ? parsed.data : [];
    const models = entries
      .filter((entry): entry is Record<string, unknown> => typeof entry === "object" && entry !== null && typeof entry.id === "string")
      .map((entry) => ({
        id: entry.id as string,
        ...(typeof entry.created === "number" ? { created: entry.created } : {}),
        ...(typeof entry.owned_by === "string" ? { owned_by: entry.owned_by } : {}),
      }));
    return { ok: true, models };
  } catch {
    return { ok: false, failure: { class: "transient", status, message: "the model list is not valid JSON" } };
  }
}
