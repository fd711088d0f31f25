/** The metrics registry's bounds on client-chosen label values: model cardinality and escaping. */

import { expect, test } from "bun:test";
import { createMetrics, labelValue, MAX_MODEL_LABELS } from "../../../src/server/metrics.ts";

test(`each provider keeps ${MAX_MODEL_LABELS} model labels; later new names count under model="other"`, () => {
  const metrics = createMetrics();
  for (let i = 0; i < MAX_MODEL_LABELS + 50; i++) metrics.observeAttempt("openai", `invented-${i}`, "request");
  metrics.observeAttempt("openai", "invented-0", "ok");
  metrics.observeTokens("openai", "another-new-one", "prompt", 7);
  metrics.observeRequest({ route: "/v1/chat/completions", provider: "openai", model: "yet-another", status: 404, durationMs: 3 });
  // The cap is per provider: another provider's first model keeps its name.
  metrics.observeAttempt("groq", "llama", "ok");
  const text = metrics.render();
  const attempts = text.split("\n").filter((line) => line.startsWith("llm_proxy_upstream_attempts_total{"));
  expect(attempts.length).toBe(MAX_MODEL_LABELS + 3);
  expect(text).toContain('llm_proxy_upstream_attempts_total{provider="openai",model="invented-199",outcome="request"} 1');
  expect(text).not.toContain('model="invented-200"');
  expect(text).toContain('llm_proxy_upstream_attempts_total{provider="openai",model="other",outcome="request"} 50');
  expect(text).toContain('llm_proxy_upstream_attempts_total{provider="openai",model="invented-0",outcome="ok"} 1');
  expect(text).toContain('llm_proxy_tokens_total{provider="openai",model="other",kind="prompt"} 7');
  expect(text).toContain('llm_proxy_requests_total{route="/v1/chat/completions",provider="openai",model="other",status="404"} 1');
  expect(text).toContain('llm_proxy_upstream_attempts_total{provider="groq",model="llama",outcome="ok"} 1');
});

test("label values escape backslash, quote and newline, and replace other control characters", () => {
  expect(labelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
  expect(labelValue("m\u0000x\r\t\u001b[31m\u007f\u009b")).toBe("m\uFFFDx\uFFFD\uFFFD\uFFFD[31m\uFFFD\uFFFD");
  expect(labelValue("gpt-4o")).toBe("gpt-4o");
  const metrics = createMetrics();
  metrics.observeAttempt("openai", "m1\u0000\nforged 1", "ok");
  const text = metrics.render();
  expect(text).not.toContain("\u0000");
  expect(text).toContain('llm_proxy_upstream_attempts_total{provider="openai",model="m1\uFFFD\\nforged 1",outcome="ok"} 1');
});
