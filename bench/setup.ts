/**
 * What run.ts and profile.ts share: the core split, request bodies, and how a proxy under test is
 * configured and started (its own .env, data and log folders, the fast mock as every upstream).
 */

import { join } from "node:path";
import { PROXY_KEY } from "./reference-passthrough.ts";
import { BUN, startChild, tempDir, writeEnvFile, type Child } from "./processes.ts";

/** Load generators and the mock live here … */
export const LOAD_CORE = "0";
/** … and the server under test here. */
export const SERVER_CORE = "1";

export const MODELS = Array.from({ length: 20 }, (_, i) => `gpt-bench-${i}`);
export const PROMPT = [{ role: "user", content: "Say hello in one short sentence." }];

export const JSON_HEADERS = { "content-type": "application/json" };
export const PROXY_HEADERS = { ...JSON_HEADERS, authorization: `Bearer ${PROXY_KEY}` };

/** A small OpenAI chat request. */
export function chatBody(model: string, stream = false): string {
  return JSON.stringify({ model, messages: PROMPT, ...(stream ? { stream: true } : {}) });
}

/** A Codex-shaped Responses API request: one user message item, `store` false unless asked. */
export function responsesBody(model: string, options: { stream?: boolean; store?: boolean } = {}): string {
  return JSON.stringify({
    model,
    input: [{ type: "message", role: "user", content: [{ type: "input_text", text: PROMPT[0]!.content }] }],
    ...(options.stream ? { stream: true } : {}),
    store: options.store ?? false,
  });
}

/** The .env of one proxy: keys, the mock as upstream, quiet console, its own data and log dirs. */
export function proxyEnv(mockUrl: string, openAIKeys: string[], extra: Record<string, string> = {}): Record<string, string> {
  const dir = tempDir("proxy");
  const keys = Object.fromEntries(openAIKeys.map((key, i) => [i === 0 ? "OPENAI_API_KEY" : `OPENAI_API_KEY_${i + 1}`, key]));
  return {
    PROXY_API_KEY: PROXY_KEY,
    ...keys,
    OPENAI_API_BASE: `${mockUrl}/v1`,
    GEMINI_API_KEY: "gemini-bench-key",
    GEMINI_API_BASE: `${mockUrl}/v1beta`,
    // Console lines at info level would be the bottleneck and are not what is measured.
    LOG_LEVEL: "warn",
    DATA_DIR: join(dir, "data"),
    LOG_DIR: join(dir, "logs"),
    ...extra,
  };
}

/** `bunFlags` go before the script (e.g. --cpu-prof); `processEnv` into the process environment. */
export async function startProxy(
  name: string,
  env: Record<string, string>,
  port: number,
  options: { processEnv?: Record<string, string>; bunFlags?: string[] } = {},
): Promise<Child> {
  const envFile = join(tempDir(`env-${name}`), ".env");
  writeEnvFile(envFile, env);
  return startChild({
    name,
    cmd: [BUN, ...(options.bunFlags ?? []), "--no-env-file", "src/main.ts", "--env-file", envFile, "--port", String(port)],
    cores: SERVER_CORE,
    port,
    env: options.processEnv,
  });
}

/** `count` distinct keys, `<prefix>-00000` … */
export const keyList = (count: number, prefix = "sk-bench"): string[] => Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(5, "0")}`);
