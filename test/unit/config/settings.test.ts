/**
 * loadSettings end to end over a temp folder: defaults, precedence, folders, and the one
 * sentence each bad or missing value produces.
 */

import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { CliArgs } from "../../../src/config/cli-args.ts";
import { ConfigError, EXAMPLE_PROXY_API_KEY, loadSettings, type Settings } from "../../../src/config/settings.ts";

const SECRET = "proxy-secret-1234567890";

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "lkp-settings-"));
}

interface Setup {
  file?: string | null;
  env?: Record<string, string | undefined>;
  cli?: Partial<CliArgs>;
  cwd?: string;
}

async function load(setup: Setup = {}): Promise<Settings> {
  const cwd = setup.cwd ?? tempDir();
  const file = setup.file === undefined ? `PROXY_API_KEY=${SECRET}\nOPENAI_API_KEY=sk-file\n` : setup.file;
  if (file !== null) writeFileSync(join(cwd, ".env"), file);
  return loadSettings({
    cli: { command: "serve", ...setup.cli },
    env: { HOME: "/home/tester", ...setup.env },
    cwd,
    execPath: join(cwd, "bin", "llm-key-proxy"),
    isCompiled: false,
  });
}

async function errorOf(setup: Setup): Promise<ConfigError> {
  try {
    await load(setup);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected loadSettings to fail");
}

describe("loadSettings", () => {
  test("defaults", async () => {
    const cwd = tempDir();
    const s = await load({ cwd });
    expect(s).toEqual({
      host: "127.0.0.1",
      port: 8000,
      proxyApiKey: SECRET,
      providers: [expect.objectContaining({ name: "openai", keys: [{ secret: "sk-file" }] })],
      routes: [],
      recoveryProbeScheduleMs: [600_000, 1_800_000, 7_200_000, 21_600_000],
      promptCacheAffinityTtlMs: 300_000,
      envFilePath: join(cwd, ".env"),
      dataDir: join(cwd, "data"),
      logDir: join(cwd, "logs"),
      requestLogging: false,
      redisUrl: undefined,
      redisPrefix: "lkp:",
      logLevel: "info",
      globalTimeoutMs: 30_000,
      connectTimeoutMs: 10_000,
      firstByteTimeoutMs: undefined,
      streamIdleTimeoutMs: 60_000,
      dailyResetMinuteUtc: 180,
      maxBodyBytes: 32 * 1024 * 1024,
      requestBodyTimeoutMs: 30_000,
      maxUpstreamResponseBytes: 64 * 1024 * 1024,
      modelsCacheTtlMs: 600_000,
      metricsRequireAuth: true,
      responsesTtlMs: 30 * 24 * 60 * 60 * 1000,
      responsesStoreMaxBytes: 512 * 1024 * 1024,
      warnings: [],
    });
  });

  test("every variable read from the file", async () => {
    const s = await load({
      file: [
        `PROXY_API_KEY="${SECRET}"`,
        "OPENAI_API_KEY=sk-1",
        "HOST=0.0.0.0",
        "PORT=9000",
        "REQUEST_LOGGING=TRUE",
        "LOG_LEVEL=Debug",
        "GLOBAL_TIMEOUT=45.5",
        "CONNECT_TIMEOUT=2",
        "FIRST_BYTE_TIMEOUT=.25",
        "STREAM_IDLE_TIMEOUT=120",
        "DAILY_RESET_TIME_UTC=7:05",
        "MAX_BODY_SIZE_MB=0.5",
        "REQUEST_BODY_TIMEOUT=2.5",
        "MAX_UPSTREAM_RESPONSE_MB=1",
        "MODELS_CACHE_TTL=0",
        "RESPONSES_TTL_DAYS=0.5",
        "RESPONSES_STORE_MAX_MB=2",
        `DATA_DIR=${resolve("/var/lkp")}`,
        "LOG_DIR=~/lkp-logs",
      ].join("\n"),
    });
    expect(s).toMatchObject({
      host: "0.0.0.0",
      port: 9000,
      requestLogging: true,
      logLevel: "debug",
      globalTimeoutMs: 45_500,
      connectTimeoutMs: 2_000,
      firstByteTimeoutMs: 250,
      streamIdleTimeoutMs: 120_000,
      dailyResetMinuteUtc: 7 * 60 + 5,
      maxBodyBytes: 512 * 1024,
      requestBodyTimeoutMs: 2_500,
      maxUpstreamResponseBytes: 1024 * 1024,
      modelsCacheTtlMs: 0,
      responsesTtlMs: 12 * 60 * 60 * 1000,
      responsesStoreMaxBytes: 2 * 1024 * 1024,
      dataDir: resolve("/var/lkp"),
      logDir: join("/home/tester", "lkp-logs"),
    });
  });

  test("RECOVERY_PROBES: waits in s, m or h (a bare number is seconds), or off", async () => {
    expect((await load({ env: { RECOVERY_PROBES: "90, 5m,1.5h" } })).recoveryProbeScheduleMs).toEqual([90_000, 300_000, 5_400_000]);
    expect((await load({ env: { RECOVERY_PROBES: "OFF" } })).recoveryProbeScheduleMs).toEqual([]);
  });

  test("FIRST_BYTE_TIMEOUT unset leaves the per-attempt limit to the engine's share of GLOBAL_TIMEOUT", async () => {
    const unset = await load({ env: { GLOBAL_TIMEOUT: "12" } });
    expect(unset.firstByteTimeoutMs).toBeUndefined();
    const blank = await load({ env: { GLOBAL_TIMEOUT: "12", FIRST_BYTE_TIMEOUT: " " } });
    expect(blank.firstByteTimeoutMs).toBeUndefined();
  });

  test("blank values mean the default", async () => {
    const s = await load({ env: { PORT: "", GLOBAL_TIMEOUT: "  ", LOG_LEVEL: "" } });
    expect(s.port).toBe(8000);
    expect(s.globalTimeoutMs).toBe(30_000);
    expect(s.logLevel).toBe("info");
  });

  test("the process environment wins over the .env file", async () => {
    const s = await load({
      file: `PROXY_API_KEY=from-file\nPORT=1111\nGROQ_API_KEY=g-file\nOPENAI_API_KEY=o-file\n`,
      env: { PROXY_API_KEY: "from-env", PORT: "2222", OPENAI_API_KEY: "o-env", MISTRAL_API_KEY: "m-env" },
    });
    expect(s.proxyApiKey).toBe("from-env");
    expect(s.port).toBe(2222);
    // Overridden variables keep their file position; environment-only ones come after.
    expect(s.providers.map((p) => [p.name, p.keys.map((key) => key.secret)])).toEqual([
      ["groq", ["g-file"]],
      ["openai", ["o-env"]],
      ["mistral", ["m-env"]],
    ]);
  });

  test("command-line flags win over everything", async () => {
    const cwd = tempDir();
    const s = await load({
      cwd,
      env: { HOST: "0.0.0.0", PORT: "2222", REQUEST_LOGGING: "true", DATA_DIR: "/env/data" },
      cli: { host: "::1", port: 3333, enableRequestLogging: false, dataDir: "cli-data" },
    });
    expect(s).toMatchObject({ host: "::1", port: 3333, requestLogging: false, dataDir: join(cwd, "cli-data") });
  });

  test("relative DATA_DIR and LOG_DIR start from the .env folder", async () => {
    const root = tempDir();
    const conf = join(root, "conf");
    const cwd = join(root, "cwd");
    mkdirSync(conf);
    mkdirSync(cwd);
    writeFileSync(join(conf, "x.env"), `PROXY_API_KEY=${SECRET}\nGROQ_API_KEY=g\nDATA_DIR=state\n`);
    const s = await load({ cwd, file: null, cli: { envFile: "../conf/x.env" } });
    expect(s.envFilePath).toBe(join(conf, "x.env"));
    expect(s.dataDir).toBe(join(conf, "state"));
    expect(s.logDir).toBe(join(conf, "logs"));
  });

  test("no .env file: configuration from the environment alone", async () => {
    const cwd = tempDir();
    const s = await load({ cwd, file: null, env: { PROXY_API_KEY: SECRET, GROQ_API_KEY: "g" } });
    expect(s.envFilePath).toBeNull();
    expect(s.dataDir).toBe(join(cwd, "data"));
    expect(s.providers.map((p) => p.name)).toEqual(["groq"]);
  });

  test("unrelated keys in the environment become warnings, not errors", async () => {
    const s = await load({ env: { LANGCHAIN_API_KEY: "lc" } });
    expect(s.providers.map((p) => p.name)).toEqual(["openai"]);
    expect(s.warnings).toEqual([expect.stringContaining("LANGCHAIN_API_KEY")]);
  });

  test("an unknown provider in the .env file stops start-up", async () => {
    const e = await errorOf({ file: `PROXY_API_KEY=${SECRET}\nMYLLM_API_KEY=k\n` });
    expect(e.message).toContain("MYLLM_API_BASE");
    expect(e.kind).toBe("invalid");
  });

  test("a custom provider from the .env file", async () => {
    const s = await load({
      file: `PROXY_API_KEY=${SECRET}\nLOCAL_API_BASE=http://127.0.0.1:11434/v1\nLOCAL_API_KEY=none\n`,
    });
    expect(s.providers[0]).toMatchObject({ name: "local", custom: true, baseUrl: "http://127.0.0.1:11434/v1" });
  });
});

describe("missing configuration", () => {
  test("PROXY_API_KEY not set names the .env path and the wizard", async () => {
    const cwd = tempDir();
    const e = await errorOf({ cwd, file: "OPENAI_API_KEY=sk-1\n" });
    expect(e.message).toBe(
      `PROXY_API_KEY is not set: add PROXY_API_KEY=<a long random secret> to ${join(cwd, ".env")} (or run llm-key-proxy setup).`,
    );
    expect(e.kind).toBe("missing");
  });

  test("a blank PROXY_API_KEY counts as not set", async () => {
    const e = await errorOf({ file: "PROXY_API_KEY=  \nOPENAI_API_KEY=sk-1\n" });
    expect(e.message).toStartWith("PROXY_API_KEY is not set");
  });

  test("with no .env at all the message names where it would be", async () => {
    const cwd = tempDir();
    const e = await errorOf({ cwd, file: null });
    expect(e.message).toContain(join(cwd, ".env"));
    expect(e.kind).toBe("missing");
  });

  test("the .env.example placeholder is refused", async () => {
    const e = await errorOf({ file: `PROXY_API_KEY=${EXAMPLE_PROXY_API_KEY}\nOPENAI_API_KEY=k\n` });
    expect(e.message).toContain("PROXY_API_KEY is still the placeholder");
  });

  test("no provider keys shows the form to add", async () => {
    const cwd = tempDir();
    const e = await errorOf({ cwd, file: `PROXY_API_KEY=${SECRET}\nOPENAI_API_KEY=\n` });
    expect(e.message).toStartWith(`No provider keys were found in ${join(cwd, ".env")} or the environment:`);
    expect(e.message).toContain("<PROVIDER>_API_KEY=<key>");
    expect(e.message).not.toContain(SECRET);
    expect(e.kind).toBe("missing");
  });

  test("no provider keys also lists environment variables that were skipped", async () => {
    const e = await errorOf({ file: `PROXY_API_KEY=${SECRET}\n`, env: { VLLM_API_KEY: "x" } });
    expect(e.message).toContain("VLLM_API_KEY");
  });
});

describe("bad values", () => {
  const cases: [string, string, string][] = [
    ["GLOBAL_TIMEOUT", "abc", 'GLOBAL_TIMEOUT must be a positive number of seconds (got "abc").'],
    ["GLOBAL_TIMEOUT", "0", 'GLOBAL_TIMEOUT must be a positive number of seconds (got "0").'],
    ["GLOBAL_TIMEOUT", "-5", 'GLOBAL_TIMEOUT must be a positive number of seconds (got "-5").'],
    ["GLOBAL_TIMEOUT", "99999999", 'GLOBAL_TIMEOUT must be a positive number of seconds no larger than 2147483 (got "99999999").'],
    ["CONNECT_TIMEOUT", "10s", 'CONNECT_TIMEOUT must be a positive number of seconds (got "10s").'],
    ["FIRST_BYTE_TIMEOUT", "1e3", 'FIRST_BYTE_TIMEOUT must be a positive number of seconds (got "1e3").'],
    ["STREAM_IDLE_TIMEOUT", "none", 'STREAM_IDLE_TIMEOUT must be a positive number of seconds (got "none").'],
    ["MODELS_CACHE_TTL", "-1", 'MODELS_CACHE_TTL must be a number of seconds, 0 or more (got "-1").'],
    ["DAILY_RESET_TIME_UTC", "25:00", 'DAILY_RESET_TIME_UTC must be HH:MM in 24-hour UTC (got "25:00").'],
    ["DAILY_RESET_TIME_UTC", "3am", 'DAILY_RESET_TIME_UTC must be HH:MM in 24-hour UTC (got "3am").'],
    ["DAILY_RESET_TIME_UTC", "12:60", 'DAILY_RESET_TIME_UTC must be HH:MM in 24-hour UTC (got "12:60").'],
    ["PORT", "0", 'PORT must be a whole number from 1 to 65535 (got "0").'],
    ["PORT", "70000", 'PORT must be a whole number from 1 to 65535 (got "70000").'],
    ["PORT", "http", 'PORT must be a whole number from 1 to 65535 (got "http").'],
    ["HOST", "my host", 'HOST must be a host name or IP address such as 127.0.0.1 or 0.0.0.0 (got "my host").'],
    ["REQUEST_LOGGING", "yes", 'REQUEST_LOGGING must be true, false, 1 or 0 (got "yes").'],
    ["LOG_LEVEL", "verbose", 'LOG_LEVEL must be one of debug, info, warn or error (got "verbose").'],
    ["MAX_BODY_SIZE_MB", "0", 'MAX_BODY_SIZE_MB must be a positive number of megabytes (got "0").'],
    ["MAX_BODY_SIZE_MB", "lots", 'MAX_BODY_SIZE_MB must be a positive number of megabytes (got "lots").'],
    ["REQUEST_BODY_TIMEOUT", "0", 'REQUEST_BODY_TIMEOUT must be a positive number of seconds (got "0").'],
    ["MAX_UPSTREAM_RESPONSE_MB", "-1", 'MAX_UPSTREAM_RESPONSE_MB must be a positive number of megabytes (got "-1").'],
    ["RECOVERY_PROBES", "sometimes", 'RECOVERY_PROBES must be off, or waits such as "10m,30m,2h,6h" (s, m or h; a bare number is seconds) (got "sometimes").'],
  ];
  for (const [name, value, message] of cases) {
    test(`${name}=${value}`, async () => {
      const e = await errorOf({ env: { [name]: value } });
      expect(e.message).toBe(message);
      expect(e.kind).toBe("invalid");
    });
  }

  test("the same sentence when the bad value is in the .env file", async () => {
    const e = await errorOf({ file: `PROXY_API_KEY=${SECRET}\nOPENAI_API_KEY=k\nGLOBAL_TIMEOUT=abc\n` });
    expect(e.message).toBe('GLOBAL_TIMEOUT must be a positive number of seconds (got "abc").');
  });

  test("a long bad value is shortened", async () => {
    const e = await errorOf({ env: { LOG_LEVEL: "x".repeat(200) } });
    expect(e.message.length).toBeLessThan(150);
  });

  test("no error message ever contains a secret", async () => {
    const messages = [
      (await errorOf({ file: `PROXY_API_KEY=${SECRET}\nOPENAI_API_KEY=sk-1 sk-2\n` })).message,
      (await errorOf({ file: `PROXY_API_KEY=${SECRET}\nOPENAI_API_KEY=sk-1\nPORT=x\n` })).message,
      (await errorOf({ file: `PROXY_API_KEY=${SECRET}\nsk-pasted-alone\n` })).message,
    ];
    for (const m of messages) {
      expect(m).not.toContain(SECRET);
      expect(m).not.toContain("sk-");
    }
  });
});
