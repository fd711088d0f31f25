/**
 * Where an Azure OpenAI request goes. Azure has two URL styles and a resource may be reached by
 * either: the v1 API (`https://<resource>.openai.azure.com/openai/v1/chat/completions`, the
 * deployment named in the body as the model), and the classic deployment URLs
 * (`…/openai/deployments/<deployment>/chat/completions?api-version=…`). A key's base URL says
 * which: one that ends in `/openai/v1` is the v1 API; a bare resource URL (or one ending in
 * `/openai`) gets the deployment URLs with the key's `api_version`.
 */

import type { Credential } from "../../credential.ts";

/** The GA data-plane version used when the classic style is configured without AZURE_API_VERSION. */
export const DEFAULT_AZURE_API_VERSION = "2024-10-21";

export type AzureOperation = "chat/completions" | "embeddings" | "responses" | "models";

export function azureUrl(key: Credential, operation: AzureOperation, deployment?: string): string {
  const base = key.baseUrl;
  if (/\/openai\/v1$/.test(base)) return `${base}/${operation}`;
  const resource = base.replace(/\/openai$/, "");
  const version = `api-version=${encodeURIComponent(key.options.api_version ?? DEFAULT_AZURE_API_VERSION)}`;
  // Responses and the model list are per resource; chat and embeddings per deployment.
  if (operation === "responses" || operation === "models" || deployment === undefined) return `${resource}/openai/${operation}?${version}`;
  return `${resource}/openai/deployments/${encodeURIComponent(deployment)}/${operation}?${version}`;
}

/** Azure authenticates with its own `api-key` header, which both URL styles accept. */
export function azureHeaders(key: Credential, accept: string): Record<string, string> {
  return { "api-key": key.secret, "content-type": "application/json", accept };
}
