/**
 * OpenAI embeddings ⇄ Bedrock InvokeModel bodies for Titan Text Embeddings and Cohere Embed.
 *
 * No recording of these exists in test/fixtures: the request and answer shapes below come from the
 * AWS documentation, the Bedrock user guide pages "Amazon Titan Embeddings G1 - Text"
 * (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html),
 * "Cohere Embed v3" (…/model-parameters-embed-v3.html) and "Cohere Embed v4"
 * (…/model-parameters-embed-v4.html).
 */

import { describe, expect, test } from "bun:test";
import type { EmbeddingsRequest } from "../../../src/formats/openai-requests.ts";
import { UnsupportedRequestError } from "../../../src/providers/adapter.ts";
import { fromBedrockEmbeddingAnswers, toBedrockEmbeddingRequests } from "../../../src/providers/bedrock/convert-bedrock-embeddings.ts";

const TITAN_V2 = "amazon.titan-embed-text-v2:0";
const TITAN_V1 = "amazon.titan-embed-text-v1";
const COHERE_V3 = "cohere.embed-english-v3";
const COHERE_V4 = "cohere.embed-v4:0";

const body = (fields: Record<string, unknown>): EmbeddingsRequest => ({ model: "bedrock/x", input: "hello", ...fields }) as EmbeddingsRequest;
const requests = (fields: Record<string, unknown>, model: string): any[] => toBedrockEmbeddingRequests(body(fields), model).map((text) => JSON.parse(text));

function refusal(fields: Record<string, unknown>, model: string): UnsupportedRequestError {
  try {
    toBedrockEmbeddingRequests(body(fields), model);
  } catch (error) {
    if (error instanceof UnsupportedRequestError) return error;
    throw error;
  }
  throw new Error("expected an UnsupportedRequestError");
}

describe("toBedrockEmbeddingRequests", () => {
  test("Titan v2: one request per input, with dimensions and normalize when given", () => {
    expect(requests({ input: ["a", "b"], dimensions: 256, normalize: false }, TITAN_V2)).toEqual([
      { inputText: "a", dimensions: 256, normalize: false },
      { inputText: "b", dimensions: 256, normalize: false },
    ]);
    expect(requests({}, `us.${TITAN_V2}`)).toEqual([{ inputText: "hello" }]);
  });

  test("Titan v1 takes only inputText, and refuses dimensions", () => {
    expect(requests({ input: ["a"] }, TITAN_V1)).toEqual([{ inputText: "a" }]);
    expect(requests({}, "amazon.titan-embed-g1-text-02")).toEqual([{ inputText: "hello" }]);
    expect(refusal({ dimensions: 512 }, TITAN_V1).param).toBe("dimensions");
  });

  test("Cohere v3: batches of at most 96 texts, input_type search_document unless the client names one", () => {
    const inputs = Array.from({ length: 200 }, (_, index) => `text ${index}`);
    const batches = requests({ input: inputs }, COHERE_V3);
    expect(batches.map((batch) => batch.texts.length)).toEqual([96, 96, 8]);
    expect(batches.flatMap((batch) => batch.texts)).toEqual(inputs);
    expect(batches[0]).toEqual({ texts: inputs.slice(0, 96), input_type: "search_document" });
    expect(requests({ input_type: "search_query" }, "cohere.embed-multilingual-v3")).toEqual([{ texts: ["hello"], input_type: "search_query" }]);
    expect(refusal({ dimensions: 512 }, COHERE_V3).param).toBe("dimensions");
  });

  test("Cohere v4 asks for floats explicitly and takes dimensions as output_dimension", () => {
    expect(requests({ dimensions: 1024 }, COHERE_V4)).toEqual([{ texts: ["hello"], input_type: "search_document", embedding_types: ["float"], output_dimension: 1024 }]);
  });

  test("token arrays and models that are not Titan or Cohere embedders are refused", () => {
    expect(refusal({ input: [1, 2, 3] }, TITAN_V2).param).toBe("input");
    expect(refusal({ input: [[1, 2]] }, COHERE_V3).param).toBe("input");
    expect(refusal({}, "amazon.nova-micro-v1:0").param).toBe("model");
  });
});

describe("fromBedrockEmbeddingAnswers", () => {
  test("Titan answers: one vector each, in order, usage from inputTextTokenCount", () => {
    const answers = [
      { embedding: [0.1, 0.2], inputTextTokenCount: 3, embeddingsByType: { float: [0.1, 0.2] } },
      { embedding: [0.3, 0.4], inputTextTokenCount: 4 },
    ];
    expect(fromBedrockEmbeddingAnswers(answers, TITAN_V2, 2, "float")).toEqual({
      object: "list",
      data: [
        { object: "embedding", index: 0, embedding: [0.1, 0.2] },
        { object: "embedding", index: 1, embedding: [0.3, 0.4] },
      ],
      model: TITAN_V2,
      usage: { prompt_tokens: 7, total_tokens: 7 },
    });
  });

  test("Cohere v3 embeddings_floats and v4 vectors by type, across batches; no token count in the body, so 0", () => {
    const v3 = [
      { id: "a", response_type: "embeddings_floats", texts: ["x", "y"], embeddings: [[1, 2], [3, 4]] },
      { id: "b", response_type: "embeddings_floats", texts: ["z"], embeddings: [[5, 6]] },
    ];
    const converted = fromBedrockEmbeddingAnswers(v3, COHERE_V3, 3, "float") as any;
    expect(converted.data.map((item: any) => item.embedding)).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(converted.usage).toEqual({ prompt_tokens: 0, total_tokens: 0 });
    const v4 = [{ id: "c", response_type: "embeddings_by_type", texts: ["x"], embeddings: { float: [[7, 8]] } }];
    expect((fromBedrockEmbeddingAnswers(v4, COHERE_V4, 1, "float") as any).data).toEqual([{ object: "embedding", index: 0, embedding: [7, 8] }]);
  });

  test("base64: the little-endian float32 bytes, as OpenAI encodes them", () => {
    const converted = fromBedrockEmbeddingAnswers([{ embedding: [1, -2.5], inputTextTokenCount: 1 }], TITAN_V2, 1, "base64") as any;
    const bytes = Buffer.from(converted.data[0].embedding, "base64");
    expect(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, 2))).toEqual([1, -2.5]);
  });

  test("a missing or malformed vector, or too few of them, gives undefined", () => {
    expect(fromBedrockEmbeddingAnswers([{ inputTextTokenCount: 3 }], TITAN_V2, 1, "float")).toBeUndefined();
    expect(fromBedrockEmbeddingAnswers([{ embedding: ["0.1"] }], TITAN_V2, 1, "float")).toBeUndefined();
    expect(fromBedrockEmbeddingAnswers([{ embedding: [0.1] }], TITAN_V2, 2, "float")).toBeUndefined();
    expect(fromBedrockEmbeddingAnswers([{ embeddings: { int8: [[1]] } }], COHERE_V4, 1, "float")).toBeUndefined();
    expect(fromBedrockEmbeddingAnswers(["not json object"], COHERE_V3, 1, "float")).toBeUndefined();
  });
});
