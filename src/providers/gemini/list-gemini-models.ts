/**
 * `GET {base}/models` on the Generative Language API, following `nextPageToken` to the end (the
 * first page alone misses models). Generation and embedding models are both listed; ids lose
 * their `models/` prefix.
 */

import type { Credential } from "../../credential.ts";
import type { ListedModel, ModelListOptions, ModelListResult } from "../adapter.ts";
import type { UpstreamRequest } from "../attempts.ts";
import { getUpstreamJson } from "../upstream-http.ts";
import { geminiHeaders } from "./gemini-headers.ts";

const PAGE_SIZE = 1000;
const MAX_PAGES = 20;
const USEFUL_METHODS = ["generateContent", "streamGenerateContent", "embedContent", "batchEmbedContents"];

interface ModelsPage {
  models?: { name?: string; supportedGenerationMethods?: string[] }[];
  nextPageToken?: string;
}

/** One page of the model list; the first page of one entry is the cheapest call Google authenticates. */
export function geminiModelPage(key: Credential, pageSize: number, pageToken?: string): UpstreamRequest {
  const query = new URLSearchParams({ pageSize: String(pageSize), ...(pageToken ? { pageToken } : {}) });
  return { url: `${key.baseUrl}/models?${query}`, headers: geminiHeaders(key.secret) };
}

export async function listGeminiModels(options: ModelListOptions): Promise<ModelListResult> {
  const started = Date.now();
  const models: ListedModel[] = [];
  let pageToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const answer = await getUpstreamJson({
      ...geminiModelPage(options.key, PAGE_SIZE, pageToken),
      signal: options.signal,
      timeoutMs: Math.max(1, options.timeoutMs - (Date.now() - started)),
      what: "the Gemini model list",
    });
    if (!answer.ok) return answer;
    const parsed = answer.body as ModelsPage;
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
