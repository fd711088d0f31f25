/** The adapter for each wire family of the catalog. */

import type { ProviderAdapter } from "./adapter.ts";
import type { WireFamily } from "./catalog.ts";
import { anthropicAdapter } from "./anthropic/anthropic-adapter.ts";
import { azureAdapter } from "./azure/azure-adapter.ts";
import { bedrockAdapter } from "./bedrock/bedrock-adapter.ts";
import { geminiAdapter } from "./gemini/gemini-adapter.ts";
import { openAIAdapter } from "./openai/openai-adapter.ts";
import { vertexAdapter } from "./vertex/vertex-adapter.ts";

const ADAPTERS: Record<WireFamily, ProviderAdapter> = {
  openai: openAIAdapter,
  azure: azureAdapter,
  bedrock: bedrockAdapter,
  gemini: geminiAdapter,
  anthropic: anthropicAdapter,
  vertex: vertexAdapter,
};

export function adapterFor(family: WireFamily): ProviderAdapter {
  return ADAPTERS[family];
}
