/**
 * Known providers: which wire family each speaks, where it lives, and what to call it.
 * A provider not listed here can still be used by setting `<NAME>_API_BASE` (custom
 * OpenAI-compatible provider).
 */

export type WireFamily = "openai" | "gemini" | "anthropic";

export interface CatalogEntry {
  displayName: string;
  family: WireFamily;
  /** Base URL including the API version path; requests go to `${baseUrl}/chat/completions`. */
  baseUrl: string;
}

export const PROVIDER_CATALOG: Readonly<Record<string, CatalogEntry>> = {
  openai: { displayName: "OpenAI", family: "openai", baseUrl: "https://api.openai.com/v1" },
  gemini: { displayName: "Google Gemini", family: "gemini", baseUrl: "https://generativelanguage.googleapis.com/v1beta" },
  anthropic: { displayName: "Anthropic", family: "anthropic", baseUrl: "https://api.anthropic.com/v1" },
  openrouter: { displayName: "OpenRouter", family: "openai", baseUrl: "https://openrouter.ai/api/v1" },
  groq: { displayName: "Groq", family: "openai", baseUrl: "https://api.groq.com/openai/v1" },
  mistral: { displayName: "Mistral", family: "openai", baseUrl: "https://api.mistral.ai/v1" },
  nvidia_nim: { displayName: "NVIDIA NIM", family: "openai", baseUrl: "https://integrate.api.nvidia.com/v1" },
  chutes: { displayName: "Chutes", family: "openai", baseUrl: "https://llm.chutes.ai/v1" },
  cohere: { displayName: "Cohere", family: "openai", baseUrl: "https://api.cohere.ai/compatibility/v1" },
  deepseek: { displayName: "DeepSeek", family: "openai", baseUrl: "https://api.deepseek.com/v1" },
  xai: { displayName: "xAI", family: "openai", baseUrl: "https://api.x.ai/v1" },
  together: { displayName: "Together AI", family: "openai", baseUrl: "https://api.together.xyz/v1" },
  fireworks: { displayName: "Fireworks AI", family: "openai", baseUrl: "https://api.fireworks.ai/inference/v1" },
  cerebras: { displayName: "Cerebras", family: "openai", baseUrl: "https://api.cerebras.ai/v1" },
  perplexity: { displayName: "Perplexity", family: "openai", baseUrl: "https://api.perplexity.ai" },
  sambanova: { displayName: "SambaNova", family: "openai", baseUrl: "https://api.sambanova.ai/v1" },
};

export function catalogEntry(provider: string): CatalogEntry | undefined {
  return Object.hasOwn(PROVIDER_CATALOG, provider) ? PROVIDER_CATALOG[provider] : undefined;
}
