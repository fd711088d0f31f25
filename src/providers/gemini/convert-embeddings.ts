/**
 * OpenAI embeddings ⇄ Gemini `batchEmbedContents`. Gemini takes at most 100 texts per batch, so a
 * larger input is split into several batches (sent one after another with the same key) and the
 * vectors are stitched back in order. Gemini reports no token usage for embeddings: usage is the
 * proxy's own o200k estimate, so clients that require the field still get a sensible number.
 */

import type { EmbeddingsRequest } from "../../formats/openai-requests.ts";
import { countTextTokens } from "../../tokens/count-tokens.ts";
import { UnsupportedRequestError } from "../adapter.ts";

export const GEMINI_EMBED_BATCH_LIMIT = 100;

export interface GeminiBatchEmbedRequest {
  requests: { model: string; content: { parts: { text: string }[] }; outputDimensionality?: number; taskType?: string }[];
}

export function embeddingInputs(body: EmbeddingsRequest): string[] {
  const input = body.input;
  if (typeof input === "string") return [input];
  if (input.every((item): item is string => typeof item === "string")) return input;
  throw new UnsupportedRequestError("Gemini embeds text only: send input as a string or an array of strings, not token ids.", "input");
}

export function toBatchEmbedRequests(body: EmbeddingsRequest, model: string): GeminiBatchEmbedRequest[] {
  const inputs = embeddingInputs(body);
  const taskType = requestedTaskType(body);
  const batches: GeminiBatchEmbedRequest[] = [];
  for (let start = 0; start < inputs.length; start += GEMINI_EMBED_BATCH_LIMIT) {
    batches.push({
      requests: inputs.slice(start, start + GEMINI_EMBED_BATCH_LIMIT).map((text) => ({
        model: `models/${model}`,
        content: { parts: [{ text }] },
        ...(body.dimensions ? { outputDimensionality: body.dimensions } : {}),
        ...(taskType ? { taskType } : {}),
      })),
    });
  }
  return batches;
}

/** Gemini batch answers → one OpenAI embedding list; undefined when a batch lacks its vectors. */
export function fromBatchEmbedResponses(
  responses: unknown[],
  inputs: string[],
  model: string,
  encoding: "float" | "base64",
): Record<string, unknown> | undefined {
  const vectors: number[][] = [];
  for (const response of responses) {
    const embeddings = (response as { embeddings?: { values?: number[] }[] }).embeddings;
    if (!Array.isArray(embeddings)) return undefined;
    for (const embedding of embeddings) {
      if (!Array.isArray(embedding.values)) return undefined;
      vectors.push(embedding.values);
    }
  }
  if (vectors.length !== inputs.length) return undefined;
  const promptTokens = inputs.reduce((sum, text) => sum + countTextTokens(text, "text-embedding-3-small"), 0);
  return openAIEmbeddingList(vectors, model, encoding, promptTokens);
}

/** Vectors in input order → OpenAI's embedding list. */
export function openAIEmbeddingList(vectors: readonly number[][], model: string, encoding: "float" | "base64", promptTokens: number): Record<string, unknown> {
  return {
    object: "list",
    data: vectors.map((values, index) => ({ object: "embedding", index, embedding: encoding === "base64" ? toBase64Floats(values) : values })),
    model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

/** The task type a client named (`task_type`, or Voyage-style `input_type`), as Google spells it. */
export function requestedTaskType(body: EmbeddingsRequest): string | undefined {
  const taskType = typeof body.task_type === "string" ? body.task_type : typeof body.input_type === "string" ? body.input_type : undefined;
  return taskType?.toUpperCase();
}

/** OpenAI's base64 form: the little-endian float32 bytes of the vector. */
function toBase64Floats(values: number[]): string {
  return Buffer.from(new Float32Array(values).buffer).toString("base64");
}
