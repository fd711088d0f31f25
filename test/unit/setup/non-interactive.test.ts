/**
 * `llm-key-proxy setup` with flags, as a script or Dockerfile runs it: edits land in the
 * file with comments intact, keys are only ever printed masked, the proxy key appears once
 * when it is made, and every refusal is a sentence with the file left alone.
 */

import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { parseEnvFile } from "../../../src/config/env-file.ts";
import { parseSetupFlags, runSetupCommand } from "../../../setup/non-interactive.ts";

const GEMINI_1 = "AIzaSyTestKeyNumberOne000001";
const GEMINI_2 = "AIzaSyTestKeyNumberTwo000002";
const PROXY_KEY = "existing-proxy-key-0123456789";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  envPath: string;
}

function folder(envText?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "lkp-setup-cli-"));
  if (envText !== undefined) writeFileSync(join(dir, ".env"), envText, { mode: 0o644 });
  return dir;
}

async function run(dir: string, argv: string[], stdinText?: string, isTTY = false): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const envPath = join(dir, ".env");
  const code = await runSetupCommand(argv, {
    envPath,
    stdin: stdinText === undefined ? null : Readable.from([Buffer.from(stdinText)]),
    isTTY,
    cwd: dir,
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
  });
  return { code, stdout, stderr, envPath };
}

function vars(path: string): Map<string, string> {
  return parseEnvFile(readFileSync(path, "utf8"));
}

describe("adding keys", () => {
  test("first run: creates an owner-only .env with a new proxy key, printed once, and masked keys", async () => {
    const r = await run(folder(), ["--add", "gemini", "--key", GEMINI_1, "--key", GEMINI_2]);
    expect(r.code).toBe(0);
    const v = vars(r.envPath);
    expect(v.get("GEMINI_API_KEY_1")).toBe(GEMINI_1);
    expect(v.get("GEMINI_API_KEY_2")).toBe(GEMINI_2);
    const proxyKey = v.get("PROXY_API_KEY")!;
    expect(proxyKey).toMatch(/^lkp-[A-Za-z0-9_-]{43}$/);
    expect(statSync(r.envPath).mode & 0o777).toBe(0o600);
    // Shown once, then used in the line to try (no placeholder to fill in).
    expect(r.stdout.split(proxyKey).length - 1).toBe(2);
    expect(r.stdout.indexOf(proxyKey)).toBeGreaterThan(r.stdout.indexOf("New proxy key"));
    expect(r.stdout).toContain("copy it now");
    expect(r.stdout).toContain("GEMINI_API_KEY_1 …0001");
    expect(r.stdout + r.stderr).not.toContain(GEMINI_1);
    expect(r.stdout + r.stderr).not.toContain(GEMINI_2);
    // The proxy key sits above the provider keys in a new file.
    const text = readFileSync(r.envPath, "utf8");
    expect(text.indexOf("PROXY_API_KEY=")).toBeLessThan(text.indexOf("GEMINI_API_KEY_1="));
  });

  test("keys from standard input with --key -: one per line or comma-separated, repeats dropped", async () => {
    const r = await run(folder(), ["--add", "groq", "--key", "-"], "gsk_aaaaaaaa1111\ngsk_bbbbbbbb2222, gsk_aaaaaaaa1111\n\n");
    expect(r.code).toBe(0);
    const v = vars(r.envPath);
    expect(v.get("GROQ_API_KEY_1")).toBe("gsk_aaaaaaaa1111");
    expect(v.get("GROQ_API_KEY_2")).toBe("gsk_bbbbbbbb2222");
    expect(v.has("GROQ_API_KEY_3")).toBe(false);
  });

  test("an existing file keeps its comments, order and unknown lines; numbering continues", async () => {
    const original = ["# my settings", `PROXY_API_KEY=${PROXY_KEY}`, "", "# gemini", "GEMINI_API_KEY=" + GEMINI_1, "SOMETHING_ELSE=1 # keep me", ""].join("\n");
    const dir = folder(original);
    const r = await run(dir, ["--add", "gemini", "--key", GEMINI_2, "--key", GEMINI_1]);
    expect(r.code).toBe(0);
    expect(readFileSync(r.envPath, "utf8")).toBe(original.replace(`${GEMINI_1}\n`, `${GEMINI_1}\nGEMINI_API_KEY_2=${GEMINI_2}\n`));
    expect(r.stdout).toContain("Skipped 1 already configured: …0001");
    // The existing proxy key is kept and not shown.
    expect(r.stdout).not.toContain(PROXY_KEY);
  });

  test("odd-looking keys are added with a masked warning", async () => {
    const r = await run(folder(), ["--add", "gemini", "--key", "not-a-gemini-key"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning: gemini key …-key looks wrong (Google Gemini keys start with "AIza"); added anyway.');
    expect(vars(r.envPath).get("GEMINI_API_KEY_1")).toBe("not-a-gemini-key");
  });

  test("a custom provider needs --base-url, and gets <NAME>_API_BASE", async () => {
    const dir = folder();
    const refused = await run(dir, ["--add", "vllm", "--key", "placeholder-key"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("--base-url");
    const r = await run(dir, ["--add", "vllm", "--key", "placeholder-key", "--base-url", "http://localhost:8000/v1/"]);
    expect(r.code).toBe(0);
    expect(vars(r.envPath).get("VLLM_API_BASE")).toBe("http://localhost:8000/v1");
    // Later additions to it need no base URL.
    expect((await run(dir, ["--add", "vllm", "--key", "second-key-x"])).code).toBe(0);
  });

  test("--check adds accepted keys, refuses rejected ones, keeps unreachable ones", async () => {
    const upstream = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (request) =>
        request.headers.get("authorization") === "Bearer good-key-12345"
          ? Response.json({ object: "list", data: [] })
          : Response.json({ error: { message: "Invalid API Key" } }, { status: 401 }),
    });
    try {
      const base = `http://127.0.0.1:${upstream.port}/v1`;
      const r = await run(folder(), ["--add", "local", "--base-url", base, "--key", "good-key-12345", "--key", "bad-key-67890", "--check"]);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain("key check local …2345: accepted");
      expect(r.stderr).toContain("key check local …7890: 127.0.0.1");
      expect(r.stderr).toContain("not added");
      const v = vars(r.envPath);
      expect(v.get("LOCAL_API_KEY_1")).toBe("good-key-12345");
      expect(v.has("LOCAL_API_KEY_2")).toBe(false);
    } finally {
      await upstream.stop(true);
    }
  });
});

describe("re-pointing a provider", () => {
  test("--add NAME --base-url URL alone changes the base URL and keeps the keys", async () => {
    const original = `PROXY_API_KEY=${PROXY_KEY}\nGEMINI_API_KEY=AIzaSyExistingKey0000001\n`;
    const dir = folder(original);
    const r = await run(dir, ["--add", "gemini", "--base-url", "http://127.0.0.1:9000/v1beta/"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("GEMINI_API_BASE set to http://127.0.0.1:9000/v1beta.");
    const v = vars(r.envPath);
    expect(v.get("GEMINI_API_BASE")).toBe("http://127.0.0.1:9000/v1beta");
    expect(v.get("GEMINI_API_KEY")).toBe("AIzaSyExistingKey0000001");
    expect(v.get("PROXY_API_KEY")).toBe(PROXY_KEY);
  });

  test("a provider with no keys yet still needs one", async () => {
    const dir = folder(`PROXY_API_KEY=${PROXY_KEY}\n`);
    const r = await run(dir, ["--add", "gemini", "--base-url", "http://127.0.0.1:9000/v1beta"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("gemini has no keys yet: give at least one with --key.");
  });

  test("--add without --key or --base-url says both ways", async () => {
    const r = await run(folder(), ["--add", "gemini"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("or --base-url to re-point a provider that has keys");
  });
});

describe("other edits", () => {
  test("--remove with --key-suffix, refusing ambiguous suffixes", async () => {
    const dir = folder([`PROXY_API_KEY=${PROXY_KEY}`, "GROQ_API_KEY=gsk_first_AB12", "GROQ_API_KEY_2=gsk_second_XB12", ""].join("\n"));
    const ambiguous = await run(dir, ["--remove", "groq", "--key-suffix", "B12"]);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toContain("2 groq keys end with");
    const missing = await run(dir, ["--remove", "groq", "--key-suffix", "ZZZZ"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("…AB12, …XB12");
    const r = await run(dir, ["--remove", "groq", "--key-suffix", "XB12"]);
    expect(r.code).toBe(0);
    expect(readFileSync(r.envPath, "utf8")).toBe(`PROXY_API_KEY=${PROXY_KEY}\nGROQ_API_KEY=gsk_first_AB12\n`);
    expect(r.stdout).toContain("Removed GROQ_API_KEY_2 …XB12.");
    expect(r.stdout).not.toContain("gsk_second");
  });

  test("removing the last key of a custom provider takes its base URL too, and says so", async () => {
    const dir = folder(`PROXY_API_KEY=${PROXY_KEY}\nLOCAL_API_BASE=http://h/v1\nLOCAL_API_KEY=local-key-9999\n`);
    const r = await run(dir, ["--remove", "local", "--key-suffix", "9999"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Removed LOCAL_API_KEY …9999 and LOCAL_API_BASE (no keys left for this custom provider).");
    expect(readFileSync(r.envPath, "utf8")).toBe(`PROXY_API_KEY=${PROXY_KEY}\n`);
  });

  test("--host, --port and --request-logging", async () => {
    const dir = folder(`PROXY_API_KEY=${PROXY_KEY}\nPORT=8000 # default\n`);
    const r = await run(dir, ["--host", "0.0.0.0", "--port=9100", "--request-logging", "on"]);
    expect(r.code).toBe(0);
    expect(readFileSync(r.envPath, "utf8")).toBe(`PROXY_API_KEY=${PROXY_KEY}\nPORT=9100 # default\nHOST=0.0.0.0\nREQUEST_LOGGING=true\n`);
    // A world-readable file that setup rewrites comes out owner-only, and the user is told so.
    expect(statSync(r.envPath).mode & 0o777).toBe(0o600);
    expect(r.stdout).toBe(`Wrote ${r.envPath} (owner-only permissions).\n`);
  });

  test("--rotate-proxy-key replaces the key and prints the new one once", async () => {
    const dir = folder(`PROXY_API_KEY=${PROXY_KEY}\nGROQ_API_KEY=gsk_abcdefgh\n`);
    const r = await run(dir, ["--rotate-proxy-key"]);
    expect(r.code).toBe(0);
    const fresh = vars(r.envPath).get("PROXY_API_KEY")!;
    expect(fresh).toMatch(/^lkp-[A-Za-z0-9_-]{43}$/);
    expect(readFileSync(r.envPath, "utf8")).toBe(`PROXY_API_KEY=${fresh}\nGROQ_API_KEY=gsk_abcdefgh\n`);
    expect(r.stdout.split(fresh).length - 1).toBe(2);
    expect(r.stdout).not.toContain(PROXY_KEY);
  });

  test("--show-proxy-key prints only the key; --list masks everything", async () => {
    const dir = folder(`PROXY_API_KEY=${PROXY_KEY}\nGROQ_API_KEY=gsk_abcdefgh1234\nLOCAL_API_BASE=http://h/v1\nLOCAL_API_KEY=local-key-9999\n`);
    expect((await run(dir, ["--show-proxy-key"])).stdout).toBe(`${PROXY_KEY}\n`);
    const list = await run(dir, ["--list"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain("groq  (Groq)  1 key");
    expect(list.stdout).toContain("GROQ_API_KEY             …1234");
    expect(list.stdout).toContain("local  (custom, http://h/v1)  1 key");
    expect(list.stdout).toContain("Proxy key: …6789");
    expect(list.stdout).not.toContain("gsk_abcdefgh1234");
    expect(list.stdout).not.toContain(PROXY_KEY);
  });

  test("--env-file edits another file, relative to the working folder", async () => {
    const dir = folder();
    const r = await run(dir, ["setup", "--env-file", "other.env", "--add", "groq", "--key", "gsk_abcdefgh"]);
    expect(r.code).toBe(0);
    expect(vars(join(dir, "other.env")).get("GROQ_API_KEY_1")).toBe("gsk_abcdefgh");
  });
});

describe("refusals leave the file as it was", () => {
  test("a bad value after a good one writes nothing", async () => {
    const original = `PROXY_API_KEY=${PROXY_KEY}\n`;
    const dir = folder(original);
    const r = await run(dir, ["--add", "groq", "--key", "gsk_abcdefgh", "--port", "99999"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("--port must be a whole number from 1 to 65535");
    expect(readFileSync(r.envPath, "utf8")).toBe(original);
  });

  test("a broken .env is reported by line and not touched", async () => {
    const original = `PROXY_API_KEY=${PROXY_KEY}\nsk-a-key-pasted-alone\n`;
    const r = await run(folder(original), ["--add", "groq", "--key", "gsk_abcdefgh"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Line 2 of");
    expect(r.stderr).not.toContain("sk-a-key-pasted-alone");
    expect(readFileSync(r.envPath, "utf8")).toBe(original);
  });

  test("without flags and without a terminal: exit 2 with a sentence saying what to do", async () => {
    const r = await run(folder(), []);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no terminal");
    expect(r.stderr).toContain("--add gemini --key");
  });

  test("usage errors exit 2", async () => {
    for (const argv of [["--frobnicate"], ["--key", "abc"], ["--add", "groq"], ["--remove", "groq"], ["--port"], ["stray"]]) {
      const r = await run(folder(), argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("setup --help");
    }
  });

  test("--key - without standard input", async () => {
    const r = await run(folder(), ["--add", "groq", "--key", "-"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("standard input");
  });
});

describe("parseSetupFlags", () => {
  test("both spellings, repeatable --key, and --help", () => {
    expect(parseSetupFlags(["--add=Gemini", "--key", "a", "--key=b", "--key", "-", "--check"])).toMatchObject({
      add: "gemini",
      keys: ["a", "b"],
      keysFromStdin: true,
      check: true,
    });
    expect(parseSetupFlags(["-h"])).toMatchObject({ help: true });
  });

  test("every other flag lands in its field", () => {
    const argv = ["--remove=GROQ", "--key-suffix", "Xy12", "--host", "0.0.0.0", "--port=9100", "--request-logging", "off", "--env-file", "a.env"];
    expect(parseSetupFlags([...argv, "--list", "--rotate-proxy-key", "--show-proxy-key"])).toEqual({
      keys: [],
      keysFromStdin: false,
      check: false,
      list: true,
      rotateProxyKey: true,
      showProxyKey: true,
      help: false,
      remove: "groq",
      keySuffix: "Xy12",
      host: "0.0.0.0",
      port: "9100",
      requestLogging: "off",
      envFile: "a.env",
    });
    expect(parseSetupFlags(["--list=yes"])).toBe("Unknown option --list.");
  });

  test("a flag where a value belongs is a forgotten value", () => {
    expect(parseSetupFlags(["--add", "--key", "x"])).toBe("Option --add needs a value.");
  });
});
