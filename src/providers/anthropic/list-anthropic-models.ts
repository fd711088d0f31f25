/** `GET {base}/models` on the Anthropic API, following `has_more` / `after_id` to the end. */

import type { Credential } from "../../credential.ts";
import type { ListedModel, ModelListOptions, ModelListResult } from "../adapter.ts";
import type { UpstreamRequest } from "../attempts.ts";
import { getUpstreamJson } from "../upstream-http.ts";
import { anthropicHeaders } from "./anthropic-headers.ts";

const PAGE_LIMIT = 1000;
const MAX_PAGES = 20;

interface ModelsPage {
  data?: { id?: string; created_at?: string }[];
  has_more?: boolean;
  last_id?: string | null;
}

/** One page of the model list; the first page of one entry is the cheapest call Anthropic authenticates. */
export function anthropicModelPage(key: Credential, limit: number, after?: string): UpstreamRequest {
  const query = new URLSearchParams({ limit: String(limit), ...(after ? { after_id: after } : {}) });
  return { url: `${key.baseUrl}/models?${query}`, headers: anthropicHeaders(key.secret, "application/json") };
}

export async function listAnthropicModels(options: ModelListOptions): Promise<ModelListResult> {
  const started = Date.now();
  const models: ListedModel[] = [];
  let after: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const answer = await getUpstreamJson({
      ...anthropicModelPage(options.key, PAGE_LIMIT, after),
      signal: options.signal,
      timeoutMs: Math.max(1, options.timeoutMs - (Date.now() - started)),
      what: "the Anthropic model list",
    });
    if (!answer.ok) return answer;
    const parsed = answer.body as ModelsPage;
    for (const model of parsed.data ?? []) {
      if (typeof model.id !== "string") continue;
      const created = model.created_at ? Math.floor(Date.parse(model.created_at) / 1000) : undefined;
      models.push({ id: model.id, owned_by: "anthropic", ...(created && Number.isFinite(created) ? { created } : {}) });
    }
    after = parsed.has_more && parsed.last_id ? parsed.last_id : undefined;
    if (!after) break;
  }
  return { ok: true, models };
}
