/**
 * Gemini embeddings and model listing end to end: the real proxy in front of the scripted Gemini
 * mock, driven with the real `openai` SDK (raw fetch for the base64 bytes).
 *
 * - `/v1/embeddings` → `batchEmbedContents`: string and list input, `dimensions` →
 *   `outputDimensionality`, more than 100 inputs split into batches of at most 100 and stitched back
 *   in order, float and base64 encodings;
 * - `/v1/models` lists Gemini generation and embedding models from every page of Google's
 *   paginated list, prefixed `gemini/`.
 *
 * The expected vectors follow the mock's documented rule (mock-gemini.ts, `embeddings`): request k
 * of a batch gets recorded vector k % 2 rotated left by ⌊k / 2⌋, cut or repeated to the requested
 * length. Distinct positions get distinct vectors, so any reordering shows.
 */

import { describe, expect, test } from "bun:test";
import { readFixtureJson } from "../support/fixtures.ts";
import { DEFAULT_EMBEDDING_DIMENSIONS, MAX_EMBED_BATCH } from "../support/mock-gemini.ts";
import { EMBEDDING, FLASH, GEMINI_3, PRO, postEmbeddings, proxyModel, useGeminiRig } from "./gemini-helpers.ts";

const start = useGeminiRig();

const RECORDED: number[][] = readFixtureJson("google/embeddings-batch-2-items.json").embeddings.map((embedding: any) => embedding.values);

/** The vector the mock answers for the request at `position` within one batch. */
function expectedVector(position: number, dimensions = DEFAULT_EMBEDDING_DIMENSIONS): number[] {
  const base = RECORDED[position % RECORDED.length]!;
  const shift = Math.floor(position / RECORDED.length);
  return Array.from({ length: dimensions }, (_, i) => base[(i + shift) % base.length]!);
}

/** A base64 embedding as OpenAI encodes it: little-endian float32. */
function decodeBase64Floats(encoded: string): number[] {
  const bytes = Buffer.from(encoded, "base64");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

const asFloat32 = (values: number[]): number[] => values.map((value) => Math.fround(value));

function embedCalls(mock: { calls: { path: string; body: any; key: string }[] }) {
  return mock.calls.filter((call) => call.path === `/v1beta/models/${EMBEDDING}:batchEmbedContents`);
}

describe("embeddings", () => {
  test("a string input: one batchEmbedContents request, one vector at index 0, usage counted", async () => {
    const { mock, client } = await start();

    const result = await client.embeddings.create({ model: proxyModel(EMBEDDING), input: "The quick brown fox", encoding_format: "float" });

    expect(result.object).toBe("list");
    expect(result.data).toHaveLength(1);
    expect(result.data[0]).toMatchObject({ object: "embedding", index: 0 });
    expect(result.data[0]!.embedding).toEqual(expectedVector(0));
    expect(result.usage.prompt_tokens).toBeGreaterThan(0);
    expect(result.usage.total_tokens).toBe(result.usage.prompt_tokens);

    const calls = embedCalls(mock);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.body).toEqual({ requests: [{ model: `models/${EMBEDDING}`, content: { parts: [{ text: "The quick brown fox" }] } }] });
  });

  test("a list input with dimensions: outputDimensionality on every request, vectors of that length in input order", async () => {
    const { mock, client } = await start();
    const input = ["alpha", "beta", "gamma"];

    const result = await client.embeddings.create({ model: proxyModel(EMBEDDING), input, dimensions: 256, encoding_format: "float" });

    expect(result.data.map((item) => item.index)).toEqual([0, 1, 2]);
    result.data.forEach((item, index) => expect(item.embedding).toEqual(expectedVector(index, 256)));
    const calls = embedCalls(mock);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.body.requests).toEqual(
      input.map((text) => ({ model: `models/${EMBEDDING}`, content: { parts: [{ text }] }, outputDimensionality: 256 })),
    );
  });

  test("150 inputs: two upstream batches (100 + 50) with the same key, stitched back with indexes 0..149 in order", async () => {
    const { mock, client } = await start();
    const input = Array.from({ length: 150 }, (_, i) => `sentence number ${i}`);

    const result = await client.embeddings.create({ model: proxyModel(EMBEDDING), input, dimensions: 8, encoding_format: "float" });

    const calls = embedCalls(mock);
    expect(calls.map((call) => call.body.requests.length)).toEqual([MAX_EMBED_BATCH, 50]);
    expect(calls[0]!.key).toBe(calls[1]!.key);
    const sent = calls.flatMap((call) => call.body.requests.map((request: any) => request.content.parts[0].text));
    expect(sent).toEqual(input);

    expect(result.data).toHaveLength(150);
    expect(result.data.map((item) => item.index)).toEqual(input.map((_, i) => i));
    result.data.forEach((item, i) => expect(item.embedding).toEqual(expectedVector(i % MAX_EMBED_BATCH, 8)));
  });

  test("encoding_format base64: little-endian float32 bytes of the same vector (raw answer, and the SDK's default decoding)", async () => {
    const { proxy, client } = await start();

    const response = await postEmbeddings(proxy, { input: ["alpha", "beta"], encoding_format: "base64" });
    expect(response.status).toBe(200);
    const body = (await response.json()) as any;
    expect(body.data).toHaveLength(2);
    body.data.forEach((item: any, index: number) => {
      expect(item.index).toBe(index);
      expect(typeof item.embedding).toBe("string");
      expect(decodeBase64Floats(item.embedding)).toEqual(asFloat32(expectedVector(index)));
    });

    // Without encoding_format the SDK itself asks for base64 and decodes it.
    const viaSdk = await client.embeddings.create({ model: proxyModel(EMBEDDING), input: "alpha" });
    expect(Array.from(viaSdk.data[0]!.embedding)).toEqual(asFloat32(expectedVector(0)));
  });
});

describe("models", () => {
  test("/v1/models follows every page of Google's list and shows generation and embedding models as gemini/<id>", async () => {
    // Page size 2: [flash, imagen], [pro, gemini-3], [embedding] — the embedding model is on the last page.
    const { mock, client } = await start({
      mock: { models: [{ name: FLASH }, { name: "imagen-4.0-generate-001" }, { name: PRO }, { name: GEMINI_3 }, { name: EMBEDDING }] },
    });

    const ids: string[] = [];
    for await (const model of client.models.list()) {
      expect(model.object).toBe("model");
      ids.push(model.id);
    }

    // imagen answers only `predict`, which neither chat nor embeddings can use.
    expect(ids.toSorted()).toEqual([proxyModel(EMBEDDING), proxyModel(FLASH), proxyModel(PRO), proxyModel(GEMINI_3)].toSorted());
    const listCalls = mock.calls.filter((call) => call.method === "GET" && call.path === "/v1beta/models");
    expect(listCalls).toHaveLength(3);
    expect(listCalls.map((call) => new URLSearchParams(call.query).has("pageToken"))).toEqual([false, true, true]);
  });
});
