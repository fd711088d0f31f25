/**
 * Vertex AI's URLs. A model is a publisher model (`publishers/google/models/gemini-2.5-pro`,
 * `publishers/anthropic/models/claude-sonnet-4-5@20250929`) under a project and a location, on the
 * location's host (`us-central1-aiplatform.googleapis.com`) or the global one
 * (`aiplatform.googleapis.com`, location `global`). Express-mode API keys have no project: their
 * calls go to the global host without the project part. Both come from each key's settings
 * (`VERTEX_PROJECT`, `VERTEX_LOCATION`), a service account's own project by default.
 */

import type { Credential } from "../../credential.ts";
import { CredentialFailure, type UpstreamRequest } from "../attempts.ts";
import { serviceAccountOf, vertexAuthHeaders } from "./vertex-auth.ts";

/** The catalog's base URL: Vertex's global host; a key's location picks its regional host instead. */
export const VERTEX_DEFAULT_BASE = "https://aiplatform.googleapis.com/v1";
export const DEFAULT_LOCATION = "global";

export type Publisher = "google" | "anthropic";

export function vertexLocation(key: Credential): string {
  return key.options.location ?? DEFAULT_LOCATION;
}

/** The key's project: its setting, else its service account's; none for an express-mode key. */
export function vertexProject(key: Credential): string | undefined {
  return key.options.project ?? serviceAccountOf(key.secret)?.projectId;
}

/** The API root for the key: its own base URL, or the host of its location. */
export function vertexBase(key: Credential): string {
  const location = vertexLocation(key);
  if (key.baseUrl !== VERTEX_DEFAULT_BASE || location === DEFAULT_LOCATION) return key.baseUrl;
  return `https://${location}-aiplatform.googleapis.com/v1`;
}

/** Model ids keep their `@version` as Google writes them; everything else that is not a path character is escaped. */
function modelSegment(model: string): string {
  return encodeURIComponent(model).replaceAll("%40", "@");
}

/** `{base}/projects/{p}/locations/{l}/publishers/{publisher}/models/{model}:{method}`, or the express-mode form without a project. */
export function publisherModelUrl(key: Credential, publisher: Publisher, model: string, methodSuffix: string): string {
  const project = vertexProject(key);
  const scope = project === undefined ? "" : `/projects/${encodeURIComponent(project)}/locations/${encodeURIComponent(vertexLocation(key))}`;
  if (project === undefined && publisher !== "google") {
    // Not the key's fault and not the request's alone: it is the setup, so it is said as a request fault naming the fix.
    throw new CredentialFailure({
      class: "request",
      status: 400,
      code: "vertex_project_required",
      message: `${publisher} models on Vertex AI need a project: set VERTEX_PROJECT (or use a service-account key); express-mode API keys serve Gemini models only.`,
    });
  }
  return `${vertexBase(key)}${scope}/publishers/${publisher}/models/${modelSegment(model)}${methodSuffix}`;
}

/** The Model Garden listing of a publisher (v1beta1 only), which needs no project. */
export function publisherModelsUrl(key: Credential, publisher: Publisher, query: URLSearchParams): string {
  return `${vertexBase(key).replace(/\/v1$/, "/v1beta1")}/publishers/${publisher}/models?${query}`;
}

export interface VertexCall {
  /** The URL for the key; may throw CredentialFailure (a key that cannot serve the model). */
  url(key: Credential): string;
  accept: string;
  body?: string;
  headers?: Record<string, string>;
}

/**
 * A request with the key's authentication: built at once for an API key, after its token for a
 * service account. A key that cannot make it fails the attempt (a rejected promise), never the call.
 */
export function vertexRequest(key: Credential, call: VertexCall): UpstreamRequest | Promise<UpstreamRequest> {
  try {
    const url = call.url(key);
    const build = (auth: Record<string, string>): UpstreamRequest => ({
      url,
      method: call.body === undefined ? "GET" : "POST",
      headers: { ...auth, accept: call.accept, ...(call.body !== undefined ? { "content-type": "application/json" } : {}), ...call.headers },
      ...(call.body !== undefined ? { body: call.body } : {}),
    });
    const auth = vertexAuthHeaders(key);
    return auth instanceof Promise ? auth.then(build) : build(auth);
  } catch (error) {
    if (error instanceof CredentialFailure) return Promise.reject(error);
    throw error;
  }
}
