/**
 * The committed half of a native Anthropic stream (`/v1/messages` on an `anthropic/` model): however
 * the upstream body is cut, the client gets the recorded bytes, the usage of `message_start` and
 * `message_delta` is read, and a mid-stream `event: error` ends the stream as a failure. Fed with
 * recorded Anthropic streams.
 */

import { describe, expect, test } from "bun:test";
import type { Settlement } from "../../../src/outcome.ts";
import { createSseParser } from "../../../src/formats/sse.ts";
import { anthropicRelayDialect } from "../../../src/providers/anthropic/native-stream.ts";
import { relayStream } from "../../../src/providers/relay-stream.ts";
import { createChunkReader } from "../../../src/providers/upstream-http.ts";
import { readFixtureText } from "../../support/fixtures.ts";
import { piecewiseBody } from "../../support/piecewise-body.ts";

const PIECE_SIZES = [1, 3, 7, 64, 1000, 1_000_000];

function relay(body: ReadableStream<Uint8Array>): { out: Promise<string>; settlements: Settlement[] } {
  const settlements: Settlement[] = [];
  const stream = relayStream({
    start: { reader: createChunkReader(body, new AbortController()), parser: createSseParser(), held: [], rest: [], headers: new Headers() },
    dialect: anthropicRelayDialect(),
    idleTimeoutMs: 5_000,
    redact: (failure) => failure,
    onEnd: (settlement) => settlements.push(settlement),
  });
  return { out: new Response(stream).text(), settlements };
}

/** One piece per event, as a host writes them: the pieces the relay may pass on unparsed. */
function eventByEvent(text: string): ReadableStream<Uint8Array> {
  const pieces = text.split(/(?<=\n\n)/).map((event) => new TextEncoder().encode(event));
  let next = 0;
  return new ReadableStream({ pull: (controller) => (next < pieces.length ? controller.enqueue(pieces[next++]!) : controller.close()) });
}

describe("relaying a recorded Anthropic stream", () => {
  test.each([
    ["anthropic/stream-thinking.sse.txt", { promptTokens: 43, completionTokens: 282 }],
    ["anthropic/stream-tool-use.sse.txt", { promptTokens: 543, completionTokens: 40 }],
  ])("%s: the recorded bytes, and the usage message_start and message_delta state", async (path, tokens) => {
    const recorded = readFixtureText(path);
    const expected: Settlement = { kind: "success", usage: { ...tokens, cachedTokens: 0, reasoningTokens: 0 } };
    for (const body of [eventByEvent(recorded), ...PIECE_SIZES.map((size) => piecewiseBody(recorded, size))]) {
      const { out, settlements } = relay(body);
      expect(await out).toBe(recorded);
      expect(settlements).toEqual([expected]);
    }
  });

  test("a mid-stream error (events without `event:` lines before it) ends the stream with one error event", async () => {
    const recorded = readFixtureText("anthropic/stream-midstream-overloaded-error.sse.txt");
    for (const body of [eventByEvent(recorded), ...PIECE_SIZES.map((size) => piecewiseBody(recorded, size))]) {
      const { out, settlements } = relay(body);
      const text = await out;
      expect(text.startsWith(recorded.slice(0, recorded.indexOf("event: error")))).toBe(true);
      expect(text.match(/^event: error$/gm)).toHaveLength(1);
      expect(text).toContain('"type":"overloaded_error"');
      expect(settlements).toHaveLength(1);
      expect(settlements[0]).toMatchObject({ kind: "failure", failure: { class: "transient" } });
    }
  });
});
