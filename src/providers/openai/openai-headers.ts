/**
 * The headers of every request to an OpenAI-compatible host: the key as a bearer token, a JSON
 * body, and what the answer should be.
 */

export function openAIHeaders(key: string, accept: string): Record<string, string> {
  // A keyless server (a local Ollama) gets no Authorization at all rather than an empty bearer.
  if (key === "") return { "content-type": "application/json", accept };
  return { authorization: `Bearer ${key}`, "content-type": "application/json", accept };
}
