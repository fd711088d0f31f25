/**
 * zod schemas for the bodies Responses clients send to `POST /v1/responses` and
 * `POST /v1/responses/input_tokens`.
 *
 * They check what the conversion to a chat request relies on, with messages that name the field
 * (`input[2].call_id: …`), and tolerate the rest: unknown top-level fields (`prompt_cache_key`,
 * `client_metadata`, newer features), unknown fields inside items, and items and tools of types this
 * proxy does not run (`web_search_call`, `web_search`, …), which the conversion drops. The SDKs send
 * `null` for "not set" in many places (a tool's `description: null`), so every optional field takes it.
 */

import { z } from "zod";
import type { ContentPart, ResponseInputItem, ResponsesRequest, ResponsesTool, ResponsesToolChoice, TextFormat } from "./types.ts";

const text = z.string({ error: "must be a string" });
const optionalText = text.nullish();
const name = z.string({ error: "is required and must be a string" }).min(1, "must not be empty");
const callId = z.string({ error: "is required and must be the id of the call" }).min(1, "must not be empty");

/**
 * A value that must be an object with a `type`, checked by that type's schema when the type is
 * known and accepted as it is otherwise. A discriminated union would reject the unknown types and
 * blur its errors into "Invalid input"; this keeps both the tolerance and the failing field's path.
 * `typeOf` may infer a missing type (an input message without `type`).
 */
function byType<Value>(known: Record<string, z.ZodType>, example: string, typeOf: (value: Record<string, unknown>) => unknown = (value) => value.type) {
  return z.custom<Value>().superRefine((value, context) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      context.addIssue({ code: "custom", message: `must be an object with a type such as "${example}"` });
      return;
    }
    const type = typeOf(value as Record<string, unknown>);
    if (typeof type !== "string") {
      context.addIssue({ code: "custom", message: `is required and must be a string such as "${example}"`, path: ["type"] });
      return;
    }
    const schema = known[type];
    if (schema !== undefined) forwardIssues(schema, value, context);
  });
}

/** Reports `schema`'s issues with `value` as issues of the value being refined, paths kept. */
function forwardIssues(schema: z.ZodType, value: unknown, context: z.RefinementCtx): void {
  for (const issue of schema.safeParse(value).error?.issues ?? []) context.addIssue({ code: "custom", message: issue.message, path: issue.path });
}

const contentPart = byType<ContentPart>(
  {
    input_text: z.looseObject({ text }),
    output_text: z.looseObject({ text }),
    refusal: z.looseObject({ refusal: text }),
    input_image: z.looseObject({ image_url: optionalText, file_id: optionalText, detail: optionalText }).refine((part) => part.image_url != null || part.file_id != null, {
      message: "needs an image_url or a file_id",
      path: ["image_url"],
    }),
    input_file: z.looseObject({ file_data: optionalText, file_id: optionalText, file_url: optionalText, filename: optionalText }),
  },
  "input_text",
);

const content = z.union([z.string(), z.array(contentPart)], { error: "must be a string or an array of content parts" });

const inputItem = byType<ResponseInputItem>(
  {
    message: z.looseObject({ role: z.enum(["user", "assistant", "system", "developer"], { error: 'must be "user", "assistant", "system" or "developer"' }), content }),
    function_call: z.looseObject({ call_id: callId, name, arguments: text, namespace: optionalText }),
    function_call_output: z.looseObject({ call_id: callId, output: content }),
    custom_tool_call: z.looseObject({ call_id: callId, name, input: text, namespace: optionalText }),
    custom_tool_call_output: z.looseObject({ call_id: callId, output: content }),
    reasoning: z.looseObject({ summary: z.array(z.looseObject({ text }), { error: "must be an array of summary parts" }).nullish(), encrypted_content: optionalText }),
    item_reference: z.looseObject({ id: name }),
  },
  "message",
  // The SDKs' shorthand message is `{role, content}` with no type.
  (item) => item.type ?? (item.role !== undefined ? "message" : undefined),
);

const functionTool = z.looseObject({
  name,
  description: optionalText,
  parameters: z.looseObject({}, { error: "must be a JSON Schema object" }).nullish(),
  strict: z.boolean({ error: "must be true or false" }).nullish(),
});

const customTool = z.looseObject({
  name,
  description: optionalText,
  format: z.looseObject({ type: text, syntax: optionalText, definition: optionalText }).nullish(),
});

const namespacedTool = byType<ResponsesTool>({ function: functionTool, custom: customTool }, "function");

const tool = byType<ResponsesTool>(
  {
    function: functionTool,
    custom: customTool,
    namespace: z.looseObject({ name, description: optionalText, tools: z.array(namespacedTool, { error: "must be an array of tools" }) }),
  },
  "function",
);

const namedChoice = z.looseObject({ name });

const toolChoiceObject = byType<ResponsesToolChoice>(
  {
    function: namedChoice,
    custom: namedChoice,
    allowed_tools: z.looseObject({
      mode: z.enum(["auto", "required"], { error: 'must be "auto" or "required"' }),
      tools: z.array(z.looseObject({ type: text }), { error: "must be an array of tools" }),
    }),
  },
  "function",
);

const TOOL_CHOICE_MODES: readonly unknown[] = ["auto", "none", "required"];

/** A mode string or a choice object; checked by hand so a wrong string gets its own message. */
const toolChoice = z.custom<ResponsesToolChoice>().superRefine((value, context) => {
  if (typeof value !== "string") forwardIssues(toolChoiceObject, value, context);
  else if (!TOOL_CHOICE_MODES.includes(value)) context.addIssue({ code: "custom", message: 'must be "auto", "none", "required" or a tool choice object' });
});

const textFormat = byType<TextFormat>(
  { json_schema: z.looseObject({ name, schema: z.looseObject({}, { error: "is required and must be a JSON Schema object" }), strict: z.boolean().nullish(), description: optionalText }) },
  "json_schema",
);

const tokens = z.number({ error: "must be a number of tokens" }).int("must be a whole number").positive("must be positive");

export const responsesRequestSchema: z.ZodType<ResponsesRequest> = z.looseObject({
  model: z.string({ error: 'is required and must be a string like "gemini/gemini-2.5-flash"' }).min(1, "must not be empty"),
  input: z.union([z.string(), z.array(inputItem)], { error: "must be a string or an array of input items" }).optional(),
  instructions: optionalText,
  tools: z.array(tool, { error: "must be an array of tools" }).nullish(),
  tool_choice: toolChoice.nullish(),
  parallel_tool_calls: z.boolean({ error: "must be true or false" }).nullish(),
  stream: z.boolean({ error: "must be true or false" }).nullish(),
  store: z.boolean({ error: "must be true or false" }).nullish(),
  include: z.array(text, { error: "must be an array of strings" }).nullish(),
  previous_response_id: optionalText,
  max_output_tokens: tokens.nullish(),
  temperature: z.number({ error: "must be a number" }).nullish(),
  top_p: z.number({ error: "must be a number" }).nullish(),
  text: z.looseObject({ format: textFormat.nullish(), verbosity: optionalText }).nullish(),
  reasoning: z.looseObject({ effort: optionalText, summary: optionalText }).nullish(),
  metadata: z.record(z.string(), z.string({ error: "must be a string" }), { error: "must be an object of strings" }).nullish(),
});

/** `POST /v1/responses/input_tokens` takes the same body as a generation; it just generates nothing. */
export const inputTokensRequestSchema = responsesRequestSchema;
