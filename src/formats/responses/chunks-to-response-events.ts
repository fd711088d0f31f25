/**
 * Canonical `chat.completion.chunk` stream → Responses API SSE events, as one small state machine.
 *
 * The caller parses the upstream SSE, hands each chunk to `push`, and writes what comes back; every
 * method returns framed SSE text (`event: <type>\ndata: <json>\n\n`, several events or ""), each
 * event numbered by a `sequence_number` rising from 0. The sequence is the one OpenAI streams (see
 * the recordings in test/fixtures/openai-responses): `response.created` and `response.in_progress`,
 * then one output item at a time — reasoning, the message, a call per chat tool call index, in the
 * order the provider starts them — each opened by `response.output_item.added`, grown by its deltas
 * and closed by `response.output_item.done` before the next opens; then exactly one terminal
 * `response.completed`, `response.incomplete` or `response.failed` holding the whole response.
 *
 * Every event is serialised on its own, small; only the terminal event carries the whole response.
 */

import { reasoningOf, type OpenAIAssistantFields, type OpenAIUsage } from "../anthropic/convert-completion-to-message.ts";
import { argumentsText, callItem, convertUsage, outcomeFor, outputText, reasoningItem, responseEnvelope, statusOfItems, visibleItem, visibleResponse, type ResponseContext } from "./convert-completion-to-response.ts";
import { itemId } from "./item-id.ts";
import { toolIdentity } from "./tool-names.ts";
import type { ItemStatus, OutputTextPart, RefusalPart, ResponseObject, ResponseOutputItem } from "./types.ts";

export interface ResponseEventWriter {
  /** SSE text for one canonical chunk; the first call also emits response.created + response.in_progress. */
  push(chunk: Record<string, unknown>): string;
  /** At the canonical stream's [DONE]: close the open item, then one response.completed or response.incomplete. */
  finish(): string;
  /** A failure after the stream began: an `error` event, then response.failed. Nothing after. */
  fail(error: { code: string; message: string }): string;
  /** The whole response as the client got it (what a non-stream call returns); final after finish()/fail(). */
  response(): ResponseObject;
  /** The same with its reasoning carried whatever `include` said, for the response store. */
  storedResponse(): ResponseObject;
}

interface CanonicalDelta extends OpenAIAssistantFields {
  reasoning_signature?: string | null;
}

interface CanonicalChunk {
  choices?: { index?: number; delta?: CanonicalDelta | null; finish_reason?: string | null }[] | null;
  usage?: OpenAIUsage | null;
}

/** A content part of the open message: its kind and the text so far, in pieces. */
interface OpenPart {
  kind: "output_text" | "refusal";
  pieces: string[];
}

interface ReasoningState {
  kind: "reasoning";
  index: number;
  id: string;
  pieces: string[];
  /** The summary part opens with the first text: signature-only reasoning has none. */
  summaryOpen: boolean;
  signature: string;
}

interface MessageState {
  kind: "message";
  index: number;
  id: string;
  parts: (OutputTextPart | RefusalPart)[];
  part: OpenPart | undefined;
}

interface CallState {
  kind: "call";
  index: number;
  id: string;
  toolIndex: number;
  callId: string;
  /** The name the provider used; mapped back to the client's when the item is built. */
  name: string;
  pieces: string[];
  custom: boolean;
}

/** The item being streamed; `index` is its output_index. */
type OpenItem = ReasoningState | MessageState | CallState;

function wholePart(part: OpenPart): OutputTextPart | RefusalPart {
  const text = part.pieces.join("");
  return part.kind === "output_text" ? outputText(text) : { type: "refusal", refusal: text };
}

export function createResponseEventWriter(context: ResponseContext): ResponseEventWriter {
  let sequence = 0;
  let started = false;
  let ended = false;
  const output: ResponseOutputItem[] = [];
  let open: OpenItem | undefined;
  const toolIndexesSeen = new Set<number>();
  let finishReason: string | null | undefined;
  let usage: OpenAIUsage | undefined;
  let final: ResponseObject | undefined;

  // Items are kept with their reasoning carried (for the store); the client sees what it asked for.
  const shown = <Item extends ResponseOutputItem>(item: Item): Item => (context.includeEncrypted ? item : visibleItem(item));

  const event = (type: string, fields: Record<string, unknown>): string =>
    `event: ${type}\ndata: ${JSON.stringify({ type, ...fields, sequence_number: sequence++ })}\n\n`;

  const start = (): string => {
    if (started) return "";
    started = true;
    const response = responseEnvelope(context, { status: "in_progress", incomplete_details: null, output: [], usage: null });
    return event("response.created", { response }) + event("response.in_progress", { response });
  };

  const itemEvent = (type: string, item: OpenItem, fields: Record<string, unknown>): string => event(type, { ...fields, item_id: item.id, output_index: item.index });

  // --- closing: the item as it ends, and the events that say so ---

  const closePart = (message: MessageState): string => {
    const part = message.part;
    if (part === undefined) return "";
    message.part = undefined;
    const content_index = message.parts.length;
    const whole = wholePart(part);
    message.parts.push(whole);
    const done = whole.type === "output_text" ? itemEvent("response.output_text.done", message, { content_index, logprobs: [], text: whole.text }) : itemEvent("response.refusal.done", message, { content_index, refusal: whole.refusal });
    return done + itemEvent("response.content_part.done", message, { content_index, part: whole });
  };

  /** The item as it stands; a message's open part is included (fail() keeps what was said). */
  const finishedItem = (item: OpenItem, status: ItemStatus): ResponseOutputItem => {
    switch (item.kind) {
      case "reasoning":
        return reasoningItem(item.pieces.join(""), item.signature, true, item.id);
      case "message":
        return { type: "message", id: item.id, status, role: "assistant", content: item.part === undefined ? item.parts : [...item.parts, wholePart(item.part)] };
      case "call":
        return callItem(item.callId, item.name, item.pieces.join(""), status, context.tools, item.id);
    }
  };

  const closeItem = (status: ItemStatus): string => {
    const item = open;
    if (item === undefined) return "";
    open = undefined;
    let out = "";
    if (item.kind === "message") out += closePart(item);
    const finished = finishedItem(item, status);
    if (item.kind === "reasoning" && item.summaryOpen) {
      const text = item.pieces.join("");
      out += itemEvent("response.reasoning_summary_text.done", item, { summary_index: 0, text });
      out += itemEvent("response.reasoning_summary_part.done", item, { part: { type: "summary_text", text }, summary_index: 0 });
    }
    if (finished.type === "custom_tool_call") {
      // Held back until now: its input is inside JSON arguments, whole only at the end.
      out += event("response.output_item.added", { item: { ...finished, status: "in_progress", input: "" }, output_index: item.index });
      out += itemEvent("response.custom_tool_call_input.delta", item, { delta: finished.input });
      out += itemEvent("response.custom_tool_call_input.done", item, { input: finished.input });
    } else if (finished.type === "function_call") {
      out += itemEvent("response.function_call_arguments.done", item, { arguments: finished.arguments });
    }
    output.push(finished);
    return out + event("response.output_item.done", { item: shown(finished), output_index: item.index });
  };

  // --- opening and growing ---

  /** The output_index of the next item: after the open one, which closes first. */
  const nextIndex = (): number => output.length + (open === undefined ? 0 : 1);

  /** Closes the open item (it ended before the answer did: completed) and opens `item`. */
  const openItem = (item: OpenItem, added: ResponseOutputItem | undefined): string => {
    const out = closeItem("completed");
    open = item;
    return added === undefined ? out : out + event("response.output_item.added", { item: added, output_index: item.index });
  };

  const ensureReasoning = (): string => {
    if (open?.kind === "reasoning") return "";
    const id = itemId("rs");
    return openItem({ kind: "reasoning", index: nextIndex(), id, pieces: [], summaryOpen: false, signature: "" }, { type: "reasoning", id, summary: [] });
  };

  const reasoningDelta = (text: string): string => {
    let out = ensureReasoning();
    const item = open as ReasoningState;
    if (!item.summaryOpen) {
      item.summaryOpen = true;
      out += itemEvent("response.reasoning_summary_part.added", item, { part: { type: "summary_text", text: "" }, summary_index: 0 });
    }
    item.pieces.push(text);
    return out + itemEvent("response.reasoning_summary_text.delta", item, { delta: text, summary_index: 0 });
  };

  /**
   * Anthropic's signature closes its thinking block; the last one wins, as in a whole answer. A
   * signature with no thinking text before it (thinking display omitted) still opens an item to
   * carry it, with no summary, as OpenAI streams encrypted-only reasoning.
   */
  const signatureDelta = (signature: string): string => {
    const out = ensureReasoning();
    (open as ReasoningState).signature = signature;
    return out;
  };

  const contentDelta = (kind: OpenPart["kind"], text: string): string => {
    let out = "";
    if (open?.kind !== "message") {
      const id = itemId("msg");
      out += openItem({ kind: "message", index: nextIndex(), id, parts: [], part: undefined }, { type: "message", id, status: "in_progress", role: "assistant", content: [] });
    }
    const message = open as MessageState;
    if (message.part?.kind !== kind) {
      out += closePart(message);
      message.part = { kind, pieces: [] };
      const part = kind === "output_text" ? outputText("") : { type: "refusal", refusal: "" };
      out += itemEvent("response.content_part.added", message, { content_index: message.parts.length, part });
    }
    message.part!.pieces.push(text);
    const content_index = message.parts.length;
    return out + (kind === "output_text" ? itemEvent("response.output_text.delta", message, { content_index, delta: text, logprobs: [] }) : itemEvent("response.refusal.delta", message, { content_index, delta: text }));
  };

  /**
   * A new tool call index closes the open item and starts a call item; argument fragments follow.
   * Hosts stream calls one after another (as the recordings show), so a fragment for a call whose
   * item has closed cannot be placed — clients finalise an item at its done event — and is dropped.
   */
  const toolCallDeltas = (calls: NonNullable<CanonicalDelta["tool_calls"]>): string => {
    let out = "";
    calls.forEach((call, position) => {
      const toolIndex = typeof call.index === "number" ? call.index : position;
      const fragment = argumentsText(call.function?.arguments);
      if (!toolIndexesSeen.has(toolIndex)) {
        toolIndexesSeen.add(toolIndex);
        const name = call.function?.name ?? "";
        const callId = typeof call.id === "string" && call.id !== "" ? call.id : itemId("call");
        const custom = toolIdentity(context.tools, name).kind === "custom";
        const item: OpenItem = { kind: "call", index: nextIndex(), id: itemId(custom ? "ctc" : "fc"), toolIndex, callId, name, pieces: [], custom };
        // A custom call is held back until it closes (see closeItem): no added event yet.
        out += openItem(item, custom ? undefined : callItem(callId, name, "", "in_progress", context.tools, item.id));
      } else if (open?.kind !== "call" || open.toolIndex !== toolIndex) {
        return;
      }
      if (fragment === "") return;
      const item = open as CallState;
      item.pieces.push(fragment);
      if (!item.custom) out += itemEvent("response.function_call_arguments.delta", item, { delta: fragment });
    });
    return out;
  };

  const stored = (): ResponseObject => final ?? responseEnvelope(context, { status: "in_progress", incomplete_details: null, output, usage: null });

  return {
    push(raw) {
      if (ended) return "";
      const chunk = raw as CanonicalChunk;
      let out = start();
      if (chunk.usage) usage = chunk.usage;
      // A response has one answer; with n > 1 only the first choice is told.
      const choice = chunk.choices?.find((candidate) => (candidate.index ?? 0) === 0);
      if (choice === undefined) return out;
      const delta = choice.delta ?? {};
      const reasoning = reasoningOf(delta);
      if (reasoning !== "") out += reasoningDelta(reasoning);
      if (typeof delta.reasoning_signature === "string" && delta.reasoning_signature !== "") out += signatureDelta(delta.reasoning_signature);
      if (typeof delta.content === "string" && delta.content !== "") out += contentDelta("output_text", delta.content);
      if (typeof delta.refusal === "string" && delta.refusal !== "") out += contentDelta("refusal", delta.refusal);
      if (delta.tool_calls) out += toolCallDeltas(delta.tool_calls);
      if (choice.finish_reason) finishReason = choice.finish_reason;
      return out;
    },
    finish() {
      if (ended) return "";
      ended = true;
      const outcome = outcomeFor(finishReason);
      const out = start() + closeItem(statusOfItems(outcome));
      final = responseEnvelope(context, { ...outcome, output, usage: convertUsage(usage) });
      return out + event(outcome.status === "incomplete" ? "response.incomplete" : "response.completed", { response: visibleResponse(final, context.includeEncrypted) });
    },
    fail(error) {
      if (ended) return "";
      ended = true;
      const out = start();
      // What was said before the failure is kept, the open item marked incomplete; no events close it.
      const partial = open === undefined ? output : [...output, finishedItem(open, "incomplete")];
      open = undefined;
      final = responseEnvelope(context, { status: "failed", incomplete_details: null, output: partial, usage: convertUsage(usage), error });
      return out + event("error", { code: error.code, message: error.message, param: null }) + event("response.failed", { response: visibleResponse(final, context.includeEncrypted) });
    },
    response: () => visibleResponse(stored(), context.includeEncrypted),
    storedResponse: stored,
  };
}
