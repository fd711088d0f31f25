/**
 * The wizard driven in-process through a stream, key by key: nothing is written before
 * "Save and exit", a cancel at any step leaves the file byte for byte as it was, and the
 * screen never shows a provider key in full. (test/e2e/setup-wizard.test.ts drives the same
 * wizard on a real pseudo-terminal.)
 */

import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { parseEnvFile } from "../../../src/config/env-file.ts";
import { ConfigError } from "../../../src/config/paths.ts";
import { runSetupWizard, type SetupWizardResult } from "../../../setup/wizard.ts";
import { createTestServiceAccount } from "../../support/service-accounts.ts";

const DOWN = "\x1b[B";
const UP = "\x1b[A";
const ENTER = "\r";
const CTRL_C = "\x03";
const PASTE_START = "\x1b[200~";
const PASTE_END = "\x1b[201~";
const WAIT_MS = 4_000;
const TEST_MS = 20_000;
const PROXY_KEY = "existing-proxy-key-0123456789";
const EXISTING = [
  "# my proxy",
  `PROXY_API_KEY=${PROXY_KEY}`,
  "",
  "# keys",
  "GROQ_API_KEY=gsk_existing_key_1111",
  "export UNRELATED = value # keep",
  "",
].join("\r\n");

interface Driver {
  result: Promise<SetupWizardResult>;
  /** Waits until `text` appears after what earlier waits consumed. */
  waitFor(text: string): Promise<void>;
  /** Waits for `prompt`, then types `keys`. */
  answer(prompt: string, ...keys: string[]): Promise<void>;
  /** Waits for the main menu and moves to `label`, then presses Enter. */
  menu(label: string): Promise<void>;
  screen(): string;
}

function envFile(text?: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "lkp-wizard-")), ".env");
  if (text !== undefined) writeFileSync(path, text, { mode: 0o644 });
  return path;
}

function startWizard(envPath: string): Driver {
  // Looks like a terminal, so the wizard takes its terminal paths (raw mode, paste folding).
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input });
  let raw = "";
  const output = new Writable({
    write(chunk, _encoding, done) {
      raw += chunk.toString();
      done();
    },
  });
  const screen = () => raw.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
  let consumed = 0;
  const waitFor = async (text: string) => {
    for (let waited = 0; waited < WAIT_MS; waited += 10) {
      const at = screen().indexOf(text, consumed);
      if (at !== -1) {
        consumed = at + text.length;
        return;
      }
      await Bun.sleep(10);
    }
    throw new Error(`The wizard never showed "${text}". Screen:\n${screen().slice(-1500)}`);
  };
  const type = async (keys: string[]) => {
    for (const key of keys) {
      input.write(key);
      await Bun.sleep(5);
    }
  };
  return {
    result: runSetupWizard({ envPath, stdin: input, stdout: output, checkKeys: false }),
    waitFor,
    answer: async (prompt, ...keys) => {
      await waitFor(prompt);
      await type(keys);
    },
    menu: async (label) => {
      await waitFor("What would you like to do?");
      const options = screen()
        .slice(consumed)
        .split("\n")
        .filter((line) => /[●○] /.test(line));
      const active = options.findIndex((line) => line.includes("●"));
      const target = options.findIndex((line) => line.includes(label));
      if (target === -1) throw new Error(`No menu option "${label}" in:\n${options.join("\n")}`);
      const moves = target - active;
      await type([...Array(Math.abs(moves)).fill(moves > 0 ? DOWN : UP), ENTER]);
    },
    screen,
  };
}

describe("saving", () => {
  test("first run: keys and settings are written on Save and exit; the new proxy key is shown once", async () => {
    const envPath = envFile();
    const w = startWizard(envPath);
    await w.answer("Which provider?", "groq", ENTER);
    await w.answer("Where is Groq?", ENTER);
    // A bracketed paste of several lines, as a terminal delivers it.
    await w.answer("Paste your Groq key(s)", `${PASTE_START}gsk_first_key_0001\rgsk_second_key_0002\rgsk_first_key_0001\r${PASTE_END}`, ENTER);
    await w.waitFor("1 repeated in the paste, dropped");
    await w.menu("Server settings");
    await w.answer("Listen address", DOWN, ENTER);
    await w.answer("Port to listen on", "\x7f".repeat(4), "9123", ENTER);
    await w.answer("Back to the menu", UP, ENTER);
    await w.menu("Save and exit");
    expect(await w.result).toBe("saved");

    const vars = parseEnvFile(readFileSync(envPath, "utf8"));
    expect(vars.get("GROQ_API_KEY_1")).toBe("gsk_first_key_0001");
    expect(vars.get("GROQ_API_KEY_2")).toBe("gsk_second_key_0002");
    expect(vars.get("PORT")).toBe("9123");
    const proxyKey = vars.get("PROXY_API_KEY")!;
    expect(proxyKey).toMatch(/^lkp-[A-Za-z0-9_-]{43}$/);
    expect(statSync(envPath).mode & 0o777).toBe(0o600);

    const screen = w.screen();
    // Only on the last screen: once in its box, and in the four lines to paste (curl, OpenAI SDKs,
    // Claude Code, Codex), which use the real key rather than a placeholder.
    const lastScreen = screen.slice(screen.indexOf("Saved "));
    expect(screen.split(proxyKey).length - 1).toBe(5);
    expect(lastScreen.split(proxyKey).length - 1).toBe(5);
    expect(lastScreen).not.toContain("<proxy key>");
    for (const client of ["curl:", "OpenAI SDKs:", "Claude Code:", "Codex:"]) expect(lastScreen).toContain(client);
    expect(screen).toContain("your proxy key is shown once, copy it now");
    expect(screen).toContain("http://127.0.0.1:9123/v1");
    expect(screen).not.toContain("gsk_first_key_0001");
    expect(screen).not.toContain("gsk_second_key_0002");
  }, TEST_MS);

  test("an existing file keeps comments, CRLF and unknown lines; the proxy key is kept and not shown", async () => {
    const envPath = envFile(EXISTING);
    const w = startWizard(envPath);
    await w.menu("Add provider keys");
    await w.answer("Which provider?", "groq", ENTER);
    await w.answer("Where is Groq?", ENTER);
    await w.answer("Paste your Groq key(s)", "gsk_existing_key_1111 gsk_new_key_2222", ENTER);
    await w.waitFor("1 already configured, skipped");
    await w.menu("Save and exit");
    expect(await w.result).toBe("saved");
    expect(readFileSync(envPath, "utf8")).toBe(
      EXISTING.replace("gsk_existing_key_1111\r\n", "gsk_existing_key_1111\r\nGROQ_API_KEY_2=gsk_new_key_2222\r\n"),
    );
    expect(w.screen()).not.toContain(PROXY_KEY);
  }, TEST_MS);

  test("removing a key", async () => {
    const envPath = envFile(EXISTING);
    const w = startWizard(envPath);
    await w.menu("Remove a key");
    await w.answer("Remove a key of which provider?", ENTER);
    await w.answer("Which groq key?", ENTER);
    await w.waitFor("Removed GROQ_API_KEY …1111");
    await w.menu("Save and exit");
    // That was the only provider key: the wizard warns that the proxy would not start.
    await w.answer("Save anyway?", "y");
    expect(await w.result).toBe("saved");
    expect(readFileSync(envPath, "utf8")).toBe(EXISTING.replace("GROQ_API_KEY=gsk_existing_key_1111\r\n", ""));
  }, TEST_MS);

  test("a custom provider is named, given a base URL, and its keys added", async () => {
    const envPath = envFile(EXISTING);
    const w = startWizard(envPath);
    await w.menu("Add provider keys");
    await w.answer("Which provider?", "custom", ENTER);
    await w.answer("Name for this provider", "Bad-Name", ENTER);
    await w.waitFor("lower-case letters");
    await w.answer("", "\x7f".repeat(8), "local_llm", ENTER);
    await w.answer("Base URL of local_llm", "http://127.0.0.1:8000/v1/", ENTER);
    await w.answer("Paste your local_llm key(s)", "local-placeholder-key", ENTER);
    await w.menu("Save and exit");
    expect(await w.result).toBe("saved");
    const vars = parseEnvFile(readFileSync(envPath, "utf8"));
    expect(vars.get("LOCAL_LLM_API_BASE")).toBe("http://127.0.0.1:8000/v1");
    expect(vars.get("LOCAL_LLM_API_KEY_1")).toBe("local-placeholder-key");
  }, TEST_MS);

  test("a known provider is re-pointed at another base URL without typing its key again", async () => {
    const envPath = envFile(EXISTING);
    const w = startWizard(envPath);
    await w.menu("Add provider keys");
    await w.answer("Which provider?", "groq", ENTER);
    await w.answer("Where is Groq?", DOWN, ENTER);
    await w.answer("Base URL of groq", "http://127.0.0.1:9999/openai/v1/", ENTER);
    await w.answer("(empty keeps the current keys)", ENTER);
    await w.waitFor("Groq is now reached at http://127.0.0.1:9999/openai/v1");
    await w.menu("Save and exit");
    expect(await w.result).toBe("saved");
    const vars = parseEnvFile(readFileSync(envPath, "utf8"));
    expect(vars.get("GROQ_API_BASE")).toBe("http://127.0.0.1:9999/openai/v1");
    expect(vars.get("GROQ_API_KEY")).toBe("gsk_existing_key_1111");
  }, TEST_MS);

  test("a local server of the catalog (Ollama) is its address alone: no key is asked, the usual address is written", async () => {
    const envPath = envFile(EXISTING);
    const w = startWizard(envPath);
    await w.menu("Add provider keys");
    await w.answer("Which provider?", "ollama", ENTER);
    await w.answer("Where is Ollama?", ENTER);
    await w.waitFor("Ollama at http://localhost:11434/v1, no key needed");
    await w.menu("Save and exit");
    expect(await w.result).toBe("saved");
    expect(w.screen()).not.toContain("Paste your Ollama key");
    const vars = parseEnvFile(readFileSync(envPath, "utf8"));
    expect(vars.get("OLLAMA_API_BASE")).toBe("http://localhost:11434/v1");
    expect([...vars.keys()].filter((name) => name.startsWith("OLLAMA_API_KEY"))).toEqual([]);
  }, TEST_MS);

  test("Vertex: a service-account file path as the key, then its project and location asked; an empty answer leaves a setting unset", async () => {
    const envPath = envFile(EXISTING);
    const w = startWizard(envPath);
    await w.menu("Add provider keys");
    await w.answer("Which provider?", "vertex", ENTER);
    await w.answer("Where is Google Vertex AI?", ENTER);
    const saFile = join(mkdtempSync(join(tmpdir(), "lkp-wizard-sa-")), "sa-prod.json");
    writeFileSync(saFile, (await createTestServiceAccount({ name: "prod", projectId: "p", tokenUri: "https://oauth2.googleapis.com/token" })).json);
    await w.answer("Paste your Google Vertex AI key(s)", "/secrets/missing.json", ENTER);
    await w.waitFor("This key names the key file /secrets/missing.json, which cannot be read (ENOENT). Not added.");
    await w.menu("Add provider keys");
    await w.answer("Which provider?", "vertex", ENTER);
    await w.answer("Where is Google Vertex AI?", ENTER);
    await w.answer("Paste your Google Vertex AI key(s)", saFile, ENTER);
    await w.answer("Google Cloud project id", ENTER);
    await w.answer("Vertex AI location", "europe-west4", ENTER);
    await w.menu("Save and exit");
    expect(await w.result).toBe("saved");
    const vars = parseEnvFile(readFileSync(envPath, "utf8"));
    expect([...vars].filter(([name]) => name.startsWith("VERTEX_API_KEY"))).toEqual([["VERTEX_API_KEY_1", saFile]]);
    expect(vars.get("VERTEX_LOCATION")).toBe("europe-west4");
    expect(vars.has("VERTEX_PROJECT")).toBe(false);
  }, TEST_MS);

  test("a name that is no known provider leaves the custom entry to pick, not \"No matches found\"", async () => {
    const envPath = envFile(EXISTING);
    const w = startWizard(envPath);
    await w.menu("Add provider keys");
    await w.answer("Which provider?", "vllm");
    await w.waitFor("(1 match)");
    expect(w.screen()).not.toContain("No matches found");
    await w.answer("", ENTER);
    await w.waitFor("Name for this provider");
    await w.answer("", CTRL_C);
    expect(await w.result).toBe("cancelled");
  }, TEST_MS);

  test("Save and exit with nothing changed writes nothing", async () => {
    const envPath = envFile(EXISTING);
    const before = statSync(envPath);
    const w = startWizard(envPath);
    await w.menu("Save and exit");
    expect(await w.result).toBe("unchanged");
    expect(readFileSync(envPath, "utf8")).toBe(EXISTING);
    expect(statSync(envPath).mtimeMs).toBe(before.mtimeMs);
  }, TEST_MS);
});

describe("cancelling leaves the file exactly as it was", () => {
  const cancelAt: Record<string, (w: Driver) => Promise<void>> = {
    "the main menu after adding keys": async (w) => {
      await w.menu("Add provider keys");
      await w.answer("Which provider?", "gemini", ENTER);
      await w.answer("Where is Google Gemini?", ENTER);
      await w.answer("Paste your Google Gemini key(s)", "AIzaSyNewKey000000001", ENTER);
      await w.answer("What would you like to do?", CTRL_C);
    },
    "the provider search": async (w) => {
      await w.answer("What would you like to do?", ENTER);
      await w.answer("Which provider?", "gro", CTRL_C);
    },
    "the key prompt, half typed": async (w) => {
      await w.menu("Add provider keys");
      await w.answer("Which provider?", "groq", ENTER);
      await w.answer("Where is Groq?", ENTER);
      await w.answer("Paste your", "sk-half-typed", CTRL_C);
    },
    "the port prompt after rotating the proxy key": async (w) => {
      await w.menu("Rotate the proxy key");
      await w.answer("Replace the proxy key?", "y");
      await w.menu("Server settings");
      await w.answer("Listen address", DOWN, ENTER);
      await w.answer("Port to listen on", "1", CTRL_C);
    },
    "the question whether to add a flagged key (Escape)": async (w) => {
      await w.menu("Add provider keys");
      await w.answer("Which provider?", "groq", ENTER);
      await w.answer("Where is Groq?", ENTER);
      await w.answer("Paste your Groq key(s)", "short", ENTER);
      await w.answer("Add it anyway?", "\x1b");
    },
  };
  for (const [where, steps] of Object.entries(cancelAt)) {
    test(`at ${where}`, async () => {
      const envPath = envFile(EXISTING);
      const before = statSync(envPath);
      const w = startWizard(envPath);
      await steps(w);
      expect(await w.result).toBe("cancelled");
      expect(readFileSync(envPath, "utf8")).toBe(EXISTING);
      const after = statSync(envPath);
      expect(after.mtimeMs).toBe(before.mtimeMs);
      expect(after.mode & 0o777).toBe(0o644);
      expect(w.screen()).toContain("was not changed");
    }, TEST_MS);
  }

  test("on a first run no file is created", async () => {
    const envPath = envFile();
    const w = startWizard(envPath);
    await w.answer("Which provider?", CTRL_C);
    expect(await w.result).toBe("cancelled");
    expect(() => statSync(envPath)).toThrow();
  }, TEST_MS);

  test("Exit without saving asks before discarding changes", async () => {
    const envPath = envFile(EXISTING);
    const w = startWizard(envPath);
    await w.menu("Rotate the proxy key");
    await w.answer("Replace the proxy key?", "y");
    await w.menu("Exit without saving");
    await w.answer("Discard 1 unsaved change?", "y");
    expect(await w.result).toBe("cancelled");
    expect(readFileSync(envPath, "utf8")).toBe(EXISTING);
  }, TEST_MS);
});

test("a broken .env is refused before any prompt, with the line number only", async () => {
  const envPath = envFile("PROXY_API_KEY=x\nsk-pasted-on-its-own\n");
  const opened = runSetupWizard({ envPath, stdin: new PassThrough(), stdout: new PassThrough() });
  await expect(opened).rejects.toBeInstanceOf(ConfigError);
  await expect(opened).rejects.toThrow(`Line 2 of ${envPath} is not a KEY=value line.`);
});
