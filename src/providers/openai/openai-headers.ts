/**
 * The headers of every request to an OpenAI-compatible host: the key as a bearer token, a JSON
 * body, and what the answer should be.
 */

export function openAIHeaders(key: string, accept: string): Record<string, string> {
  return { authorization: `Bearer ${key}`, "content-type": "application/json", accept };
}
