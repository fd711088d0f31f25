/**
 * `GET {base}/models` on the Generative Language API, following `nextPageToken` to the end (the
 * first page alone misses models). Generation and embedding models are both listed; ids lose
 * their `models/` prefix.
 */

import { classifyHttpFailure } from "../../engine/classify-failure.ts";
import type { ListedModel, ModelListResult } from "../adapter.ts";
import { callUpstream, readBodyText } from "../upstream-http.ts";
import { geminiHeaders } from "./gemini-headers.ts";

const PAGE_SIZE = 1000;
const MAX_PAGES = 20;
const USEFUL_METHODS = ["generateContent", "streamGenerateContent", "embedContent", "batchEmbedContents"];

interface ModelsPage {
  models?: { name?: string; supportedGenerationMethods?: string[] }[];
  nextPageToken?: string;
}

export async function listGeminiModels(options: { baseUrl: string; key: string; timeoutMs: number; signal: AbortSignal }): Promise<ModelListResult> {
  const started = Date.now();
  const models: ListedModel[] = [];
  let pageToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const remaining = Math.max(1, options.timeoutMs - (Date.now() - started));
    const query = new URLSearchParams({ pageSize: String(PAGE_SIZE), ...(pageToken ? { pageToken } : {}) });
    const reply = await callUpstream({
      url: `${options.baseUrl}/models?${query}`,
      method: "GET",
      headers: geminiHeaders(options.key),
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
      return { ok: false, failure: { class: "transient", status, message: "the Gemini model list is not valid JSON" } };
    }
    for (const model of parsed.models ?? []) {
      if (typeof model.name !== "string") continue;
      const methods = model.supportedGenerationMethods ?? [];
      if (methods.length > 0 && !methods.some((method) => USEFUL_METHODS.includes(method))) continue;
      models.push({ id: model.name.replace(/^models\//, ""), owned_by: "google" });
    }
    pageToken = parsed.nextPageToken || undefined;
    if (!pageToken) break;
  }
  return { ok: true, models };
}
