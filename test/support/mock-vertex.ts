/**
 * A mock of Google Vertex AI for the Vertex provider's tests: the front Vertex puts before its
 * models, with mock-gemini.ts and mock-anthropic.ts behind it for the answers themselves.
 *
 * What the front does, as Vertex does it:
 * - **Token endpoint** (`POST /token`, a service account's `token_uri`): the JWT-bearer grant. The
 *   assertion's RS256 signature is VERIFIED with the account's public key, and its issuer, audience,
 *   scope and lifetime checked; a good one gets an access token (`ya29.mock-…`, 3599 s). Refusals
 *   are OAuth's shape (`{"error":"invalid_grant","error_description":…}`, RFC 6749 §5.2).
 * - **Authentication** of model calls: `Authorization: Bearer <token>` (a token it issued and that
 *   has not expired) or `x-goog-api-key` (a registered API key). Anything else is Google's 401
 *   UNAUTHENTICATED. A call is then known by its identity — the account's e-mail, or the API key.
 * - **Routes**: `/v1/projects/{p}/locations/{l}/publishers/google/models/{m}:{method}` and the
 *   express-mode form `/v1/publishers/google/models/{m}:{method}` (API keys only) go to the Gemini
 *   mock as `models/{m}:{method}` with the identity as its key; `…/publishers/anthropic/models/{m}
 *   :rawPredict|:streamRawPredict` go to the Anthropic mock's `/messages` (and `count-tokens
 *   :rawPredict` to `/messages/count_tokens`) with the model from the URL; `:predict` on a Google
 *   embedding model is answered here; `GET /v1beta1/publishers/{p}/models` lists models.
 * - **Vertex's body rules**, answered with Google's 400 INVALID_ARGUMENT when broken: every Gemini
 *   content has a role; `:countTokens` takes `contents` directly; a Claude body carries
 *   `anthropic_version: "vertex-2023-10-16"` and no `model` (count-tokens: with its model).
 * - **Scripted front failures** per identity (`fail`), consumed one per call before anything is
 *   forwarded: Vertex's 429 RESOURCE_EXHAUSTED (the recorded per-region quota body, or the dynamic
 *   shared quota's "Resource exhausted" built from Google's error-code-429 page), 403
 *   PERMISSION_DENIED (built from the IAM error Google documents), 401 UNAUTHENTICATED and 503
 *   UNAVAILABLE (Google's envelope as recorded for the Gemini API).
 *
 * Every model call is recorded (identity, how it authenticated, project, location, publisher,
 * model, method, body as received), and every token exchange.
 */

import { readFixtureJson } from "./fixtures.ts";
import { estimateTokens } from "./mock-core.ts";
import { startMockAnthropic, type MockAnthropic } from "./mock-anthropic.ts";
import { startMockGemini, type MockGemini } from "./mock-gemini.ts";
import { createTestServiceAccount, verifiedJwt, type TestServiceAccount } from "./service-accounts.ts";

export type VertexFailure = "quota" | "dynamic_quota" | "permission_denied" | "unauthenticated" | "unavailable";

export interface RecordedVertexCall {
  /** The account's e-mail, or the API key. */
  identity: string;
  auth: "token" | "api_key";
  /** undefined for an express-mode call. */
  project?: string;
  location?: string;
  publisher: string;
  model: string;
  /** `generateContent`, `streamGenerateContent`, `rawPredict`, `predict`, … */
  method: string;
  query: string;
  body: any;
  /** The front answered it (a scripted failure, a broken rule) instead of forwarding it. */
  answeredByFront?: VertexFailure | "invalid_argument";
  headers: Record<string, string>;
}

export interface RecordedTokenExchange {
  email: string;
  granted: boolean;
  scope?: string;
}

export interface MockVertex {
  /** `VERTEX_API_BASE`: http://127.0.0.1:PORT/v1 */
  url: string;
  /** The `token_uri` of the accounts this mock makes. */
  tokenUri: string;
  gemini: MockGemini;
  anthropic: MockAnthropic;
  calls: RecordedVertexCall[];
  tokenExchanges: RecordedTokenExchange[];
  /** A new service account this mock's token endpoint trusts. */
  createAccount(name: string, projectId: string): Promise<TestServiceAccount>;
  /** An API key the front accepts (express mode, or bound to an account). */
  addApiKey(key: string): void;
  /** Front failures for an identity, one per call, before anything is forwarded. */
  fail(identity: string, failures: VertexFailure | VertexFailure[]): void;
  /** The token endpoint refuses this account (`invalid_grant`) or is down for it (503). */
  refuseTokens(email: string, how: "invalid_grant" | "unavailable"): void;
  callsFor(identity: string): RecordedVertexCall[];
  reset(): void;
  stop(): Promise<void>;
}

const TOKEN_LIFETIME_SECONDS = 3599;
const CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform";
const EMBEDDING_DIMENSIONS = 768;

const RECORDED_REGION_QUOTA = readFixtureJson("google/error-429-rate-limit-exceeded-errorinfo-legacy.json");
const RECORDED_UNAVAILABLE = readFixtureJson("google/error-503-unavailable-overloaded.json");

function googleError(code: number, status: string, message: string, details?: unknown[]): Response {
  return Response.json({ error: { code, message, status, ...(details ? { details } : {}) } }, { status: code });
}

function frontFailure(failure: VertexFailure, resource: string): Response {
  switch (failure) {
    case "quota":
      return Response.json(RECORDED_REGION_QUOTA, { status: 429 });
    case "dynamic_quota":
      // Built from cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 (no recording).
      return googleError(429, "RESOURCE_EXHAUSTED", "Resource exhausted. Please try again later. Please refer to https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.");
    case "permission_denied":
      // Built from Google's IAM error documentation (no recording).
      return googleError(403, "PERMISSION_DENIED", `Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/${resource}' (or it may not exist).`, [
        { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "IAM_PERMISSION_DENIED", domain: "aiplatform.googleapis.com", metadata: { permission: "aiplatform.endpoints.predict", resource } },
      ]);
    case "unauthenticated":
      return unauthenticated();
    case "unavailable":
      return Response.json(RECORDED_UNAVAILABLE, { status: 503 });
  }
}

function unauthenticated(): Response {
  return googleError(
    401,
    "UNAUTHENTICATED",
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
  );
}

function invalidArgument(message: string): Response {
  return googleError(400, "INVALID_ARGUMENT", message);
}

/** `/v1/projects/p/locations/l/publishers/x/models/m:method` or `/v1/publishers/x/models/m:method`. */
const MODEL_PATH = /^\/v1\/(?:projects\/([^/]+)\/locations\/([^/]+)\/)?publishers\/([^/]+)\/models\/([^/:]+):([A-Za-z]+)$/;
const LIST_PATH = /^\/v1beta1\/publishers\/([^/]+)\/models$/;

/** A deterministic unit-ish vector per text, so tests can tell inputs apart. */
function vectorFor(text: string, dimensions: number): number[] {
  let seed = 0;
  for (const char of text) seed = (seed * 31 + char.charCodeAt(0)) % 9973;
  return Array.from({ length: dimensions }, (_, i) => Math.round(Math.sin(seed + i) * 1e6) / 1e6);
}

export async function startMockVertex(): Promise<MockVertex> {
  const gemini = await startMockGemini();
  const anthropic = await startMockAnthropic();
  const accounts = new Map<string, TestServiceAccount>();
  const apiKeys = new Set<string>();
  const tokens = new Map<string, { email: string; expiresAt: number }>();
  const failures = new Map<string, VertexFailure[]>();
  const refusals = new Map<string, "invalid_grant" | "unavailable">();
  const calls: RecordedVertexCall[] = [];
  const tokenExchanges: RecordedTokenExchange[] = [];
  let issued = 0;

  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    async fetch(request) {
      const url = new URL(request.url);
      if (request.method === "POST" && url.pathname === "/token") return exchangeToken(request);
      const identity = identify(request);
      if (identity === undefined) return unauthenticated();
      const list = LIST_PATH.exec(url.pathname);
      if (request.method === "GET" && list) return listModels(list[1]!);
      const match = MODEL_PATH.exec(decodeURIComponent(url.pathname));
      if (request.method !== "POST" || !match) return googleError(404, "NOT_FOUND", `The mock has no route ${request.method} ${url.pathname}.`);
      const [, project, location, publisher, model, method] = match as unknown as [string, string | undefined, string | undefined, string, string, string];
      const text = await request.text();
      let body: any = null;
      try {
        body = JSON.parse(text);
      } catch {
        body = null;
      }
      const call: RecordedVertexCall = {
        identity: identity.name,
        auth: identity.auth,
        ...(project !== undefined ? { project, location } : {}),
        publisher,
        model,
        method,
        query: url.search,
        body,
        headers: Object.fromEntries(request.headers),
      };
      calls.push(call);
      if (project === undefined && identity.auth === "token") return invalidArgument("A project is required: use projects/{project}/locations/{location}/publishers/… with an access token.");
      const scripted = failures.get(identity.name)?.shift();
      const resource = `${project ? `projects/${project}/locations/${location}/` : ""}publishers/${publisher}/models/${model}`;
      if (scripted) {
        call.answeredByFront = scripted;
        return frontFailure(scripted, resource);
      }
      const broken = brokenRule(publisher, model, method, body);
      if (broken) {
        call.answeredByFront = "invalid_argument";
        return invalidArgument(broken);
      }
      if (publisher === "google" && method === "predict") return predict(body);
      if (publisher === "google") return forward(`${gemini.url}/models/${model}:${method}${url.search}`, { "x-goog-api-key": identity.name }, text, request.signal);
      if (publisher === "anthropic") {
        const { anthropic_version: _version, ...rest } = body;
        const path = model === "count-tokens" ? "/messages/count_tokens" : "/messages";
        const beta = request.headers.get("anthropic-beta");
        const headers = { "x-api-key": identity.name, "anthropic-version": "2023-06-01", ...(beta ? { "anthropic-beta": beta } : {}) };
        return forward(`${anthropic.url}${path}`, headers, JSON.stringify(model === "count-tokens" ? rest : { model, ...rest }), request.signal);
      }
      return googleError(404, "NOT_FOUND", `Publisher model ${resource} not found.`);
    },
  });
  const base = `http://127.0.0.1:${server.port}`;
  const tokenUri = `${base}/token`;

  function identify(request: Request): { name: string; auth: "token" | "api_key" } | undefined {
    const authorization = request.headers.get("authorization");
    if (authorization?.startsWith("Bearer ")) {
      const token = tokens.get(authorization.slice(7));
      return token && token.expiresAt > Date.now() ? { name: token.email, auth: "token" } : undefined;
    }
    const key = request.headers.get("x-goog-api-key");
    return key !== null && apiKeys.has(key) ? { name: key, auth: "api_key" } : undefined;
  }

  async function exchangeToken(request: Request): Promise<Response> {
    const form = new URLSearchParams(await request.text());
    const refuse = (description: string, email = "?") => {
      tokenExchanges.push({ email, granted: false });
      return Response.json({ error: "invalid_grant", error_description: description }, { status: 400 });
    };
    if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") return Response.json({ error: "unsupported_grant_type", error_description: "Invalid grant_type." }, { status: 400 });
    const assertion = form.get("assertion") ?? "";
    let claims: any;
    try {
      claims = JSON.parse(Buffer.from(assertion.split(".")[1] ?? "", "base64url").toString("utf8"));
    } catch {
      return refuse("Invalid JWT.");
    }
    const account = accounts.get(String(claims?.iss));
    if (!account) return Response.json({ error: "invalid_client", error_description: "The OAuth client was not found." }, { status: 401 });
    const verified = await verifiedJwt(assertion, account.publicKey);
    if (!verified || verified.header.alg !== "RS256" || verified.header.kid !== account.privateKeyId) return refuse("Invalid JWT Signature.", account.email);
    const now = Math.floor(Date.now() / 1000);
    if (verified.claims.aud !== tokenUri) return refuse("Invalid JWT: Token must be a short-lived token and in a reasonable timeframe.", account.email);
    if (!(verified.claims.iat <= now + 60 && verified.claims.exp > now && verified.claims.exp - verified.claims.iat <= 3600)) return refuse("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.", account.email);
    if (!String(verified.claims.scope ?? "").split(" ").includes(CLOUD_PLATFORM)) return refuse("Invalid OAuth scope or ID token audience provided.", account.email);
    const refusal = refusals.get(account.email);
    if (refusal === "invalid_grant") return refuse("Invalid grant: account not found", account.email);
    if (refusal === "unavailable") {
      tokenExchanges.push({ email: account.email, granted: false });
      return new Response("Service Unavailable", { status: 503 });
    }
    const token = `ya29.mock-${++issued}-${crypto.randomUUID()}`;
    tokens.set(token, { email: account.email, expiresAt: Date.now() + TOKEN_LIFETIME_SECONDS * 1000 });
    tokenExchanges.push({ email: account.email, granted: true, scope: verified.claims.scope });
    return Response.json({ access_token: token, expires_in: TOKEN_LIFETIME_SECONDS, token_type: "Bearer" });
  }

  function listModels(publisher: string): Response {
    const ids = publisher === "google" ? ["gemini-2.5-pro", "gemini-2.5-flash", "text-embedding-005"] : publisher === "anthropic" ? ["claude-sonnet-4-5", "claude-haiku-4-5"] : [];
    return Response.json({ publisherModels: ids.map((id) => ({ name: `publishers/${publisher}/models/${id}`, versionId: "001", openSourceCategory: "PROPRIETARY", launchStage: "GA" })) });
  }

  return {
    url: `${base}/v1`,
    tokenUri,
    gemini,
    anthropic,
    calls,
    tokenExchanges,
    async createAccount(name, projectId) {
      const account = await createTestServiceAccount({ name, projectId, tokenUri });
      accounts.set(account.email, account);
      return account;
    },
    addApiKey: (key) => void apiKeys.add(key),
    fail(identity, list) {
      failures.set(identity, [...(failures.get(identity) ?? []), ...(Array.isArray(list) ? list : [list])]);
    },
    refuseTokens: (email, how) => void refusals.set(email, how),
    callsFor: (identity) => calls.filter((call) => call.identity === identity),
    reset() {
      calls.length = 0;
      tokenExchanges.length = 0;
      failures.clear();
      refusals.clear();
      gemini.reset();
      anthropic.reset();
    },
    async stop() {
      server.stop(true);
      await Promise.all([gemini.stop(), anthropic.stop()]);
    },
  };
}

/** What Vertex refuses that the Gemini API or Anthropic's API would take; undefined when the body keeps the rules. */
function brokenRule(publisher: string, model: string, method: string, body: any): string | undefined {
  if (body === null || typeof body !== "object") return "Invalid JSON payload received.";
  if (publisher === "google") {
    if (method === "countTokens" && body.generateContentRequest !== undefined) return 'Invalid JSON payload received. Unknown name "generateContentRequest": Cannot find field.';
    if (method === "generateContent" || method === "streamGenerateContent" || method === "countTokens") {
      const contents = Array.isArray(body.contents) ? body.contents : [];
      if (contents.length === 0) return "Unable to submit request because it has an empty contents field.";
      if (contents.some((content: any) => content?.role !== "user" && content?.role !== "model")) return "Please use a valid role: user, model.";
    }
    if (method === "predict" && !Array.isArray(body.instances)) return 'Invalid JSON payload received. Unknown name "input": Cannot find field.';
    return undefined;
  }
  if (publisher === "anthropic") {
    if (body.anthropic_version !== "vertex-2023-10-16") return `anthropic_version: Input should be 'vertex-2023-10-16'`;
    if (model === "count-tokens") return typeof body.model === "string" ? undefined : "model: Field required";
    if (body.model !== undefined) return "model: Extra inputs are not permitted";
    if (method === "streamRawPredict" && body.stream !== true) return "streamRawPredict needs stream: true";
    if (method === "rawPredict" && body.stream === true) return "rawPredict does not stream; use streamRawPredict";
  }
  return undefined;
}

function predict(body: any): Response {
  const dimensions = typeof body.parameters?.outputDimensionality === "number" ? body.parameters.outputDimensionality : EMBEDDING_DIMENSIONS;
  return Response.json({
    predictions: body.instances.map((instance: any) => ({
      embeddings: { statistics: { truncated: false, token_count: estimateTokens(String(instance.content ?? "")) }, values: vectorFor(String(instance.content ?? ""), dimensions) },
    })),
    metadata: { billableCharacterCount: body.instances.reduce((sum: number, instance: any) => sum + String(instance.content ?? "").length, 0) },
  });
}

/** The answer of the mock behind, streamed through as it comes (the client leaving ends it). */
async function forward(url: string, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<Response> {
  try {
    const answer = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body, signal });
    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  } catch {
    return new Response(null, { status: 499 });
  }
}
