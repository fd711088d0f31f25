/**
 * The real client programs, driven non-interactively through the real proxy, each against every
 * upstream family the proxy serves: Codex CLI (`codex exec`, Responses API on /v1/responses),
 * Claude Code (`claude -p`, /v1/messages) and Gemini CLI (`gemini -p`, the Gemini-native
 * /v1beta front), × an OpenAI-compatible custom provider (`mock/…`), `openai/…`, `gemini/…`,
 * `anthropic/…`, `azure/…` (Azure's v1 API on a key of its own endpoint), `vertex/…` (Gemini and
 * Claude on Vertex AI, an API key with a project), `bedrock/…` (Converse, a Bedrock API key) and a
 * model route `smart` whose first target is down, so every turn falls through to the second, and a
 * route `limited` whose first target has a declared limit of 1 request per minute.
 *
 * One full tool turn each: the mock upstream (test/support/mock-tool-turn.ts) answers the first
 * generate request with one call of the client's own shell tool running `echo proxy-tool-ok`; the
 * client runs it and sends the result; the mock answers FINAL_TEXT. A case passes when the client
 * exits 0, prints FINAL_TEXT, and the upstream received `proxy-tool-ok` as a tool result.
 *
 * Every client runs with a fresh temp HOME (and CODEX_HOME / CLAUDE_CONFIG_DIR inside it), a temp
 * working folder, telemetry, update checks and error reporting off, and only loopback addresses.
 * HTTPS_PROXY / HTTP_PROXY point at a loopback trap (NO_PROXY keeps 127.0.0.1 direct): all three
 * clients honour it, so any call they try to make beyond loopback (telemetry, update checks,
 * plugin syncs) arrives there as a CONNECT, is refused at once, and fails the case.
 *
 * Gate: the suite runs when the clients are installed (test/real-clients/install.sh, into
 * .cache/real-clients/ or LKP_REAL_CLIENTS_DIR) or when LKP_REAL_CLIENTS=1 (then a missing client
 * fails); LKP_REAL_CLIENTS=0 skips it. Skipped cases say why in their name.
 */

import { describe, expect, test } from "bun:test";
import { createServer } from "node:net";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { FINAL_TEXT, TOOL_OUTPUT, startToolTurnMock, type ToolTurnMock } from "../support/mock-tool-turn.ts";
import { startProxy, type ProxyHarness } from "../support/proxy-harness.ts";

// ---------------------------------------------------------------------------------------------
// The gate
// ---------------------------------------------------------------------------------------------

const REPO = resolve(import.meta.dir, "../..");
const CLIENTS_DIR = process.env.LKP_REAL_CLIENTS_DIR ?? join(REPO, ".cache/real-clients");
const BIN = join(CLIENTS_DIR, "node_modules/.bin");

type ClientName = "codex" | "claude" | "gemini";
const CLIENT_NAMES: readonly ClientName[] = ["codex", "claude", "gemini"];

const switchValue = process.env.LKP_REAL_CLIENTS;
const installed = CLIENT_NAMES.every((name) => existsSync(join(BIN, name)));
const enabled = switchValue === "1" || (switchValue !== "0" && installed);
const skipReason =
  switchValue === "0"
    ? "skipped: LKP_REAL_CLIENTS=0"
    : `skipped: real clients not installed in ${CLIENTS_DIR} (run test/real-clients/install.sh, or set LKP_REAL_CLIENTS=1)`;

/** Whole client run: start-up, two model turns, the tool, shut-down. */
const CLIENT_TIMEOUT_MS = Number(process.env.LKP_REAL_CLIENTS_TIMEOUT_MS ?? 60_000);

// ---------------------------------------------------------------------------------------------
// Upstream families behind the proxy
// ---------------------------------------------------------------------------------------------

interface Upstream {
  name: "openai-compatible" | "openai" | "gemini" | "anthropic" | "azure" | "vertex-gemini" | "vertex-claude" | "bedrock" | "route" | "route-at-limit";
  /** The model as clients name it through the proxy. */
  model: string;
  /** The model the mock must be asked for, when it is not `model` without its provider (a route's serving target). */
  servedAs?: string;
  env(mock: ToolTurnMock): Record<string, string>;
  /** What the upstream must have seen beyond the tool turn itself, as a value to compare. */
  upstreamShape?(mock: ToolTurnMock): unknown;
  expectedShape?: unknown;
}

const UPSTREAMS: readonly Upstream[] = [
  { name: "openai-compatible", model: "mock/tool-turn-model", env: (mock) => ({ MOCK_API_KEY: "mock-upstream-key-0001", MOCK_API_BASE: mock.openaiBase }) },
  // openai/ serves the Responses API natively: Codex's requests pass through to the host's own /responses.
  { name: "openai", model: "openai/tool-turn-model", env: (mock) => ({ OPENAI_API_KEY: "openai-upstream-key-0001", OPENAI_API_BASE: mock.responsesBase }) },
  { name: "gemini", model: "gemini/gemini-2.5-flash", env: (mock) => ({ GEMINI_API_KEY: "gemini-upstream-key-0001", GEMINI_API_BASE: mock.geminiBase }) },
  { name: "anthropic", model: "anthropic/claude-sonnet-4-5", env: (mock) => ({ ANTHROPIC_API_KEY: "anthropic-upstream-key-0001", ANTHROPIC_API_BASE: mock.anthropicBase }) },
  // Azure's v1 API on a key of its own endpoint: every client's dialect translated to its chat completions.
  { name: "azure", model: "azure/tool-turn-deployment", env: (mock) => ({ AZURE_API_KEY_1: "azure-upstream-key-0001", AZURE_API_BASE_1: mock.azureBase }) },
  // Vertex AI with an API key and a project: Gemini at its publisher-model URL, Claude through :streamRawPredict.
  ...(["vertex-gemini", "vertex-claude"] as const).map((name) => ({
    name,
    model: name === "vertex-gemini" ? "vertex/gemini-2.5-flash" : "vertex/claude-sonnet-4-5",
    env: (mock: ToolTurnMock) => ({ VERTEX_API_KEY: "AQ.vertex-upstream-key-0001", VERTEX_PROJECT: "tool-turn-project", VERTEX_LOCATION: "us-east5", VERTEX_API_BASE: mock.vertexBase }),
  })),
  // Bedrock's Converse API with a Bedrock API key: every dialect translated to Converse, streams as binary event-stream frames.
  // A model route whose first target is down (nothing listens on its port): every client's request falls through to the second.
  {
    name: "route",
    model: "smart",
    servedAs: "tool-turn-model",
    env: (mock) => ({
      GEMINI_API_KEY: "gemini-upstream-key-0001",
      GEMINI_API_BASE: "http://127.0.0.1:9/v1beta",
      MOCK_API_KEY: "mock-upstream-key-0001",
      MOCK_API_BASE: mock.openaiBase,
      ROUTE_SMART: "smart => gemini/gemini-2.5-flash, mock/tool-turn-model",
    }),
  },
  // A route whose first target's key has a declared limit of 1 request per minute: the turn's first
  // request takes it, every later one moves to the second target before anything is sent.
  {
    name: "route-at-limit",
    model: "limited",
    servedAs: "tool-turn-model",
    env: (mock) => ({
      MOCK_API_KEY: "mock-upstream-key-0001",
      MOCK_API_BASE: mock.openaiBase,
      RATE_LIMIT_MOCK: "1 rpm",
      SPARE_API_KEY: "spare-upstream-key-0001",
      SPARE_API_BASE: mock.openaiBase,
      ROUTE_LIMITED: "limited => mock/tool-turn-model, spare/tool-turn-model",
    }),
    // The limited key served exactly one request (model listings are not requests to a model); the spare key served the rest.
    upstreamShape: (mock) => {
      const keys = mock.calls.filter((c) => c.kind !== "models").map((c) => c.headers.authorization);
      return { limitedKey: keys.filter((k) => k === "Bearer mock-upstream-key-0001").length, spareKeyServed: keys.includes("Bearer spare-upstream-key-0001") };
    },
    expectedShape: { limitedKey: 1, spareKeyServed: true },
  },
  { name: "bedrock", model: "bedrock/anthropic.claude-3-5-haiku-20241022-v1:0", env: (mock) => ({ BEDROCK_API_KEY: "ABSK-bedrock-upstream-key-0001", BEDROCK_REGION: "us-east-1", BEDROCK_API_BASE: mock.bedrockBase }) },
];

const PROMPT = "Run the shell check with your shell tool, then tell me what it printed.";

// ---------------------------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------------------------

interface Run {
  args: string[];
  env: Record<string, string>;
  /** The client's final answer, from its output. */
  finalText(stdout: string): string;
}

/** Where a client is pointed: the proxy, or (for a control run) the mock upstream itself. */
interface Target {
  /** http://127.0.0.1:PORT, the origin Claude Code and Gemini CLI add their own paths to. */
  url: string;
  /** http://127.0.0.1:PORT/v1, Codex's provider base_url. */
  baseURL: string;
  key: string;
}

interface Client {
  name: ClientName;
  label: string;
  /** The model a control run names, straight to the mock in the client's own wire format. */
  controlModel: string;
  prepare(target: Target, model: string, home: string, work: string, trap: EgressTrap): Run;
}

/** What every client gets: a temp HOME and nothing of the machine's but PATH, plus no telemetry. */
function baseEnv(home: string, trap: EgressTrap): Record<string, string> {
  return {
    // Anything not for loopback goes to the trap instead of the network (see EgressTrap).
    HTTPS_PROXY: trap.url,
    HTTP_PROXY: trap.url,
    ALL_PROXY: trap.url,
    https_proxy: trap.url,
    http_proxy: trap.url,
    all_proxy: trap.url,
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    USERPROFILE: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_CACHE_HOME: join(home, ".cache"),
    XDG_DATA_HOME: join(home, ".local/share"),
    XDG_STATE_HOME: join(home, ".local/state"),
    TMPDIR: join(home, "tmp"),
    LANG: "C.UTF-8",
    TERM: "dumb",
    NO_COLOR: "1",
    CI: "1",
    NO_PROXY: "127.0.0.1,localhost",
    no_proxy: "127.0.0.1,localhost",
    DO_NOT_TRACK: "1",
  };
}

const CODEX: Client = {
  name: "codex",
  label: "Codex CLI 0.171.0",
  controlModel: "tool-turn-model",
  prepare(target, model, home, work, trap) {
    const codexHome = join(home, ".codex");
    mkdirSync(codexHome, { recursive: true });
    // A custom model provider on the Responses API, as the recorded run used; no update check,
    // no analytics, no feedback uploads, no OpenTelemetry export, no ChatGPT login.
    writeFileSync(
      join(codexHome, "config.toml"),
      [
        `model = ${JSON.stringify(model)}`,
        `model_provider = "llm-key-proxy"`,
        `approval_policy = "never"`,
        `sandbox_mode = "read-only"`,
        `check_for_update_on_startup = false`,
        ``,
        `[model_providers.llm-key-proxy]`,
        `name = "llm-key-proxy"`,
        `base_url = ${JSON.stringify(target.baseURL)}`,
        `env_key = "LKP_PROXY_KEY"`,
        `wire_api = "responses"`,
        `request_max_retries = 0`,
        `stream_max_retries = 0`,
        ``,
        `[analytics]`,
        `enabled = false`,
        ``,
        `[feedback]`,
        `enabled = false`,
        ``,
        `[otel]`,
        `exporter = "none"`,
        ``,
        // The curated-plugins sync at start-up asks github.com and chatgpt.com; apps ask chatgpt.com.
        `[features]`,
        `plugins = false`,
        `remote_plugin = false`,
        `apps = false`,
        ``,
      ].join("\n"),
    );
    const lastMessage = join(home, "codex-last-message.txt");
    return {
      args: [join(BIN, "codex"), "exec", "--strict-config", "--skip-git-repo-check", "--ephemeral", "--color", "never", "-C", work, "-o", lastMessage, PROMPT],
      env: { ...baseEnv(home, trap), CODEX_HOME: codexHome, LKP_PROXY_KEY: target.key, RUST_LOG: "error" },
      finalText: () => (existsSync(lastMessage) ? readFileSync(lastMessage, "utf8") : ""),
    };
  },
};

const CLAUDE: Client = {
  name: "claude",
  label: "Claude Code 2.1.332",
  controlModel: "claude-sonnet-4-5",
  prepare(target, model, home, _work, trap) {
    return {
      // Bash is allowed up front: `-p` has nobody to ask for permission.
      args: [join(BIN, "claude"), "-p", PROMPT, "--output-format", "json", "--model", model, "--allowedTools", "Bash", "--max-turns", "4", "--no-session-persistence"],
      env: {
        ...baseEnv(home, trap),
        CLAUDE_CONFIG_DIR: join(home, ".claude"),
        ANTHROPIC_BASE_URL: target.url,
        ANTHROPIC_AUTH_TOKEN: target.key,
        ANTHROPIC_MODEL: model,
        ANTHROPIC_DEFAULT_OPUS_MODEL: model,
        ANTHROPIC_DEFAULT_SONNET_MODEL: model,
        ANTHROPIC_DEFAULT_HAIKU_MODEL: model,
        ANTHROPIC_SMALL_FAST_MODEL: model,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        DISABLE_TELEMETRY: "1",
        DISABLE_ERROR_REPORTING: "1",
        DISABLE_AUTOUPDATER: "1",
        DISABLE_BUG_COMMAND: "1",
        CLAUDE_CODE_DISABLE_TERMINAL_TITLE: "1",
        API_TIMEOUT_MS: "30000",
        CLAUDE_CODE_MAX_RETRIES: "0",
      },
      finalText: (stdout) => {
        const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");
        return typeof result.result === "string" ? result.result : "";
      },
    };
  },
};

const GEMINI: Client = {
  name: "gemini",
  label: "Gemini CLI 0.61.0",
  controlModel: "gemini-2.5-flash",
  prepare(target, model, home, _work, trap) {
    const settingsDir = join(home, ".gemini");
    mkdirSync(settingsDir, { recursive: true });
    // API-key auth (no Google login), no usage statistics, no telemetry, no update checks.
    writeFileSync(
      join(settingsDir, "settings.json"),
      JSON.stringify(
        {
          security: { auth: { selectedType: "gemini-api-key" }, folderTrust: { enabled: false } },
          privacy: { usageStatisticsEnabled: false },
          telemetry: { enabled: false },
          general: { disableAutoUpdate: true, disableUpdateNag: true },
        },
        null,
        2,
      ),
    );
    return {
      // --yolo: in headless mode the shell tool is offered only when it needs no confirmation.
      args: [join(BIN, "gemini"), "-p", PROMPT, "-m", model, "--output-format", "json", "--yolo"],
      env: {
        ...baseEnv(home, trap),
        GEMINI_API_KEY: target.key,
        GOOGLE_GEMINI_BASE_URL: target.url,
        GEMINI_CLI_NO_RELAUNCH: "true",
        GEMINI_SANDBOX: "false",
      },
      finalText: (stdout) => {
        const start = stdout.indexOf("{");
        const result = start >= 0 ? JSON.parse(stdout.slice(start)) : {};
        return typeof result.response === "string" ? result.response : "";
      },
    };
  },
};

const CLIENTS: readonly Client[] = [CODEX, CLAUDE, GEMINI];

// ---------------------------------------------------------------------------------------------
// The egress trap
// ---------------------------------------------------------------------------------------------

/**
 * A loopback HTTP proxy that lets nothing through: it records the first line of each request
 * (`CONNECT play.googleapis.com:443 HTTP/1.1`) and answers 403. Under strace, without the offline
 * settings below, Codex looked up github.com, api.github.com, chatgpt.com and ab.chatgpt.com,
 * Claude Code api.anthropic.com, and Gemini CLI sent usage statistics to play.googleapis.com; with
 * HTTPS_PROXY set, each of those arrived here instead.
 */
interface EgressTrap {
  url: string;
  attempts: string[];
  stop(): Promise<void>;
}

async function startEgressTrap(): Promise<EgressTrap> {
  const attempts: string[] = [];
  const server = createServer((socket) => {
    socket.on("error", () => {});
    socket.once("data", (data) => {
      attempts.push(data.toString("latin1").split("\r\n")[0]!);
      socket.end("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    });
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    attempts,
    stop: () => new Promise<void>((closed) => server.close(() => closed())),
  };
}

// ---------------------------------------------------------------------------------------------
// One run
// ---------------------------------------------------------------------------------------------

interface Outcome {
  exitCode: number | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  finalText: string;
  ms: number;
}

async function runClient(run: Run, cwd: string): Promise<Outcome> {
  const started = Date.now();
  const child = Bun.spawn(run.args, { cwd, env: run.env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, CLIENT_TIMEOUT_MS);
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  clearTimeout(timer);
  let finalText = "";
  try {
    finalText = run.finalText(stdout);
  } catch {
    finalText = "";
  }
  return { exitCode: timedOut ? null : exitCode, timedOut, stdout, stderr, finalText, ms: Date.now() - started };
}

/** What a failing case shows: how the client ended, its output, and every request the upstream saw. */
function report(client: Client, upstream: Upstream | undefined, outcome: Outcome, mock: ToolTurnMock): string {
  const cut = (text: string) => (text.length > 4000 ? `${text.slice(0, 2000)}\n…\n${text.slice(-2000)}` : text);
  return [
    `${client.label} × ${upstream ? `${upstream.name} (${upstream.model})` : `mock, no proxy (${client.controlModel})`}: exit ${outcome.timedOut ? `timed out after ${CLIENT_TIMEOUT_MS} ms` : outcome.exitCode} in ${outcome.ms} ms`,
    `final text: ${JSON.stringify(outcome.finalText)}`,
    `--- stdout\n${cut(outcome.stdout)}`,
    `--- stderr\n${cut(outcome.stderr)}`,
    `--- upstream requests\n${mock.describe()}`,
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------------------------

const KEEP_HOMES = process.env.LKP_REAL_CLIENTS_KEEP === "1";

/** Run `client` at the proxy (with `upstream` behind it) or, without one, straight at the mock; check the whole tool turn. */
async function toolTurn(client: Client, upstream: Upstream | undefined): Promise<void> {
  expect(existsSync(join(BIN, client.name)), `${join(BIN, client.name)} is missing: run test/real-clients/install.sh`).toBe(true);
  const [mock, trap] = await Promise.all([startToolTurnMock(), startEgressTrap()]);
  const home = mkdtempSync(join(tmpdir(), `lkp-real-${client.name}-`));
  let proxy: ProxyHarness | undefined;
  try {
    if (upstream) proxy = await startProxy({ env: { ...upstream.env(mock), GLOBAL_TIMEOUT: "20", CONNECT_TIMEOUT: "10", STREAM_IDLE_TIMEOUT: "10" } });
    await turnThrough(client, upstream, mock, trap, home, proxy ? { url: proxy.url, baseURL: proxy.baseURL, key: proxy.proxyKey } : undefined);
  } finally {
    await mock.stop();
    await trap.stop();
    await proxy?.stop();
    if (!KEEP_HOMES) rmSync(home, { recursive: true, force: true });
  }
}

async function turnThrough(client: Client, upstream: Upstream | undefined, mock: ToolTurnMock, trap: EgressTrap, home: string, proxied: Target | undefined): Promise<void> {
  const target: Target = proxied ?? { url: mock.origin, baseURL: mock.responsesBase, key: "mock-direct-key" };
  const work = join(home, "work");
  mkdirSync(work, { recursive: true });
  mkdirSync(join(home, "tmp"), { recursive: true });

  const model = upstream?.model ?? client.controlModel;
  const upstreamModel = upstream?.servedAs ?? model.slice(model.indexOf("/") + 1);
  const outcome = await runClient(client.prepare(target, model, home, work, trap), work);
  const story = `${report(client, upstream, outcome, mock)}\n--- calls beyond loopback (refused)\n${trap.attempts.join("\n") || "(none)"}`;
  if (process.env.LKP_REAL_CLIENTS_VERBOSE === "1") console.log(story);

  const { call, result } = mock.toolTurn();
  // Checked together so a failure shows the whole story, not the first mismatch alone.
  expect(
    {
      exitCode: outcome.exitCode,
      finalTextSeen: outcome.finalText.includes(FINAL_TEXT),
      toolCalled: call !== undefined,
      // Once: the client ran the tool and did not ask again (a lost result would make it loop).
      toolCallsAnswered: mock.generateCalls().filter((c) => c.answer === "tool_call").length,
      // The proxy named the upstream model without its provider prefix.
      upstreamModels: [...new Set(mock.generateCalls().map((c) => c.model))],
      toolResultReachedUpstream: result?.toolResults.some((text) => text.includes(TOOL_OUTPUT)) === true,
      callsBeyondLoopback: trap.attempts,
      ...(upstream?.upstreamShape ? { upstream: upstream.upstreamShape(mock) } : {}),
    },
    story,
  ).toEqual({
    exitCode: 0,
    finalTextSeen: true,
    toolCalled: true,
    toolCallsAnswered: 1,
    upstreamModels: [upstreamModel],
    toolResultReachedUpstream: true,
    callsBeyondLoopback: [],
    ...(upstream?.upstreamShape ? { upstream: upstream.expectedShape } : {}),
  });
  // The result came back in a later request than the one that asked for the tool.
  expect(mock.calls.indexOf(result!)).toBeGreaterThan(mock.calls.indexOf(call!));
}

const caseName = (name: string): string => (enabled ? name : `${name} — ${skipReason}`);

// One at a time: side by side (describe.concurrent) the cases finished little sooner on a 2-CPU
// machine, while each run took several times longer (up to 40 s), too near the timeout.
describe("real clients through the proxy: one full tool turn", () => {
  for (const client of CLIENTS) {
    for (const upstream of UPSTREAMS) {
      test.skipIf(!enabled)(caseName(`${client.label} × ${upstream.name} (${upstream.model})`), () => toolTurn(client, upstream), CLIENT_TIMEOUT_MS + 15_000);
    }
  }
});

// The same turn with no proxy in between: proves the client, its offline settings and the mock
// work here, so a failure above is the proxy's.
describe("control: real clients straight at the mock upstream (no proxy)", () => {
  for (const client of CLIENTS) {
    test.skipIf(!enabled)(caseName(`${client.label} → mock (${client.controlModel})`), () => toolTurn(client, undefined), CLIENT_TIMEOUT_MS + 15_000);
  }
});
