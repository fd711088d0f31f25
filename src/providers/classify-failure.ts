/**
 * Turns an upstream failure into a `Failure`: which class of trouble it is (see `FailureClass`),
 * the upstream's own words, and how long it asked us to wait.
 *
 * Error bodies come in many shapes: the OpenAI envelope, flat Mistral/vLLM objects, problem+json,
 * Google `google.rpc.Status` (sometimes array-wrapped), Anthropic, and OpenRouter wrapping any of
 * these as a string. Parsing therefore never trusts the shape. Classification reads the signals in
 * a fixed order (providers.md 7.1), because the same status means different things per host:
 * a Google 400 can be a dead key, an Anthropic 400 an empty wallet, a Together 403 a long prompt.
 */
import { parseDurationMs, retryAfterFromHeaders, retryAfterFromMessage } from "./retry-hints.ts";
import type { Failure, FailureClass } from "../outcome.ts";
import { nextMidnightIn } from "./zone-time.ts";
import { isRecord } from "../formats/is-record.ts";

/** Gemini's daily quotas reset at midnight Pacific time (ai.google.dev rate-limits page). */
const GOOGLE_QUOTA_ZONE = "America/Los_Angeles";
const GOOGLE_DAILY_QUOTA = /PerDay|Daily/i;

export interface HttpFailureInput { status: number; headers: Headers; body: string; now: number }

type JsonObject = Record<string, unknown>;

/** Everything we could read out of an error body, whatever its shape. */
interface UpstreamError {
  message?: string;
  code?: string; // string `code` as sent: "insufficient_quota", Mistral's "1300"
  numericCode?: number; // numeric `code` (OpenRouter, Google, vLLM) or problem+json `status`
  type?: string;
  param?: string;
  googleStatus?: string; // canonical Google status such as RESOURCE_EXHAUSTED
  details: JsonObject[]; // Google `details[]`
  providerName?: string; // OpenRouter `metadata.provider_name`
  upstreamMessage?: string; // OpenRouter `metadata.raw`: what the provider behind it said
  moderated: boolean; // OpenRouter moderation verdict (`metadata.reasons` / `flagged_input`)
  baseRespCode?: number; // MiniMax `base_resp.status_code` (its codes mean other things elsewhere)
}

const MAX_MESSAGE_CHARS = 500;
const MAX_NESTING = 3;
const LONG_GOOGLE_DELAY_MS = 300_000;

const BILLING_CODES = new Set([
  "insufficient_quota", "credit_balance_exhausted", "billing_not_active", "billing_error",
  "organization_spend_limit_exceeded", "project_spend_limit_exceeded", "organization_usage_limit_exceeded",
  // Hosts of the catalog, each from its error-code page: Novita and Jina answer an empty balance
  // with a 403, Venice with a 402, DashScope names an overdue account, and Z.ai / Zhipu send business
  // code 1113 ("account in arrears") with a 429 that is not a rate limit.
  "NOT_ENOUGH_BALANCE", "AUTHZ_INSUFFICIENT_BALANCE", "INSUFFICIENT_BALANCE", "Arrearage", "1113",
]);
/** Cloudflare Workers AI's 429 "Out of capacity" (code 3040) is the platform's, not this account's limit. */
const TRANSIENT_CODES = new Set(["3040"]);

/**
 * MiniMax's business codes in `base_resp` (platform.minimax.io/docs/api-reference/errorcode, and
 * 1028 / 1030 as MiniMax's own CLI reads them): often on an HTTP 200. Read only from that envelope,
 * as Z.ai uses the same numbers for other things.
 */
const MINIMAX_CLASS: Readonly<Record<number, FailureClass>> = {
  1000: "transient", // unknown error: retry later
  1001: "transient", // request timeout
  1002: "rate_limit",
  1004: "invalid_key", // not authorized
  1008: "billing", // insufficient balance
  1024: "transient", // internal error
  1028: "quota", // plan quota used up
  1030: "quota",
  2013: "request", // invalid params
};
const STATUS_OF_CLASS: Readonly<Record<FailureClass, number>> = { request: 400, invalid_key: 401, billing: 402, rate_limit: 429, quota: 429, transient: 503 };
const TRANSIENT_STATUSES = new Set([408, 409, 425, 498, 499, 500, 502, 503, 504, 520, 521, 522, 523, 524, 529]);
const TRANSIENT_GOOGLE_STATUSES = new Set(["UNAVAILABLE", "INTERNAL", "DEADLINE_EXCEEDED", "CANCELLED"]);
const TRANSIENT_TYPES = new Set(["overloaded_error", "api_error"]);

/** HTTP status implied by an error type, for in-stream errors that carry no numeric code. */
const TYPE_STATUS: Readonly<Record<string, number>> = {
  invalid_request_error: 400, authentication_error: 401, billing_error: 402, permission_error: 403,
  not_found_error: 404, request_too_large: 413, rate_limit_error: 429, rate_limit_exceeded: 429,
  insufficient_quota: 429, api_error: 500, server_error: 500, timeout_error: 504, overloaded_error: 529,
};

/**
 * AWS names the error in `x-amzn-ErrorType` (`ThrottlingException:http://…`), and ConverseStream
 * exception frames in their type (`throttlingException`); the body has only a message. The name
 * decides where the status alone would mislead: Bedrock answers ModelNotReady with a 429 (the
 * model is loading: transient, not this key's limit) and a per-quota ServiceQuotaExceeded with a
 * 400 (a quota of this key, not the request's fault). Lower-cased for the stream's spelling.
 */
const AWS_ERROR_CLASS: Readonly<Record<string, FailureClass>> = {
  throttlingexception: "rate_limit",
  toomanyrequestsexception: "rate_limit",
  servicequotaexceededexception: "quota",
  validationexception: "request",
  resourcenotfoundexception: "request",
  accessdeniedexception: "invalid_key",
  unrecognizedclientexception: "invalid_key",
  expiredtokenexception: "invalid_key",
  invalidsignatureexception: "invalid_key",
  incompletesignatureexception: "invalid_key",
  modelnotreadyexception: "transient",
  serviceunavailableexception: "transient",
  internalserverexception: "transient",
  modeltimeoutexception: "transient",
  modelerrorexception: "transient",
  modelstreamerrorexception: "transient",
};

/** The AWS error name of an answer: its header, else a type that is one of AWS's names. */
function awsErrorName(err: UpstreamError, headers: Headers): string | undefined {
  const header = headers.get("x-amzn-errortype")?.split(":")[0]?.trim();
  if (header) return header;
  return err.type !== undefined && AWS_ERROR_CLASS[err.type.toLowerCase()] !== undefined ? err.type : undefined;
}

const KEY_REJECTED_TEXT = /API key (?:not valid|not found|expired)/i;
const BILLING_TEXT = /credit balance is too low/i;
const REGION_TEXT = /country, region, or territory not supported/i;
const CONTEXT_TEXT =
  /context_length_exceeded|maximum context length|prompt is too long|input token count|exceeds the available context size/i;
const DAY_SCOPE_TEXT = /per[ -]day|\b[RT]PD\b|\bdaily\b/i;
// "limit: 0" means no quota at all for this model; "limit: 10000" must not match.
const ZERO_LIMIT_TEXT = /\blimit: ?0(?![\d.])/;
const GENERIC_WRAPPER_TEXT = /^provider returned error\.?$/i;
const KEY_ECHO = /(API key provided:\s*)\S+?(?=[.,;]?(?:\s|$))/gi;
const KEY_LIKE =
  /\b(?:sk|gsk|csk|xai|pplx|nvapi|fw)[-_][A-Za-z0-9*._-]{8,}|\bAIza[A-Za-z0-9_-]{20,}/g;

function text(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

/**
 * A flat `{"type":"error",…}` event names only the envelope, and problem+json puts a URI
 * ("about:blank") in `type`; neither says what failed.
 */
function failureType(value: unknown): string | undefined {
  return typeof value === "string" && value !== "error" && /^[\w.-]+$/.test(value) ? value : undefined;
}

function parseJson(raw: string | undefined): unknown {
  const trimmed = raw?.trim();
  if (!trimmed || !(trimmed.startsWith("{") || trimmed.startsWith("["))) return undefined;
  try {
    return JSON.parse(trimmed);
  } catch {
    return undefined;
  }
}

/** CDN pages (Cloudflare 52x and friends) are HTML; their <title> is the only useful line. */
function plainText(body: string): string | undefined {
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(body)?.[1];
  return text(title) ?? text(body.replace(/<[^>]+>/g, " "));
}

/** Fields of `nested` win, except the message when the nested error only explains the outer one. */
function absorb(outer: UpstreamError, nested: UpstreamError, keepOuterMessage: boolean): UpstreamError {
  return {
    message: keepOuterMessage ? outer.message : (nested.message ?? outer.message),
    upstreamMessage: keepOuterMessage ? (nested.message ?? outer.upstreamMessage) : outer.upstreamMessage,
    code: nested.code ?? outer.code,
    numericCode: outer.numericCode ?? nested.numericCode,
    type: nested.type ?? outer.type,
    param: nested.param ?? outer.param,
    googleStatus: nested.googleStatus ?? outer.googleStatus,
    details: [...outer.details, ...nested.details],
    providerName: outer.providerName ?? nested.providerName,
    moderated: outer.moderated || nested.moderated,
  };
}

function readError(value: unknown, depth: number): UpstreamError {
  const root = Array.isArray(value) ? value[0] : value;
  if (!isRecord(root)) return { message: text(root), details: [], moderated: false };
  const minimax = miniMaxError(root);
  if (minimax !== undefined && root.error === undefined) return minimax;
  // Cloudflare's v4 envelope: {"success":false,"errors":[{"code":3036,"message":"…"}]}.
  const cloudflare = root.success === false && Array.isArray(root.errors) && isRecord(root.errors[0]) ? root.errors[0] : undefined;
  const inner = isRecord(root.error) ? root.error : (cloudflare ?? root);
  const metadata = isRecord(inner.metadata) ? inner.metadata : {};
  const numeric = typeof inner.code === "number" && inner !== cloudflare ? inner.code : inner.status;
  let parsed: UpstreamError = {
    message: text(inner.message) ?? text(root.error) ?? text(inner.detail) ?? text(inner.title),
    // Cloudflare's numeric codes name the failure (3036, 3040), not an HTTP status.
    code: text(inner.code) ?? (inner === cloudflare && typeof inner.code === "number" ? String(inner.code) : undefined),
    numericCode: typeof numeric === "number" ? numeric : undefined,
    type: failureType(inner.type),
    param: text(inner.param),
    // Only canonical names: hosts also send `"status":"error"` or a number here.
    googleStatus: typeof inner.status === "string" && /^[A-Z_]+$/.test(inner.status) ? inner.status : undefined,
    details: Array.isArray(inner.details) ? inner.details.filter(isRecord) : [],
    providerName: text(metadata.provider_name),
    moderated: Array.isArray(metadata.reasons) || metadata.flagged_input !== undefined,
  };
  if (depth >= MAX_NESTING) return parsed;
  const nestedInMessage = parseJson(parsed.message);
  if (nestedInMessage !== undefined) parsed = absorb(parsed, readError(nestedInMessage, depth + 1), false);
  const raw = metadata.raw;
  const nestedInRaw = isRecord(raw) ? raw : parseJson(text(raw));
  if (nestedInRaw !== undefined) return absorb(parsed, readError(nestedInRaw, depth + 1), true);
  return { ...parsed, upstreamMessage: text(raw) };
}

/** MiniMax's envelope, `{"base_resp":{"status_code":1008,"status_msg":"insufficient balance"}}`; 0 is success. */
function miniMaxError(root: JsonObject): UpstreamError | undefined {
  const baseResp = root.base_resp;
  if (!isRecord(baseResp) || typeof baseResp.status_code !== "number" || baseResp.status_code === 0) return undefined;
  // The HTTP status the code stands for, since the envelope usually arrives on a 200.
  const known = MINIMAX_CLASS[baseResp.status_code];
  const numericCode = known === undefined ? undefined : STATUS_OF_CLASS[known];
  return { message: text(baseResp.status_msg), code: String(baseResp.status_code), baseRespCode: baseResp.status_code, numericCode, details: [], moderated: false };
}

/** An answer that is MiniMax's error envelope rather than content (MiniMax sends it with an HTTP 200). */
export function isMiniMaxError(body: Record<string, unknown>): boolean {
  return miniMaxError(body) !== undefined && !(Array.isArray(body.choices) && body.choices.length > 0);
}

function parseBody(body: string): UpstreamError {
  const json = parseJson(body);
  if (json !== undefined) return readError(json, 0);
  return { message: plainText(body), details: [], moderated: false };
}

function detailsOfType(err: UpstreamError, type: string): JsonObject[] {
  return err.details.filter((d) => typeof d["@type"] === "string" && d["@type"].endsWith(`.${type}`));
}

function errorInfoReasons(err: UpstreamError): string[] {
  return detailsOfType(err, "ErrorInfo").flatMap((d) => text(d.reason) ?? []);
}

function errorInfoMetadata(err: UpstreamError): JsonObject[] {
  return detailsOfType(err, "ErrorInfo").flatMap((d) => (isRecord(d.metadata) ? [d.metadata] : []));
}

function quotaIds(err: UpstreamError): string[] {
  return detailsOfType(err, "QuotaFailure").flatMap((d) =>
    Array.isArray(d.violations) ? d.violations.flatMap((v) => (isRecord(v) ? (text(v.quotaId) ?? []) : [])) : [],
  );
}

/** Google's wait hint: `RetryInfo.retryDelay`, or Cloud-Code-style `ErrorInfo.metadata.quotaResetDelay`. */
function googleDelayMs(err: UpstreamError): number | undefined {
  const delays = [
    ...detailsOfType(err, "RetryInfo").map((d) => d.retryDelay),
    ...errorInfoMetadata(err).map((m) => m.quotaResetDelay),
  ];
  for (const delay of delays) {
    const ms = typeof delay === "string" ? parseDurationMs(delay) : undefined;
    if (ms !== undefined) return ms;
  }
  return undefined;
}

function allText(err: UpstreamError): string {
  return [err.message, err.upstreamMessage].filter(Boolean).join("\n");
}

function namesOf(err: UpstreamError): string[] {
  return [err.code, err.type].filter((name): name is string => name !== undefined);
}

function isKeyRejected(err: UpstreamError): boolean {
  return errorInfoReasons(err).includes("API_KEY_INVALID") || KEY_REJECTED_TEXT.test(allText(err));
}

function isBilling(status: number, err: UpstreamError): boolean {
  return status === 402 || namesOf(err).some((name) => BILLING_CODES.has(name)) || BILLING_TEXT.test(allText(err));
}

function isContextOverflow(err: UpstreamError): boolean {
  return CONTEXT_TEXT.test(allText(err)) || namesOf(err).includes("context_length_exceeded");
}

/** 403s that no other key would fix: egress region, moderation, Together's context overflow. */
function isForbiddenForRequest(err: UpstreamError): boolean {
  return REGION_TEXT.test(allText(err)) || err.moderated || isContextOverflow(err);
}

/** Signals that a 429 is a daily or zero quota rather than a short window. */
function isDayScope(err: UpstreamError, headers: Headers): boolean {
  const delay = googleDelayMs(err);
  return (
    quotaIds(err).some((id) => GOOGLE_DAILY_QUOTA.test(id)) ||
    errorInfoReasons(err).includes("QUOTA_EXHAUSTED") ||
    // Structured form of the "limit: 0" wording on older per-region quota errors.
    errorInfoMetadata(err).some((m) => m.quota_limit_value === "0") ||
    (delay !== undefined && delay > LONG_GOOGLE_DELAY_MS) ||
    ZERO_LIMIT_TEXT.test(allText(err)) ||
    DAY_SCOPE_TEXT.test(allText(err)) ||
    ["requests", "tokens"].some((kind) => headers.get(`x-ratelimit-remaining-${kind}-day`)?.trim() === "0")
  );
}

function isTransient(status: number, err: UpstreamError, headers: Headers): boolean {
  return (
    TRANSIENT_CODES.has(err.code ?? "") ||
    TRANSIENT_STATUSES.has(status) ||
    TRANSIENT_GOOGLE_STATUSES.has(err.googleStatus ?? "") ||
    namesOf(err).some((name) => TRANSIENT_TYPES.has(name)) ||
    headers.get("x-should-retry")?.trim() === "true"
  );
}

function decideClass(status: number, err: UpstreamError, headers: Headers): FailureClass {
  const aws = AWS_ERROR_CLASS[awsErrorName(err, headers)?.toLowerCase() ?? ""];
  if (aws !== undefined) return aws;
  const minimax = err.baseRespCode === undefined ? undefined : MINIMAX_CLASS[err.baseRespCode];
  if (minimax !== undefined) return minimax;
  if (isKeyRejected(err)) return "invalid_key";
  if (isBilling(status, err)) return "billing";
  if (status === 401) return "invalid_key";
  if (status === 403) return isForbiddenForRequest(err) ? "request" : "invalid_key";
  if (TRANSIENT_CODES.has(err.code ?? "")) return "transient";
  if (status === 429 || err.googleStatus === "RESOURCE_EXHAUSTED") return isDayScope(err, headers) ? "quota" : "rate_limit";
  // Before the transient check: an oversized prompt fails the same way on every key, so retrying
  // it elsewhere only burns time, even when a host reports it as a 5xx.
  if (isContextOverflow(err)) return "request";
  if (isTransient(status, err, headers)) return "transient";
  return status >= 400 && status < 500 ? "request" : "transient";
}

function waitHint(err: UpstreamError, headers: Headers, now: number): number | undefined {
  return (
    retryAfterFromHeaders(headers, now) ??
    googleDelayMs(err) ??
    retryAfterFromMessage(err.message ?? "") ??
    retryAfterFromMessage(err.upstreamMessage ?? "")
  );
}

/** Best code name: a named code, then Google's reason/status, then the type, then a numeric code. */
function codeOf(err: UpstreamError): string | undefined {
  const named = err.code !== undefined && !/^\d+$/.test(err.code) ? err.code : undefined;
  return named ?? errorInfoReasons(err)[0] ?? err.googleStatus ?? err.type ?? err.code ?? err.numericCode?.toString();
}

function redactKeys(message: string): string {
  return message.replace(KEY_ECHO, "$1[redacted]").replace(KEY_LIKE, "[redacted]");
}

/** OpenRouter's "Provider returned error" says nothing; the provider's own words say what happened. */
function composeMessage(err: UpstreamError): string | undefined {
  const { message, providerName, upstreamMessage } = err;
  if (message === undefined) return upstreamMessage;
  if (!GENERIC_WRAPPER_TEXT.test(message.trim())) return message;
  const by = providerName ? ` (${providerName})` : "";
  return upstreamMessage ? `${message.trim()}${by}: ${upstreamMessage}` : `${message.trim()}${by}`;
}

function tidy(message: string | undefined): string | undefined {
  const collapsed = message?.replace(/\s+/g, " ").trim();
  if (!collapsed) return undefined;
  const safe = redactKeys(collapsed);
  return safe.length > MAX_MESSAGE_CHARS ? `${safe.slice(0, MAX_MESSAGE_CHARS - 1)}…` : safe;
}

function buildFailure(status: number, err: UpstreamError, headers: Headers, now: number, fallback: string): Failure {
  const failure: Failure = {
    class: decideClass(status, err, headers),
    status,
    message: tidy(composeMessage(err)) ?? fallback,
  };
  const code = awsErrorName(err, headers) ?? codeOf(err);
  if (code !== undefined) failure.code = code;
  if (err.param !== undefined) failure.param = err.param;
  const retryAfterMs = waitHint(err, headers, now) ?? googleMinuteWindowMs(err, now);
  if (retryAfterMs !== undefined) failure.retryAfterMs = retryAfterMs;
  // A daily quota, or none at all ("limit: 0"), comes back when Google resets quotas, whatever
  // RetryInfo says; retrying after the hint would only earn the same 429.
  const googleQuota = err.googleStatus === "RESOURCE_EXHAUSTED";
  if (failure.class === "quota" && googleQuota && (quotaIds(err).some((id) => GOOGLE_DAILY_QUOTA.test(id)) || ZERO_LIMIT_TEXT.test(allText(err)))) {
    failure.resetAt = nextMidnightIn(GOOGLE_QUOTA_ZONE, now);
  }
  return failure;
}

/** Google per-minute quotas without a RetryInfo hint end with the current minute. */
function googleMinuteWindowMs(err: UpstreamError, now: number): number | undefined {
  if (!quotaIds(err).some((id) => /PerMinute/i.test(id))) return undefined;
  return 60_000 - (now % 60_000) + 1_000;
}

/** Classify a non-2xx upstream answer (any OpenAI-compatible host, plus Google- and Anthropic-shaped bodies, possibly wrapped by OpenRouter). */
export function classifyHttpFailure(input: HttpFailureInput): Failure {
  const { status, headers, body, now } = input;
  return buildFailure(status, parseBody(body), headers, now, `upstream answered HTTP ${status} with no error message`);
}

/**
 * The HTTP status was 200, so the status we report is the one the error names: its numeric
 * code, else the status its type stands for, else 200 (which classifies as transient).
 */
function embeddedStatus(err: UpstreamError): number {
  const numeric = err.numericCode;
  if (numeric !== undefined && numeric >= 400 && numeric <= 599) return numeric;
  return TYPE_STATUS[err.code ?? ""] ?? TYPE_STATUS[err.type ?? ""] ?? 200;
}

/** Classify an error object that arrived inside a 200 response: a `data: {"error":{…}}` SSE event or a 200 JSON body with top-level `error` (OpenRouter, OpenAI). `payload` is the parsed JSON object of that event/body. */
export function classifyEmbeddedError(payload: unknown, headers: Headers, now: number): Failure {
  const err = readError(payload, 0);
  return buildFailure(embeddedStatus(err), err, headers, now, "upstream reported an error inside a 200 response with no error message");
}

/** A failure with no HTTP answer: connect refused, reset, DNS, TLS, or one of our own timeouts. status 0, class transient, message a clear sentence that includes `what` (e.g. "no response headers within 10 s", "connection reset"). */
export function networkFailure(what: string): Failure {
  const detail = what.trim().replace(/\s+/g, " ") || "unknown network error";
  return { class: "transient", status: 0, message: `upstream request failed: ${redactKeys(detail)}` };
}

