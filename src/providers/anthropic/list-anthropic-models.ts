/** `GET {base}/models` on the Anthropic API, following `has_more` / `after_id` to the end. */

import { classifyHttpFailure } from "../../engine/classify-failure.ts";
import type { ListedModel, ModelListResult } from "../adapter.ts";
import { callUpstream, readBodyText } from "../upstream-http.ts";
import { anthropicHeaders } from "./anthropic-headers.ts";

const PAGE_LIMIT = 1000;
const MAX_PAGES = 20;

interface ModelsPage {
  data?: { id?: string; created_at?: string }[];
  has_more?: boolean;
  last_id?: string | null;
}

export async function listAnthropicModels(options: { baseUrl: string; key: string; timeoutMs: number; signal: AbortSignal }): Promise<ModelListResult> {
  const started = Date.now();
  const models: ListedModel[] = [];
  let after: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const remaining = Math.max(1, options.timeoutMs - (Date.now() - started));
    const query = new URLSearchParams({ limit: String(PAGE_LIMIT), ...(after ? { after_id: after } : {}) });
    const reply = await callUpstream({
      url: `${options.baseUrl}/models?${query}`,
      method: "GET",
      headers: anthropicHeaders(options.key, "application/json"),
      signal: options.signal,
      headersTimeoutMs: remaining,
    });
    if (!reply.ok) return reply;
    const body = await readBodyText(reply.response, reply.controller, remaining);
    if (!body.ok) return body;
    const { status, headers } = reply.response;
    if (status < 200 || status >= 300) return { ok: false, failure: classifyHttpFailure({ status, headers, body: body.text, now: Date.now() }) };
    let parsed: ModelsPage;
    try {
      parsed = JSON.parse(body.text) as ModelsPage;
    } catch {
      return { ok: false, failure: { class: "transient", status, message: "the Anthropic model list is not valid JSON" } };
    }
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
