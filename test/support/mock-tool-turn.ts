/**
 * A loopback mock upstream that plays the model's side of one agent tool turn, for driving real
 * client programs (Codex CLI, Claude Code, Gemini CLI) through the proxy.
 *
 * One server speaks all three provider families the proxy calls:
 * - OpenAI-compatible: `POST /v1/chat/completions` (stream and not), `GET /v1/models`; the same
 *   under Azure OpenAI's v1 API path (`/openai/v1/…`, the key in `api-key`);
 * - the OpenAI Responses API: `POST /v1/responses` (stream and not), so a client that speaks it
 *   (Codex CLI) can be run straight at the mock, as a control for the same run through the proxy;
 * - Gemini: `POST /v1beta/models/{model}:generateContent`, `:streamGenerateContent?alt=sse`,
 *   `:countTokens` (also under /v1), `GET /v1beta/models`;
 * - Anthropic: `POST /v1/messages` (stream and not), `POST /v1/messages/count_tokens`, `GET /v1/models`
 *   (told apart from the OpenAI list by the `x-api-key` / `anthropic-version` headers);
 * - Vertex AI: `POST /v1/projects/{p}/locations/{l}/publishers/google/models/{m}:{method}` as Gemini,
 *   `…/publishers/anthropic/models/{m}:rawPredict|:streamRawPredict` as Anthropic (the model from
 *   the URL; `count-tokens:rawPredict` counts), `GET /v1beta1/publishers/{p}/models`;
 * - Amazon Bedrock: `POST /model/{id}/converse` and `/converse-stream` (the binary event stream,
 *   encoded with the proxy's own encoder as mock-bedrock.ts does), `GET /foundation-models`.
 *
 * The answer depends on the request, not on a script, because the clients make side requests
 * (titles, summaries, quota probes, next-speaker checks) in an order of their own:
 * - a generate request that carries a tool result (an OpenAI `role: "tool"` message, a Responses
 *   `function_call_output` item, a Gemini `functionResponse` part, an Anthropic `tool_result`
 *   block) answers the final text `FINAL_TEXT`;
 * - else one that offers one of the clients' shell tools (`SHELL_TOOLS`) answers ONE call of it
 *   that runs `echo proxy-tool-ok`;
 * - else (a side request) a short text, or, when a Gemini request asks for JSON, a JSON object
 *   that fits its schema.
 * Every request is recorded, with what it was answered, so a test can check that the tool's
 * output reached the upstream.
 */

import { encodeEventStreamMessage } from "../../src/providers/bedrock/event-stream.ts";
import { estimateTokens, parseJson } from "./mock-core.ts";

/** What the shell tool prints; a test looks for it in the request after the tool ran. */
export const TOOL_OUTPUT = "proxy-tool-ok";
export const TOOL_COMMAND = `echo ${TOOL_OUTPUT}`;
/** The model's last answer, once it has seen the tool's output. */
export const FINAL_TEXT = `The tool said ${TOOL_OUTPUT}.`;
/** The answer to requests that are neither turn of the tool loop (titles, quota probes …). */
export const SIDE_TEXT = "Shell check";

/**
 * The shell tool of each client, as named in its recorded request (test/fixtures/clients), and
 * the arguments that run `TOOL_COMMAND`.
 */
export const SHELL_TOOLS: Readonly<Record<string, Record<string, unknown>>> = {
  // Codex CLI 0.171: exec_command {cmd, justification?, login?, …}
  exec_command: { cmd: TOOL_COMMAND },
  // Claude Code 2.1.332: Bash {command, timeout?, description?, …}
  Bash: { command: TOOL_COMMAND, description: "Print proxy-tool-ok" },
  // Gemini CLI 0.61: run_shell_command {command, description?, dir_path?, …}
  run_shell_command: { command: TOOL_COMMAND },
};

export type Family = "openai" | "responses" | "gemini" | "anthropic" | "bedrock";

export type CallKind = "generate" | "count_tokens" | "models" | "unknown";

export type Answer =
  /** Called the shell tool. */
  | "tool_call"
  /** Sent FINAL_TEXT after seeing a tool result. */
  | "final"
  /** A side request: SIDE_TEXT, JSON for a schema, a count or a model list. */
  | "side"
  | "not_found";

export interface ToolTurnCall {
  family: Family | null;
  kind: CallKind;
  method: string;
  /** Path and query, e.g. "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse". */
  path: string;
  headers: Record<string, string>;
  /** Parsed JSON body, or null. */
  body: any;
  /** Model named by the path (Gemini) or the body. */
  model: string | null;
  stream: boolean;
  /** Tool names the request offered. */
  tools: string[];
  /** Text of every tool result the request carries, in order. */
  toolResults: string[];
  answer: Answer;
  at: number;
}

export interface ToolTurnMock {
  /** http://127.0.0.1:PORT */
  origin: string;
  /** For `<CUSTOM>_API_BASE` (OpenAI-compatible): …/v1 */
  openaiBase: string;
  /** For `GEMINI_API_BASE`: …/v1beta */
  geminiBase: string;
  /** For `ANTHROPIC_API_BASE`: …/v1 */
  anthropicBase: string;
  /** For a Responses API client (Codex `base_url`): …/v1 */
  responsesBase: string;
  /** For `AZURE_API_BASE` (Azure OpenAI's v1 API of one resource): …/openai/v1 */
  azureBase: string;
  /** For `VERTEX_API_BASE`: …/v1 */
  vertexBase: string;
  /** For `BEDROCK_API_BASE`: the origin (runtime paths start at /model). */
  bedrockBase: string;
  calls: ToolTurnCall[];
  /** Generate requests, optionally of one family only. */
  generateCalls(family?: Family): ToolTurnCall[];
  /** The generate request that was answered with the tool call, and the one that carried its result. */
  toolTurn(): { call: ToolTurnCall | undefined; result: ToolTurnCall | undefined };
  /** A readable list of the requests so far, for failure messages. */
  describe(): string;
  reset(): void;
  stop(): Promise<void>;
}

export async function startToolTurnMock(options: { models?: string[] } = {}): Promise<ToolTurnMock> {
  const calls: ToolTurnCall[] = [];
  const models = options.models ?? ["gemini-2.5-flash", "gemini-2.5-pro", "claude-sonnet-4-5", "tool-turn-model"];
  let sequence = 0;
  const nextId = (): string => `${Date.now().toString(36)}${(sequence += 1).toString().padStart(4, "0")}`;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    fetch: async (request) => {
      const url = new URL(request.url);
      const text = request.method === "GET" ? "" : await request.text();
      const call: ToolTurnCall = {
        family: null,
        kind: "unknown",
        method: request.method,
        path: url.pathname + url.search,
        headers: Object.fromEntries(request.headers),
        body: parseJson(text),
        model: null,
        stream: false,
        tools: [],
        toolResults: [],
        answer: "not_found",
        at: Date.now(),
      };
      calls.push(call);
      return route(call, url, request, { models, nextId });
    },
  });
  const origin = `http://127.0.0.1:${server.port}`;
  const generateCalls = (family?: Family) => calls.filter((c) => c.kind === "generate" && (family === undefined || c.family === family));
  return {
    origin,
    openaiBase: `${origin}/v1`,
    geminiBase: `${origin}/v1beta`,
    anthropicBase: `${origin}/v1`,
    responsesBase: `${origin}/v1`,
    azureBase: `${origin}/openai/v1`,
    vertexBase: `${origin}/v1`,
    bedrockBase: origin,
    calls,
    generateCalls,
    toolTurn: () => {
      const generates = generateCalls();
      const call = generates.find((c) => c.answer === "tool_call");
      const result = generates.find((c) => c.toolResults.some((r) => r.includes(TOOL_OUTPUT)));
      return { call, result };
    },
    describe: () =>
      calls
        .map((c) => `${c.method} ${c.path} [${c.family ?? "?"} ${c.kind}${c.stream ? " stream" : ""}] tools=${c.tools.length} results=${JSON.stringify(c.toolResults).slice(0, 120)} → ${c.answer}`)
        .join("\n") || "(no requests)",
    reset: () => {
      calls.length = 0;
    },
    stop: () => server.stop(true),
  };
}

// ---------------------------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------------------------

interface Context {
  models: string[];
  nextId(): string;
}

function route(call: ToolTurnCall, url: URL, request: Request, ctx: Context): Response {
  const path = url.pathname;
  // v1beta is what Gemini CLI calls; @google/genai 3.x calls v1 by default.
  const gemini = /^\/v1(?:beta)?\/models\/(.+):(generateContent|streamGenerateContent|countTokens)$/.exec(path);
  if (gemini) {
    call.family = "gemini";
    call.model = decodeURIComponent(gemini[1]!);
    if (gemini[2] === "countTokens") {
      call.kind = "count_tokens";
      call.answer = "side";
      return Response.json({ totalTokens: estimateTokens(JSON.stringify(call.body ?? "")) });
    }
    call.kind = "generate";
    call.stream = gemini[2] === "streamGenerateContent";
    return geminiGenerate(call, ctx);
  }
  const vertex = /^\/v1\/(?:projects\/[^/]+\/locations\/[^/]+\/)?publishers\/(google|anthropic)\/models\/([^/:]+):([A-Za-z]+)$/.exec(path);
  if (request.method === "POST" && vertex) {
    const [, publisher, model, method] = vertex as unknown as [string, string, string, string];
    call.model = decodeURIComponent(model);
    if (publisher === "google" && method === "countTokens") {
      call.family = "gemini";
      call.kind = "count_tokens";
      call.answer = "side";
      return Response.json({ totalTokens: estimateTokens(JSON.stringify(call.body ?? "")) });
    }
    if (publisher === "google") {
      call.family = "gemini";
      call.kind = "generate";
      call.stream = method === "streamGenerateContent";
      return geminiGenerate(call, ctx);
    }
    call.family = "anthropic";
    if (call.model === "count-tokens") {
      call.kind = "count_tokens";
      call.answer = "side";
      return Response.json({ input_tokens: estimateTokens(JSON.stringify(call.body ?? "")) });
    }
    call.kind = "generate";
    return anthropicGenerate(call, ctx, call.model);
  }
  if (request.method === "GET" && /^\/v1beta1\/publishers\/(google|anthropic)\/models$/.test(path)) {
    call.kind = "models";
    call.answer = "side";
    const publisher = path.split("/")[3]!;
    return Response.json({ publisherModels: ctx.models.filter((id) => id.startsWith("claude") === (publisher === "anthropic")).map((id) => ({ name: `publishers/${publisher}/models/${id}` })) });
  }
  const bedrock = /^\/model\/([^/]+)\/(converse|converse-stream)$/.exec(path);
  if (request.method === "POST" && bedrock) {
    call.family = "bedrock";
    call.kind = "generate";
    call.model = decodeURIComponent(bedrock[1]!);
    call.stream = bedrock[2] === "converse-stream";
    return converseGenerate(call, ctx);
  }
  if (request.method === "GET" && path === "/foundation-models") {
    call.family = "bedrock";
    call.kind = "models";
    call.answer = "side";
    return Response.json({ modelSummaries: ctx.models.map((id) => ({ modelId: id, modelName: id, providerName: "mock", outputModalities: ["TEXT"], inferenceTypesSupported: ["ON_DEMAND"] })) });
  }
  if (request.method === "GET" && path === "/v1beta/models") {
    call.family = "gemini";
    call.kind = "models";
    call.answer = "side";
    return Response.json({
      models: ctx.models.map((id) => ({
        name: `models/${id}`,
        displayName: id,
        inputTokenLimit: 1_048_576,
        outputTokenLimit: 65_536,
        supportedGenerationMethods: ["generateContent", "countTokens"],
      })),
    });
  }
  if (request.method === "POST" && (path === "/v1/chat/completions" || path === "/openai/v1/chat/completions")) {
    call.family = "openai";
    call.kind = "generate";
    return openaiGenerate(call, ctx);
  }
  if (request.method === "POST" && path === "/v1/responses") {
    call.family = "responses";
    call.kind = "generate";
    return responsesGenerate(call, ctx);
  }
  if (request.method === "POST" && path === "/v1/messages") {
    call.family = "anthropic";
    call.kind = "generate";
    return anthropicGenerate(call, ctx);
  }
  if (request.method === "POST" && path === "/v1/messages/count_tokens") {
    call.family = "anthropic";
    call.kind = "count_tokens";
    call.answer = "side";
    return Response.json({ input_tokens: estimateTokens(JSON.stringify(call.body ?? "")) });
  }
  if (request.method === "GET" && (path === "/v1/models" || path === "/openai/v1/models")) {
    call.kind = "models";
    call.answer = "side";
    if (request.headers.has("x-api-key") || request.headers.has("anthropic-version")) {
      call.family = "anthropic";
      const data = ctx.models.map((id) => ({ type: "model", id, display_name: id, created_at: "2025-01-01T00:00:00Z" }));
      return Response.json({ data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null });
    }
    call.family = "openai";
    return Response.json({ object: "list", data: ctx.models.map((id) => ({ id, object: "model", created: 1_735_689_600, owned_by: "mock" })) });
  }
  return new Response(JSON.stringify({ error: { message: `mock-tool-turn: no route ${request.method} ${path}` } }), {
    status: 404,
    headers: { "content-type": "application/json" },
  });
}

/** What the model does with this generate request, given the tools it offers and the results it carries. */
function decide(call: ToolTurnCall): { kind: "tool_call"; name: string; args: Record<string, unknown> } | { kind: "text"; text: string; answer: Answer } {
  if (call.toolResults.length > 0) return { kind: "text", text: FINAL_TEXT, answer: "final" };
  const name = call.tools.find((tool) => tool in SHELL_TOOLS);
  if (name !== undefined) return { kind: "tool_call", name, args: SHELL_TOOLS[name]! };
  return { kind: "text", text: SIDE_TEXT, answer: "side" };
}

// ---------------------------------------------------------------------------------------------
// OpenAI-compatible chat completions
// ---------------------------------------------------------------------------------------------

function openaiGenerate(call: ToolTurnCall, ctx: Context): Response {
  const body = call.body ?? {};
  call.model = typeof body.model === "string" ? body.model : null;
  call.stream = body.stream === true;
  call.tools = list(body.tools).map((tool) => tool?.function?.name).filter(isString);
  call.toolResults = list(body.messages)
    .filter((message) => message?.role === "tool")
    .map((message) => contentText(message.content));
  const decision = decide(call);
  call.answer = decision.kind === "tool_call" ? "tool_call" : decision.answer;
  const id = `chatcmpl-${ctx.nextId()}`;
  const created = Math.floor(Date.now() / 1000);
  const model = call.model ?? "tool-turn-model";
  const usage = { prompt_tokens: estimateTokens(JSON.stringify(body)), completion_tokens: 8, total_tokens: estimateTokens(JSON.stringify(body)) + 8 };
  const toolCall =
    decision.kind === "tool_call" ? { index: 0, id: `call_${ctx.nextId()}`, type: "function", function: { name: decision.name, arguments: JSON.stringify(decision.args) } } : null;
  const finishReason = toolCall ? "tool_calls" : "stop";
  if (!call.stream) {
    const { index: _index, ...plainCall } = toolCall ?? { index: 0 };
    const message = toolCall
      ? { role: "assistant", content: null, tool_calls: [plainCall] }
      : { role: "assistant", content: decision.kind === "text" ? decision.text : "" };
    return Response.json({ id, object: "chat.completion", created, model, choices: [{ index: 0, message, finish_reason: finishReason }], usage });
  }
  const chunk = (delta: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}) => ({
    id,
    object: "chat.completion.chunk",
    created,
    model,
    choices: [{ index: 0, delta, finish_reason: finish }],
    ...extra,
  });
  const events: unknown[] = [chunk({ role: "assistant", content: "" }, null)];
  if (toolCall) {
    events.push(chunk({ tool_calls: [{ ...toolCall, function: { name: toolCall.function.name, arguments: "" } }] }, null));
    events.push(chunk({ tool_calls: [{ index: 0, function: { arguments: toolCall.function.arguments } }] }, null));
  } else if (decision.kind === "text") {
    for (const piece of halves(decision.text)) events.push(chunk({ content: piece }, null));
  }
  events.push(chunk({}, finishReason));
  if (body.stream_options?.include_usage === true) events.push({ id, object: "chat.completion.chunk", created, model, choices: [], usage });
  const frames = events.map((event) => `data: ${JSON.stringify(event)}\n\n`).concat("data: [DONE]\n\n");
  return sse(frames);
}

// ---------------------------------------------------------------------------------------------
// OpenAI Responses API
// ---------------------------------------------------------------------------------------------

function responsesGenerate(call: ToolTurnCall, ctx: Context): Response {
  const body = call.body ?? {};
  call.model = typeof body.model === "string" ? body.model : null;
  call.stream = body.stream === true;
  call.tools = list(body.tools)
    .filter((tool) => tool?.type === "function")
    .map((tool) => tool.name)
    .filter(isString);
  call.toolResults = (typeof body.input === "string" ? [] : list(body.input))
    .filter((item) => item?.type === "function_call_output")
    .map((item) => contentText(item.output));
  const decision = decide(call);
  call.answer = decision.kind === "tool_call" ? "tool_call" : decision.answer;
  const id = `resp_${ctx.nextId()}`;
  const createdAt = Math.floor(Date.now() / 1000);
  const model = call.model ?? "tool-turn-model";
  const inputTokens = estimateTokens(JSON.stringify(body.input ?? ""));
  const usage = {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 8,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: inputTokens + 8,
  };
  const item =
    decision.kind === "tool_call"
      ? { type: "function_call", id: `fc_${ctx.nextId()}`, call_id: `call_${ctx.nextId()}`, name: decision.name, arguments: JSON.stringify(decision.args), status: "completed" }
      : { type: "message", id: `msg_${ctx.nextId()}`, role: "assistant", status: "completed", content: [{ type: "output_text", text: decision.text, annotations: [] }] };
  const response = (status: string, output: unknown[]) => ({
    id,
    object: "response",
    created_at: createdAt,
    status,
    model,
    output,
    parallel_tool_calls: false,
    tool_choice: body.tool_choice ?? "auto",
    tools: [],
    usage: status === "completed" ? usage : null,
  });
  if (!call.stream) return Response.json(response("completed", [item]));
  const events: Record<string, unknown>[] = [
    { type: "response.created", response: response("in_progress", []) },
    { type: "response.in_progress", response: response("in_progress", []) },
  ];
  if (item.type === "function_call") {
    events.push({ type: "response.output_item.added", output_index: 0, item: { ...item, arguments: "", status: "in_progress" } });
    events.push({ type: "response.function_call_arguments.delta", output_index: 0, item_id: item.id, delta: item.arguments });
    events.push({ type: "response.function_call_arguments.done", output_index: 0, item_id: item.id, arguments: item.arguments });
  } else {
    const text = decision.kind === "text" ? decision.text : "";
    events.push({ type: "response.output_item.added", output_index: 0, item: { ...item, status: "in_progress", content: [] } });
    events.push({ type: "response.content_part.added", output_index: 0, item_id: item.id, content_index: 0, part: { type: "output_text", text: "", annotations: [] } });
    for (const piece of halves(text)) events.push({ type: "response.output_text.delta", output_index: 0, item_id: item.id, content_index: 0, delta: piece });
    events.push({ type: "response.output_text.done", output_index: 0, item_id: item.id, content_index: 0, text });
    events.push({ type: "response.content_part.done", output_index: 0, item_id: item.id, content_index: 0, part: { type: "output_text", text, annotations: [] } });
  }
  events.push({ type: "response.output_item.done", output_index: 0, item });
  events.push({ type: "response.completed", response: response("completed", [item]) });
  return sse(events.map((event, index) => `event: ${event.type}\ndata: ${JSON.stringify({ ...event, sequence_number: index })}\n\n`));
}

// ---------------------------------------------------------------------------------------------
// Gemini generateContent / streamGenerateContent
// ---------------------------------------------------------------------------------------------

function geminiGenerate(call: ToolTurnCall, ctx: Context): Response {
  const body = call.body ?? {};
  call.tools = list(body.tools).flatMap((tool) => list(tool?.functionDeclarations).map((declaration) => declaration?.name).filter(isString));
  call.toolResults = list(body.contents)
    .flatMap((content) => list(content?.parts))
    .filter((part) => part?.functionResponse !== undefined)
    .map((part) => JSON.stringify(part.functionResponse.response ?? part.functionResponse));
  const config = body.generationConfig ?? {};
  const decision = decide(call);
  let parts: unknown[];
  let finishReason = "STOP";
  if (decision.kind === "tool_call") {
    call.answer = "tool_call";
    parts = [{ functionCall: { name: decision.name, args: decision.args } }];
  } else if (decision.answer === "side" && config.responseMimeType === "application/json") {
    call.answer = "side";
    parts = [{ text: JSON.stringify(fitSchema(config.responseJsonSchema ?? config.responseSchema ?? config._responseJsonSchema)) }];
  } else {
    call.answer = decision.answer;
    parts = [{ text: decision.text }];
  }
  const promptTokens = estimateTokens(JSON.stringify(body.contents ?? ""));
  const usageMetadata = { promptTokenCount: promptTokens, candidatesTokenCount: 8, totalTokenCount: promptTokens + 8 };
  const responseId = ctx.nextId();
  const modelVersion = call.model ?? "gemini-2.5-flash";
  const whole = { candidates: [{ content: { role: "model", parts }, finishReason, index: 0 }], usageMetadata, modelVersion, responseId };
  if (!call.stream) return Response.json(whole);
  // Text streams in two pieces, the last with the finish reason and usage, as Gemini streams it.
  const frames: unknown[] = [];
  const only = parts[0] as { text?: string };
  if (typeof only.text === "string" && only.text.length > 1) {
    const [first, second] = halves(only.text);
    frames.push({ candidates: [{ content: { role: "model", parts: [{ text: first }] }, index: 0 }], usageMetadata: { promptTokenCount: promptTokens, totalTokenCount: promptTokens }, modelVersion, responseId });
    frames.push({ candidates: [{ content: { role: "model", parts: [{ text: second }] }, finishReason, index: 0 }], usageMetadata, modelVersion, responseId });
  } else {
    frames.push(whole);
  }
  return sse(frames.map((frame) => `data: ${JSON.stringify(frame)}\r\n\r\n`));
}

/** A small JSON value that fits a (Gemini or JSON) schema; `next_speaker` is "user", so the turn ends. */
function fitSchema(schema: any, name = ""): unknown {
  if (schema === null || typeof schema !== "object") return {};
  if (name === "next_speaker") return "user";
  const enumValues = list(schema.enum);
  if (enumValues.length > 0) return enumValues[0];
  const type = String(Array.isArray(schema.type) ? schema.type[0] : (schema.type ?? (schema.properties ? "object" : "string"))).toLowerCase();
  switch (type) {
    case "object":
      return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([key, value]) => [key, fitSchema(value, key)]));
    case "array":
      return [];
    case "integer":
    case "number":
      return 0;
    case "boolean":
      return false;
    default:
      return name === "reasoning" ? "The answer is complete; the user speaks next." : SIDE_TEXT;
  }
}

// ---------------------------------------------------------------------------------------------
// Anthropic messages
// ---------------------------------------------------------------------------------------------

/** `urlModel`: Vertex names the model in the URL, not the body. */
function anthropicGenerate(call: ToolTurnCall, ctx: Context, urlModel?: string): Response {
  const body = call.body ?? {};
  call.model = urlModel ?? (typeof body.model === "string" ? body.model : null);
  call.stream = body.stream === true;
  call.tools = list(body.tools).map((tool) => tool?.name).filter(isString);
  call.toolResults = list(body.messages)
    .flatMap((message) => (Array.isArray(message?.content) ? message.content : []))
    .filter((block) => block?.type === "tool_result")
    .map((block) => contentText(block.content));
  const decision = decide(call);
  call.answer = decision.kind === "tool_call" ? "tool_call" : decision.answer;
  const id = `msg_${ctx.nextId()}`;
  const model = call.model ?? "claude-sonnet-4-5";
  const inputTokens = estimateTokens(JSON.stringify(body));
  const block =
    decision.kind === "tool_call"
      ? { type: "tool_use" as const, id: `toolu_${ctx.nextId()}`, name: decision.name, input: decision.args }
      : { type: "text" as const, text: decision.text };
  const stopReason = decision.kind === "tool_call" ? "tool_use" : "end_turn";
  if (!call.stream) {
    return Response.json({
      id,
      type: "message",
      role: "assistant",
      model,
      content: [block],
      stop_reason: stopReason,
      stop_sequence: null,
      usage: { input_tokens: inputTokens, output_tokens: 8, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    });
  }
  const events: { type: string; [field: string]: unknown }[] = [
    {
      type: "message_start",
      message: {
        id,
        type: "message",
        role: "assistant",
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: inputTokens, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      },
    },
  ];
  if (block.type === "tool_use") {
    events.push({ type: "content_block_start", index: 0, content_block: { ...block, input: {} } });
    events.push({ type: "ping" });
    events.push({ type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: JSON.stringify(block.input) } });
  } else {
    events.push({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } });
    events.push({ type: "ping" });
    for (const piece of halves(block.text)) events.push({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: piece } });
  }
  events.push({ type: "content_block_stop", index: 0 });
  events.push({ type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: 8 } });
  events.push({ type: "message_stop" });
  return sse(events.map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`));
}

// ---------------------------------------------------------------------------------------------
// Bedrock Converse
// ---------------------------------------------------------------------------------------------

function converseGenerate(call: ToolTurnCall, ctx: Context): Response {
  const body = call.body ?? {};
  call.tools = list(body.toolConfig?.tools).map((tool) => tool?.toolSpec?.name).filter(isString);
  call.toolResults = list(body.messages)
    .flatMap((message) => list(message?.content))
    .filter((block) => block?.toolResult !== undefined)
    .map((block) => list(block.toolResult.content).map((part) => (typeof part?.text === "string" ? part.text : JSON.stringify(part?.json ?? part))).join("\n"));
  const decision = decide(call);
  call.answer = decision.kind === "tool_call" ? "tool_call" : decision.answer;
  const toolUseId = `tooluse_${ctx.nextId()}`;
  const block = decision.kind === "tool_call" ? { toolUse: { toolUseId, name: decision.name, input: decision.args } } : { text: decision.text };
  const stopReason = decision.kind === "tool_call" ? "tool_use" : "end_turn";
  const inputTokens = estimateTokens(JSON.stringify(body.messages ?? ""));
  const usage = { inputTokens, outputTokens: 8, totalTokens: inputTokens + 8 };
  if (!call.stream) return Response.json({ output: { message: { role: "assistant", content: [block] } }, stopReason, usage, metrics: { latencyMs: 12 } });
  const frames = [converseEvent("messageStart", { role: "assistant" })];
  if (decision.kind === "tool_call") {
    frames.push(converseEvent("contentBlockStart", { contentBlockIndex: 0, start: { toolUse: { toolUseId, name: decision.name } } }));
    frames.push(converseEvent("contentBlockDelta", { contentBlockIndex: 0, delta: { toolUse: { input: JSON.stringify(decision.args) } } }));
  } else {
    for (const piece of halves(decision.text)) frames.push(converseEvent("contentBlockDelta", { contentBlockIndex: 0, delta: { text: piece } }));
  }
  frames.push(converseEvent("contentBlockStop", { contentBlockIndex: 0 }));
  frames.push(converseEvent("messageStop", { stopReason }));
  frames.push(converseEvent("metadata", { usage, metrics: { latencyMs: 12 } }));
  return new Response(new Blob(frames), { headers: { "content-type": "application/vnd.amazon.eventstream" } });
}

function converseEvent(eventType: string, payload: unknown): Uint8Array<ArrayBuffer> {
  const headers = { ":event-type": eventType, ":content-type": "application/json", ":message-type": "event" };
  return encodeEventStreamMessage(headers, new TextEncoder().encode(JSON.stringify(payload))) as Uint8Array<ArrayBuffer>;
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function sse(frames: string[]): Response {
  const encoder = new TextEncoder();
  let next = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (next < frames.length) controller.enqueue(encoder.encode(frames[next++]!));
      else controller.close();
    },
  });
  return new Response(stream, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
}

/** The text of a tool result or message content: a string, or the text of its blocks/parts. */
function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((piece) => (typeof piece === "string" ? piece : typeof piece?.text === "string" ? piece.text : JSON.stringify(piece))).join("");
  return content === undefined || content === null ? "" : JSON.stringify(content);
}

function halves(text: string): [string, string] {
  const middle = Math.ceil(text.length / 2);
  return [text.slice(0, middle), text.slice(middle)];
}

function list(value: unknown): any[] {
  return Array.isArray(value) ? value : [];
}

function isString(value: unknown): value is string {
  return typeof value === "string";
}

