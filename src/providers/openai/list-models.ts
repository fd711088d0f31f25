/**
 * `GET {base}/models` on an OpenAI-compatible host. Hosts add their own fields to each entry;
 * only `id`, `created` and `owned_by` are kept.
 */

import type { ModelListResult } from "../adapter.ts";
import { getUpstreamJson } from "../upstream-http.ts";
import { openAIHeaders } from "./openai-headers.ts";

export async function listOpenAIModels(options: { baseUrl: string; key: string; timeoutMs: number; signal: AbortSignal }): Promise<ModelListResult> {
  const answer = await getUpstreamJson({
    url: `${options.baseUrl}/models`,
    headers: openAIHeaders(options.key, "application/json"),
    signal: options.signal,
    timeoutMs: options.timeoutMs,
    what: "the model list",
  });
  if (!answer.ok) return answer;
  const data = (answer.body as { data?: unknown }).data;
  const models = (Array.isArray(data) ? data : [])
    .filter((entry): entry is Record<string, unknown> => typeof entry === "object" && entry !== null && typeof entry.id === "string")
    .map((entry) => ({
      id: entry.id as string,
      ...(typeof entry.created === "number" ? { created: entry.created } : {}),
      ...(typeof entry.owned_by === "string" ? { owned_by: entry.owned_by } : {}),
    }));
  return { ok: true, models };
}
