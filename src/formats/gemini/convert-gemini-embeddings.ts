/**
 * Gemini `embedContent` / `batchEmbedContents` ⇄ OpenAI embeddings, for a Gemini-native client
 * served by another provider: each request's text parts become one input string, in order, and the
 * vectors come back as `{embedding: {values}}` (one) or `{embeddings: [{values}, …]}` (a batch).
 * One OpenAI request carries one `dimensions`, so the first request's `outputDimensionality` is it.
 */

import type { GeminiEmbedRequest } from "./types.ts";

export function convertGeminiEmbedToOpenAI(requests: GeminiEmbedRequest[], model: string): Record<string, unknown> {
  const input = requests.map((request) => request.content.parts.flatMap((part) => (typeof part.text === "string" ? [part.text] : [])).join("\n"));
  const dimensions = requests[0]?.outputDimensionality;
  return { model, input, ...(dimensions !== undefined ? { dimensions } : {}) };
}

/** The vectors of an OpenAI embedding list in input order, or undefined when it has none. */
export function vectorsOfOpenAIEmbeddings(list: unknown): number[][] | undefined {
  const data = (list as { data?: { index?: number; embedding?: unknown }[] } | null)?.data;
  if (!Array.isArray(data)) return undefined;
  const sorted = [...data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
  if (!sorted.every((item) => Array.isArray(item.embedding))) return undefined;
  return sorted.map((item) => item.embedding as number[]);
}
