/**
 * The setup wizard as a person meets it: on a real pseudo-terminal (tmux), answered key by
 * key, keys pasted the way a terminal pastes them. The saved .env then starts the real
 * proxy, which the `openai` client calls through to a mock upstream. A second run shows
 * that Ctrl-C in the middle, even during a live key check, leaves the file untouched. A third is
 * the first run of `llm-key-proxy` itself, from nothing to the first answer, timed.
 *
 * tmux is required: without it these tests fail with a sentence saying so (CI installs it).
 */

import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEnvFile } from "../../src/config/env-file.ts";
import { startMockGemini } from "../support/mock-gemini.ts";
import { DEFAULT_CONTENT, startMockUpstream, type MockUpstream } from "../support/mock-upstream.ts";
import { startProxy, type ProxyHarness } from "../support/proxy-harness.ts";

const RUNNER = join(import.meta.dir, "setup-wizard-runner.ts");
const MAIN = join(import.meta.dir, "../../src/main.ts");
/** A private tmux server, so the tests neither see nor disturb anyone's sessions. */
const SOCKET_DIR = mkdtempSync(join(tmpdir(), "lkp-tmux-"));
const SOCKET = join(SOCKET_DIR, "socket");
const WAIT_MS = 15_000;
const TEST_MS = 90_000;
const KEY_A = "sk-mock-wizard-key-aaaa1111";
const KEY_B = "sk-mock-wizard-key-bbbb2222";

let tmuxStarted = false;
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  if (tmuxStarted) await tmux("kill-server").catch(() => {});
  rmSync(SOCKET_DIR, { recursive: true, force: true });
});

function tmuxPath(): string {
  const path = Bun.which("tmux");
  if (path === null) {
    throw new Error(
      "tmux is not installed. This test runs the setup wizard on a real pseudo-terminal through tmux; " +
        "install it (Debian/Ubuntu: apt-get install -y tmux) and run the test again.",
    );
  }
  return path;
}

async function tmux(...args: string[]): Promise<string> {
  const proc = Bun.spawn([tmuxPath(), "-S", SOCKET, "-f", "/dev/null", ...args], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`tmux ${args[0]} failed (${code}): ${stderr.trim()}`);
  return stdout;
}

function quote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

interface Terminal {
  /** Named keys (Enter, Down, C-c, BSpace …). */
  keys(...names: string[]): Promise<void>;
  /** Text typed literally. */
  type(text: string): Promise<void>;
  /** Text pasted as a terminal pastes it (bracketed when the program asked for it; LF sent as CR). */
  paste(text: string): Promise<void>;
  /** Waits until the visible screen shows `text`. */
  waitFor(text: string): Promise<string>;
  /** Waits for an active selection prompt, moves to `label`, presses Enter. */
  choose(prompt: string, label: string): Promise<void>;
  /** Everything the terminal showed, scrollback included. */
  history(): Promise<string>;
  /** How the wizard ended: saved, cancelled, unchanged, or error: … */
  result(): Promise<string>;
}

/**
 * The wizard on a terminal: by default the runner, which reports how the wizard ended; with
 * `entry`, the real `llm-key-proxy` started with no arguments in `entry.cwd` (the double-click path).
 */
async function openWizard(envPath: string, entry?: { cwd: string }): Promise<Terminal> {
  const name = `w${Math.random().toString(36).slice(2, 8)}`;
  const resultPath = join(mkdtempSync(join(tmpdir(), "lkp-wizard-result-")), "result");
  const argv = entry ? [process.execPath, "--no-env-file", MAIN] : [process.execPath, RUNNER, envPath, resultPath];
  const command = `${entry ? `cd ${quote(entry.cwd)} && ` : ""}${argv.map(quote).join(" ")}`;
  // remain-on-exit keeps the last screen readable after the wizard has exited.
  await tmux("new-session", "-d", "-s", name, "-x", "120", "-y", "50", "-e", "LANG=C.UTF-8", command, ";", "set-option", "-w", "-t", name, "remain-on-exit", "on");
  tmuxStarted = true;
  const screen = () => tmux("capture-pane", "-p", "-t", name);

  const waitFor = async (text: string) => {
    let last = "";
    for (const started = Date.now(); Date.now() - started < WAIT_MS; await Bun.sleep(50)) {
      last = await screen();
      if (last.includes(text)) return last;
    }
    throw new Error(`The wizard never showed "${text}". Screen:\n${last}`);
  };

  const waitForChange = async (before: string) => {
    for (const started = Date.now(); Date.now() - started < WAIT_MS; await Bun.sleep(20)) {
      if ((await screen()) !== before) return;
    }
  };

  return {
    keys: async (...names) => {
      await tmux("send-keys", "-t", name, ...names);
    },
    type: async (text) => {
      await tmux("send-keys", "-t", name, "-l", text);
    },
    paste: async (text) => {
      await tmux("set-buffer", "-b", name, "--", text);
      await tmux("paste-buffer", "-p", "-d", "-b", name, "-t", name);
    },
    waitFor,
    // Moves one step at a time and looks again, so a screen caught halfway through a redraw
    // (likely under load) never sends the wrong number of moves.
    choose: async (prompt, label) => {
      for (const started = Date.now(); Date.now() - started < WAIT_MS; ) {
        const shown = await waitFor(`◆  ${prompt}`);
        const options = shown
          .slice(shown.lastIndexOf(`◆  ${prompt}`))
          .split("\n")
          .filter((line) => /[●○] /.test(line));
        const active = options.findIndex((line) => line.includes("●"));
        const target = options.findIndex((line) => line.includes(label));
        if (active === -1 || target === -1) {
          await Bun.sleep(50);
          continue;
        }
        if (active === target) return void (await tmux("send-keys", "-t", name, "Enter"));
        await tmux("send-keys", "-t", name, target > active ? "Down" : "Up");
        await waitForChange(shown);
      }
      throw new Error(`Could not choose "${label}" under "${prompt}". Screen:\n${await screen()}`);
    },
    history: () => tmux("capture-pane", "-p", "-J", "-S", "-", "-E", "-", "-t", name),
    result: async () => {
      for (const started = Date.now(); Date.now() - started < WAIT_MS; await Bun.sleep(50)) {
        if (existsSync(resultPath)) {
          const text = readFileSync(resultPath, "utf8");
          if (text !== "") return text;
        }
      }
      throw new Error(`The wizard did not finish. Screen:\n${await screen()}`);
    },
  };
}

async function until(what: string, condition: () => boolean): Promise<void> {
  for (const started = Date.now(); Date.now() - started < WAIT_MS; await Bun.sleep(20)) {
    if (condition()) return;
  }
  throw new Error(`Timed out waiting until ${what}.`);
}

/** From the provider search: picks "custom", names it, gives its base URL and pastes `keys`. */
async function addCustomProvider(t: Terminal, name: string, baseUrl: string, keys: string): Promise<void> {
  await t.waitFor("Which provider? Type to search.");
  await t.type("custom");
  await t.waitFor("(1 match)");
  await t.keys("Enter");
  await t.waitFor("Name for this provider");
  await t.type(name);
  await t.keys("Enter");
  await t.waitFor(`Base URL of ${name}`);
  await t.type(baseUrl);
  await t.keys("Enter");
  await t.waitFor(`Paste your ${name} key(s)`);
  await t.paste(keys);
  await t.keys("Enter");
}

/** From the main menu: changes the port from its default and goes back to the menu. */
async function setPort(t: Terminal, port: number): Promise<void> {
  await t.choose("What would you like to do?", "Server settings");
  await t.choose("Server settings", "Port: 8000");
  await t.waitFor("Port to listen on");
  await t.keys("BSpace", "BSpace", "BSpace", "BSpace");
  await t.type(String(port));
  await t.keys("Enter");
  await t.waitFor(`Port: ${port}`);
  await t.choose("Server settings", "Back to the menu");
}

/** A loopback port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = server.port!;
  await server.stop(true);
  return port;
}

async function mockUpstream(): Promise<MockUpstream> {
  const mock = await startMockUpstream();
  cleanups.push(() => mock.stop());
  return mock;
}

describe("setup wizard on a terminal", () => {
  test(
    "a first run, answered like a person, writes a .env the proxy serves with",
    async () => {
      tmuxPath();
      const mock = await mockUpstream();
      const dir = mkdtempSync(join(tmpdir(), "lkp-wizard-e2e-"));
      const envPath = join(dir, ".env");
      const t = await openWizard(envPath);

      // No .env yet: the wizard goes straight to adding a provider.
      await addCustomProvider(t, "mock", mock.url, `${KEY_A}\n${KEY_B}\n${KEY_A}\n`);
      await t.waitFor("2 keys read; 1 repeated in the paste, dropped.");
      await t.waitFor("Check the 2 keys with mock now?");
      await t.keys("Enter");
      await t.waitFor("…2222  accepted by 127.0.0.1");

      await setPort(t, 8123);
      await t.choose("What would you like to do?", "Save and exit");
      expect(await t.result()).toBe("saved");

      // The file: owner-only, the keys numbered, the base URL, a strong proxy key.
      expect(statSync(envPath).mode & 0o777).toBe(0o600);
      const vars = parseEnvFile(readFileSync(envPath, "utf8"));
      expect(vars.get("MOCK_API_BASE")).toBe(mock.url);
      expect(vars.get("MOCK_API_KEY_1")).toBe(KEY_A);
      expect(vars.get("MOCK_API_KEY_2")).toBe(KEY_B);
      expect(vars.has("MOCK_API_KEY_3")).toBe(false);
      expect(vars.get("PORT")).toBe("8123");
      const proxyKey = vars.get("PROXY_API_KEY")!;
      expect(proxyKey.length).toBeGreaterThanOrEqual(40);
      expect(proxyKey).toStartWith("lkp-");
      expect(readdirSync(dir)).toEqual([".env"]);

      // The screen: the proxy key only on the last screen (its box and the four lines to paste);
      // provider keys never in full.
      const history = await t.history();
      expect(history.split(proxyKey).length - 1).toBe(5);
      expect(history.indexOf(proxyKey)).toBeGreaterThan(history.indexOf("Saved "));
      expect(history).toContain("your proxy key is shown once, copy it now");
      expect(history).not.toContain(KEY_A);
      expect(history).not.toContain(KEY_B);

      // The live check asked the mock's model list with each key.
      expect(mock.callsFor(KEY_A, "/models")).toHaveLength(1);
      expect(mock.callsFor(KEY_B, "/models")).toHaveLength(1);

      // The proxy starts from that file and serves the openai client with the generated key.
      const proxy: ProxyHarness = await startProxy({ env: Object.fromEntries(vars) });
      cleanups.push(() => proxy.stop());
      expect(proxy.proxyKey).toBe(proxyKey);
      const completion = await proxy.openai().chat.completions.create({
        model: "mock/gpt-4o-mini",
        messages: [{ role: "user", content: "Hello through the wizard's config" }],
      });
      expect(completion.choices[0]!.message.content).toBe(DEFAULT_CONTENT);
      const chatKeys = mock.calls.filter((c) => c.path.endsWith("/chat/completions")).map((c) => c.key);
      expect(chatKeys).toHaveLength(1);
      expect([KEY_A, KEY_B]).toContain(chatKeys[0]!);
      expect((await proxy.request("/v1/models", { auth: false })).status).toBe(401);
    },
    TEST_MS,
  );

  test(
    "Ctrl-C during a live key check leaves an existing .env byte for byte as it was",
    async () => {
      tmuxPath();
      const mock = await mockUpstream();
      mock.script(KEY_A, { kind: "hang" });
      const dir = mkdtempSync(join(tmpdir(), "lkp-wizard-e2e-"));
      const envPath = join(dir, ".env");
      const original = [
        "# my proxy settings\r",
        "PROXY_API_KEY=my-own-proxy-key-0123456789\r",
        "\r",
        "export GROQ_API_KEY = gsk_existing_key_0000   # work account\r",
        "SOMETHING_ELSE='kept as is'\r",
        "",
      ].join("\n");
      writeFileSync(envPath, original, { mode: 0o644 });
      const before = statSync(envPath);
      const t = await openWizard(envPath);

      // Pending changes first: a rotated proxy key and a changed port.
      await t.choose("What would you like to do?", "Rotate the proxy key");
      await t.waitFor("Replace the proxy key?");
      await t.type("y");
      await t.waitFor("New proxy key generated");
      await t.choose("What would you like to do?", "Add provider keys");
      await addCustomProvider(t, "slow", mock.url, KEY_A);
      await t.waitFor("Check the key with slow now?");
      await t.keys("Enter");
      await t.waitFor("Checking the key with slow");
      await until("the check reaches the mock", () => mock.callsFor(KEY_A, "/models").length === 1);
      await t.keys("C-c");
      expect(await t.result()).toBe("cancelled");

      expect(readFileSync(envPath, "utf8")).toBe(original);
      const after = statSync(envPath);
      expect(after.mtimeMs).toBe(before.mtimeMs);
      expect(after.mode & 0o777).toBe(0o644);
      expect(readdirSync(dir)).toEqual([".env"]);
      expect(await t.history()).toContain(`Cancelled: ${envPath} was not changed.`);
      // The cancelled check let go of the upstream request.
      await until("the mock sees the check abandoned", () => mock.callsFor(KEY_A, "/models")[0]!.aborted);
    },
    TEST_MS,
  );

  test(
    "a first run from nothing: greeting, wizard, Gemini pointed at a mock, save, and the first answer in the same window",
    async () => {
      tmuxPath();
      const gemini = await startMockGemini();
      cleanups.push(() => gemini.stop());
      const dir = mkdtempSync(join(tmpdir(), "lkp-first-run-"));
      const port = await freePort();
      const started = performance.now();
      const t = await openWizard(join(dir, ".env"), { cwd: dir });
      cleanups.push(() => t.keys("C-c"));

      // A greeting that says what happens, not an error.
      const greeting = await t.waitFor("Welcome to llm-key-proxy");
      expect(greeting).toContain("setup asks for your provider keys now");
      const ours = greeting.slice(0, greeting.indexOf("┌")).split("\n");
      expect(ours.filter((line) => !line.includes(dir)).every((line) => line.length <= 80)).toBe(true);
      expect(greeting).toContain("then starts the proxy in this window");

      // The provider list: the custom entry is on the first screen, and a name that is no known
      // provider leaves it there instead of "No matches found".
      const list = await t.waitFor("Which provider? Type to search.");
      expect(list).toContain("Custom OpenAI-compatible provider");
      await t.type("vllm");
      await t.waitFor("(1 match)");
      expect(await t.waitFor("Custom OpenAI-compatible provider")).not.toContain("No matches found");
      await t.keys(...Array<string>(6).fill("BSpace"));
      await t.type("gemini");
      await t.waitFor("Google Gemini (Model makers · gemini)");
      await t.keys("Enter");

      // A known provider may be pointed at another base URL before its key is pasted.
      await t.choose("Where is Google Gemini?", "Another base URL");
      await t.waitFor("Base URL of gemini");
      await t.type(gemini.url);
      await t.keys("Enter");
      await t.waitFor("Paste your Google Gemini key(s)");
      await t.paste("AIzaSyFirstRunKey00000000001\n");
      await t.keys("Enter");
      await t.waitFor("Check the key with Google Gemini now?");
      await t.keys("Enter");
      await t.waitFor("accepted by 127.0.0.1");
      await setPort(t, port);
      await t.choose("What would you like to do?", "Save and exit");

      // One screen with everything; the proxy then starts here, and says how to try it.
      const saved = await t.waitFor("Starting the proxy now");
      for (const text of ["Configuration", "Proxy key", `Address        http://127.0.0.1:${port}/v1`, "curl:", "OpenAI SDKs:", "Claude Code:", "Codex:"]) {
        expect(saved).toContain(text);
      }
      const banner = await t.waitFor(`listening   http://127.0.0.1:${port}`);
      expect(banner).toContain("try it");
      expect(banner).toContain("gemini/gemini-2.5-flash");

      const vars = parseEnvFile(readFileSync(join(dir, ".env"), "utf8"));
      expect(vars.get("GEMINI_API_BASE")).toBe(gemini.url);
      expect(statSync(join(dir, ".env")).mode & 0o777).toBe(0o600);
      const response = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${vars.get("PROXY_API_KEY")}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gemini/gemini-2.5-flash", messages: [{ role: "user", content: "hi" }] }),
      });
      expect(response.status).toBe(200);
      expect(existsSync(join(dir, "data", "usage.db"))).toBe(true);
      const seconds = (performance.now() - started) / 1000;
      console.info(`[first run] from start to the first answer: ${seconds.toFixed(1)} s (typing instant)`);
      expect(seconds).toBeLessThan(10);

      // No line of the transcript is an error.
      const transcript = await t.history();
      for (const line of transcript.split("\n")) expect(line).not.toMatch(/\b(error|not set|failed)\b/i);
      await t.keys("C-c");
      await t.waitFor("SIGINT received");
    },
    TEST_MS,
  );
});
