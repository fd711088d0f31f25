/**
 * Holds many streaming chat requests open at once, for the memory measurement. Run as a child of
 * run.ts because Bun's fetch allows only 256 requests in flight unless BUN_CONFIG_MAX_HTTP_REQUESTS
 * is set before the process starts; run.ts sets it for this process.
 *
 *   bun bench/open-streams.ts <chat completions URL> <proxy key> <count> <open timeout ms>
 *
 * Prints `open <n>` once every stream has delivered its first bytes (or the timeout passed with
 * n open), then reads every stream to its end — the mock ends held streams on POST /release, or
 * by itself after a minute — and prints `done <n complete>`. A hard stop at 90 s bounds it.
 */

export {};

const [url, proxyKey, countText, timeoutText] = process.argv.slice(2);
if (!url || !proxyKey) throw new Error("usage: bun bench/open-streams.ts <url> <proxy key> <count> <open timeout ms>");
const count = Number(countText ?? 1000);
const openTimeoutMs = Number(timeoutText ?? 8000);
const BODY = JSON.stringify({ model: "openai/gpt-bench-hold", stream: true, messages: [{ role: "user", content: "hold" }] });

setTimeout(() => {
  console.log("done timeout");
  process.exit(1);
}, 90_000).unref();

let opened = 0;

async function holdOne(): Promise<boolean> {
  try {
    const response = await fetch(url!, { method: "POST", body: BODY, headers: { "content-type": "application/json", authorization: `Bearer ${proxyKey}` } });
    if (!response.ok || !response.body) return false;
    const reader = response.body.getReader();
    if ((await reader.read()).done) return false;
    opened++;
    while (!(await reader.read()).done);
    return true;
  } catch {
    return false;
  }
}

async function waitForOpen(): Promise<void> {
  const deadline = Date.now() + openTimeoutMs;
  while (opened < count && Date.now() < deadline) await Bun.sleep(20);
}

const all = Array.from({ length: count }, holdOne);
await waitForOpen();
console.log(`open ${opened}`);
const finished = await Promise.all(all);
console.log(`done ${finished.filter(Boolean).length}`);
process.exit(0);
