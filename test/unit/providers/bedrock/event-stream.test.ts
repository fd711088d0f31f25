/**
 * The vnd.amazon.eventstream decoder against real ConverseStream recordings (test/fixtures/bedrock),
 * split into chunks every way we can think of, plus encoder round trips, every header value type,
 * and each way a stream can be corrupt or cut short.
 */

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  crc32,
  createEventStreamDecoder,
  encodeEventStreamMessage,
  EventStreamError,
  type EventStreamMessage,
} from "../../../../src/providers/bedrock/event-stream.ts";

const FIXTURES = join(import.meta.dir, "../../../fixtures/bedrock");
const fixture = (name: string) => new Uint8Array(readFileSync(join(FIXTURES, `${name}.eventstream`)));
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const json = (message: EventStreamMessage | undefined): Record<string, unknown> => JSON.parse(text(message?.payload ?? new Uint8Array()));

function decodeAll(chunks: Uint8Array[]): EventStreamMessage[] {
  const decoder = createEventStreamDecoder();
  const messages = chunks.flatMap((chunk) => decoder.push(chunk));
  decoder.end();
  return messages;
}

/** "messageStart, contentBlockDelta x29, ..." so a long event sequence reads at a glance. */
function runs(types: unknown[]): string {
  const out: string[] = [];
  let i = 0;
  while (i < types.length) {
    let j = i;
    while (j < types.length && types[j] === types[i]) j++;
    out.push(j - i === 1 ? String(types[i]) : `${String(types[i])} x${j - i}`);
    i = j;
  }
  return out.join(", ");
}

/** Deterministic PRNG (mulberry32), so a failing split is reproducible from its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function splitAt(bytes: Uint8Array, points: number[]): Uint8Array[] {
  const sorted = [0, ...points.sort((a, b) => a - b), bytes.length];
  return sorted.slice(1).map((end, i) => bytes.subarray(sorted[i], end));
}

const RECORDINGS = [
  {
    name: "converse-stream-text",
    frames: 33,
    events: "messageStart, contentBlockDelta x29, contentBlockStop, messageStop, metadata",
  },
  {
    name: "converse-stream-tool-use",
    frames: 32,
    events: "messageStart, contentBlockDelta x20, contentBlockStop, contentBlockStart, contentBlockDelta x6, contentBlockStop, messageStop, metadata",
  },
  {
    name: "converse-stream-reasoning",
    frames: 25,
    events: "messageStart, contentBlockDelta x15, contentBlockStop, contentBlockDelta x5, contentBlockStop, messageStop, metadata",
  },
];

describe("decoding recorded Bedrock ConverseStream bodies", () => {
  for (const recording of RECORDINGS) {
    test(`${recording.name}: ${recording.frames} event frames with JSON payloads`, () => {
      const messages = decodeAll([fixture(recording.name)]);
      expect(messages.length).toBe(recording.frames);
      expect(runs(messages.map((m) => m.headers[":event-type"]))).toBe(recording.events);
      for (const message of messages) {
        expect(message.headers[":message-type"]).toBe("event");
        expect(message.headers[":content-type"]).toBe("application/json");
        expect(() => JSON.parse(text(message.payload))).not.toThrow();
      }
    });
  }

  test("the text recording's payloads carry the answer, the stop reason and the usage", () => {
    const messages = decodeAll([fixture("converse-stream-text")]);
    const answer = messages
      .filter((m) => m.headers[":event-type"] === "contentBlockDelta")
      .map((m) => (json(m).delta as { text: string }).text)
      .join("");
    expect(answer.startsWith("The capital of France is Paris.")).toBe(true);
    expect(json(messages.at(-2)).stopReason).toBe("end_turn");
    expect(json(messages.at(-1)).usage).toEqual({ inputTokens: 13, outputTokens: 82, serverToolUsage: {}, totalTokens: 95 });
  });

  test("the tool-use recording starts a toolUse block and stops for tool_use", () => {
    const messages = decodeAll([fixture("converse-stream-tool-use")]);
    const start = messages.find((m) => m.headers[":event-type"] === "contentBlockStart");
    expect((json(start).start as { toolUse: unknown }).toolUse).toEqual({ name: "fetch_concept", toolUseId: "tooluse_HA9wsJ32RhOvn8XgIUDpGA" });
    expect(json(messages.at(-2)).stopReason).toBe("tool_use");
  });

  test("an exception frame names its exception type and carries the error JSON", () => {
    const messages = decodeAll([fixture("converse-stream-model-stream-error-exception")]);
    expect(messages.length).toBe(1);
    expect(messages[0]?.headers).toEqual({
      ":message-type": "exception",
      ":exception-type": "modelStreamErrorException",
      ":content-type": "application/json",
    });
    expect(json(messages[0])).toEqual({ message: "Model Stream Error", originalStatusCode: 500, originalMessage: "The model stream failed." });
  });

  test("several bodies back to back decode as one stream", () => {
    const names = [...RECORDINGS.map((r) => r.name), "converse-stream-model-stream-error-exception"];
    const joined = new Uint8Array(Buffer.concat(names.map(fixture)));
    expect(decodeAll([joined]).length).toBe(33 + 32 + 25 + 1);
  });
});

describe("chunk boundaries anywhere", () => {
  for (const { name } of RECORDINGS) {
    const bytes = fixture(name);
    const whole = decodeAll([bytes]);

    test(`${name}: 1-byte chunks give the same messages`, () => {
      expect(decodeAll(Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1)))).toEqual(whole);
    });

    test(`${name}: random split points (20 seeds) give the same messages`, () => {
      for (let seed = 1; seed <= 20; seed++) {
        const next = random(seed);
        const count = 1 + Math.floor(next() * 60);
        const points = Array.from({ length: count }, () => Math.floor(next() * (bytes.length + 1)));
        expect({ seed, messages: decodeAll(splitAt(bytes, points)) }).toEqual({ seed, messages: whole });
      }
    });
  }

  test("converse-stream-text: every two-piece split gives the same messages", () => {
    const bytes = fixture("converse-stream-text");
    const whole = decodeAll([bytes]);
    for (let at = 0; at <= bytes.length; at++) {
      const messages = decodeAll([bytes.subarray(0, at), bytes.subarray(at)]);
      // One expect per split would bury a failure among thousands of passes; name the first bad split.
      if (!Bun.deepEquals(messages, whole)) throw new Error(`split at byte ${at} decoded differently`);
    }
    expect(decodeAll([bytes.subarray(0, 5), bytes.subarray(5, 11), bytes.subarray(11)])).toEqual(whole);
  });

  test("push returns each message as soon as its last byte arrives, and an empty chunk is harmless", () => {
    const frame = encodeEventStreamMessage({ ":event-type": "ping" }, new Uint8Array([1, 2, 3]));
    const decoder = createEventStreamDecoder();
    expect(decoder.push(new Uint8Array())).toEqual([]);
    expect(decoder.push(frame.subarray(0, frame.length - 1))).toEqual([]);
    expect(decoder.push(frame.subarray(frame.length - 1))).toEqual([{ headers: { ":event-type": "ping" }, payload: new Uint8Array([1, 2, 3]) }]);
    decoder.end();
  });

  test("a 4 MiB frame in 64-byte chunks decodes in linear time (re-copying the buffer per push would time out)", () => {
    const payload = new Uint8Array(4 * 1024 * 1024).map((_, i) => i % 251);
    const frame = encodeEventStreamMessage({ ":event-type": "chunk" }, payload);
    const decoder = createEventStreamDecoder();
    const messages: EventStreamMessage[] = [];
    for (let at = 0; at < frame.length; at += 64) messages.push(...decoder.push(frame.subarray(at, at + 64)));
    decoder.end();
    expect(messages.length).toBe(1);
    expect(messages[0]?.payload).toEqual(payload);
  });

  test("payloads are copies: reusing the input chunk afterwards does not change them", () => {
    const chunk = encodeEventStreamMessage({}, new TextEncoder().encode('{"a":1}'));
    const [message] = createEventStreamDecoder().push(chunk);
    chunk.fill(0);
    expect(text(message?.payload ?? new Uint8Array())).toBe('{"a":1}');
  });
});

describe("encodeEventStreamMessage", () => {
  test("re-encoding the recorded messages reproduces the recorded bytes exactly", () => {
    for (const name of [...RECORDINGS.map((r) => r.name), "converse-stream-model-stream-error-exception"]) {
      const bytes = fixture(name);
      const reencoded = decodeAll([bytes]).map((m) => encodeEventStreamMessage(m.headers as Record<string, string>, m.payload));
      expect(new Uint8Array(Buffer.concat(reencoded))).toEqual(bytes);
    }
  });

  test("round trips headers (unicode, empty values) and payloads (empty, binary)", () => {
    const cases: Array<[Record<string, string>, Uint8Array]> = [
      [{}, new Uint8Array()],
      [{ ":event-type": "contentBlockDelta", ":content-type": "application/json", ":message-type": "event" }, new TextEncoder().encode('{"delta":{"text":"héllo ✓"}}')],
      [{ "x-ünïcode": "värde ✓", empty: "" }, new Uint8Array([0, 255, 1, 254])],
    ];
    const frames = cases.map(([headers, payload]) => encodeEventStreamMessage(headers, payload));
    expect(decodeAll(frames)).toEqual(cases.map(([headers, payload]) => ({ headers, payload })));
  });

  test("the smallest message is 16 bytes", () => {
    expect(encodeEventStreamMessage({}, new Uint8Array()).length).toBe(16);
  });

  test("refuses header names and values that the format cannot length-prefix", () => {
    expect(() => encodeEventStreamMessage({ ["n".repeat(256)]: "v" }, new Uint8Array())).toThrow(EventStreamError);
    expect(() => encodeEventStreamMessage({ "": "v" }, new Uint8Array())).toThrow(EventStreamError);
    expect(() => encodeEventStreamMessage({ big: "v".repeat(65536) }, new Uint8Array())).toThrow(EventStreamError);
  });
});

/** A frame from raw header-block bytes, with valid CRCs: for header types the encoder does not write. */
function frameWithHeaderBlock(headerBlock: number[], payload: number[] = []): Uint8Array {
  const total = 16 + headerBlock.length + payload.length;
  const frame = new Uint8Array(total);
  const view = new DataView(frame.buffer);
  view.setUint32(0, total);
  view.setUint32(4, headerBlock.length);
  view.setUint32(8, crc32(frame.subarray(0, 8)));
  frame.set(headerBlock, 12);
  frame.set(payload, 12 + headerBlock.length);
  view.setUint32(total - 4, crc32(frame.subarray(0, total - 4)));
  return frame;
}

const header = (name: string, type: number, value: number[]) => [name.length, ...new TextEncoder().encode(name), type, ...value];

describe("header value types", () => {
  test("decodes every type: bool, byte, short, int, long, bytes, string, timestamp, uuid", () => {
    const be = (n: bigint, bytes: number) => Array.from({ length: bytes }, (_, i) => Number((BigInt.asUintN(bytes * 8, n) >> BigInt(8 * (bytes - 1 - i))) & 0xffn));
    const block = [
      ...header("t", 0, []),
      ...header("f", 1, []),
      ...header("byte", 2, be(-2n, 1)),
      ...header("short", 3, be(-300n, 2)),
      ...header("int", 4, be(-70000n, 4)),
      ...header("long", 5, be(1234567890123n, 8)),
      ...header("bytes", 6, [0, 3, 9, 8, 7]),
      ...header("string", 7, [0, 2, 0x6f, 0x6b]),
      ...header("time", 8, be(1440938160000n, 8)),
      ...header("id", 9, [0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00]),
    ];
    expect(decodeAll([frameWithHeaderBlock(block, [42])])).toEqual([
      {
        headers: {
          t: true,
          f: false,
          byte: -2,
          short: -300,
          int: -70000,
          long: 1234567890123,
          bytes: new Uint8Array([9, 8, 7]),
          string: "ok",
          time: 1440938160000,
          id: "123e4567-e89b-12d3-a456-426614174000",
        },
        payload: new Uint8Array([42]),
      },
    ]);
  });

  test("an unknown value type is an error", () => {
    expect(() => decodeAll([frameWithHeaderBlock(header("x", 10, []))])).toThrow(new EventStreamError('header "x" has unknown value type 10'));
  });

  test("a header running past its block is an error", () => {
    expect(() => decodeAll([frameWithHeaderBlock(header("s", 7, [0, 9, 0x61]))])).toThrow(/header block truncated/);
    expect(() => decodeAll([frameWithHeaderBlock([5, 0x61])])).toThrow(/header block truncated/);
  });
});

/** XORs one byte, to corrupt a frame in a known place. */
function flip(bytes: Uint8Array, index: number, mask: number): void {
  bytes[index] = (bytes[index] ?? 0) ^ mask;
}

describe("corrupt and truncated streams", () => {
  const frame = () => encodeEventStreamMessage({ ":event-type": "contentBlockDelta" }, new TextEncoder().encode('{"delta":{"text":"hi"}}'));

  test("crc32 is the IEEE CRC-32 (check value of '123456789')", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array())).toBe(0);
  });

  test("a flipped payload byte fails the message CRC", () => {
    const bytes = frame();
    flip(bytes, bytes.length - 6, 0x01);
    expect(() => decodeAll([bytes])).toThrow(/^message CRC mismatch/);
    expect(() => decodeAll([bytes])).toThrow(EventStreamError);
  });

  test("a flipped message CRC byte fails too, also when the frame arrives byte by byte", () => {
    const bytes = frame();
    flip(bytes, bytes.length - 1, 0x80);
    const decoder = createEventStreamDecoder();
    expect(() => {
      for (let i = 0; i < bytes.length; i++) decoder.push(bytes.subarray(i, i + 1));
    }).toThrow(/^message CRC mismatch/);
  });

  test("a flipped length byte fails the prelude CRC before any length is trusted", () => {
    const bytes = frame();
    flip(bytes, 1, 0x40);
    expect(() => decodeAll([bytes])).toThrow(/^prelude CRC mismatch/);
  });

  test("the second of two frames being corrupt still throws", () => {
    const bad = frame();
    flip(bad, 20, 0xff);
    expect(() => decodeAll([frame(), bad])).toThrow(EventStreamError);
  });

  /** Just a prelude with a valid CRC, claiming the given lengths. */
  function prelude(totalLength: number, headersLength: number): Uint8Array {
    const bytes = new Uint8Array(12);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, totalLength);
    view.setUint32(4, headersLength);
    view.setUint32(8, crc32(bytes.subarray(0, 8)));
    return bytes;
  }

  test("a length over 16 MiB is refused as soon as the prelude is in, without buffering", () => {
    const decoder = createEventStreamDecoder();
    expect(() => decoder.push(prelude(16 * 1024 * 1024 + 1, 0))).toThrow(new EventStreamError("message length 16777217 is outside 16..16777216 bytes"));
  });

  test("a length under 16 bytes is refused, also when the prelude arrives in pieces", () => {
    const bytes = prelude(15, 0);
    const decoder = createEventStreamDecoder();
    decoder.push(bytes.subarray(0, 7));
    expect(() => decoder.push(bytes.subarray(7))).toThrow(/message length 15 is outside/);
  });

  test("a headers length that does not fit the message is refused", () => {
    expect(() => createEventStreamDecoder().push(prelude(20, 5))).toThrow(new EventStreamError("headers length 5 does not fit in a 20-byte message"));
  });

  test("end() throws when the stream stops inside a message or its prelude, and not otherwise", () => {
    const bytes = frame();
    const inMessage = createEventStreamDecoder();
    inMessage.push(bytes.subarray(0, bytes.length - 3));
    expect(() => inMessage.end()).toThrow(new EventStreamError(`stream ended inside a message: ${bytes.length - 3} of ${bytes.length} bytes received`));

    const inPrelude = createEventStreamDecoder();
    inPrelude.push(bytes.subarray(0, 5));
    expect(() => inPrelude.end()).toThrow(new EventStreamError("stream ended inside a message prelude: 5 of 12 bytes received"));

    const truncatedRecording = fixture("converse-stream-text");
    const cut = createEventStreamDecoder();
    expect(cut.push(truncatedRecording.subarray(0, truncatedRecording.length - 1)).length).toBe(32);
    expect(() => cut.end()).toThrow(EventStreamError);

    const complete = createEventStreamDecoder();
    complete.push(bytes);
    expect(() => complete.end()).not.toThrow();
    expect(() => createEventStreamDecoder().end()).not.toThrow();
  });
});
