/**
 * The proxy's model list (`provider/model` ids) → Google's `models.list` shape,
 * `{models: [{name: "models/…", displayName, supportedGenerationMethods, …}]}`. Gemini models keep
 * their bare name, as a Gemini client expects to see them; every other model is named with its
 * provider (`models/groq/llama-3.3-70b`), which is also how the Gemini routes resolve it. The
 * proxy's list says nothing about what a model can do, so the methods are read from the name.
 */

export interface GeminiModelEntry {
  name: string;
  baseModelId: string;
  version: string;
  displayName: string;
  description: string;
  supportedGenerationMethods: string[];
}

const GENERATION = ["generateContent", "streamGenerateContent", "countTokens"];
const EMBEDDING = ["embedContent", "batchEmbedContents"];

export function convertModelToGeminiEntry(id: string, ownedBy: string): GeminiModelEntry {
  const bare = id.startsWith("gemini/") ? id.slice("gemini/".length) : id;
  return {
    name: `models/${bare}`,
    baseModelId: bare,
    version: "001",
    displayName: bare,
    description: `${id}, served by llm-key-proxy (${ownedBy})`,
    supportedGenerationMethods: /embed/i.test(bare) ? EMBEDDING : GENERATION,
  };
}

export function convertModelsToGeminiList(models: { id: string; owned_by: string }[]): { models: GeminiModelEntry[] } {
  return { models: models.map((model) => convertModelToGeminiEntry(model.id, model.owned_by)) };
}
