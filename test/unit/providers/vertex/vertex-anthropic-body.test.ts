/** Claude's Messages API body as Vertex takes it: the model out (it is in the URL), anthropic_version in; count-tokens keeps the model. */
import { expect, test } from "bun:test";
import { toVertexAnthropicBody, VERTEX_ANTHROPIC_VERSION } from "../../../../src/providers/vertex/vertex-anthropic-endpoint.ts";

const body = JSON.stringify({ model: "claude-sonnet-4-5@20250929", max_tokens: 10, stream: true, messages: [{ role: "user", content: "Hi" }] });

test("a message: no model, the Vertex version first, everything else as it was", () => {
  expect(JSON.parse(toVertexAnthropicBody(body, false))).toEqual({ anthropic_version: VERTEX_ANTHROPIC_VERSION, max_tokens: 10, stream: true, messages: [{ role: "user", content: "Hi" }] });
});

test("count-tokens: the model stays in the body", () => {
  expect(JSON.parse(toVertexAnthropicBody(body, true))).toMatchObject({ anthropic_version: "vertex-2023-10-16", model: "claude-sonnet-4-5@20250929" });
});
