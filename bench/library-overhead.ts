#!/usr/bin/env bun
/**
 * What the library adds to a call: `client.chat` against the fast mock (run as its own process on
 * core 1), against a bare `fetch` of the same request from the same process (core 0), one call at
 * a time. Rounds alternate between the two so that drift on this VM hits both alike; the figure
 * is the median of the per-round differences of mean time per call.
 *
 *   bun bench/library-overhead.ts [--calls 2000] [--rounds 7] [--name library]
 */

import { parseArgs } from "node:util";
import { createRotatingClient } from "../src/library/index.ts";
import { BUN, freePorts, pin, removeTempDirs, startChild } from "./processes.ts";
import { describeMachine, fmt, sourceVersion, writeReport } from "./report.ts";

const { values } = parseArgs({ options: { calls: { type: "string", default: "2000" }, rounds: { type: "string", default: "7" }, name: { type: "string", default: "library" } } });
const CALLS = Number(values.calls);
const ROUNDS = Number(values.rounds);
const TARGET_US = 50;

const started = performance.now();
const [port] = freePorts(1) as [number];
const mock = await startChild({ name: "mock", cmd: [BUN, "bench/fast-mock.ts", String(port)], cores: "1", port });
pin(process.pid, "0");
const body = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Say hello." }] });
const client = createRotatingClient({ providers: { mock: { keys: ["sk-bench-library-0001"], baseUrl: `${mock.url}/v1` } } });

const bare = async (): Promise<void> => {
  const response = await fetch(`${mock.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: "Bearer sk-bench-library-0001", "content-type": "application/json", accept: "application/json" },
    body,
  });
  await response.json();
};
const library = async (): Promise<void> => {
  await client.chat({ model: "mock/gpt-4o-mini", messages: [{ role: "user", content: "Say hello." }] });
};

/** Mean microseconds per call over `CALLS` sequential calls. */
async function meanMicros(call: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) await call();
  return ((performance.now() - t0) * 1000) / CALLS;
}

const median = (list: number[]): number => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;

try {
  await meanMicros(bare);
  await meanMicros(library);
  const bareRounds: number[] = [];
  const libraryRounds: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    bareRounds.push(await meanMicros(bare));
    libraryRounds.push(await meanMicros(library));
  }
  const differences = libraryRounds.map((micros, round) => micros - bareRounds[round]!);
  const overhead = median(differences);
  const row = {
    id: "14a",
    what: "Library call overhead: client.chat vs a bare fetch of the same request, c=1, against the fast mock",
    measured: `library ${fmt.ms(median(libraryRounds) / 1000)}`,
    against: `fetch ${fmt.ms(median(bareRounds) / 1000)}`,
    judged: `${overhead.toFixed(1)} µs more per call`,
    target: `≤ ${TARGET_US} µs`,
    pass: overhead <= TARGET_US,
  };
  const path = writeReport(
    {
      date: new Date().toISOString().slice(0, 10),
      machine: describeMachine(),
      layout: ["fast mock on core 1 (its own process); this process — bare fetch and the library client — on core 0."],
      rows: [row],
      details: [
        `${ROUNDS} alternating rounds of ${CALLS} sequential calls each; source ${sourceVersion()}.`,
        `Per round, mean µs per call — fetch: ${bareRounds.map((v) => v.toFixed(1)).join(", ")}; library: ${libraryRounds.map((v) => v.toFixed(1)).join(", ")}.`,
        `Differences: ${differences.map((v) => v.toFixed(1)).join(", ")} µs.`,
      ],
      durationSeconds: (performance.now() - started) / 1000,
      command: "bun bench/library-overhead.ts",
    },
    values.name,
  );
  console.log(`${row.what}: ${row.judged} (${row.pass ? "pass" : "MISS"}, target ${row.target}); report: ${path}`);
} finally {
  await client.close();
  await mock.stop();
  removeTempDirs();
}
