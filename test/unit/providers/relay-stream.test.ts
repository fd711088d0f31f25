/**
 * The committed half of an OpenAI stream: whatever pieces the upstream body arrives in — whole
 * events, split events, characters split between pieces — the client gets the same bytes, the
 * usage is read, and the stream settles once. Fed with recorded OpenAI and OpenRouter streams.
 */

import { describe, expect, test } from "bun:test";
import type { Settlement } from "../../../src/engine/rotate.ts";
import { createSseParser } from "../../../src/formats/sse.ts";
import { openAIRelayDialect } from "../../../src/providers/openai/openai-relay-dialect.ts";
import { relayStream } from "../../../src/providers/relay-stream.ts";
import { createChunkReader } from "../../../src/providers/upstream-http.ts";
import { readFixtureText } from "../../support/fixtures.ts";
import { piecewiseBody } from "../../support/piecewise-body.ts";

const STREAMS = [
  "openai/chat-stream-text.sse.txt",
  "openai/chat-stream-finish-length-usage.sse.txt",
  "openai/chat-stream-parallel-tool-calls.sse.txt",
  "openrouter/stream-reasoning-details.sse.txt",
];
const PIECE_SIZES = [1, 2, 3, 5, 7, 13, 64, 100, 1000, 1_000_000];

async function relay(bytes: Uint8Array, pieceSize: number): Promise<{ out: Uint8Array; settlements: Settlement[] }> {
  const settlements: Settlement[] = [];
  const stream = relayStream({
    start: { reader: createChunkReader(piecewiseBody(bytes, pieceSize), new AbortController()), parser: createSseParser(), held: [], rest: [], headers: new Headers() },
    dialect: openAIRelayDialect({ stripUsageChunk: false }),
    idleTimeoutMs: 5_000,
    redact: (failure) => failure,
    onEnd: (settlement) => settlements.push(settlement),
  });
  return { out: new Uint8Array(await new Response(stream).arrayBuffer()), settlements };
}

describe("relaying an OpenAI stream", () => {
  test.each(STREAMS)("%s: the client gets the recorded bytes whatever the pieces", async (path) => {
    const recorded = new TextEncoder().encode(readFixtureText(path));
    for (const pieceSize of PIECE_SIZES) {
      const { out, settlements } = await relay(recorded, pieceSize);
      expect(new TextDecoder().decode(out)).toBe(new TextDecoder().decode(recorded));
      expect(settlements).toHaveLength(1);
      expect(settlements[0]!.kind).toBe("success");
    }
  });

  test("characters split between pieces survive (the recorded stream has non-ASCII text)", async () => {
    const text = readFixtureText("openai/chat-stream-text.sse.txt");
    expect(/[^\x00-\x7f]/.test(text)).toBe(true);
    const recorded = new TextEncoder().encode(text);
    for (const pieceSize of [1, 2, 3, 5]) expect((await relay(recorded, pieceSize)).out).toEqual(recorded);
  });

  test("pieces of whole events pass on as the very same bytes, not re-encoded", async () => {
    const text = readFixtureText("openai/chat-stream-text.sse.txt");
    const pieces: Uint8Array[] = text.split(/(?<=\n\n)/).map((event) => new TextEncoder().encode(event));
    let next = 0;
    const body = new ReadableStream<Uint8Array>({
      pull: (controller) => (next < pieces.length ? controller.enqueue(pieces[next++]!) : controller.close()),
    });
    const stream = relayStream({
      start: { reader: createChunkReader(body, new AbortController()), parser: createSseParser(), held: [], rest: [], headers: new Headers() },
      dialect: openAIRelayDialect({ stripUsageChunk: false }),
      idleTimeoutMs: 5_000,
      redact: (failure) => failure,
      onEnd: () => {},
    });
    const chunks: Uint8Array[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(new TextDecoder().decode(Buffer.concat(chunks))).toBe(text);
    const untouched = chunks.filter((chunk) => pieces.includes(chunk)).length;
    // Events with nothing to note pass as they came; the terminator (and any usage) is looked at.
    expect(untouched).toBeGreaterThan(pieces.length / 2);
  });

  test("usage is read from the stream however it is cut", async () => {
    const recorded = new TextEncoder().encode(readFixtureText("openai/chat-stream-finish-length-usage.sse.txt"));
    const usages = await Promise.all(PIECE_SIZES.map(async (size) => (await relay(recorded, size)).settlements[0]));
    for (const settlement of usages) expect(settlement).toEqual(usages.at(-1)!);
    expect(usages[0]!.kind === "success" && usages[0]!.usage?.completionTokens).toBeGreaterThan(0);
  });
});
