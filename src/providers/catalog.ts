/**
 * Known providers: which wire family each speaks, where it lives, and what to call it.
 * A provider not listed here can still be used by setting `<NAME>_API_BASE` (custom
 * OpenAI-compatible provider).
 */

export type WireFamily = "openai" | "azure" | "gemini" | "anthropic" | "bedrock" | "vertex";

/** Families whose hosts speak OpenAI's own API (chat completions, `/responses`): bodies pass through as the client sent them. */
export function speaksOpenAI(family: WireFamily): boolean {
  return family === "openai" || family === "azure";
}

export interface CatalogEntry {
  displayName: string;
  family: WireFamily;
  /**
   * Base URL including the API version path; requests go to `${baseUrl}/chat/completions`. May
   * hold `{option}` placeholders filled from each key's settings (an Azure resource, a region).
   */
  baseUrl: string;
  /** A model the provider serves, for the ready-to-paste examples the banner and setup print. */
  exampleModel: string;
  /** Where the wizard and `GET /v1/providers` list it. */
  group: ProviderGroup;
  /** A local server that needs no key: its base URL alone configures it, from the environment too. */
  keyless?: boolean;
  /** Settings the family reads per key, each from `<P>_<env>` and `<P>_<env>_<N>`. */
  keyOptions?: readonly KeyOptionSpec[];
  /** A key may be a document kept in a file (a service-account JSON key): a key naming a file is its text. */
  keyFiles?: boolean;
}

/** The catalog's groups, in the order they are listed. */
export const PROVIDER_GROUPS = ["Model makers", "Clouds", "Inference hosts", "Routers and aggregators", "China and Asia", "Embeddings", "Local servers"] as const;
export type ProviderGroup = (typeof PROVIDER_GROUPS)[number];

export interface KeyOptionSpec {
  /** The name the family reads in `Credential.options`. */
  name: string;
  /** The variable name after the provider's prefix: `REGION` for `BEDROCK_REGION`. */
  env: string;
  /** A key with another value is another key (a region or project has its own quotas). */
  identity?: boolean;
  /** What setup asks for it, saying what an empty answer means; options without one are not asked. */
  question?: string;
}

export const PROVIDER_CATALOG: Readonly<Record<string, CatalogEntry>> = {
  openai: { displayName: "OpenAI", group: "Model makers", family: "openai", baseUrl: "https://api.openai.com/v1", exampleModel: "gpt-4o-mini" },
  gemini: { displayName: "Google Gemini", group: "Model makers", family: "gemini", baseUrl: "https://generativelanguage.googleapis.com/v1beta", exampleModel: "gemini-2.5-flash" },
  anthropic: { displayName: "Anthropic", group: "Model makers", family: "anthropic", baseUrl: "https://api.anthropic.com/v1", exampleModel: "claude-sonnet-4-5" },
  openrouter: { displayName: "OpenRouter", group: "Routers and aggregators", family: "openai", baseUrl: "https://openrouter.ai/api/v1", exampleModel: "meta-llama/llama-3.3-70b-instruct" },
  groq: { displayName: "Groq", group: "Inference hosts", family: "openai", baseUrl: "https://api.groq.com/openai/v1", exampleModel: "llama-3.3-70b-versatile" },
  mistral: { displayName: "Mistral", group: "Model makers", family: "openai", baseUrl: "https://api.mistral.ai/v1", exampleModel: "mistral-small-latest" },
  nvidia_nim: { displayName: "NVIDIA NIM", group: "Inference hosts", family: "openai", baseUrl: "https://integrate.api.nvidia.com/v1", exampleModel: "meta/llama-3.3-70b-instruct" },
  chutes: { displayName: "Chutes", group: "Inference hosts", family: "openai", baseUrl: "https://llm.chutes.ai/v1", exampleModel: "deepseek-ai/DeepSeek-V3-0324" },
  cohere: { displayName: "Cohere", group: "Model makers", family: "openai", baseUrl: "https://api.cohere.ai/compatibility/v1", exampleModel: "command-a-03-2025" },
  deepseek: { displayName: "DeepSeek", group: "Model makers", family: "openai", baseUrl: "https://api.deepseek.com/v1", exampleModel: "deepseek-chat" },
  xai: { displayName: "xAI", group: "Model makers", family: "openai", baseUrl: "https://api.x.ai/v1", exampleModel: "grok-3-mini" },
  together: { displayName: "Together AI", group: "Inference hosts", family: "openai", baseUrl: "https://api.together.xyz/v1", exampleModel: "meta-llama/Llama-3.3-70B-Instruct-Turbo" },
  fireworks: { displayName: "Fireworks AI", group: "Inference hosts", family: "openai", baseUrl: "https://api.fireworks.ai/inference/v1", exampleModel: "accounts/fireworks/models/llama-v3p3-70b-instruct" },
  cerebras: { displayName: "Cerebras", group: "Inference hosts", family: "openai", baseUrl: "https://api.cerebras.ai/v1", exampleModel: "llama-3.3-70b" },
  perplexity: { displayName: "Perplexity", group: "Model makers", family: "openai", baseUrl: "https://api.perplexity.ai", exampleModel: "sonar" },
  sambanova: { displayName: "SambaNova", group: "Inference hosts", family: "openai", baseUrl: "https://api.sambanova.ai/v1", exampleModel: "Meta-Llama-3.3-70B-Instruct" },
  // huggingface.co/changelog/inference-providers-openai-compatible: "point to router.huggingface.co/v1".
  huggingface: { displayName: "Hugging Face", group: "Routers and aggregators", family: "openai", baseUrl: "https://router.huggingface.co/v1", exampleModel: "openai/gpt-oss-120b" },
  // docs.github.com/en/github-models/quickstart: POST https://models.github.ai/inference/chat/completions; models are publisher/name.
  github_models: { displayName: "GitHub Models", group: "Routers and aggregators", family: "openai", baseUrl: "https://models.github.ai/inference", exampleModel: "openai/gpt-4.1-mini" },
  // platform.kimi.ai/docs/api/overview: the global API at https://api.moonshot.ai/v1 (api.moonshot.cn/v1 in China).
  moonshot: { displayName: "Moonshot AI (Kimi)", group: "China and Asia", family: "openai", baseUrl: "https://api.moonshot.ai/v1", exampleModel: "moonshot-v1-8k" },
  // deepinfra.com/docs/advanced/openai_api: "The api_base is https://api.deepinfra.com/v1/openai".
  deepinfra: { displayName: "DeepInfra", group: "Inference hosts", family: "openai", baseUrl: "https://api.deepinfra.com/v1/openai", exampleModel: "meta-llama/Meta-Llama-3.1-8B-Instruct" },
  // learn.microsoft.com/azure/ai-foundry/openai/reference (v1 API): "https://YOUR-RESOURCE-NAME.openai.azure.com/openai/v1/"; models are deployment names.
  azure: {
    displayName: "Azure OpenAI",
    group: "Clouds",
    family: "azure",
    baseUrl: "https://{resource}.openai.azure.com/openai/v1",
    exampleModel: "gpt-4o-mini",
    keyOptions: [
      { name: "resource", env: "RESOURCE", identity: true },
      { name: "api_version", env: "API_VERSION" },
    ],
  },
  // docs.aws.amazon.com/general/latest/gr/bedrock.html: the runtime endpoint is bedrock-runtime.<region>.amazonaws.com; models are model ids or inference profiles.
  bedrock: {
    displayName: "Amazon Bedrock",
    group: "Clouds",
    family: "bedrock",
    baseUrl: "https://bedrock-runtime.{region}.amazonaws.com",
    exampleModel: "us.amazon.nova-micro-v1:0",
    keyOptions: [{ name: "region", env: "REGION", identity: true }],
  },
  // docs.cloud.google.com/vertex-ai/generative-ai/docs/start/express-mode/vertex-ai-express-mode-api-reference: standard endpoints are
  // https://{location}-aiplatform.googleapis.com/v1/projects/{project}/locations/{location}/…, express mode https://aiplatform.googleapis.com/v1/publishers/…;
  // the global location is served by aiplatform.googleapis.com. Models are publisher model ids (gemini-2.5-flash, claude-sonnet-4-5@20250929).
  vertex: {
    displayName: "Google Vertex AI",
    group: "Clouds",
    family: "vertex",
    baseUrl: "https://aiplatform.googleapis.com/v1",
    exampleModel: "gemini-2.5-flash",
    keyOptions: [
      { name: "project", env: "PROJECT", identity: true, question: "Google Cloud project id (empty: each service account's own project; API keys without one use express mode)" },
      { name: "location", env: "LOCATION", identity: true, question: "Vertex AI location, e.g. us-central1 or europe-west4 (empty: global)" },
    ],
    keyFiles: true,
  },
  // alibabacloud.com/help/en/model-studio/compatibility-of-openai-with-dashscope: "Singapore: https://dashscope-intl.aliyuncs.com/compatible-mode/v1" (Beijing keys: dashscope.aliyuncs.com; keys are regional).
  dashscope: { displayName: "Alibaba DashScope (Qwen)", group: "China and Asia", family: "openai", baseUrl: "https://dashscope-intl.aliyuncs.com/compatible-mode/v1", exampleModel: "qwen-plus" },
  // docs.z.ai/guides/develop/http/introduction: "General API Endpoint https://api.z.ai/api/paas/v4/" (Coding Plan keys: /api/coding/paas/v4; China: open.bigmodel.cn/api/paas/v4).
  zai: { displayName: "Z.ai (GLM)", group: "China and Asia", family: "openai", baseUrl: "https://api.z.ai/api/paas/v4", exampleModel: "glm-4.7" },
  // docs.bigmodel.cn/cn/guide/develop/http/introduction: "https://open.bigmodel.cn/api/paas/v4/" (Zhipu's China platform; its keys do not work on api.z.ai).
  zhipu: { displayName: "Zhipu BigModel", group: "China and Asia", family: "openai", baseUrl: "https://open.bigmodel.cn/api/paas/v4", exampleModel: "glm-4.6" },
  // platform.minimax.io/docs/api-reference/text-openai-api: "For international users, use https://api.minimax.io/v1; for users in China, use https://api.minimaxi.com/v1".
  minimax: { displayName: "MiniMax", group: "China and Asia", family: "openai", baseUrl: "https://api.minimax.io/v1", exampleModel: "MiniMax-M2" },
  // docs.siliconflow.com (FAQ): api.siliconflow.com "has global load balancing" (China accounts: https://api.siliconflow.cn/v1).
  siliconflow: { displayName: "SiliconFlow", group: "China and Asia", family: "openai", baseUrl: "https://api.siliconflow.com/v1", exampleModel: "deepseek-ai/DeepSeek-V3" },
  // novita.ai/docs/api-reference/model-apis-llm-create-chat-completion: POST https://api.novita.ai/openai/v1/chat/completions.
  novita: { displayName: "Novita AI", group: "Inference hosts", family: "openai", baseUrl: "https://api.novita.ai/openai/v1", exampleModel: "meta-llama/llama-3.3-70b-instruct" },
  // docs.hyperbolic.ai/inference/text-apis: "POST https://api.hyperbolic.xyz/v1/chat/completions".
  hyperbolic: { displayName: "Hyperbolic", group: "Inference hosts", family: "openai", baseUrl: "https://api.hyperbolic.xyz/v1", exampleModel: "deepseek-ai/DeepSeek-R1" },
  // docs.tokenfactory.nebius.com/api-reference/introduction: base_url="https://api.tokenfactory.nebius.com/v1/" (formerly api.studio.nebius.com).
  nebius: { displayName: "Nebius Token Factory", group: "Inference hosts", family: "openai", baseUrl: "https://api.tokenfactory.nebius.com/v1", exampleModel: "meta-llama/Meta-Llama-3.1-70B-Instruct" },
  // docs.venice.ai/getting-started/quick-start: base_url="https://api.venice.ai/api/v1".
  venice: { displayName: "Venice.ai", group: "Inference hosts", family: "openai", baseUrl: "https://api.venice.ai/api/v1", exampleModel: "venice-uncensored" },
  // developers.cloudflare.com/workers-ai/configuration/open-ai-compatibility: baseURL https://api.cloudflare.com/client/v4/accounts/${CLOUDFLARE_ACCOUNT_ID}/ai/v1.
  cloudflare: {
    displayName: "Cloudflare Workers AI",
    group: "Clouds",
    family: "openai",
    baseUrl: "https://api.cloudflare.com/client/v4/accounts/{account_id}/ai/v1",
    exampleModel: "@cf/meta/llama-3.1-8b-instruct",
    keyOptions: [{ name: "account_id", env: "ACCOUNT_ID", identity: true }],
  },
  // docs.voyageai.com/reference/embeddings-api: POST https://api.voyageai.com/v1/embeddings (embeddings only).
  voyage: { displayName: "Voyage AI", group: "Embeddings", family: "openai", baseUrl: "https://api.voyageai.com/v1", exampleModel: "voyage-3.5" },
  // jina.ai/embeddings: curl https://api.jina.ai/v1/embeddings (embeddings only).
  jina: { displayName: "Jina AI", group: "Embeddings", family: "openai", baseUrl: "https://api.jina.ai/v1", exampleModel: "jina-embeddings-v3" },
  // docs.ollama.com/api/openai-compatibility: base_url "http://localhost:11434/v1/", api_key "required but ignored"; Ollama's cloud is https://ollama.com/v1 with a key.
  ollama: { displayName: "Ollama", group: "Local servers", family: "openai", baseUrl: "http://localhost:11434/v1", exampleModel: "qwen3:8b", keyless: true },
  // lmstudio.ai/docs/api/openai-api: base_url "http://localhost:1234/v1" (the server's default port).
  lmstudio: { displayName: "LM Studio", group: "Local servers", family: "openai", baseUrl: "http://localhost:1234/v1", exampleModel: "openai/gpt-oss-20b", keyless: true },
};

/** The settings that make another key of the same secret (a Bedrock region, an Azure resource). */
export function identityOptionsOf(provider: string): string[] {
  return (catalogEntry(provider)?.keyOptions ?? []).filter((option) => option.identity).map((option) => option.name);
}

/** The catalog in its groups' order, each group in catalog order. */
export function catalogByGroup(): { group: ProviderGroup; providers: { name: string; entry: CatalogEntry }[] }[] {
  return PROVIDER_GROUPS.map((group) => ({
    group,
    providers: Object.entries(PROVIDER_CATALOG)
      .filter(([, entry]) => entry.group === group)
      .map(([name, entry]) => ({ name, entry })),
  }));
}

/** The base URL with each `{option}` filled from a key's settings, or the first option it lacks. */
export function fillBaseUrl(template: string, options: Readonly<Record<string, string>> | undefined): { ok: true; url: string } | { ok: false; missing: string } {
  let missing: string | undefined;
  const url = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = options?.[name];
    if (value === undefined) missing ??= name;
    return value === undefined ? "" : encodeURIComponent(value);
  });
  return missing === undefined ? { ok: true, url } : { ok: false, missing };
}

export function catalogEntry(provider: string): CatalogEntry | undefined {
  return Object.hasOwn(PROVIDER_CATALOG, provider) ? PROVIDER_CATALOG[provider] : undefined;
}
