/**
 * OpenAI embeddings ⇄ Vertex AI's `:predict` on a Google embedding model: `{instances: [{content,
 * task_type}], parameters: {outputDimensionality}}` in, `{predictions: [{embeddings: {values,
 * statistics: {token_count}}}]}` out (shape from Google's text-embeddings API reference; no
 * recording exists). Vertex counts the tokens itself, so usage is its count, not an estimate.
 * `text-embedding-*` models take up to 250 texts a call; `gemini-embedding-*` takes one, so a list
 * becomes one call per text, sent one after another with the same key.
 */

import type { EmbeddingsRequest } from "../../formats/openai-requests.ts";
import { embeddingInputs, openAIEmbeddingList, requestedTaskType } from "../gemini/convert-embeddings.ts";

export const VERTEX_EMBED_BATCH_LIMIT = 250;

export interface VertexPredictRequest {
  instances: { content: string; task_type?: string }[];
  parameters?: { outputDimensionality?: number };
}

interface VertexPrediction {
  embeddings?: { values?: unknown; statistics?: { token_count?: unknown } };
}

export function batchLimitOf(model: string): number {
  return model.startsWith("gemini-embedding") ? 1 : VERTEX_EMBED_BATCH_LIMIT;
}

export function toVertexPredictRequests(body: EmbeddingsRequest, model: string): VertexPredictRequest[] {
  const inputs = embeddingInputs(body);
  const taskType = requestedTaskType(body);
  const limit = batchLimitOf(model);
  const requests: VertexPredictRequest[] = [];
  for (let start = 0; start < inputs.length; start += limit) {
    requests.push({
      instances: inputs.slice(start, start + limit).map((content) => ({ content, ...(taskType ? { task_type: taskType } : {}) })),
      ...(body.dimensions ? { parameters: { outputDimensionality: body.dimensions } } : {}),
    });
  }
  return requests;
}

/** The answers of every call → one OpenAI embedding list; undefined when one lacks its vectors. */
export function fromVertexPredictResponses(responses: unknown[], inputCount: number, model: string, encoding: "float" | "base64"): Record<string, unknown> | undefined {
  const vectors: number[][] = [];
  let promptTokens = 0;
  for (const response of responses) {
    const predictions = (response as { predictions?: VertexPrediction[] }).predictions;
    if (!Array.isArray(predictions)) return undefined;
    for (const prediction of predictions) {
      const values = prediction.embeddings?.values;
      if (!Array.isArray(values) || !values.every((value) => typeof value === "number")) return undefined;
      vectors.push(values as number[]);
      const tokens = prediction.embeddings?.statistics?.token_count;
      if (typeof tokens === "number") promptTokens += tokens;
    }
  }
  if (vectors.length !== inputCount) return undefined;
  return openAIEmbeddingList(vectors, model, encoding, promptTokens);
}
