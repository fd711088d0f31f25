#!/usr/bin/env bun
/**
 * The chat → Responses stream conversion alone, in process: Responses API events produced per
 * second from the recorded canonical chat chunk stream (test/fixtures/openai/chat-stream-text.sse.txt,
 * 50 chunks + [DONE]), played again and again, one whole response each time (a fresh writer, so
 * every response pays its opening and closing events: created, in_progress, item and part added
 * … completed).
 *
 * Two measurements:
 * - stream: the recorded bytes, in pieces of 10 events, through `toResponsesEventStream` (SSE
 *   parsing, JSON.parse of each chunk, `createResponseEventWriter`, encoding): what the
 *   /v1/responses route runs on a translated stream, minus the network;
 * - writer: the chunks parsed once up front, through `createResponseEventWriter` `push`/`finish`
 *   alone.
 * Events are counted as `data:` lines of the output (one per Responses event).
 *
 * Used by run.ts (row 9f); alone: bun bench/responses-events.ts [seconds]
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pieces, streamOf } from "./byte-pieces.ts";
import type { ResponseContext } from "../src/formats/responses/convert-completion-to-response.ts";
import type { ResponsesRequest } from "../src/formats/responses/types.ts";

const FIXTURE = join(import.meta.dir, "..", "test", "fixtures", "openai", "chat-stream-text.sse.txt");
const decoder = new TextDecoder();

export interface EventRate {
  /** Responses events per second. */
  eventsPerSecond: number;
  /** Events in one converted response. */
  eventsPerResponse: number;
  /** Chat chunks in (data events, [DONE] excluded). */
  chunksPerResponse: number;
  responses: number;
  seconds: number;
}

export interface ConversionRates {
  stream: EventRate;
  writer: EventRate;
}

function countData(text: string): number {
  let count = 0;
  for (let at = text.indexOf("data: "); at !== -1; at = text.indexOf("data: ", at + 6)) count++;
  return count;
}

function context(): ResponseContext {
  const request = {
    model: "gemini/gemini-bench",
    input: [{ type: "message", role: "user", content: [{ type: "input_text", text: "Say hello in one short sentence." }] }],
    stream: true,
    store: false,
  } as unknown as ResponsesRequest;
  return { id: "resp_bench", createdAt: 1_755_137_933, model: request.model, request, tools: new Map(), includeEncrypted: false };
}

/** The recorded stream as byte pieces of 10 events, as the relay hands them on. */
function recordedPieces(text: string): Uint8Array[] {
  return pieces(text.split(/\n\n/).filter((event) => event.trim() !== "").map((event) => `${event}\n\n`));
}

/** Runs `once` (returning events produced) for a warm-up, then for `seconds`; events/s. */
async function rate(once: () => Promise<number> | number, seconds: number, chunksPerResponse: number): Promise<EventRate> {
  const warmupEnd = performance.now() + Math.min(500, seconds * 250);
  while (performance.now() < warmupEnd) await once();
  let events = 0;
  let responses = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  while (performance.now() < deadline) {
    events += await once();
    responses++;
  }
  const elapsed = (performance.now() - started) / 1000;
  return { eventsPerSecond: events / elapsed, eventsPerResponse: events / responses, chunksPerResponse, responses, seconds: elapsed };
}

export async function measureConversion(seconds = 2): Promise<ConversionRates> {
  // Imported here, so the rest of the suite runs even on a tree without the Responses route.
  const { createResponseEventWriter } = await import("../src/formats/responses/chunks-to-response-events.ts");
  const { toResponsesEventStream } = await import("../src/core/responses-event-stream.ts");
  const text = readFileSync(FIXTURE, "utf8").replace(/\r\n/g, "\n");
  const pieces = recordedPieces(text);
  const chunkTexts = text
    .split("\n")
    .filter((line) => line.startsWith("data: ") && line !== "data: [DONE]")
    .map((line) => line.slice(6));
  const chunks = chunkTexts.map((json) => JSON.parse(json) as Record<string, unknown>);

  const viaStream = async (): Promise<number> => {
    const out = toResponsesEventStream(streamOf(pieces), createResponseEventWriter(context()), () => {});
    let events = 0;
    for await (const piece of out) events += countData(decoder.decode(piece));
    return events;
  };
  const writerOnly = (): number => {
    const writer = createResponseEventWriter(context());
    let out = "";
    for (const chunk of chunks) out += writer.push(chunk);
    out += writer.finish();
    return countData(out);
  };

  // A check before timing: the conversion produces a whole response.
  const sample = toResponsesEventStream(streamOf(pieces), createResponseEventWriter(context()), () => {});
  const sampleText = await new Response(sample).text();
  if (!sampleText.includes("response.completed")) throw new Error(`conversion did not complete:\n${sampleText.slice(0, 500)}`);

  const stream = await rate(viaStream, seconds, chunks.length);
  const writer = await rate(writerOnly, seconds, chunks.length);
  return { stream, writer };
}

if (import.meta.main) {
  const seconds = Number(process.argv[2] ?? 2);
  const { stream, writer } = await measureConversion(seconds);
  for (const [name, r] of Object.entries({ stream, writer })) {
    console.log(
      `${name}: ${Math.round(r.eventsPerSecond).toLocaleString("en")} events/s (${r.responses} responses of ${r.eventsPerResponse} events from ${r.chunksPerResponse} chunks in ${r.seconds.toFixed(1)} s)`,
    );
  }
}
