/**
 * The parts of Amazon Bedrock's Converse / ConverseStream wire format the proxy writes and reads.
 * Field names follow the JSON that Bedrock serves exactly; blobs (image and document bytes, redacted
 * reasoning) are base64 strings in that JSON. Answer and event fields are optional because they come
 * from the network: the converters still check every value before they trust it. ConverseStream
 * events are read field by field in convert-converse-stream.ts, their shapes noted there.
 */

/** An empty structure: how Converse spells a union member without fields (`{"auto": {}}`). */
type Empty = Record<string, never>;

export type ConverseRole = "user" | "assistant";

export type ConverseImageFormat = "png" | "jpeg" | "gif" | "webp";
export type ConverseDocumentFormat = "pdf" | "csv" | "doc" | "docx" | "xls" | "xlsx" | "html" | "txt" | "md";

export interface ConverseTextBlock {
  text: string;
}

export interface ConverseImageBlock {
  image: { format: ConverseImageFormat; source: { bytes: string } };
}

export interface ConverseDocumentBlock {
  document: { format: ConverseDocumentFormat; name: string; source: { bytes: string } };
}

/** Marks the end of a cacheable prefix (prompt caching on Claude and Nova models). */
export interface ConverseCachePointBlock {
  cachePoint: { type: "default" };
}

export interface ConverseToolUseBlock {
  toolUse: { toolUseId: string; name: string; input: Record<string, unknown> };
}

export type ConverseToolResultContent = ConverseTextBlock | { json: unknown } | ConverseImageBlock | ConverseDocumentBlock;

export interface ConverseToolResultBlock {
  toolResult: { toolUseId: string; content: ConverseToolResultContent[]; status?: "success" | "error" };
}

/** Reasoning as a model sent it: readable text with its signature, or an encrypted (redacted) blob. */
export type ConverseReasoning = { reasoningText: { text: string; signature?: string } } | { redactedContent: string };

export interface ConverseReasoningBlock {
  reasoningContent: ConverseReasoning;
}

export type ConverseContentBlock =
  | ConverseTextBlock
  | ConverseImageBlock
  | ConverseDocumentBlock
  | ConverseCachePointBlock
  | ConverseToolUseBlock
  | ConverseToolResultBlock
  | ConverseReasoningBlock;

export interface ConverseMessage {
  role: ConverseRole;
  content: ConverseContentBlock[];
}

export type ConverseSystemBlock = ConverseTextBlock | ConverseCachePointBlock;

export interface ConverseTool {
  toolSpec: { name: string; description?: string; inputSchema: { json: unknown } };
}

export type ConverseToolChoice = { auto: Empty } | { any: Empty } | { tool: { name: string } };

export interface ConverseInferenceConfig {
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stopSequences?: string[];
}

/** The body of POST /model/{modelId}/converse and /converse-stream (the model id is in the URL). */
export interface ConverseRequest {
  messages: ConverseMessage[];
  system?: ConverseSystemBlock[];
  inferenceConfig?: ConverseInferenceConfig;
  toolConfig?: { tools: ConverseTool[]; toolChoice?: ConverseToolChoice };
  /** Fields Converse has no name for, handed to the model's native API as they are (Claude's `thinking`). */
  additionalModelRequestFields?: Record<string, unknown>;
}

export type ConverseStopReason =
  | "end_turn"
  | "tool_use"
  | "max_tokens"
  | "stop_sequence"
  | "guardrail_intervened"
  | "content_filtered"
  | "model_context_window_exceeded";

/**
 * Token counts. `inputTokens` excludes the prompt tokens read from or written to the cache:
 * `totalTokens` is the sum of all four (converse-usage-cache-read.json: 2 + 1322 + 0 + 5 = 1329).
 */
export interface ConverseUsage {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

/** A whole Converse answer. */
export interface ConverseResponse {
  output?: { message?: { role?: string; content?: unknown[] } };
  stopReason?: string;
  usage?: ConverseUsage;
  metrics?: { latencyMs?: number };
  additionalModelResponseFields?: unknown;
}
