/**
 * OpenAI embeddings ⇄ Vertex `:predict`: instances per text with the task type, the dimensions as
 * outputDimensionality, batches of 250 (one text per call for gemini-embedding), and the answers
 * stitched back in order with Vertex's own token counts. The answer shape is Google's documented one.
 */
import { describe, expect, test } from "bun:test";
import { UnsupportedRequestError } from "../../../../src/providers/adapter.ts";
import { fromVertexPredictResponses, toVertexPredictRequests, VERTEX_EMBED_BATCH_LIMIT } from "../../../../src/providers/vertex/convert-vertex-embeddings.ts";

const prediction = (values: number[], tokens: number) => ({ embeddings: { statistics: { truncated: false, token_count: tokens }, values } });

describe("toVertexPredictRequests", () => {
  test("texts become instances with the task type; dimensions become outputDimensionality", () => {
    expect(toVertexPredictRequests({ model: "m", input: ["a", "b"], dimensions: 256, task_type: "retrieval_query" } as any, "text-embedding-005")).toEqual([
      { instances: [{ content: "a", task_type: "RETRIEVAL_QUERY" }, { content: "b", task_type: "RETRIEVAL_QUERY" }], parameters: { outputDimensionality: 256 } },
    ]);
  });

  test("more than 250 texts are split; gemini-embedding gets one per call", () => {
    const input = Array.from({ length: VERTEX_EMBED_BATCH_LIMIT + 1 }, (_, i) => `t${i}`);
    expect(toVertexPredictRequests({ model: "m", input } as any, "text-embedding-005").map((r) => r.instances.length)).toEqual([250, 1]);
    expect(toVertexPredictRequests({ model: "m", input: ["a", "b", "c"] } as any, "gemini-embedding-001").map((r) => r.instances.length)).toEqual([1, 1, 1]);
  });

  test("token ids are refused as a request Vertex cannot express", () => {
    expect(() => toVertexPredictRequests({ model: "m", input: [[1, 2, 3]] } as any, "text-embedding-005")).toThrow(UnsupportedRequestError);
  });
});

describe("fromVertexPredictResponses", () => {
  test("vectors in input order across calls, usage the sum of Vertex's counts, base64 as OpenAI encodes it", () => {
    const list = fromVertexPredictResponses([{ predictions: [prediction([0.5, 1], 3)] }, { predictions: [prediction([2, -1], 4)] }], 2, "gemini-embedding-001", "float") as any;
    expect(list.data).toEqual([
      { object: "embedding", index: 0, embedding: [0.5, 1] },
      { object: "embedding", index: 1, embedding: [2, -1] },
    ]);
    expect(list.usage).toEqual({ prompt_tokens: 7, total_tokens: 7 });
    const encoded = fromVertexPredictResponses([{ predictions: [prediction([0.5], 1)] }], 1, "m", "base64") as any;
    expect(Buffer.from(encoded.data[0].embedding, "base64").readFloatLE(0)).toBe(0.5);
  });

  test("an answer without its vectors, or with too few, is undefined (a failed attempt)", () => {
    expect(fromVertexPredictResponses([{ predictions: [{}] }], 1, "m", "float")).toBeUndefined();
    expect(fromVertexPredictResponses([{ predictions: [prediction([1], 1)] }], 2, "m", "float")).toBeUndefined();
    expect(fromVertexPredictResponses([{ error: {} }], 1, "m", "float")).toBeUndefined();
  });
});
