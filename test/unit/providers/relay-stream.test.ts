/**
 * The committed half of a stream: whatever pieces the upstream body arrives in — whole events,
 * split events, characters split between pieces — the client gets the same bytes, the usage is
 * read, and the stream settles once. A stream cut short or carrying bytes that are not events
 * ends with the dialect's error event instead, those bytes never forwarded, and is a failure.
 * Fed with recorded OpenAI, OpenRouter, Anthropic, Responses and Gemini streams.
 */

import { describe, expect, test } from "bun:test";
import type { Settlement } from "../../../src/outcome.ts";
import { createSseParser } from "../../../src/formats/sse.ts";
import { anthropicRelayDialect } from "../../../src/providers/anthropic/native-stream.ts";
import { geminiRelayDialect } from "../../../src/providers/gemini/native-stream.ts";
import { openAIRelayDialect } from "../../../src/providers/openai/openai-relay-dialect.ts";
import { responsesRelayDialect } from "../../../src/providers/openai/responses-native.ts";
import { relayStream, type RelayDialect } from "../../../src/providers/relay-stream.ts";
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

async function relay(
  bytes: Uint8Array,
  pieceSize: number,
  dialect: RelayDialect = openAIRelayDialect({ stripUsageChunk: false }),
): Promise<{ out: Uint8Array; settlements: Settlement[] }> {
  return relayBody(piecewiseBody(bytes, pieceSize), dialect);
}

async function relayBody(body: ReadableStream<Uint8Array>, dialect: RelayDialect): Promise<{ out: Uint8Array; settlements: Settlement[] }> {
  const settlements: Settlement[] = [];
  const stream = relayStream({
    start: { reader: createChunkReader(body, new AbortController()), parser: createSseParser(), held: [], rest: [], headers: new Headers() },
    dialect,
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

/** A body that delivers each given piece as one read, so whole events take the untouched path. */
function piecesBody(pieces: string[]): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream<Uint8Array>({
    pull: (controller) => (next < pieces.length ? controller.enqueue(new TextEncoder().encode(pieces[next++]!)) : controller.close()),
  });
}

/** The events of a recorded stream, each with the blank line that ends it. */
const eventsOf = (text: string): string[] => text.split(/(?<=\r?\n\r?\n)/);

const TRUNCATED = "upstream request failed: the upstream closed the stream before the answer finished";
const CORRUPT = "upstream request failed: the upstream sent a stream event that is not well-formed";
const openAIError = (message: string): string =>
  `data: {"error":{"message":"${message}","type":"upstream_error","code":"transient","param":null}}\n\ndata: [DONE]\n\n`;
/** Bytes no upstream sends as an event: a binary blob, then a blank line. */
const BINARY = "\u0000\u00ff\u0007PK\u0003\u0004\ufffd\u0001\n\n";

describe("an OpenAI stream cut short or corrupt ends with one error event and [DONE], and is a failure", () => {
  const recorded = eventsOf(readFixtureText("openai/chat-stream-text.sse.txt"));
  const done = recorded.at(-1)!;
  const finish = recorded.at(-2)!;
  const content = recorded.slice(0, -2);
  expect(done).toBe("data: [DONE]\n\n");
  expect(finish).toContain('"finish_reason":"stop"');

  /** Every piece size, and pieces of one event each: the client's bytes and the one settlement. */
  async function expectRelayed(upstream: string[], expected: string, settlement: Settlement): Promise<void> {
    const bytes = new TextEncoder().encode(upstream.join(""));
    for (const pieceSize of PIECE_SIZES) {
      const { out, settlements } = await relay(bytes, pieceSize);
      expect(new TextDecoder().decode(out)).toBe(expected);
      expect(settlements).toEqual([settlement]);
    }
    const { out, settlements } = await relayBody(piecesBody(upstream), openAIRelayDialect({ stripUsageChunk: false }));
    expect(new TextDecoder().decode(out)).toBe(expected);
    expect(settlements).toEqual([settlement]);
  }

  test("closed before any finish reason: the chunks, then the error", async () => {
    await expectRelayed(content, content.join("") + openAIError(TRUNCATED), {
      kind: "failure",
      failure: { class: "transient", status: 0, message: TRUNCATED },
    });
  });

  test("closed after the finish reason but without [DONE] (several hosts do): a clean ending with [DONE]", async () => {
    await expectRelayed([...content, finish], recorded.join(""), { kind: "success", usage: undefined });
  });

  test("closed after the finish and usage chunks without [DONE]: a success with the usage", async () => {
    const withUsage = eventsOf(readFixtureText("openai/chat-stream-finish-length-usage.sse.txt"));
    expect(withUsage.at(-1)).toBe(done);
    const { settlements: complete } = await relay(new TextEncoder().encode(withUsage.join("")), 1_000_000);
    expect(complete[0]!.kind === "success" && complete[0]!.usage?.completionTokens).toBeGreaterThan(0);
    await expectRelayed(withUsage.slice(0, -1), withUsage.join(""), complete[0]!);
  });

  test("a last event cut in half is not forwarded", async () => {
    const half = content[4]!.slice(0, 80);
    await expectRelayed([...content.slice(0, 4), half], content.slice(0, 4).join("") + openAIError(CORRUPT), {
      kind: "failure",
      failure: { class: "transient", status: 200, message: CORRUPT },
    });
  });

  test.each([
    ["a data event that is not JSON", "data: <html><body>502 Bad Gateway</body></html>\n\n"],
    ["a data event cut and followed by a blank line", `${content[3]!.slice(0, 60)}\n\n`],
    ["binary garbage", BINARY],
    ["a line that is no SSE field", 'garbage {"choices":[]}\n\n'],
  ])("%s after the commit is not forwarded, nor anything after it", async (_name, corrupt) => {
    await expectRelayed([...content.slice(0, 3), corrupt, ...content.slice(3), finish, done], content.slice(0, 3).join("") + openAIError(CORRUPT), {
      kind: "failure",
      failure: { class: "transient", status: 200, message: CORRUPT },
    });
  });

  test("binary garbage the upstream closed on is not forwarded", async () => {
    await expectRelayed([...content, finish, "\u0000\u00ffPK\u0003"], content.join("") + finish + openAIError(CORRUPT), {
      kind: "failure",
      failure: { class: "transient", status: 200, message: CORRUPT },
    });
  });

  test("comments and a last event without its blank line are well-formed", async () => {
    const upstream = [": OPENROUTER PROCESSING\n\n", ...content, finish, "data: [DONE]"];
    await expectRelayed(upstream, [": OPENROUTER PROCESSING\n\n", ...content, finish, done].join(""), { kind: "success", usage: undefined });
  });
});

describe("native streams cut short or corrupt end with the dialect's error, the bytes not forwarded", () => {
  const corruptFailure = { kind: "failure", failure: { class: "transient", status: 200, message: CORRUPT } };

  async function expectEveryCut(upstream: string, dialect: () => RelayDialect, expected: string, settlement: unknown): Promise<void> {
    for (const pieceSize of PIECE_SIZES) {
      const { out, settlements } = await relay(new TextEncoder().encode(upstream), pieceSize, dialect());
      expect(new TextDecoder().decode(out)).toBe(expected);
      expect(settlements).toEqual([settlement as Settlement]);
    }
  }

  const anthropicError = `event: error\ndata: {"type":"error","error":{"type":"api_error","message":"${CORRUPT}"}}\n\n`;
  const anthropic = eventsOf(readFixtureText("anthropic/stream-text.sse.txt"));

  test.each([
    ["binary garbage", BINARY],
    ["a data event that is not JSON", "event: content_block_delta\ndata: oops\n\n"],
  ])("Anthropic: %s after the commit", async (_name, corrupt) => {
    const upstream = [...anthropic.slice(0, 5), corrupt, ...anthropic.slice(5)].join("");
    await expectEveryCut(upstream, anthropicRelayDialect, anthropic.slice(0, 5).join("") + anthropicError, corruptFailure);
  });

  test("Anthropic: a last event cut in half", async () => {
    const upstream = anthropic.slice(0, 5).join("") + anthropic[5]!.slice(0, 60);
    await expectEveryCut(upstream, anthropicRelayDialect, anthropic.slice(0, 5).join("") + anthropicError, corruptFailure);
  });

  const responses = eventsOf(readFixtureText("openai-responses/stream-text.sse.txt"));

  test("Responses: binary garbage after the commit", async () => {
    const upstream = [...responses.slice(0, 5), BINARY, ...responses.slice(5)].join("");
    const { out, settlements } = await relay(new TextEncoder().encode(upstream), 7, responsesRelayDialect());
    const text = new TextDecoder().decode(out);
    expect(text.startsWith(responses.slice(0, 5).join(""))).toBe(true);
    const tail = eventsOf(text.slice(responses.slice(0, 5).join("").length));
    expect(tail.map((event) => event.split("\n")[0])).toEqual(["event: error", "event: response.failed"]);
    expect(JSON.parse(tail[0]!.split("\ndata: ")[1]!)).toEqual({ type: "error", code: "transient", message: CORRUPT, param: null, sequence_number: 5 });
    expect(settlements).toEqual([corruptFailure as Settlement]);
  });

  const gemini = eventsOf(readFixtureText("google/stream-basic.sse.txt"));
  const geminiError = `data: {"error":{"code":502,"message":"${CORRUPT}","status":"UNAVAILABLE"}}\r\n\r\n`;

  test.each([
    ["binary garbage", BINARY],
    ["a stray line beside the data", 'garbage\ndata: {"candidates":[]}\n\n'],
  ])("Gemini: %s after the commit", async (_name, corrupt) => {
    const upstream = [gemini[0]!, corrupt, ...gemini.slice(1)].join("");
    await expectEveryCut(upstream, geminiRelayDialect, gemini[0]! + geminiError, corruptFailure);
  });
});
