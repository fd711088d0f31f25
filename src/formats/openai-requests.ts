/**
 * zod schemas for the request bodies clients send. They check what the proxy itself relies on and
 * the common fields whose wrong type would only earn a vaguer upstream 400 later; every other field
 * passes through untouched, so new provider parameters work without a proxy release.
 */

import { z } from "zod";

const message = z.looseObject({
  role: z.string({ error: "must be a string such as \"user\" or \"assistant\"" }),
  content: z.union([z.string(), z.array(z.unknown()), z.null()]).optional(),
});

const integer = z.number().int();

export const chatRequestSchema = z.looseObject({
  model: z.string({ error: "is required and must be a string like \"openai/gpt-4o-mini\"" }).min(1, "must not be empty"),
  messages: z.array(message, { error: "is required and must be an array of messages" }).min(1, "must contain at least one message"),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
  n: integer.positive().nullish(),
  max_tokens: integer.nonnegative().nullish(),
  max_completion_tokens: integer.nonnegative().nullish(),
  presence_penalty: z.number().nullish(),
  frequency_penalty: z.number().nullish(),
  seed: integer.nullish(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
  tools: z.array(z.looseObject({ type: z.string() })).nullish(),
  tool_choice: z.union([z.string(), z.looseObject({})]).nullish(),
  response_format: z.looseObject({ type: z.string() }).nullish(),
  user: z.string().nullish(),
});

export type ChatRequest = z.infer<typeof chatRequestSchema>;

export const embeddingsRequestSchema = z.looseObject({
  model: z.string({ error: "is required and must be a string like \"openai/text-embedding-3-small\"" }).min(1, "must not be empty"),
  input: z.union([z.string(), z.array(z.string()).min(1), z.array(integer).min(1), z.array(z.array(integer)).min(1)], {
    error: "is required and must be a string, an array of strings, or token arrays",
  }),
  dimensions: integer.positive().nullish(),
  encoding_format: z.enum(["float", "base64"]).nullish(),
});

export type EmbeddingsRequest = z.infer<typeof embeddingsRequestSchema>;

export const tokenCountRequestSchema = z.looseObject({
  model: z.string({ error: "is required and must be a string like \"openai/gpt-4o\"" }).min(1, "must not be empty"),
  messages: z.array(message, { error: "is required and must be an array of messages" }).min(1, "must contain at least one message").optional(),
  text: z.string().optional(),
  tools: z.array(z.unknown()).optional(),
}).refine((body) => body.messages !== undefined || body.text !== undefined, { message: "needs either messages or text", path: ["messages"] });

export type TokenCountRequest = z.infer<typeof tokenCountRequestSchema>;
