/**
 * Where an Azure request goes for each URL style: the v1 API (base ending in /openai/v1), and the
 * classic deployment URLs with the key's api-version, whose /responses route only exists from
 * 2025-03-01-preview on (older versions go to the resource's v1 /responses instead).
 */
import { describe, expect, test } from "bun:test";
import { createCredential } from "../../../../src/credential.ts";
import { azureHeaders, azureUrl } from "../../../../src/providers/azure/azure-endpoint.ts";

const RESOURCE = "https://contoso.openai.azure.com";
const key = (baseUrl: string, api_version?: string) => createCredential({ secret: "0123456789abcdef0123456789abcdef", baseUrl, options: api_version ? { api_version } : {} });

describe("azureUrl", () => {
  test("v1 base: every operation under it, no api-version", () => {
    const v1 = key(`${RESOURCE}/openai/v1`, "2024-10-21");
    expect(azureUrl(v1, "chat/completions", "gpt-4o")).toBe(`${RESOURCE}/openai/v1/chat/completions`);
    expect(azureUrl(v1, "embeddings", "embed")).toBe(`${RESOURCE}/openai/v1/embeddings`);
    expect(azureUrl(v1, "responses")).toBe(`${RESOURCE}/openai/v1/responses`);
    expect(azureUrl(v1, "models")).toBe(`${RESOURCE}/openai/v1/models`);
  });

  test("classic base: deployment URLs and per-resource URLs carry the key's api-version (default 2024-10-21)", () => {
    expect(azureUrl(key(RESOURCE, "2024-06-01"), "chat/completions", "my dep")).toBe(`${RESOURCE}/openai/deployments/my%20dep/chat/completions?api-version=2024-06-01`);
    expect(azureUrl(key(`${RESOURCE}/openai`), "embeddings", "embed")).toBe(`${RESOURCE}/openai/deployments/embed/embeddings?api-version=2024-10-21`);
    expect(azureUrl(key(RESOURCE), "models")).toBe(`${RESOURCE}/openai/models?api-version=2024-10-21`);
  });

  test.each([
    ["2024-10-21", `${RESOURCE}/openai/v1/responses`],
    [undefined, `${RESOURCE}/openai/v1/responses`],
    ["2025-02-01-preview", `${RESOURCE}/openai/v1/responses`],
    ["preview", `${RESOURCE}/openai/v1/responses`],
    ["2025-03-01-preview", `${RESOURCE}/openai/responses?api-version=2025-03-01-preview`],
    ["2025-04-01-preview", `${RESOURCE}/openai/responses?api-version=2025-04-01-preview`],
  ])("classic /responses with api-version %p goes to %s", (version, url) => {
    expect(azureUrl(key(RESOURCE, version), "responses")).toBe(url);
  });
});

test("azureHeaders: the api-key header, never Authorization", () => {
  const headers = azureHeaders(key(RESOURCE), "application/json");
  expect(headers["api-key"]).toBe("0123456789abcdef0123456789abcdef");
  expect(Object.keys(headers).map((name) => name.toLowerCase())).not.toContain("authorization");
});
