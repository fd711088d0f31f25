import { expect, test } from "bun:test";
import { routeLabel } from "../../../src/server/observe-request.ts";

test("Gemini-native paths become one metrics route per method; other paths stay as they are", () => {
  expect(routeLabel("/v1beta/models/gemini-2.5-flash:generateContent")).toBe("/v1beta/models/{model}:generateContent");
  expect(routeLabel("/v1/models/groq/llama-3.3-70b:streamGenerateContent")).toBe("/v1/models/{model}:streamGenerateContent");
  for (const path of ["/v1/chat/completions", "/v1/responses", "/v1/models", "/v1/messages"]) expect(routeLabel(path)).toBe(path);
});
