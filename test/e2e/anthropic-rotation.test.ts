/**
 * Key rotation on the Anthropic provider: what each Anthropic failure does to the key that met it,
 * and that the client — on `/v1/messages` (native pass-through) or on `/v1/chat/completions`
 * (OpenAI clients) — gets the next key's answer without noticing.
 *
 * - 429 with `retry-after` → the next key answers; the first cools for that long;
 * - 529 overloaded → the next key at once (a single key is retried once); no cooldown (it is
 *   Anthropic's trouble, not the key's);
 * - 401 → the key is disabled; the credit-balance 400 → disabled as billing, and never shown to
 *   the client as a 400 while another key works;
 * - an `event: error` before the first content of a stream → invisible rotation.
 *
 * Two keys (slot 0 tried first), so no provider-wide incident is declared.
 */

import { describe, expect, test } from "bun:test";
import { CREDIT_BALANCE_MESSAGE } from "../support/mock-anthropic.ts";
import { CLAUDE, CLAUDE_MODEL, MAX_TOKENS, USER_TEXT, anthropicKeyStanding, anthropicKeysTried, comparableContent, coolingUntil, expectMessageGrammar, isDisabled, messagesBody, postMessages, readMessageEvents, streamedText, useAnthropicRig, type AnthropicRig } from "./anthropic-helpers.ts";
import { contentPieces, parseClientStream } from "./gemini-helpers.ts";

const start = useAnthropicRig();

const ANSWER = "Served by the second key.";
const USER = [{ role: "user" as const, content: USER_TEXT }];

/** Two keys: the first misbehaves as scripted, the second answers ANSWER. */
async function rigWithFirstKey(behavior: Parameters<AnthropicRig["anthropic"]["script"]>[1]): Promise<{ rig: AnthropicRig; first: string; second: string }> {
  const rig = await start();
  const [first, second] = rig.anthropicKeys as [string, string];
  rig.anthropic.script(first, behavior);
  rig.anthropic.script(second, { kind: "text", text: ANSWER });
  return { rig, first, second };
}

/** A non-stream /v1/messages call through the SDK, with the proxy's debugging headers. */
async function sdkCreate(rig: AnthropicRig) {
  const { data, response } = await rig.sdk.messages.create({ model: CLAUDE_MODEL, max_tokens: MAX_TOKENS, messages: USER }).withResponse();
  return { message: data, attempts: Number(response.headers.get("x-proxy-attempts")) };
}

describe("429 rate limit", () => {
  test("the next key answers, and the first cools for the retry-after it was given", async () => {
    const { rig, first, second } = await rigWithFirstKey({ kind: "rate_limit", retryAfterSeconds: 30 });
    const before = Date.now();
    const { message, attempts } = await sdkCreate(rig);

    expect(comparableContent(message.content)).toEqual([{ type: "text", text: ANSWER }]);
    expect(attempts).toBe(2);
    expect(anthropicKeysTried(rig.anthropic)).toEqual([first, second]);
    const until = coolingUntil(rig.proxy, first, CLAUDE);
    expect(until).toBeGreaterThanOrEqual(before + 29_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 31_000);
    expect(coolingUntil(rig.proxy, second, CLAUDE)).toBeUndefined();
    expect(isDisabled(rig.proxy, first)).toBe(false);

    // While it cools, the next request goes straight to the second key.
    await sdkCreate(rig);
    expect(anthropicKeysTried(rig.anthropic)).toEqual([first, second, second]);
  });

  test("a streamed request rotates the same way, before any byte reaches the client", async () => {
    const { rig, first, second } = await rigWithFirstKey({ kind: "rate_limit", retryAfterSeconds: 30 });
    const { events } = await readMessageEvents(await postMessages(rig.proxy, messagesBody(CLAUDE_MODEL, { stream: true })));

    expectMessageGrammar(events);
    expect(streamedText(events)).toBe(ANSWER);
    expect(anthropicKeysTried(rig.anthropic)).toEqual([first, second]);
    expect(coolingUntil(rig.proxy, first, CLAUDE)).toBeDefined();
  });
});

describe("529 overloaded", () => {
  test("the next key answers at once; the first is not cooled", async () => {
    const { rig, first, second } = await rigWithFirstKey({ kind: "overloaded" });
    const { message, attempts } = await sdkCreate(rig);

    expect(comparableContent(message.content)).toEqual([{ type: "text", text: ANSWER }]);
    expect(anthropicKeysTried(rig.anthropic)).toEqual([first, second]);
    expect(attempts).toBe(2);
    const standing = anthropicKeyStanding(rig.proxy, first);
    expect(standing.coolingModels).toEqual([]);
    expect(standing.disabledUntil).toBeLessThanOrEqual(Date.now());
  });

  test("a streamed request is rotated the same way, and the client sees one clean stream", async () => {
    const { rig, first, second } = await rigWithFirstKey({ kind: "overloaded" });
    const { events } = await readMessageEvents(await postMessages(rig.proxy, messagesBody(CLAUDE_MODEL, { stream: true })));

    expect(expectMessageGrammar(events)).toEqual(["text"]);
    expect(streamedText(events)).toBe(ANSWER);
    expect(anthropicKeysTried(rig.anthropic)).toEqual([first, second]);
    expect(anthropicKeyStanding(rig.proxy, first).coolingModels).toEqual([]);
  });

  test("with a single key, an overload that clears on the retry is answered by the same key", async () => {
    const rig = await start({ anthropicKeyCount: 1 });
    const [first] = rig.anthropicKeys as [string];
    rig.anthropic.script(first, [{ kind: "overloaded" }, { kind: "text", text: "Second try worked." }]);
    const { message } = await sdkCreate(rig);

    expect(comparableContent(message.content)).toEqual([{ type: "text", text: "Second try worked." }]);
    expect(anthropicKeysTried(rig.anthropic)).toEqual([first, first]);
  });
});

describe("dead keys", () => {
  test("a 401 disables the key, and the next key answers", async () => {
    const { rig, first, second } = await rigWithFirstKey({ kind: "invalid_key" });
    const { message } = await sdkCreate(rig);

    expect(comparableContent(message.content)).toEqual([{ type: "text", text: ANSWER }]);
    expect(anthropicKeysTried(rig.anthropic)).toEqual([first, second]);
    expect(isDisabled(rig.proxy, first)).toBe(true);
    expect(anthropicKeyStanding(rig.proxy, first).disabledReason).toContain("invalid");
    expect(isDisabled(rig.proxy, second)).toBe(false);

    await sdkCreate(rig);
    expect(anthropicKeysTried(rig.anthropic)).toEqual([first, second, second]);
  });

  test("the credit-balance 400 disables the key as billing, and the client gets the next key's answer, not a 400", async () => {
    const { rig, first, second } = await rigWithFirstKey({ kind: "credit_balance" });
    const response = await postMessages(rig.proxy, messagesBody(CLAUDE_MODEL));
    const text = await response.text();

    expect(response.status).toBe(200);
    expect(text).not.toContain(CREDIT_BALANCE_MESSAGE);
    expect(comparableContent(JSON.parse(text).content)).toEqual([{ type: "text", text: ANSWER }]);
    expect(anthropicKeysTried(rig.anthropic)).toEqual([first, second]);
    expect(isDisabled(rig.proxy, first)).toBe(true);
    expect(anthropicKeyStanding(rig.proxy, first).disabledReason).toContain("billing");
  });

  test("OpenAI clients on anthropic/… get the same rotation past an empty credit balance", async () => {
    const { rig, first, second } = await rigWithFirstKey({ kind: "credit_balance" });
    const completion = await rig.openaiClient.chat.completions.create({ model: CLAUDE_MODEL, messages: USER });

    expect(completion.choices[0]!.message.content).toBe(ANSWER);
    expect(anthropicKeysTried(rig.anthropic)).toEqual([first, second]);
    expect(anthropicKeyStanding(rig.proxy, first).disabledReason).toContain("billing");
  });
});

describe("an error event before the first content", () => {
  test("/v1/messages: the client gets a clean stream from the next key, with no error event", async () => {
    const { rig, first, second } = await rigWithFirstKey({ kind: "error_first_event" });
    const { events } = await readMessageEvents(await postMessages(rig.proxy, messagesBody(CLAUDE_MODEL, { stream: true })));

    expect(expectMessageGrammar(events)).toEqual(["text"]);
    expect(streamedText(events)).toBe(ANSWER);
    // Exactly one message_start: the failed attempt's preamble (if any) never reached the client.
    expect(events.filter((e) => e.event === "message_start")).toHaveLength(1);
    const tried = anthropicKeysTried(rig.anthropic);
    expect(tried[0]).toBe(first);
    expect(tried.at(-1)).toBe(second);
  });

  test("the SDK's stream gets the next key's whole message", async () => {
    const { rig } = await rigWithFirstKey({ kind: "error_first_event" });
    const message = await rig.sdk.messages.stream({ model: CLAUDE_MODEL, max_tokens: MAX_TOKENS, messages: USER }).finalMessage();
    expect(comparableContent(message.content)).toEqual([{ type: "text", text: ANSWER }]);
    expect(message.stop_reason).toBe("end_turn");
  });

  test("OpenAI clients streaming anthropic/… get a clean stream from the next key", async () => {
    const { rig, first, second } = await rigWithFirstKey({ kind: "error_first_event" });
    const { response } = await rig.openaiClient.chat.completions.create({ model: CLAUDE_MODEL, messages: USER, stream: true }).withResponse();
    const { payloads } = parseClientStream(await response.text());

    expect(contentPieces(payloads).join("")).toBe(ANSWER);
    expect(payloads.filter((payload) => payload.error !== undefined)).toHaveLength(0);
    const tried = anthropicKeysTried(rig.anthropic);
    expect(tried[0]).toBe(first);
    expect(tried.at(-1)).toBe(second);
  });
});
