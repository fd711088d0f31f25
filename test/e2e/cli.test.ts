/**
 * The command line as a user meets it: `bun src/main.ts` in a folder with a `.env`. Start-up
 * errors are one clear sentence and a non-zero exit; a good config prints the banner with masked
 * keys only; SIGTERM finishes cleanly and leaves the usage database flushed.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startMockUpstream, type MockUpstream } from "../support/mock-upstream.ts";

const MAIN = join(import.meta.dir, "../../src/main.ts");
const PROXY_KEY = "cli-test-proxy-key-9876543210";
const PROVIDER_KEY = "sk-cli-provider-key-abcdef123456";

function folderWithEnv(lines: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "lkp-cli-"));
  writeFileSync(join(dir, ".env"), `${lines.join("\n")}\n`);
  return dir;
}

/** A clean environment: the test runner's own variables must not leak provider keys in. */
function cleanEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" };
}

async function runToExit(args: string[], cwd: string) {
  const proc = Bun.spawn([process.execPath, "--no-env-file", MAIN, ...args], { cwd, env: cleanEnv(), stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

let mock: MockUpstream | undefined;
afterEach(async () => {
  await mock?.stop();
  mock = undefined;
});

describe("start-up errors", () => {
  test("--version and --help answer and exit 0", async () => {
    const dir = folderWithEnv([]);
    const version = await runToExit(["--version"], dir);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^llm-key-proxy \d+\.\d+\.\d+/);
    const help = await runToExit(["--help"], dir);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--port");
    expect(help.stdout).toContain("PROXY_API_KEY");
  });

  test("a missing PROXY_API_KEY stops start-up with a sentence naming it", async () => {
    const dir = folderWithEnv([`OPENAI_API_KEY=${PROVIDER_KEY}`]);
    const { code, stderr } = await runToExit([], dir);
    expect(code).toBe(1);
    expect(stderr).toContain("PROXY_API_KEY");
    expect(stderr).not.toContain(PROVIDER_KEY);
  });

  test("no provider keys stops start-up", async () => {
    const dir = folderWithEnv([`PROXY_API_KEY=${PROXY_KEY}`]);
    const { code, stderr } = await runToExit([], dir);
    expect(code).toBe(1);
    expect(stderr).toMatch(/provider keys?/i);
    expect(stderr).toContain("_API_KEY");
  });

  test("a bad value names the variable and what is allowed", async () => {
    const dir = folderWithEnv([`PROXY_API_KEY=${PROXY_KEY}`, `OPENAI_API_KEY=${PROVIDER_KEY}`, "GLOBAL_TIMEOUT=soon"]);
    const { code, stderr } = await runToExit([], dir);
    expect(code).toBe(1);
    expect(stderr).toContain("GLOBAL_TIMEOUT");
    expect(stderr).toContain("soon");
  });

  test("an unknown flag is refused", async () => {
    const { code, stderr } = await runToExit(["--frobnicate"], folderWithEnv([]));
    expect(code).toBe(1);
    expect(stderr).toBe("llm-key-proxy: Unknown option --frobnicate. Run llm-key-proxy --help.\n");
  });
});

describe("setup without a terminal", () => {
  test("`setup --add` writes an owner-only .env with a generated proxy key; `--list` shows keys masked", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lkp-cli-setup-"));
    const added = await runToExit(["setup", "--add", "groq", "--key", "gsk_cli_setup_key_0001", "--key", "gsk_cli_setup_key_0002"], dir);
    expect(added.code).toBe(0);
    const envPath = join(dir, ".env");
    expect(statSync(envPath).mode & 0o777).toBe(0o600);
    const text = readFileSync(envPath, "utf8");
    expect(text).toContain("GROQ_API_KEY_1=gsk_cli_setup_key_0001");
    expect(text).toContain("GROQ_API_KEY_2=gsk_cli_setup_key_0002");
    const proxyKey = /^PROXY_API_KEY=(\S+)$/m.exec(text)?.[1] ?? "";
    expect(proxyKey).toMatch(/^lkp-[A-Za-z0-9_-]{43}$/);
    // The new proxy key is printed once to be copied, and used in the line to try; the provider keys only masked.
    expect(added.stdout).toContain("New proxy key (shown once; copy it now)");
    expect(added.stdout.split(proxyKey).length - 1).toBe(2);
    expect(added.stdout).toContain(`-H "Authorization: Bearer ${proxyKey}"`);
    expect(added.stdout).toContain("Added 2 groq keys: GROQ_API_KEY_1 …0001, GROQ_API_KEY_2 …0002.");
    expect(added.stdout).not.toContain("gsk_cli_setup_key_");
    const listed = await runToExit(["setup", "--list"], dir);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain("…0002");
    expect(listed.stdout).not.toContain("gsk_cli_setup_key_0002");
  });

  test("`setup` with no flags and no terminal exits 2 with a sentence saying what to do, and writes nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lkp-cli-setup-"));
    const { code, stderr } = await runToExit(["setup"], dir);
    expect(code).toBe(2);
    expect(stderr).toStartWith("llm-key-proxy setup: there is no terminal for the interactive wizard.");
    expect(stderr).toContain("llm-key-proxy setup --add gemini --key <key>");
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("serving", () => {
  test("prints the banner with masked keys, serves, and exits cleanly on SIGTERM with usage flushed", async () => {
    mock = await startMockUpstream();
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const dir = folderWithEnv([`PROXY_API_KEY=${PROXY_KEY}`, `OPENAI_API_KEY=${PROVIDER_KEY}`, `OPENAI_API_BASE=${mock.url}`]);
    const proc = Bun.spawn([process.execPath, "--no-env-file", MAIN, "--port", String(port), "--host", "127.0.0.1"], {
      cwd: dir,
      env: cleanEnv(),
      stdout: "pipe",
      stderr: "pipe",
    });
    const output: string[] = [];
    const reader = proc.stdout.getReader();
    const decoder = new TextDecoder();
    const readUntil = async (needle: string): Promise<void> => {
      while (!output.join("").includes(needle)) {
        const { done, value } = await reader.read();
        if (done) throw new Error(`process ended before printing ${needle}: ${output.join("")}`);
        output.push(decoder.decode(value));
      }
    };
    await readUntil("providers:");
    await readUntil("openai");
    const banner = output.join("");
    expect(banner).toContain(`http://127.0.0.1:${port}`);
    expect(banner).toContain(join(dir, ".env"));
    expect(banner).toContain("…3456");
    expect(banner).not.toContain(PROVIDER_KEY);
    expect(banner).not.toContain(PROXY_KEY);

    const response = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${PROXY_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "openai/gpt-4o", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(response.status).toBe(200);

    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    const db = new Database(join(dir, "data", "usage.db"), { readonly: true });
    const rows = db.query("SELECT provider, model, requests, successes, prompt_tokens FROM usage").all();
    db.close();
    expect(rows).toEqual([{ provider: "openai", model: "gpt-4o", requests: 1, successes: 1, prompt_tokens: 10 }]);
  });

  test("--env-file wins over a .env in the working directory (Bun's own .env loading is off)", async () => {
    const dir = folderWithEnv([`PROXY_API_KEY=${PROXY_KEY}`, `OPENAI_API_KEY=${PROVIDER_KEY}`, "PORT=1"]);
    const other = join(dir, "other.env");
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    writeFileSync(other, `PROXY_API_KEY=${PROXY_KEY}\nGROQ_API_KEY=gsk-other-key-12345678\nPORT=${port}\n`);
    const proc = Bun.spawn([process.execPath, "--no-env-file", MAIN, "--env-file", other], { cwd: dir, env: cleanEnv(), stdout: "pipe", stderr: "pipe" });
    try {
      const reader = proc.stdout.getReader();
      let banner = "";
      while (!banner.includes("providers:") || !banner.includes("groq")) {
        const { done, value } = await reader.read();
        if (done) throw new Error(`ended early: ${banner}`);
        banner += new TextDecoder().decode(value);
      }
      expect(banner).toContain(`:${port}`);
      expect(banner).toContain(other);
      expect(banner).not.toMatch(/^ +openai /m);
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
    }
  });
});
