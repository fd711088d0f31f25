/**
 * The OpenAI Responses API on the wire, as far as this proxy reads or writes it: the request body
 * (`POST /v1/responses`), its input items, the output items and the `response` object.
 *
 * Field names follow the recordings in test/fixtures/openai-responses and the `openai` SDK's types.
 * Output items are valid input items too: a client (or the response store) sends them back as the
 * next turn's history, which is how a conversation continues.
 */

export type ResponsesRole = "user" | "assistant" | "system" | "developer";

export interface InputTextPart {
  type: "input_text";
  text: string;
}

export interface InputImagePart {
  type: "input_image";
  image_url?: string | null;
  file_id?: string | null;
  detail?: string | null;
}

export interface InputFilePart {
  type: "input_file";
  /** A data URL (`data:application/pdf;base64,…`), as the SDKs send a file inline. */
  file_data?: string | null;
  file_id?: string | null;
  file_url?: string | null;
  filename?: string | null;
}

export interface OutputTextPart {
  type: "output_text";
  text: string;
  annotations: unknown[];
  logprobs: unknown[];
}

export interface RefusalPart {
  type: "refusal";
  refusal: string;
}

/** What a message's content array may hold; assistant turns hold `output_text` and `refusal`. */
export type ContentPart = InputTextPart | InputImagePart | InputFilePart | OutputTextPart | RefusalPart;

export type ItemStatus = "in_progress" | "completed" | "incomplete";

/** `type` is optional: the SDKs' "easy" input messages are a bare `{role, content}`. */
export interface MessageItem {
  type?: "message";
  id?: string;
  role: ResponsesRole;
  content: string | ContentPart[];
  status?: ItemStatus;
}

export interface FunctionCallItem {
  type: "function_call";
  id?: string;
  call_id: string;
  name: string;
  /** Set when the function was one of a `namespace` tool's. */
  namespace?: string;
  arguments: string;
  status?: ItemStatus;
}

export interface FunctionCallOutputItem {
  type: "function_call_output";
  id?: string;
  call_id: string;
  output: string | ContentPart[];
}

export interface CustomToolCallItem {
  type: "custom_tool_call";
  id?: string;
  call_id: string;
  name: string;
  namespace?: string;
  input: string;
}

export interface CustomToolCallOutputItem {
  type: "custom_tool_call_output";
  id?: string;
  call_id: string;
  output: string | ContentPart[];
}

export interface SummaryText {
  type: "summary_text";
  text: string;
}

export interface ReasoningItem {
  type: "reasoning";
  id?: string;
  summary: SummaryText[];
  /** Opaque to clients; from this proxy it carries the reasoning itself (see reasoning-carrier.ts). */
  encrypted_content?: string | null;
  status?: ItemStatus;
}

export interface ItemReference {
  type: "item_reference";
  id: string;
}

/** Item types this proxy does not read (`web_search_call`, `computer_call`, …): accepted and dropped. */
export interface OtherItem {
  type: string;
  id?: string;
}

export type ResponseInputItem =
  | MessageItem
  | FunctionCallItem
  | FunctionCallOutputItem
  | CustomToolCallItem
  | CustomToolCallOutputItem
  | ReasoningItem
  | ItemReference
  | OtherItem;

export interface FunctionTool {
  type: "function";
  name: string;
  description?: string | null;
  parameters?: Record<string, unknown> | null;
  strict?: boolean | null;
}

export interface CustomTool {
  type: "custom";
  name: string;
  description?: string | null;
  /** `{type:"text"}` or `{type:"grammar", syntax:"lark"|"regex", definition}`. */
  format?: { type: string; syntax?: string; definition?: string } | null;
}

/** Codex groups related functions: `{type:"namespace", name, description, tools:[…]}`. */
export interface NamespaceTool {
  type: "namespace";
  name: string;
  description?: string | null;
  tools: (FunctionTool | CustomTool)[];
}

/** Built-in tools (`web_search`, `file_search`, `mcp`, …), which only OpenAI's servers run. */
export interface BuiltInTool {
  type: string;
}

export type ResponsesTool = FunctionTool | CustomTool | NamespaceTool | BuiltInTool;

export type ResponsesToolChoice =
  | "auto"
  | "none"
  | "required"
  | { type: "function" | "custom"; name: string }
  | { type: "allowed_tools"; mode: "auto" | "required"; tools: { type: string; name?: string }[] }
  | { type: string };

export type TextFormat =
  | { type: "text" }
  | { type: "json_object" }
  | { type: "json_schema"; name: string; schema: Record<string, unknown>; strict?: boolean | null; description?: string | null };

export interface ResponsesRequest {
  model: string;
  input?: string | ResponseInputItem[];
  instructions?: string | null;
  tools?: ResponsesTool[] | null;
  tool_choice?: ResponsesToolChoice | null;
  parallel_tool_calls?: boolean | null;
  stream?: boolean | null;
  store?: boolean | null;
  include?: string[] | null;
  previous_response_id?: string | null;
  max_output_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  text?: { format?: TextFormat | null; verbosity?: string | null } | null;
  reasoning?: { effort?: string | null; summary?: string | null } | null;
  metadata?: Record<string, string> | null;
  [field: string]: unknown;
}

export interface OutputMessage {
  type: "message";
  id: string;
  status: ItemStatus;
  role: "assistant";
  content: (OutputTextPart | RefusalPart)[];
}

export interface OutputFunctionCall {
  type: "function_call";
  id: string;
  status: ItemStatus;
  call_id: string;
  name: string;
  namespace?: string;
  arguments: string;
}

export interface OutputCustomToolCall {
  type: "custom_tool_call";
  id: string;
  status: ItemStatus;
  call_id: string;
  name: string;
  namespace?: string;
  input: string;
}

export interface OutputReasoning {
  type: "reasoning";
  id: string;
  summary: SummaryText[];
  encrypted_content?: string;
}

export type ResponseOutputItem = OutputReasoning | OutputMessage | OutputFunctionCall | OutputCustomToolCall;

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export type ResponseStatus = "in_progress" | "completed" | "incomplete" | "failed";

export interface ResponseObject {
  id: string;
  object: "response";
  created_at: number;
  status: ResponseStatus;
  background: false;
  completed_at: number | null;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: "max_output_tokens" | "content_filter" } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  max_tool_calls: number | null;
  model: string;
  output: ResponseOutputItem[];
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  prompt_cache_key: string | null;
  reasoning: { effort: string | null; summary: string | null };
  safety_identifier: string | null;
  service_tier: string;
  store: boolean;
  temperature: number;
  text: { format: TextFormat; verbosity?: string };
  tool_choice: ResponsesToolChoice;
  tools: ResponsesTool[];
  top_logprobs: number;
  top_p: number;
  truncation: string;
  usage: ResponseUsage | null;
  user: string | null;
  metadata: Record<string, string>;
}
