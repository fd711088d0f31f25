/**
 * A scripted mock of a host that serves the OpenAI Responses API itself (`POST /v1/responses`,
 * stream and non-stream, and `POST /v1/responses/input_tokens`), for the native pass-through
 * tests. Bodies and streams are the recordings in test/fixtures/openai-responses (and the
 * recorded insufficient_quota stream under openai/), with only the ids and the model replaced;
 * errors are the recorded bodies byte for byte.
 */

import { readFixtureJson, readFixtureText } from "./fixtures.ts";
import { baseState, bearerToken, framedResponse, hang, nextBehavior, rawResponse, serveCall, serveMock, splitFrames, type BaseState, type CommonBehavior, type MockHandle } from "./mock-core.ts";

export type ResponsesBehavior =
  /** The recorded text answer, or the recorded function call with `functionCall`. */
  | { kind: "success"; functionCall?: boolean }
  /** HTTP 200 stream: created, in_progress, an insufficient_quota `error` event, response.failed. */
  | { kind: "stream_error_first" }
  /** The recorded text stream cut after its first output event, with the connection reset. */
  | { kind: "reset_after_first_output" }
  /** HTTP 429 with the recorded insufficient_quota body. */
  | { kind: "insufficient_quota" }
  /** HTTP 400 with the recorded model_not_found body. */
  | { kind: "model_not_found" }
  | CommonBehavior;

export interface RecordedResponsesCall {
  key: string;
  path: string;
  method: string;
  body: any;
  at: number;
  aborted: boolean;
}

export type MockResponses = MockHandle<ResponsesBehavior, RecordedResponsesCall>;

export const RECORDED = {
  text: "openai-responses/text.json",
  functionCall: "openai-responses/function-call.json",
  streamText: "openai-responses/stream-text.sse.txt",
  streamFunctionCall: "openai-responses/stream-function-call.sse.txt",
  streamError: "openai/responses-stream-error-insufficient-quota.chunks.txt",
  insufficientQuota: "openai/error-429-insufficient-quota.json",
  modelNotFound: "openai-responses/error-400-model-not-found.json",
} as const;

export async function startMockResponses(): Promise<MockResponses> {
  const state: BaseState<ResponsesBehavior, RecordedResponsesCall> = baseState({ kind: "success" });
  return serveMock(state, {
    name: "mock responses host",
    basePath: "/v1",
    fetch: (request) => {
      const url = new URL(request.url);
      const call: RecordedResponsesCall = { key: bearerToken(request) ?? "", path: url.pathname, method: request.method, body: null, at: Date.now(), aborted: false };
      return serveCall(state, call, request, async (_raw, lifecycle) => {
        if (call.path === "/v1/responses/input_tokens") return json(200, JSON.stringify({ object: "response.input_tokens", input_tokens: 1234 }));
        if (call.method !== "POST" || call.path !== "/v1/responses") return json(404, JSON.stringify({ error: { message: `Invalid URL (${call.method} ${call.path})`, type: "invalid_request_error", param: null, code: null } }));
        state.sequence += 1;
        const id = `resp_mock${String(state.sequence).padStart(6, "0")}`;
        const model = typeof call.body?.model === "string" ? call.body.model : "gpt-5.5";
        const stream = call.body?.stream === true;
        const behavior = nextBehavior(state, call.key);
        switch (behavior.kind) {
          case "success":
            if (stream) return framedResponse(stamped(readFixtureText(behavior.functionCall ? RECORDED.streamFunctionCall : RECORDED.streamText), id, model), SSE, {}, lifecycle);
            return json(200, stampedJson(behavior.functionCall ? RECORDED.functionCall : RECORDED.text, id, model));
          case "stream_error_first":
            return framedResponse(readFixtureText(RECORDED.streamError).trim().split("\n").map((line) => `event: ${JSON.parse(line).type}\ndata: ${line}\n\n`), SSE, {}, lifecycle);
          case "reset_after_first_output": {
            const frames = stamped(readFixtureText(RECORDED.streamText), id, model);
            return framedResponse(frames.slice(0, 4), SSE, { ending: "reset" }, lifecycle);
          }
          case "insufficient_quota":
            return json(429, readFixtureText(RECORDED.insufficientQuota));
          case "model_not_found":
            return json(400, readFixtureText(RECORDED.modelNotFound));
          case "hang":
            return hang(lifecycle.signal);
          case "slow":
            return hang(lifecycle.signal);
          case "raw":
            return rawResponse(behavior);
        }
      });
    },
  });
}

const SSE = { "content-type": "text/event-stream; charset=utf-8" };

function json(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "application/json" } });
}

/** The recorded stream's events with the response id and model replaced, byte for byte otherwise. */
function stamped(text: string, id: string, model: string): string[] {
  const recorded = /"id":"(resp_[^"]+)"/.exec(text)![1]!;
  const recordedModel = /"model":"([^"]+)"/.exec(text)![1]!;
  return splitFrames(text.replaceAll(recorded, id).replaceAll(`"model":"${recordedModel}"`, `"model":"${model}"`));
}

function stampedJson(fixture: string, id: string, model: string): string {
  const body = readFixtureJson(fixture);
  body.id = id;
  body.model = model;
  return JSON.stringify(body, null, 2);
}
