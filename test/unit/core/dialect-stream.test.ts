/** The shared step of translated streams: relayed canonical SSE → a dialect writer's text. */

import { describe, expect, test } from "bun:test";
import { toDialectStream, type DialectWriter } from "../../../src/core/dialect-stream.ts";
import { readFixtureText } from "../../support/fixtures.ts";

/** A body that sends `pieces` with `gapMs` between them. */
function body(pieces: string[], gapMs = 0): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let next = 0;
  return new ReadableStream({
    async pull(controller) {
      if (next > 0 && gapMs > 0) await Bun.sleep(gapMs);
      if (next === pieces.length) return controller.close();
      controller.enqueue(encoder.encode(pieces[next++]!));
    },
  });
}

/** Writes what it was told, one line each. */
function recorder(): DialectWriter & { lines: string[] } {
  const lines: string[] = [];
  const say = (line: string) => {
    lines.push(line);
    return `${line}\n`;
  };
  return {
    lines,
    chunk: (chunk) => say(`chunk ${(chunk.choices as any[])?.[0]?.delta?.content ?? ""}`),
    error: (error, data) => say(`error ${String(error.message)} ${data.length}`),
    done: () => say("done"),
  };
}

describe("toDialectStream", () => {
  test("a recorded stream cut at every byte gives the same text as whole", async () => {
    const recorded = readFixtureText("openai/chat-stream-text.sse.txt");
    const whole = await new Response(toDialectStream(body([recorded]), recorder())).text();
    const pieces = [...recorded].map((char) => char);
    expect(await new Response(toDialectStream(body(pieces), recorder())).text()).toBe(whole);
    expect(whole.trim().split("\n").at(-1)).toBe("done");
    expect(whole.split("\n").filter((line) => line.startsWith("chunk")).length).toBeGreaterThan(2);
  });

  test("the relay's error chunk ends the dialect's stream; nothing after it is told", async () => {
    const writer = recorder();
    const text = await new Response(toDialectStream(body(['data: {"choices":[{"delta":{"content":"a"}}]}\n\n', 'data: {"error":{"message":"broke"}}\n\ndata: [DONE]\n\n']), writer)).text();
    expect(writer.lines).toEqual(["chunk a", `error broke ${'{"error":{"message":"broke"}}'.length}`]);
    expect(text).toBe(`${writer.lines.join("\n")}\n`);
  });

  test("a stream that ends without [DONE] is still closed by the dialect, once", async () => {
    const writer = recorder();
    await new Response(toDialectStream(body(['data: {"choices":[{"delta":{"content":"a"}}]}\n\n']), writer)).text();
    expect(writer.lines).toEqual(["chunk a", "done"]);
  });

  test("keep-alive text goes out during silence, and not once the stream is over", async () => {
    const writer = recorder();
    const stream = toDialectStream(body(['data: {"choices":[{"delta":{"content":"a"}}]}\n\n', "data: [DONE]\n\n"], 120), writer, { keepAlive: { everyMs: 20, text: () => "ping\n" } });
    const text = await new Response(stream).text();
    expect(text.startsWith("chunk a\nping\n")).toBe(true);
    expect(text.endsWith("done\n")).toBe(true);
    const before = text.length;
    await Bun.sleep(60);
    expect(text.length).toBe(before);
  });
});
