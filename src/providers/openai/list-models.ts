/**
 * `GET {base}/models` on an OpenAI-compatible host. Hosts add their own fields to each entry;
 * only `id`, `created` and `owned_by` are kept.
 */

import type { Credential } from "../../credential.ts";
import type { ModelListOptions, ModelListResult } from "../adapter.ts";
import type { UpstreamRequest } from "../attempts.ts";
import { getUpstreamJson } from "../upstream-http.ts";
import { openAIHeaders } from "./openai-headers.ts";

/** The model list: one call with no paging, and the cheapest one an OpenAI-compatible host authenticates. */
export function openAIModelList(key: Credential): UpstreamRequest {
  return { url: `${key.baseUrl}/models`, headers: openAIHeaders(key.secret, "application/json") };
}

export function listOpenAIModels(options: ModelListOptions): Promise<ModelListResult> {
  return listModelsAt(options, openAIModelList(options.key));
}

/** An OpenAI-shaped model list (`{ data: [{ id, created, owned_by }] }`) at any URL, as hosts of that wire serve it. */
export async function listModelsAt(options: ModelListOptions, request: UpstreamRequest): Promise<ModelListResult> {
  const answer = await getUpstreamJson({
    ...request,
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
