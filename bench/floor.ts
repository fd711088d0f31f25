#!/usr/bin/env bun
/**
 * Where the proxy's CPU per request goes, against two floors measured in the same run:
 * - `reference`: bench/reference-passthrough.ts, the least a Bun.serve + Hono + fetch proxy can do;
 * - `minimal`: the reference plus only what any key-rotating proxy must do per request, written
 *   as tightly as possible — parse the body to read and rename the model, link the upstream call
 *   to the client's abort and a deadline timer, read the whole answer and parse it for usage, and
 *   answer with a request id header.
 * The proxy does all of that plus validation, rotation, accounting, metrics and logging hooks. CPU
 * per request comes from /proc per thread (the main JS thread and Bun's HTTP client thread), which
 * holds far steadier on a noisy VM than requests per second do.
 *
 *   bun bench/floor.ts            (writes bench/results/<date>-floor.md)
 *
 * Same layout as run.ts: servers on core 1, wrk and the fast mock on core 0; 5 alternating rounds
 * of 3 s runs after a warm-up, medians reported.
 */

import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Hono } from "hono";
import { median } from "./clients.ts";
import { BUN, ROOT, freePorts, removeTempDirs, settle, startChild, type Child } from "./processes.ts";
import { PROXY_KEY, startReferencePassthrough } from "./reference-passthrough.ts";
import { describeMachine } from "./report.ts";
import { LOAD_CORE, PROXY_HEADERS, SERVER_CORE, chatBody, proxyEnv, startProxy } from "./setup.ts";
import { runWrk } from "./wrk.ts";

const ROUNDS = 5;
const RUN_SECONDS = 3;
const DEADLINE_MS = 120_000;

/** The minimal key-rotating proxy: one key, no validation beyond the model, no bookkeeping. */
function startMinimalRotating(upstreamBase: string, port: number) {
  const app = new Hono();
  let requestCount = 0;
  app.get("/healthz", (c) => c.text("ok"));
  app.post("/v1/chat/completions", async (c) => {
    if (c.req.header("authorization") !== `Bearer ${PROXY_KEY}`) return c.json({ error: "bad key" }, 401);
    const body = JSON.parse(await c.req.text()) as { model?: unknown };
    if (typeof body.model !== "string" || !body.model.includes("/")) return c.json({ error: "bad model" }, 400);
    body.model = body.model.slice(body.model.indexOf("/") + 1);
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    c.req.raw.signal.addEventListener("abort", abort, { once: true });
    const deadline = setTimeout(abort, DEADLINE_MS);
    try {
      const upstream = await fetch(`${upstreamBase}/chat/completions`, {
        method: "POST",
        headers: { authorization: "Bearer sk-minimal", "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: controller.signal,
        redirect: "manual",
      });
      const text = await upstream.text();
      const usage = (JSON.parse(text) as { usage?: { total_tokens?: number } }).usage?.total_tokens ?? 0;
      return new Response(text, {
        status: upstream.status,
        headers: { "content-type": "application/json", "x-request-id": `req_${++requestCount}`, "x-tokens": String(usage) },
      });
    } finally {
      clearTimeout(deadline);
    }
  });
  return Bun.serve({ hostname: "127.0.0.1", port, fetch: app.fetch, idleTimeout: 0 });
}

/** CPU seconds of the main thread, of the HTTP client thread(s), and of the whole process. */
function threadSeconds(pid: number): { main: number; http: number; total: number } {
  const seconds = (statPath: string): number => {
    const stat = readFileSync(statPath, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  };
  let http = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      if (readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim() === "HTTP Client") http += seconds(`/proc/${pid}/task/${tid}/stat`);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return { main: seconds(`/proc/${pid}/task/${pid}/stat`), http, total: seconds(`/proc/${pid}/stat`) };
}

interface Sample {
  rps: number;
  mainUs: number;
  httpUs: number;
  totalUs: number;
}

async function measure(server: Child, body: string): Promise<Sample> {
  const before = threadSeconds(server.pid);
  const result = await runWrk({ url: `${server.url}/v1/chat/completions`, bodies: [body], headers: PROXY_HEADERS, connections: 64, seconds: RUN_SECONDS, cores: LOAD_CORE });
  const after = threadSeconds(server.pid);
  if (result.non2xx + result.socketErrors > 0) throw new Error(`${server.name}: ${result.non2xx} non-2xx, ${result.socketErrors} socket errors`);
  const perRequest = (delta: number): number => (delta * 1e6) / result.requests;
  await settle(server.pid);
  return { rps: result.rps, mainUs: perRequest(after.main - before.main), httpUs: perRequest(after.http - before.http), totalUs: perRequest(after.total - before.total) };
}

async function main(): Promise<void> {
  const [mockPort, referencePort, minimalPort, proxyPort] = freePorts(4);
  const mock = await startChild({ name: "mock", cmd: [BUN, "bench/fast-mock.ts", String(mockPort)], cores: LOAD_CORE, port: mockPort! });
  const upstream = `${mock.url}/v1`;
  const servers = [
    await startChild({ name: "reference", cmd: [BUN, "bench/floor.ts", "--serve", "reference", upstream, String(referencePort)], cores: SERVER_CORE, port: referencePort! }),
    await startChild({ name: "minimal", cmd: [BUN, "bench/floor.ts", "--serve", "minimal", upstream, String(minimalPort)], cores: SERVER_CORE, port: minimalPort! }),
    await startProxy("proxy", proxyEnv(mock.url, ["sk-bench-only"]), proxyPort!),
  ];
  const bodies: Record<string, string> = { reference: chatBody("gpt-bench"), minimal: chatBody("openai/gpt-bench"), proxy: chatBody("openai/gpt-bench") };
  const samples = new Map(servers.map((server) => [server.name, [] as Sample[]]));
  try {
    for (const server of servers) await measure(server, bodies[server.name]!);
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? servers : [...servers].reverse();
      for (const server of order) samples.get(server.name)!.push(await measure(server, bodies[server.name]!));
    }
  } finally {
    for (const server of servers) await server.stop();
    await mock.stop();
  }

  const rows = [...samples].map(([name, list]) => {
    const pick = (field: keyof Sample): number => median(list.map((sample) => sample[field]));
    return { name, rps: pick("rps"), mainUs: pick("mainUs"), httpUs: pick("httpUs"), totalUs: pick("totalUs") };
  });
  const reference = rows[0]!;
  const table = [
    "| server | req/s (c=64) | vs reference | main thread µs/req | HTTP client thread µs/req | whole process µs/req |",
    "|---|---:|---:|---:|---:|---:|",
    ...rows.map((row) => `| ${row.name} | ${Math.round(row.rps).toLocaleString("en")} | ${((row.rps / reference.rps) * 100).toFixed(0)}% | ${row.mainUs.toFixed(0)} | ${row.httpUs.toFixed(0)} | ${row.totalUs.toFixed(0)} |`),
  ].join("\n");
  const date = new Date().toISOString().slice(0, 10);
  const report = [
    `# Floor analysis — ${date}`,
    "",
    "Produced by `bun bench/floor.ts`: CPU per request of the reference passthrough, of a minimal key-rotating proxy (the reference plus the work any rotating proxy must do), and of llm-key-proxy, non-stream chat at c=64, medians of 5 alternating 3 s runs.",
    "",
    ...describeMachine().map((line) => `- ${line}`),
    "",
    table,
    "",
  ].join("\n");
  writeFileSync(join(ROOT, "bench", "results", `${date}-floor.md`), report);
  console.log(report);
}

if (import.meta.main) {
  if (process.argv[2] === "--serve") {
    const [, , , variant, upstream, port] = process.argv;
    const start = variant === "minimal" ? startMinimalRotating : startReferencePassthrough;
    const server = start(upstream!, Number(port));
    // SIGINT ends the process quietly, as the other bench servers do.
    process.on("SIGINT", () => process.exit(0));
    console.log(`ready ${server.port}`);
  } else {
    try {
      await main();
    } finally {
      removeTempDirs();
    }
  }
}
