/**
 * OpenAI embeddings ⇄ Bedrock InvokeModel (POST /model/{modelId}/invoke), whose body is the
 * model's own format. Two families embed text on Bedrock:
 * - Amazon Titan Text Embeddings (`amazon.titan-embed-text-v1`, `…-v2:0`, `amazon.titan-embed-g1-text-02`)
 *   take one text per request, `{inputText}` (v2 also `dimensions` and `normalize`), and answer
 *   `{embedding, inputTextTokenCount}`: one request per input, usage from the token counts.
 * - Cohere Embed (`cohere.embed-english-v3`, `cohere.embed-multilingual-v3`, `cohere.embed-v4:0`)
 *   take up to 96 texts with an `input_type`, and answer `{embeddings}`: a list of vectors (v3
 *   without `embedding_types`), or vectors by type, `{float: [...]}` (v4, which is asked for floats
 *   explicitly). The body carries no token count — Bedrock says it in the
 *   `x-amzn-bedrock-input-token-count` header, which the caller may read — so usage is 0 here.
 * Shapes as AWS documents them (Bedrock user guide, "Amazon Titan Embeddings G1 - Text" and
 * "Cohere Embed and Cohere Embed v4 models").
 *
 * `input_type` (Cohere's own name, which OpenAI clients of Cohere send) is passed on, else
 * `search_document`: a query embedded as a document still works, the reverse less well. `dimensions`
 * goes to Titan v2's `dimensions` and Cohere v4's `output_dimension`; the other models have a fixed
 * size and refuse it here. The non-standard `normalize` goes to Titan v2 (which normalizes by default).
 */

import { isRecord } from "../../formats/is-record.ts";
import type { EmbeddingsRequest } from "../../formats/openai-requests.ts";
import { UnsupportedRequestError } from "../adapter.ts";
import { tokenCount } from "../token-count.ts";

export const COHERE_EMBED_BATCH_LIMIT = 96;
const DEFAULT_COHERE_INPUT_TYPE = "search_document";

/** The OpenAI answer the conversion builds (`embedding` is a base64 string when the client asked for base64). */
export interface OpenAIEmbeddingList {
  object: "list";
  data: { object: "embedding"; index: number; embedding: number[] | string }[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

type EmbeddingFamily = "titan-v1" | "titan-v2" | "cohere-v3" | "cohere-v4";

/** By the model id, which may be an ARN or carry a region prefix. */
function embeddingFamily(model: string): EmbeddingFamily {
  if (/(?:^|[./])amazon\.titan-embed-text-v2/.test(model)) return "titan-v2";
  if (/(?:^|[./])amazon\.titan-embed-(?:text-v1|g1-text)/.test(model)) return "titan-v1";
  if (/(?:^|[./])cohere\.embed-v4/.test(model)) return "cohere-v4";
  if (/(?:^|[./])cohere\.embed-/.test(model)) return "cohere-v3";
  throw new UnsupportedRequestError(`"${model}" is not a Bedrock text embedding model the proxy can call (Amazon Titan Text Embeddings or Cohere Embed).`, "model");
}

function embeddingInputs(body: EmbeddingsRequest): string[] {
  const input = body.input;
  if (typeof input === "string") return [input];
  if (input.every((item): item is string => typeof item === "string")) return input;
  throw new UnsupportedRequestError("Bedrock embeds text only: send input as a string or an array of strings, not token ids.", "input");
}

/** The JSON bodies to send, in input order: one per text for Titan, one per batch of 96 for Cohere. */
export function toBedrockEmbeddingRequests(body: EmbeddingsRequest, model: string): string[] {
  const family = embeddingFamily(model);
  const inputs = embeddingInputs(body);
  const dimensions = body.dimensions ?? undefined;
  if (dimensions !== undefined && (family === "titan-v1" || family === "cohere-v3")) {
    throw new UnsupportedRequestError(`${model} makes embeddings of one fixed size; leave out dimensions.`, "dimensions");
  }
  if (family === "titan-v1") return inputs.map((inputText) => JSON.stringify({ inputText }));
  if (family === "titan-v2") {
    const options = { ...(dimensions !== undefined ? { dimensions } : {}), ...(typeof body.normalize === "boolean" ? { normalize: body.normalize } : {}) };
    return inputs.map((inputText) => JSON.stringify({ inputText, ...options }));
  }
  const cohere = {
    input_type: typeof body.input_type === "string" ? body.input_type : DEFAULT_COHERE_INPUT_TYPE,
    ...(family === "cohere-v4" ? { embedding_types: ["float"] } : {}),
    ...(dimensions !== undefined ? { output_dimension: dimensions } : {}),
  };
  const requests: string[] = [];
  for (let start = 0; start < inputs.length; start += COHERE_EMBED_BATCH_LIMIT) {
    requests.push(JSON.stringify({ texts: inputs.slice(start, start + COHERE_EMBED_BATCH_LIMIT), ...cohere }));
  }
  return requests;
}

/** The parsed answers, in request order → one OpenAI embedding list; undefined when a vector is missing. */
export function fromBedrockEmbeddingAnswers(answers: unknown[], model: string, inputsCount: number, encodingFormat: "float" | "base64"): OpenAIEmbeddingList | undefined {
  const titan = embeddingFamily(model).startsWith("titan");
  const vectors: number[][] = [];
  let promptTokens = 0;
  for (const answer of answers) {
    if (!isRecord(answer)) return undefined;
    const found = titan ? titanVector(answer) : cohereVectors(answer);
    if (found === undefined) return undefined;
    vectors.push(...found);
    promptTokens += tokenCount(answer.inputTextTokenCount);
  }
  if (vectors.length !== inputsCount) return undefined;
  promptTokens = tokenCount(promptTokens);
  return {
    object: "list",
    data: vectors.map((values, index) => ({ object: "embedding", index, embedding: encodingFormat === "base64" ? toBase64Floats(values) : values })),
    model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

function titanVector(answer: Record<string, unknown>): number[][] | undefined {
  return isVector(answer.embedding) ? [answer.embedding] : undefined;
}

/** `embeddings` is the vectors themselves (v3's embeddings_floats) or vectors by type (`{float: [...]}`). */
function cohereVectors(answer: Record<string, unknown>): number[][] | undefined {
  const embeddings = isRecord(answer.embeddings) ? answer.embeddings.float : answer.embeddings;
  return Array.isArray(embeddings) && embeddings.every(isVector) ? embeddings : undefined;
}

function isVector(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((item) => typeof item === "number");
}

/** OpenAI's base64 form: the little-endian float32 bytes of the vector. */
function toBase64Floats(values: number[]): string {
  return Buffer.from(new Float32Array(values).buffer).toString("base64");
}
