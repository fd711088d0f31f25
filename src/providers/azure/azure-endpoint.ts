/**
 * Where an Azure OpenAI request goes. Azure has two URL styles and a resource may be reached by
 * either: the v1 API (`https://<resource>.openai.azure.com/openai/v1/chat/completions`, the
 * deployment named in the body as the model), and the classic deployment URLs
 * (`…/openai/deployments/<deployment>/chat/completions?api-version=…`). A key's base URL says
 * which: one that ends in `/openai/v1` is the v1 API; a bare resource URL (or one ending in
 * `/openai`) gets the deployment URLs with the key's `api_version`, except `/responses` when that
 * version predates it (the v1 API's `/openai/v1/responses` then, which every resource serves).
 */

import type { Credential } from "../../credential.ts";

/** The GA data-plane version used when the classic style is configured without AZURE_API_VERSION. */
export const DEFAULT_AZURE_API_VERSION = "2024-10-21";

export type AzureOperation = "chat/completions" | "embeddings" | "responses" | "models";

/**
 * The first data-plane version with the classic `/openai/responses` route (Microsoft's Responses API
 * how-to: `…/openai/responses?api-version=2025-03-01-preview`); GA versions such as 2024-10-21 predate
 * it and answer that route with a 404 "Resource not found".
 */
const FIRST_RESPONSES_VERSION_DATE = "2025-03-01";

export function azureUrl(key: Credential, operation: AzureOperation, deployment?: string): string {
  const base = key.baseUrl;
  if (/\/openai\/v1$/.test(base)) return `${base}/${operation}`;
  const resource = base.replace(/\/openai$/, "");
  const apiVersion = key.options.api_version ?? DEFAULT_AZURE_API_VERSION;
  // Every resource also serves the v1 API, the Responses API's documented home: a classic key whose
  // version has no /responses route gets it there rather than a 404.
  if (operation === "responses" && !hasResponsesRoute(apiVersion)) return `${resource}/openai/v1/responses`;
  const version = `api-version=${encodeURIComponent(apiVersion)}`;
  // Responses and the model list are per resource; chat and embeddings per deployment.
  if (operation === "responses" || operation === "models" || deployment === undefined) return `${resource}/openai/${operation}?${version}`;
  return `${resource}/openai/deployments/${encodeURIComponent(deployment)}/${operation}?${version}`;
}

/** Whether a classic api-version (`YYYY-MM-DD[-preview]`) is recent enough to serve `/openai/responses`. */
function hasResponsesRoute(apiVersion: string): boolean {
  const date = /^(\d{4}-\d{2}-\d{2})/.exec(apiVersion)?.[1];
  return date !== undefined && date >= FIRST_RESPONSES_VERSION_DATE;
}

/** Azure authenticates with its own `api-key` header, which both URL styles accept. */
export function azureHeaders(key: Credential, accept: string): Record<string, string> {
  return { "api-key": key.secret, "content-type": "application/json", accept };
}
