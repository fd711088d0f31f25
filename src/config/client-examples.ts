/**
 * Ready-to-paste lines that call a proxy with the user's own configuration: the address it really
 * listens on and a model of a provider they really configured. The start-up banner prints the
 * curl line; setup's last screen prints one line per client (curl, OpenAI SDKs, Claude Code, Codex).
 */

import { catalogEntry } from "../providers/catalog.ts";

export interface ClientExampleOptions {
  /** `http://127.0.0.1:8000`: where clients reach the proxy (no `/v1`). */
  origin: string;
  /** `provider/model`, from `exampleModel`. */
  model: string;
  /** What to write where the proxy key goes: the key itself, or `$PROXY_API_KEY`. */
  key: string;
}

export interface ClientExample {
  client: string;
  line: string;
}

/**
 * A `provider/model` the user can call: the first configured provider the catalog knows a model
 * for, else the first provider with a placeholder model (a custom host's models are its own).
 */
export function exampleModel(providers: readonly string[]): string {
  for (const provider of providers) {
    const model = catalogEntry(provider)?.exampleModel;
    if (model !== undefined) return `${provider}/${model}`;
  }
  return `${providers[0] ?? "gemini"}/<model>`;
}

/** One chat completion, as a single shell line. */
export function curlLine({ origin, model, key }: ClientExampleOptions): string {
  const body = JSON.stringify({ model, messages: [{ role: "user", content: "Hello" }] });
  return `curl ${origin}/v1/chat/completions -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" -d '${body}'`;
}

/** One line per client that works once pasted into a shell or a program. */
export function clientExamples(options: ClientExampleOptions): ClientExample[] {
  const { origin, model, key } = options;
  const codexProvider = `model_providers.llm-key-proxy={name="llm-key-proxy",base_url="${origin}/v1",env_key="PROXY_API_KEY",wire_api="responses"}`;
  return [
    { client: "curl", line: curlLine(options) },
    { client: "OpenAI SDKs", line: `base_url="${origin}/v1", api_key="${key}", model="${model}"` },
    {
      client: "Claude Code",
      line: `ANTHROPIC_BASE_URL=${origin} ANTHROPIC_AUTH_TOKEN=${key} ANTHROPIC_MODEL=${model} ANTHROPIC_DEFAULT_HAIKU_MODEL=${model} claude`,
    },
    { client: "Codex", line: `PROXY_API_KEY=${key} codex -m ${model} -c model_provider=llm-key-proxy -c '${codexProvider}'` },
  ];
}
