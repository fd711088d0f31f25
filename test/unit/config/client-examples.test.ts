/**
 * The ready-to-paste lines: a model of a provider the user configured, the real address, and one
 * line per client that a shell (or Codex's `-c` parser) takes as it is.
 */

import { describe, expect, test } from "bun:test";
import { clientExamples, curlLine, exampleModel } from "../../../src/config/client-examples.ts";

describe("client examples", () => {
  test("the model comes from a configured provider the catalog knows, else a placeholder of the first", () => {
    expect(exampleModel(["gemini"])).toBe("gemini/gemini-2.5-flash");
    expect(exampleModel(["mock", "groq"])).toBe("groq/llama-3.3-70b-versatile");
    expect(exampleModel(["vllm"])).toBe("vllm/<model>");
    expect(exampleModel([])).toBe("gemini/<model>");
  });

  test("curl posts one chat completion to the real address, its JSON body in single quotes", () => {
    const line = curlLine({ origin: "http://127.0.0.1:8123", model: "gemini/gemini-2.5-flash", key: "$PROXY_API_KEY" });
    expect(line).toStartWith("curl http://127.0.0.1:8123/v1/chat/completions ");
    expect(line).toContain('-H "Authorization: Bearer $PROXY_API_KEY"');
    const body = /-d '(.*)'$/.exec(line)![1]!;
    expect(JSON.parse(body)).toEqual({ model: "gemini/gemini-2.5-flash", messages: [{ role: "user", content: "Hello" }] });
  });

  test("one line each for curl, the OpenAI SDKs, Claude Code and Codex, with the key as given", () => {
    const examples = clientExamples({ origin: "http://127.0.0.1:8000", model: "anthropic/claude-sonnet-4-5", key: "lkp-k" });
    expect(examples.map((example) => example.client)).toEqual(["curl", "OpenAI SDKs", "Claude Code", "Codex"]);
    for (const { line } of examples) expect(line).not.toContain("\n");
    expect(examples[1]!.line).toBe('base_url="http://127.0.0.1:8000/v1", api_key="lkp-k", model="anthropic/claude-sonnet-4-5"');
    expect(examples[2]!.line).toStartWith("ANTHROPIC_BASE_URL=http://127.0.0.1:8000 ANTHROPIC_AUTH_TOKEN=lkp-k ANTHROPIC_MODEL=anthropic/claude-sonnet-4-5 ");
    // Checked by hand against Codex CLI 0.171.0: it posts to <base_url>/responses with the key.
    expect(examples[3]!.line).toBe(
      `PROXY_API_KEY=lkp-k codex -m anthropic/claude-sonnet-4-5 -c model_provider=llm-key-proxy -c 'model_providers.llm-key-proxy={name="llm-key-proxy",base_url="http://127.0.0.1:8000/v1",env_key="PROXY_API_KEY",wire_api="responses"}'`,
    );
  });
});
