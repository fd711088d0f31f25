/**
 * zod schemas for the bodies Anthropic clients send to `POST /v1/messages` and
 * `POST /v1/messages/count_tokens`.
 *
 * They check what the conversion to an OpenAI chat request relies on, with messages that name the
 * field (`messages[2].content[0].tool_use_id: …`), and tolerate everything else: unknown top-level
 * fields (`service_tier`, `context_management`, beta features) and unknown fields inside blocks and
 * tools (`defer_loading`, `eager_input_streaming`, `cache_control`) pass, so a newer Claude Code
 * keeps working. Content blocks of a type this proxy does not know (server-tool blocks such as
 * `web_search_tool_result`, `search_result`, …) pass as well; the conversion drops them, since no
 * OpenAI-shaped provider could read them.
 */

import { z } from "zod";
import type { AnthropicContentBlock, AnthropicDocumentBlock, AnthropicImageBlock, AnthropicTextBlock } from "./types.ts";

const text = z.string({ error: "must be a string" });

const textBlock = z.looseObject({ type: z.literal("text"), text });

const imageSource = z.discriminatedUnion(
  "type",
  [
    z.looseObject({ type: z.literal("base64"), media_type: text, data: text }),
    z.looseObject({ type: z.literal("url"), url: text }),
    z.looseObject({ type: z.literal("file"), file_id: text }),
  ],
  { error: 'must be {"type":"base64",media_type,data}, {"type":"url",url} or {"type":"file",file_id}' },
);

const documentSource = z.discriminatedUnion(
  "type",
  [
    z.looseObject({ type: z.literal("base64"), media_type: text, data: text }),
    z.looseObject({ type: z.literal("text"), data: text }),
    z.looseObject({ type: z.literal("url"), url: text }),
    z.looseObject({ type: z.literal("content"), content: z.union([z.string(), z.array(z.unknown())], { error: "must be a string or an array of blocks" }) }),
    z.looseObject({ type: z.literal("file"), file_id: text }),
  ],
  { error: "must be a base64, text, url, content or file source" },
);

/** The blocks the conversion reads, checked field by field once their `type` is known. */
const KNOWN_BLOCKS: Record<string, z.ZodType> = {
  text: textBlock,
  image: z.looseObject({ type: z.literal("image"), source: imageSource }),
  document: z.looseObject({ type: z.literal("document"), source: documentSource, title: z.string().nullish() }),
  tool_use: z.looseObject({
    type: z.literal("tool_use"),
    id: z.string({ error: "is required and must be the tool call's id" }),
    name: z.string({ error: "is required and must be the tool's name" }),
    input: z.looseObject({}, { error: "must be an object" }),
  }),
  tool_result: z.looseObject({
    type: z.literal("tool_result"),
    tool_use_id: z.string({ error: "is required and must be the id of the tool_use it answers" }),
    content: z.union([z.string(), z.array(checkedBlock<ToolResultContentBlock>())], { error: "must be a string or an array of content blocks" }).optional(),
    is_error: z.boolean({ error: "must be true or false" }).optional(),
  }),
  thinking: z.looseObject({ type: z.literal("thinking"), thinking: text, signature: text }),
  redacted_thinking: z.looseObject({ type: z.literal("redacted_thinking"), data: text }),
};

type ToolResultContentBlock = AnthropicTextBlock | AnthropicImageBlock | AnthropicDocumentBlock;

/**
 * A content block: an object with a string `type`, validated by that type's schema when the type is
 * known. A plain discriminated union would reject the unknown types and blur its errors into
 * "Invalid input"; this keeps both the tolerance and the precise path of the failing field.
 */
function checkedBlock<Block>() {
  return z.custom<Block>().superRefine((value, context) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      context.addIssue({ code: "custom", message: "must be a content block object" });
      return;
    }
    const type: unknown = (value as { type?: unknown }).type;
    if (typeof type !== "string") {
      context.addIssue({ code: "custom", message: 'is required and must be a block type such as "text"', path: ["type"] });
      return;
    }
    const schema = KNOWN_BLOCKS[type];
    const result = schema?.safeParse(value);
    for (const issue of result?.error?.issues ?? []) context.addIssue({ code: "custom", message: issue.message, path: issue.path });
  });
}

const turnContent = z.union([z.string(), z.array(checkedBlock<AnthropicContentBlock>())], { error: "must be a string or an array of content blocks" });

/**
 * A conversation message. Besides user and assistant turns, Claude Code (≥ 2.1.154) puts
 * `role: "system"` messages among them — its "# Environment" block, even as the last message — so
 * those are accepted too, with the content a top-level `system` may have: a string or text blocks.
 */
const message = z.discriminatedUnion(
  "role",
  [
    z.looseObject({ role: z.literal("user"), content: turnContent }),
    z.looseObject({ role: z.literal("assistant"), content: turnContent }),
    z.looseObject({ role: z.literal("system"), content: z.union([z.string(), z.array(textBlock)], { error: "must be a string or an array of text blocks" }) }),
  ],
  { error: 'must be "user", "assistant" or "system"' },
);

const tool = z
  .looseObject({
    name: z.string({ error: "is required and must be a string" }).min(1, "must not be empty"),
    description: z.string({ error: "must be a string" }).optional(),
    input_schema: z.looseObject({}, { error: "must be a JSON Schema object" }).optional(),
    type: z.string({ error: "must be a string" }).optional(),
  })
  .superRefine((value, context) => {
    // Only Anthropic's server tools (typed, e.g. "web_search_20250305") come without a schema.
    if (value.input_schema === undefined && (value.type === undefined || value.type === "custom")) {
      context.addIssue({ code: "custom", message: "is required for a client tool", path: ["input_schema"] });
    }
  });

const parallelFlag = z.boolean({ error: "must be true or false" }).optional();

const toolChoice = z.discriminatedUnion(
  "type",
  [
    z.looseObject({ type: z.literal("auto"), disable_parallel_tool_use: parallelFlag }),
    z.looseObject({ type: z.literal("any"), disable_parallel_tool_use: parallelFlag }),
    z.looseObject({ type: z.literal("tool"), name: z.string({ error: "is required and must name one of the tools" }), disable_parallel_tool_use: parallelFlag }),
    z.looseObject({ type: z.literal("none") }),
  ],
  { error: 'must be "auto", "any", "tool" or "none"' },
);

const thinking = z.discriminatedUnion(
  "type",
  [
    z.looseObject({
      type: z.literal("enabled"),
      budget_tokens: z.number({ error: "is required and must be a number of tokens" }).int("must be a whole number").positive("must be positive"),
      display: z.string().optional(),
    }),
    z.looseObject({ type: z.literal("adaptive"), display: z.string().optional() }),
    z.looseObject({ type: z.literal("disabled") }),
  ],
  { error: 'must be "enabled", "adaptive" or "disabled"' },
);

const outputConfig = z.looseObject({
  effort: z.string({ error: "must be a string such as \"high\"" }).optional(),
  format: z.looseObject({ type: z.literal("json_schema", { error: 'must be "json_schema"' }), schema: z.looseObject({}, { error: "must be a JSON Schema object" }) }).optional(),
});

const maxTokens = z.number({ error: "is required and must be the most tokens to generate" }).int("must be a whole number").nonnegative("must not be negative");

export const messagesRequestSchema = z.looseObject({
  model: z.string({ error: "is required and must be a string like \"openai/gpt-4o\"" }).min(1, "must not be empty"),
  max_tokens: maxTokens,
  messages: z.array(message, { error: "is required and must be an array of messages" }).min(1, "must contain at least one message"),
  system: z.union([z.string(), z.array(textBlock)], { error: "must be a string or an array of text blocks" }).optional(),
  stop_sequences: z.array(z.string(), { error: "must be an array of strings" }).optional(),
  stream: z.boolean({ error: "must be true or false" }).optional(),
  temperature: z.number({ error: "must be a number" }).optional(),
  top_p: z.number({ error: "must be a number" }).optional(),
  top_k: z.number({ error: "must be a number" }).int("must be a whole number").nonnegative("must not be negative").optional(),
  tools: z.array(tool, { error: "must be an array of tools" }).optional(),
  tool_choice: toolChoice.optional(),
  thinking: thinking.optional(),
  output_config: outputConfig.optional(),
  // The SDK types allow `user_id: null`; it means the same as leaving it out.
  metadata: z.looseObject({ user_id: z.string({ error: "must be a string" }).nullish().transform((id) => id ?? undefined) }).optional(),
});

/** count_tokens takes the same body; nothing is generated, so `max_tokens` is optional there. */
export const countTokensRequestSchema = messagesRequestSchema.extend({ max_tokens: maxTokens.optional() });

export type MessagesRequest = z.infer<typeof messagesRequestSchema>;
export type CountTokensRequest = z.infer<typeof countTokensRequestSchema>;
