/** Provider discovery from variables: naming, keys, custom providers, filters and caps. */

import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileGlobs, discoverProviders, modelAllowed, providerOfKeyVar, type ProviderSettings } from "../../../src/config/discover-providers.ts";
import { ConfigError } from "../../../src/config/settings.ts";
import { createTestServiceAccount } from "../../support/service-accounts.ts";

function errorOf(env: Record<string, string>, fileVars?: Set<string>): ConfigError {
  try {
    discoverProviders(env, { fileVars });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected discovery to fail");
}

const secrets = (provider: ProviderSettings) => provider.keys.map((key) => key.secret);
const byName = (providers: ProviderSettings[]) => Object.fromEntries(providers.map((p) => [p.name, p]));

describe("providerOfKeyVar", () => {
  test("naming rules", () => {
    expect(providerOfKeyVar("OPENAI_API_KEY")).toBe("openai");
    expect(providerOfKeyVar("GEMINI_API_KEY_1")).toBe("gemini");
    expect(providerOfKeyVar("NVIDIA_NIM_API_KEY_2")).toBe("nvidia_nim");
    expect(providerOfKeyVar("OPENROUTER_API_KEY_ABC")).toBe("openrouter");
    expect(providerOfKeyVar("PROXY_API_KEY_2")).toBe("proxy");
    expect(providerOfKeyVar("PROXY_API_KEY")).toBeNull();
    expect(providerOfKeyVar("OPENAI_API_KEYS")).toBeNull();
    expect(providerOfKeyVar("OPENAI_API_BASE")).toBeNull();
    expect(providerOfKeyVar("API_KEY")).toBeNull();
  });
});

describe("discoverProviders", () => {
  test("keys are grouped per provider in variable order, trimmed, blanks and duplicates dropped", () => {
    const { providers, warnings } = discoverProviders({
      PROXY_API_KEY: "secret",
      GROQ_API_KEY: " g1 ",
      OPENAI_API_KEY_2: "o2",
      OPENAI_API_KEY: "o1",
      GROQ_API_KEY_2: "",
      GROQ_API_KEY_3: "g1",
      GROQ_API_KEY_4: "g4",
      NVIDIA_NIM_API_KEY_1: "n1",
      MISTRAL_API_KEY: "   ",
    });
    expect(providers.map((p) => [p.name, secrets(p)])).toEqual([
      ["groq", ["g1", "g4"]],
      ["openai", ["o2", "o1"]],
      ["nvidia_nim", ["n1"]],
    ]);
    expect(warnings).toEqual([]);
  });

  test("catalog providers get their display name and base URL", () => {
    const p = discoverProviders({ NVIDIA_NIM_API_KEY: "k" }).providers[0]!;
    expect(p).toEqual({
      name: "nvidia_nim",
      displayName: "NVIDIA NIM",
      family: "openai",
      baseUrl: "https://integrate.api.nvidia.com/v1",
      keys: [{ secret: "k" }],
      custom: false,
      ignoreModels: [],
      whitelistModels: [],
      maxConcurrentPerKey: undefined,
      responsesApi: "translate",
    });
  });

  test("the hosts added from their own documentation: Hugging Face router, GitHub Models, Moonshot, DeepInfra", () => {
    const { providers } = discoverProviders({ HUGGINGFACE_API_KEY: "hf_k", GITHUB_MODELS_API_KEY: "ghp_k", MOONSHOT_API_KEY: "sk-m", DEEPINFRA_API_KEY: "di-k" });
    expect(providers.map(({ name, family, baseUrl, custom }) => [name, family, baseUrl, custom])).toEqual([
      ["huggingface", "openai", "https://router.huggingface.co/v1", false],
      ["github_models", "openai", "https://models.github.ai/inference", false],
      ["moonshot", "openai", "https://api.moonshot.ai/v1", false],
      ["deepinfra", "openai", "https://api.deepinfra.com/v1/openai", false],
    ]);
  });

  test("the Responses API is native for openai, translated elsewhere, and <P>_RESPONSES says otherwise", () => {
    const mode = (env: Record<string, string>) => Object.fromEntries(discoverProviders(env).providers.map((p) => [p.name, p.responsesApi]));
    expect(mode({ OPENAI_API_KEY: "o", GROQ_API_KEY: "g", GEMINI_API_KEY: "m" })).toEqual({ openai: "native", groq: "translate", gemini: "translate" });
    expect(mode({ OPENAI_API_KEY: "o", OPENAI_RESPONSES: "translate", XAI_API_KEY: "x", XAI_RESPONSES: " Native " })).toEqual({ openai: "translate", xai: "native" });
    expect(() => discoverProviders({ GROQ_API_KEY: "g", GROQ_RESPONSES: "yes" })).toThrow("GROQ_RESPONSES must be native or translate (got \"yes\").");
    expect(() => discoverProviders({ GEMINI_API_KEY: "g", GEMINI_RESPONSES: "native" })).toThrow(
      "GEMINI_RESPONSES=native is only possible for OpenAI-compatible providers; gemini is always translated.",
    );
    expect(discoverProviders({ GROQ_API_KEY: "g", XAI_RESPONSES: "native" }).warnings).toEqual(['XAI_RESPONSES has no effect: no provider "xai" is configured.']);
  });

  test("settings stay plain JSON data", () => {
    const { providers } = discoverProviders({ OPENAI_API_KEY: "k", IGNORE_MODELS_OPENAI: "a*" });
    expect(JSON.parse(JSON.stringify(providers))).toEqual(
      providers.map(({ maxConcurrentPerKey: _, ...rest }) => rest),
    );
  });

  test("_API_BASE overrides a known provider's URL, trailing slashes removed", () => {
    const p = discoverProviders({ GROQ_API_KEY: "k", GROQ_API_BASE: " http://127.0.0.1:9999/openai/v1// " }).providers[0]!;
    expect(p.baseUrl).toBe("http://127.0.0.1:9999/openai/v1");
    expect(p.custom).toBe(false);
    expect(p.displayName).toBe("Groq");
  });

  test("_API_BASE with an unknown name defines a custom provider", () => {
    const p = discoverProviders({ VLLM_API_BASE: "http://localhost:11434/v1/", VLLM_API_KEY: "none" }).providers[0]!;
    expect(p).toMatchObject({
      name: "vllm",
      displayName: "vllm",
      family: "openai",
      baseUrl: "http://localhost:11434/v1",
      keys: [{ secret: "none" }],
      custom: true,
    });
  });

  test("PROXY_API_KEY_2 belongs to a provider called proxy, PROXY_API_KEY to nobody", () => {
    const { providers } = discoverProviders({
      PROXY_API_KEY: "client-secret",
      PROXY_API_KEY_2: "k",
      PROXY_API_BASE: "https://proxy.example/v1",
    });
    expect(providers.map((p) => [p.name, secrets(p)])).toEqual([["proxy", ["k"]]]);
  });

  test("an unknown provider without _API_BASE is an error telling what to set", () => {
    const message = errorOf({ MYLLM_API_KEY: "secret-key-value" }).message;
    expect(message).toContain("MYLLM_API_KEY");
    expect(message).toContain("MYLLM_API_BASE");
    expect(message).not.toContain("secret-key-value");
  });

  test("a base URL without any key is a keyless provider with one slot (a local server)", () => {
    const { providers } = discoverProviders({ MYLLM_API_BASE: "http://localhost:11434/v1", MYLLM_API_KEY: "" });
    expect(providers).toMatchObject([{ name: "myllm", custom: true, baseUrl: "http://localhost:11434/v1", keys: [{ secret: "", baseUrl: "http://localhost:11434/v1" }] }]);
    // A catalog provider pointed at a server of one's own needs no key either.
    expect(discoverProviders({ OPENAI_API_BASE: "http://127.0.0.1:8001/v1" }).providers[0]!.keys).toEqual([{ secret: "", baseUrl: "http://127.0.0.1:8001/v1" }]);
  });

  test("<P>_API_BASE_<N> gives key <N> its own endpoint; one without a key is a keyless server", () => {
    const { providers } = discoverProviders({
      AZURE_API_KEY_1: "az-one",
      AZURE_API_BASE_1: "https://one.openai.azure.com/openai/v1/",
      AZURE_API_KEY_2: "az-two",
      AZURE_API_BASE_2: "https://two.openai.azure.com/openai/v1",
      VLLM_API_BASE_A: "http://10.0.0.1:8000/v1",
      VLLM_API_BASE_B: "http://10.0.0.2:8000/v1",
      VLLM_API_KEY_B: "shared",
      VLLM_API_KEY_C: "shared",
      VLLM_API_BASE_C: "http://10.0.0.3:8000/v1",
    });
    const { azure, vllm } = byName(providers);
    expect(azure!.keys).toEqual([
      { secret: "az-one", baseUrl: "https://one.openai.azure.com/openai/v1" },
      { secret: "az-two", baseUrl: "https://two.openai.azure.com/openai/v1" },
    ]);
    // The same placeholder key on two servers is two keys; the keyless server comes after the keyed ones.
    expect(vllm!.keys).toEqual([
      { secret: "shared", baseUrl: "http://10.0.0.2:8000/v1" },
      { secret: "shared", baseUrl: "http://10.0.0.3:8000/v1" },
      { secret: "", baseUrl: "http://10.0.0.1:8000/v1" },
    ]);
    expect(vllm!.baseUrl).toBe("http://10.0.0.2:8000/v1");
    expect(vllm!.custom).toBe(true);
  });

  test("a Vertex key may name a service-account file (read at start) or be inline JSON; project and location are per key", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lkp-keyfile-"));
    try {
      const first = await createTestServiceAccount({ name: "a", projectId: "p", tokenUri: "https://oauth2.googleapis.com/token" });
      const second = await createTestServiceAccount({ name: "b", projectId: "p", tokenUri: "https://oauth2.googleapis.com/token" });
      writeFileSync(join(dir, "sa.json"), first.json + "\n");
      const { providers } = discoverProviders({
        VERTEX_API_KEY_1: join(dir, "sa.json"),
        VERTEX_API_KEY_2: ` ${second.json} `,
        VERTEX_API_KEY_3: "AQ.express-key",
        VERTEX_LOCATION: "us-central1",
        VERTEX_PROJECT_2: "other-project",
      });
      expect(byName(providers).vertex!.keys).toEqual([
        { secret: first.json, options: { location: "us-central1" } },
        { secret: second.json, options: { project: "other-project", location: "us-central1" } },
        { secret: "AQ.express-key", options: { location: "us-central1" } },
      ]);
      expect(errorOf({ VERTEX_API_KEY_1: join(dir, "missing.json") }).message).toBe(`VERTEX_API_KEY_1 names the key file ${join(dir, "missing.json")}, which cannot be read (ENOENT).`);
      writeFileSync(join(dir, "empty.json"), "  \n");
      expect(errorOf({ VERTEX_API_KEY_1: join(dir, "empty.json") }).message).toContain("which is empty");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a key document that is not a usable service account stops the start, naming the variable and the field, never the key", async () => {
    const account = await createTestServiceAccount({ name: "a", projectId: "p", tokenUri: "https://oauth2.googleapis.com/token" });
    const login = JSON.stringify({ type: "authorized_user", client_id: "x", client_secret: "y", refresh_token: "z" });
    expect(errorOf({ VERTEX_API_KEY_2: login }).message).toContain('VERTEX_API_KEY_2: The key\'s "type" is not "service_account" (this is a user login');
    const damaged = JSON.stringify({ ...JSON.parse(account.json), private_key: "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----\n" });
    const message = errorOf({ VERTEX_API_KEY: damaged }).message;
    expect(message).toStartWith("VERTEX_API_KEY: ");
    expect(message).toContain('"private_key"');
    expect(message).not.toContain(account.email);
  });

  test("a key naming a file is read only where the provider keeps keys in files", () => {
    const { providers } = discoverProviders({ OPENAI_API_KEY: "./not-read.json" });
    expect(secrets(byName(providers).openai!)).toEqual(["./not-read.json"]);
  });

  test("a custom provider's key without an endpoint of its own is an error that names the variable to set", () => {
    expect(errorOf({ VLLM_API_BASE_1: "http://10.0.0.1:8000/v1", VLLM_API_KEY_1: "a", VLLM_API_KEY_2: "b" }).message).toBe(
      "VLLM_API_KEY_2 has no endpoint: set VLLM_API_BASE_2 for it, or VLLM_API_BASE for every key.",
    );
  });

  test("a per-key base URL is checked like any base URL", () => {
    expect(errorOf({ OLLAMA_API_BASE_2: "ftp://host/v1" }).message).toContain("OLLAMA_API_BASE_2 must be an http:// or https:// URL");
  });

  test("keyless servers only from the process environment are skipped with a warning", () => {
    const result = discoverProviders({ OPENAI_API_BASE: "https://x.example/v1", OPENAI_API_KEY: "" }, { fileVars: new Set(["OPENAI_API_KEY"]) });
    expect(result.providers).toEqual([]);
    expect(result.skipped).toEqual(["OPENAI_API_BASE"]);
    expect(result.warnings).toEqual(["Ignoring OPENAI_API_BASE from the environment: no OPENAI_API_KEY is set (name a keyless server OPENAI_API_BASE_1 to use it)."]);
    // A per-key endpoint, and a local server the catalog knows to be keyless, count from the environment.
    const fromEnv = discoverProviders({ VLLM_API_BASE_1: "http://10.0.0.1:8000/v1", OLLAMA_API_BASE: "http://localhost:11434/v1" }, { fileVars: new Set() });
    expect(fromEnv.providers.map((p) => [p.name, p.keys])).toEqual([
      ["vllm", [{ secret: "", baseUrl: "http://10.0.0.1:8000/v1" }]],
      ["ollama", [{ secret: "", baseUrl: "http://localhost:11434/v1" }]],
    ]);
  });

  test("unknown providers from the process environment are skipped with a warning", () => {
    const env = { LANGCHAIN_API_KEY: "x", OPENAI_API_KEY: "k", AZURE_OPENAI_API_BASE: "https://a.example" };
    const result = discoverProviders(env, { fileVars: new Set(["OPENAI_API_KEY"]) });
    expect(result.providers.map((p) => p.name)).toEqual(["openai"]);
    expect(result.skipped).toEqual(["LANGCHAIN_API_KEY", "AZURE_OPENAI_API_BASE"]);
    expect(result.warnings).toHaveLength(2);
    expect(result.warnings[0]).toContain("LANGCHAIN_API_KEY");
    expect(result.warnings[0]).toContain("LANGCHAIN_API_BASE");
  });

  test("the same unknown provider inside the .env file is an error", () => {
    const env = { LANGCHAIN_API_KEY: "x" };
    expect(errorOf(env, new Set(["LANGCHAIN_API_KEY"])).message).toContain("LANGCHAIN_API_BASE");
  });

  test("a custom base in the file makes an environment key count", () => {
    const env = { MY_API_BASE: "http://h/v1", MY_API_KEY: "k" };
    expect(discoverProviders(env, { fileVars: new Set(["MY_API_BASE"]) }).providers[0]!.name).toBe("my");
  });

  test("provider names must be letters, digits and underscores", () => {
    const message = errorOf({ "MY-LLM_API_KEY": "k" }).message;
    expect(message).toContain("MY-LLM_API_KEY");
    expect(errorOf({ _API_KEY: "k" }).message).toContain("_API_KEY");
    const lenient = discoverProviders({ "MY-LLM_API_KEY": "k", OPENAI_API_KEY: "o" }, { fileVars: new Set() });
    expect(lenient.skipped).toEqual(["MY-LLM_API_KEY"]);
  });

  test("two keys pasted into one variable are an error that does not echo them", () => {
    const message = errorOf({ OPENAI_API_KEY_2: "sk-aaa sk-bbb" }).message;
    expect(message).toContain("OPENAI_API_KEY_2");
    expect(message).not.toContain("sk-aaa");
  });

  test("bad base URLs name the variable", () => {
    expect(errorOf({ GROQ_API_KEY: "k", GROQ_API_BASE: "ftp://x" }).message).toBe(
      'GROQ_API_BASE must be an http:// or https:// URL such as https://api.example.com/v1 (got "ftp://x").',
    );
    expect(errorOf({ GROQ_API_KEY: "k", GROQ_API_BASE: "not a url" }).message).toContain("GROQ_API_BASE must be");
    expect(errorOf({ GROQ_API_KEY: "k", GROQ_API_BASE: "https://h/v1?x=1" }).message).toContain("?query");
    const creds = errorOf({ GROQ_API_KEY: "k", GROQ_API_BASE: "https://user:hunter2@h/v1" }).message;
    expect(creds).toContain("GROQ_API_BASE");
    expect(creds).not.toContain("hunter2");
  });

  test("model filters and concurrency caps attach to their provider", () => {
    const { providers, warnings } = discoverProviders({
      OPENAI_API_KEY: "k",
      NVIDIA_NIM_API_KEY: "n",
      IGNORE_MODELS_OPENAI: " *-preview, ,gpt-3.5*,",
      WHITELIST_MODELS_NVIDIA_NIM: "meta/*",
      MAX_CONCURRENT_REQUESTS_PER_KEY_NVIDIA_NIM: " 2 ",
    });
    const p = byName(providers);
    expect(p.openai!.ignoreModels).toEqual(["*-preview", "gpt-3.5*"]);
    expect(p.openai!.whitelistModels).toEqual([]);
    expect(p.openai!.maxConcurrentPerKey).toBeUndefined();
    expect(p.nvidia_nim!.whitelistModels).toEqual(["meta/*"]);
    expect(p.nvidia_nim!.maxConcurrentPerKey).toBe(2);
    expect(warnings).toEqual([]);
  });

  test("filters for a provider that is not configured only warn", () => {
    const { warnings } = discoverProviders({ OPENAI_API_KEY: "k", IGNORE_MODELS_GROQ: "x", MAX_CONCURRENT_REQUESTS_PER_KEY_GROQ: "3" });
    expect(warnings).toEqual([
      'MAX_CONCURRENT_REQUESTS_PER_KEY_GROQ has no effect: no provider "groq" is configured.',
      'IGNORE_MODELS_GROQ has no effect: no provider "groq" is configured.',
    ]);
  });

  test("MAX_CONCURRENT_REQUESTS_PER_KEY must be a positive whole number", () => {
    for (const bad of ["0", "-1", "1.5", "abc", "10000000000"]) {
      const message = errorOf({ GROQ_API_KEY: "k", MAX_CONCURRENT_REQUESTS_PER_KEY_GROQ: bad }).message;
      expect(message).toBe(
        `MAX_CONCURRENT_REQUESTS_PER_KEY_GROQ must be a positive whole number (got "${bad}"); remove it for no limit.`,
      );
    }
    // Blank means unset.
    const p = discoverProviders({ GROQ_API_KEY: "k", MAX_CONCURRENT_REQUESTS_PER_KEY_GROQ: "" }).providers[0]!;
    expect(p.maxConcurrentPerKey).toBeUndefined();
  });
});

describe("modelAllowed", () => {
  const provider = (ignoreModels: string[], whitelistModels: string[], name = "openai"): ProviderSettings => ({
    name,
    displayName: name,
    family: "openai",
    responsesApi: "translate",
    baseUrl: "http://x",
    keys: [{ secret: "k" }],
    custom: false,
    ignoreModels,
    whitelistModels,
  });

  test("no filters allow everything", () => {
    expect(modelAllowed(provider([], []), "anything")).toBe(true);
  });

  test("ignore globs, case-insensitive, anchored", () => {
    const p = provider(["*-preview", "GPT-3.5*"], []);
    expect(modelAllowed(p, "gpt-4o-preview")).toBe(false);
    expect(modelAllowed(p, "gpt-3.5-turbo")).toBe(false);
    expect(modelAllowed(p, "gpt-4o")).toBe(true);
    expect(modelAllowed(p, "gpt-4o-preview-2")).toBe(true);
  });

  test("a non-empty whitelist decides alone and beats ignore", () => {
    const p = provider(["*"], ["gpt-4o*"]);
    expect(modelAllowed(p, "gpt-4o-mini")).toBe(true);
    expect(modelAllowed(p, "o1")).toBe(false);
    expect(modelAllowed(provider([], ["gpt-4o"]), "o1")).toBe(false);
  });

  test("regex characters in globs are literal; slashes inside model ids work", () => {
    const p = provider(["meta-llama/llama-3.3-70b-instruct:free", "a.b", "x+(y)"], [], "openrouter");
    expect(modelAllowed(p, "meta-llama/llama-3.3-70b-instruct:free")).toBe(false);
    expect(modelAllowed(p, "aXb")).toBe(true);
    expect(modelAllowed(p, "a.b")).toBe(false);
    expect(modelAllowed(p, "x+(y)")).toBe(false);
  });

  test("a glob written with the provider prefix also matches the bare id", () => {
    const p = provider(["openai/gpt-3.5*"], []);
    expect(modelAllowed(p, "gpt-3.5-turbo")).toBe(false);
  });

  test("compileGlobs builds one anchored pattern", () => {
    expect(compileGlobs([])).toBeNull();
    const re = compileGlobs(["a*", "b"])!;
    expect(re.test("abc")).toBe(true);
    expect(re.test("b")).toBe(true);
    expect(re.test("xb")).toBe(false);
  });
});
