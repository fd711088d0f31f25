/**
 * The Bun side of the load: sequential (concurrency 1) samplers for latency and streams. Targets
 * are visited in turn within each round, so a slow patch of a noisy machine hits every target
 * alike and the differences between them hold. Every loop is bounded in count and in time.
 */

export interface Target {
  name: string;
  url: string;
  body: string;
  headers: Record<string, string>;
}

export interface StreamSample {
  /** Request sent → first body bytes, ms. */
  ttfbMs: number;
  /** Request sent → end of the stream, ms. */
  totalMs: number;
  /** `data:` events other than [DONE]. */
  chunks: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

/** Visit order of round `round`: rotated so no target is always first after an idle gap. */
function orderFor<T>(targets: readonly T[], round: number): T[] {
  const shift = round % targets.length;
  return [...targets.slice(shift), ...targets.slice(0, shift)];
}

async function timeOneRequest(target: Target): Promise<number> {
  const started = performance.now();
  const response = await fetch(target.url, { method: "POST", body: target.body, headers: target.headers });
  await response.arrayBuffer();
  const elapsed = performance.now() - started;
  if (!response.ok) throw new Error(`${target.name} answered HTTP ${response.status}`);
  return elapsed;
}

/**
 * Non-stream request latency at concurrency 1, interleaved across targets. Returns each target's
 * samples in ms, ascending. Stops at `rounds` or `maxMs`, whichever comes first.
 */
export async function sampleLatency(targets: readonly Target[], rounds: number, maxMs: number): Promise<Map<string, number[]>> {
  const samples = new Map(targets.map((target) => [target.name, [] as number[]]));
  const warmupEnd = Math.min(200, Math.floor(rounds / 10));
  const deadline = performance.now() + maxMs;
  for (let round = 0; round < rounds && performance.now() < deadline; round++) {
    for (const target of orderFor(targets, round)) {
      const ms = await timeOneRequest(target);
      if (round >= warmupEnd) samples.get(target.name)!.push(ms);
    }
  }
  for (const list of samples.values()) list.sort((a, b) => a - b);
  return samples;
}

/** Counts the `data:` markers that start before `limit`, [DONE] excluded. */
function countDataEvents(text: string, limit: number): number {
  let count = 0;
  for (let at = text.indexOf("data:"); at !== -1 && at < limit; at = text.indexOf("data:", at + 5)) {
    if (!text.startsWith("data: [DONE]", at)) count++;
  }
  return count;
}

async function timeOneStream(target: Target): Promise<StreamSample> {
  const decoder = new TextDecoder();
  const started = performance.now();
  const response = await fetch(target.url, { method: "POST", body: target.body, headers: target.headers });
  if (!response.ok || !response.body) throw new Error(`${target.name} answered HTTP ${response.status}`);
  const reader = response.body.getReader();
  let ttfbMs = NaN;
  let carry = "";
  let chunks = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (Number.isNaN(ttfbMs)) ttfbMs = performance.now() - started;
    // Markers are counted only where they start at least 12 characters before the end, so one
    // split across two reads is counted once, whole, in the next round.
    const text = carry + decoder.decode(value, { stream: true });
    const cut = Math.max(0, text.length - 12);
    chunks += countDataEvents(text, cut);
    carry = text.slice(cut);
  }
  chunks += countDataEvents(carry, carry.length);
  return { ttfbMs, totalMs: performance.now() - started, chunks };
}

/** Whole streams at concurrency 1, interleaved across targets; bounded by `rounds` and `maxMs`. */
export async function sampleStreams(targets: readonly Target[], rounds: number, maxMs: number): Promise<Map<string, StreamSample[]>> {
  const samples = new Map(targets.map((target) => [target.name, [] as StreamSample[]]));
  const warmupEnd = Math.min(50, Math.floor(rounds / 10));
  const deadline = performance.now() + maxMs;
  for (let round = 0; round < rounds && performance.now() < deadline; round++) {
    for (const target of orderFor(targets, round)) {
      const sample = await timeOneStream(target);
      if (round >= warmupEnd) samples.get(target.name)!.push(sample);
    }
  }
  return samples;
}
