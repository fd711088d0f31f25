/**
 * The setup wizard as a person meets it: on a real pseudo-terminal (tmux), answered key by
 * key, keys pasted the way a terminal pastes them. The saved .env then starts the real
 * proxy, which the `openai` client calls through to a mock upstream. A second run shows
 * that Ctrl-C in the middle, even during a live key check, leaves the file untouched.
 *
 * tmux is required: without it these tests fail with a sentence saying so (CI installs it).
 */

import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEnvFile } from "../../src/config/env-file.ts";
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
    choose: async (prompt, label) => {
      const shown = await waitFor(`◆  ${prompt}`);
      const options = shown
        .slice(shown.lastIndexOf(`◆  ${prompt}`))
        .split("\n")
        .filter((line) => /[●○] /.test(line));
      const active = options.findIndex((line) => line.includes("●"));
      const target = options.findIndex((line) => line.includes(label));
      if (target === -1) throw new Error(`No option "${label}" under "${prompt}":\n${options.join("\n")}`);
      const moves = target - active;
      await tmux("send-keys", "-t", name, ...Array<string>(Math.abs(moves)).fill(moves > 0 ? "Down" : "Up"), "Enter");
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

      // The screen: the proxy key once, with its copy hint; provider keys never in full.
      const history = await t.history();
      expect(history.split(proxyKey).length - 1).toBe(1);
      expect(history).toContain("Your proxy key (shown once)");
      expect(history).toContain("Copy it now");
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
    "started with no configuration on a terminal, llm-key-proxy runs the wizard, then serves in the same window",
    async () => {
      tmuxPath();
      const mock = await mockUpstream();
      const dir = mkdtempSync(join(tmpdir(), "lkp-doubleclick-"));
      const port = 20_000 + Math.floor(Math.random() * 20_000);
      const t = await openWizard(join(dir, ".env"), { cwd: dir });
      cleanups.push(() => t.keys("C-c"));

      await t.waitFor("Starting the setup wizard for");
      await addCustomProvider(t, "mock", mock.url, `${KEY_A}\n`);
      await t.waitFor("Check the key with mock now?");
      await t.keys("Enter");
      await setPort(t, port);
      await t.choose("What would you like to do?", "Save and exit");

      // Same window: the banner follows the wizard and the proxy answers with the saved key. The
      // wizard's own hint names the address too, so only the banner's line says it is listening.
      await t.waitFor(`listening   http://127.0.0.1:${port}`);
      expect(statSync(join(dir, ".env")).mode & 0o777).toBe(0o600);
      const vars = parseEnvFile(readFileSync(join(dir, ".env"), "utf8"));
      expect(vars.get("MOCK_API_KEY_1")).toBe(KEY_A);
      const response = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${vars.get("PROXY_API_KEY")}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "mock/gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
      });
      expect(response.status).toBe(200);
      expect(existsSync(join(dir, "data", "usage.db"))).toBe(true);
      await t.keys("C-c");
      await t.waitFor("SIGINT received");
    },
    TEST_MS,
  );
});
