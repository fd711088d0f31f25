/**
 * Vertex AI's models: the Model Garden listing of each publisher the proxy speaks to (Google's
 * Gemini and embedding models, Anthropic's Claude), `GET v1beta1/publishers/<p>/models`, following
 * `nextPageToken`. Ids lose their `publishers/<p>/models/` prefix, so they are what a request names.
 * The listing shows what Vertex offers, not what a project has enabled (Claude needs enabling).
 */

import type { Credential } from "../../credential.ts";
import type { ListedModel, ModelListOptions, ModelListResult } from "../adapter.ts";
import { CredentialFailure, type UpstreamRequest } from "../attempts.ts";
import { getUpstreamJson } from "../upstream-http.ts";
import { publisherModelsUrl, vertexRequest, type Publisher } from "./vertex-endpoint.ts";

const PAGE_SIZE = 1000;
const MAX_PAGES = 20;
const PUBLISHERS: readonly Publisher[] = ["google", "anthropic"];

interface PublisherModelsPage {
  publisherModels?: { name?: string }[];
  nextPageToken?: string;
}

/** One page of a publisher's models; one entry of Google's is the cheapest call Vertex authenticates. */
export function vertexModelPage(key: Credential, publisher: Publisher, pageSize: number, pageToken?: string): UpstreamRequest | Promise<UpstreamRequest> {
  const query = new URLSearchParams({ pageSize: String(pageSize), ...(pageToken ? { pageToken } : {}) });
  return vertexRequest(key, { url: (k) => publisherModelsUrl(k, publisher, query), accept: "application/json" });
}

export async function listVertexModels(options: ModelListOptions): Promise<ModelListResult> {
  const started = Date.now();
  const models: ListedModel[] = [];
  for (const publisher of PUBLISHERS) {
    let pageToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      let request: UpstreamRequest;
      try {
        request = await vertexModelPage(options.key, publisher, PAGE_SIZE, pageToken);
      } catch (error) {
        if (error instanceof CredentialFailure) return { ok: false, failure: error.failure };
        throw error;
      }
      const answer = await getUpstreamJson({
        url: request.url,
        headers: request.headers,
        signal: options.signal,
        timeoutMs: Math.max(1, options.timeoutMs - (Date.now() - started)),
        what: `the Vertex AI ${publisher} model list`,
      });
      if (!answer.ok) return answer;
      const parsed = answer.body as PublisherModelsPage;
      for (const model of parsed.publisherModels ?? []) {
        if (typeof model.name !== "string") continue;
        models.push({ id: model.name.slice(model.name.lastIndexOf("/") + 1), owned_by: publisher });
      }
      pageToken = parsed.nextPageToken || undefined;
      if (!pageToken) break;
    }
  }
  return { ok: true, models };
}
