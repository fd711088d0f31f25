/**
 * zod schemas for the Gemini-native request bodies, at the edge: what the proxy itself reads is
 * checked (contents as a list of parts, tools, the generation settings it maps); everything else
 * passes through untouched, so a native pass-through forwards fields newer than this proxy.
 */

import { z } from "zod";

const part = z.looseObject({
  text: z.string().optional(),
  inlineData: z.looseObject({ mimeType: z.string(), data: z.string() }).optional(),
  fileData: z.looseObject({ mimeType: z.string().optional(), fileUri: z.string() }).optional(),
  functionCall: z.looseObject({ name: z.string(), args: z.record(z.string(), z.unknown()).optional(), id: z.string().optional() }).optional(),
  functionResponse: z.looseObject({ name: z.string(), response: z.record(z.string(), z.unknown()).optional(), id: z.string().optional() }).optional(),
});

const content = z.looseObject({
  role: z.string().optional(),
  parts: z.array(part, { error: "must be an array of parts" }),
});

const functionDeclaration = z.looseObject({ name: z.string({ error: "is required" }), description: z.string().optional() });

const generationConfig = z.looseObject({
  temperature: z.number().optional(),
  topP: z.number().optional(),
  topK: z.number().optional(),
  candidateCount: z.number().int().positive().optional(),
  maxOutputTokens: z.number().int().nonnegative().optional(),
  stopSequences: z.array(z.string()).optional(),
  presencePenalty: z.number().optional(),
  frequencyPenalty: z.number().optional(),
  seed: z.number().int().optional(),
  responseMimeType: z.string().optional(),
  thinkingConfig: z
    .looseObject({ includeThoughts: z.boolean().optional(), thinkingBudget: z.number().int().optional(), thinkingLevel: z.string().optional() })
    .optional(),
});

export const generateRequestSchema = z.looseObject({
  contents: z.array(content, { error: "is required and must be an array of contents" }).min(1, "must contain at least one content"),
  systemInstruction: z.union([content, z.string()]).optional(),
  tools: z.array(z.looseObject({ functionDeclarations: z.array(functionDeclaration).optional() })).optional(),
  toolConfig: z
    .looseObject({ functionCallingConfig: z.looseObject({ mode: z.string().optional(), allowedFunctionNames: z.array(z.string()).optional() }).optional() })
    .optional(),
  generationConfig: generationConfig.optional(),
});

/** `:countTokens` takes either bare `contents` or the whole request as `generateContentRequest`. */
export const countTokensRequestSchema = z.union([
  z.looseObject({ generateContentRequest: generateRequestSchema }),
  z.looseObject({ contents: z.array(content, { error: "is required and must be an array of contents" }) }),
]);

const embedRequest = z.looseObject({
  model: z.string().optional(),
  content: content,
  taskType: z.string().optional(),
  title: z.string().optional(),
  outputDimensionality: z.number().int().positive().optional(),
});

export const embedRequestSchema = embedRequest;

export const batchEmbedRequestSchema = z.looseObject({
  requests: z.array(embedRequest, { error: "is required and must be an array of embed requests" }).min(1, "must contain at least one request"),
});
