/**
 * Where a Vertex request goes for each key: the location's host or the global one, the key's
 * project (its setting, else its service account's), the express-mode path for an API key without
 * one, model ids with their `@version` kept, the v1beta1 listing, and the headers each key kind
 * authenticates with.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { createCredential } from "../../../../src/credential.ts";
import { CredentialFailure } from "../../../../src/providers/attempts.ts";
import { publisherModelsUrl, publisherModelUrl, VERTEX_DEFAULT_BASE, vertexBase, vertexProject, vertexRequest } from "../../../../src/providers/vertex/vertex-endpoint.ts";
import { vertexKeyLabel, vertexSecretParts } from "../../../../src/providers/vertex/vertex-auth.ts";
import { createTestServiceAccount, type TestServiceAccount } from "../../../support/service-accounts.ts";

const API_KEY = "AQ.Ab8RN6Lunit-test-key-0000000000000001";
let account: TestServiceAccount;

beforeAll(async () => {
  account = await createTestServiceAccount({ name: "unit", projectId: "sa-project", tokenUri: "http://127.0.0.1:9/token" });
});

const key = (secret: string, options: Record<string, string> = {}, baseUrl = VERTEX_DEFAULT_BASE) => createCredential({ secret, baseUrl, options });

describe("vertexBase", () => {
  test("the global location on the global host; any other location on its own host; a base URL of the key's own as it is", () => {
    expect(vertexBase(key(API_KEY))).toBe("https://aiplatform.googleapis.com/v1");
    expect(vertexBase(key(API_KEY, { location: "global" }))).toBe("https://aiplatform.googleapis.com/v1");
    expect(vertexBase(key(API_KEY, { location: "us-east5" }))).toBe("https://us-east5-aiplatform.googleapis.com/v1");
    expect(vertexBase(key(API_KEY, { location: "us-east5" }, "http://127.0.0.1:8080/v1"))).toBe("http://127.0.0.1:8080/v1");
  });
});

describe("publisherModelUrl", () => {
  test("a service account's own project by default, the key's setting over it", () => {
    expect(vertexProject(key(account.json))).toBe("sa-project");
    expect(vertexProject(key(account.json, { project: "other" }))).toBe("other");
    expect(publisherModelUrl(key(account.json, { location: "europe-west4" }), "google", "gemini-2.5-pro", ":generateContent")).toBe(
      "https://europe-west4-aiplatform.googleapis.com/v1/projects/sa-project/locations/europe-west4/publishers/google/models/gemini-2.5-pro:generateContent",
    );
  });

  test("Claude ids keep their @version; the stream method carries alt=sse only where Google wants it", () => {
    expect(publisherModelUrl(key(account.json), "anthropic", "claude-sonnet-4-5@20250929", ":streamRawPredict")).toBe(
      "https://aiplatform.googleapis.com/v1/projects/sa-project/locations/global/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict",
    );
  });

  test("an API key without a project takes the express-mode path for Gemini, and cannot serve Claude", () => {
    expect(publisherModelUrl(key(API_KEY), "google", "gemini-2.5-flash", ":generateContent")).toBe("https://aiplatform.googleapis.com/v1/publishers/google/models/gemini-2.5-flash:generateContent");
    expect(vertexProject(key(API_KEY))).toBeUndefined();
    let thrown: unknown;
    try {
      publisherModelUrl(key(API_KEY), "anthropic", "claude-haiku-4-5", ":rawPredict");
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CredentialFailure);
    expect((thrown as CredentialFailure).failure).toMatchObject({ class: "request", status: 400, code: "vertex_project_required" });
  });

  test("an API key with a project uses the project path", () => {
    expect(publisherModelUrl(key(API_KEY, { project: "p1", location: "us-central1" }), "google", "gemini-2.5-flash", ":countTokens")).toBe(
      "https://us-central1-aiplatform.googleapis.com/v1/projects/p1/locations/us-central1/publishers/google/models/gemini-2.5-flash:countTokens",
    );
  });

  test("the Model Garden listing is under v1beta1", () => {
    expect(publisherModelsUrl(key(API_KEY), "anthropic", new URLSearchParams({ pageSize: "1" }))).toBe("https://aiplatform.googleapis.com/v1beta1/publishers/anthropic/models?pageSize=1");
  });
});

describe("vertexRequest", () => {
  test("an API key is sent at once in x-goog-api-key", () => {
    const request = vertexRequest(key(API_KEY), { url: () => "https://x/v1/y", accept: "application/json", body: "{}" });
    expect(request).not.toBeInstanceOf(Promise);
    expect(request).toMatchObject({ url: "https://x/v1/y", method: "POST", headers: { "x-goog-api-key": API_KEY, "content-type": "application/json", accept: "application/json" }, body: "{}" });
  });

  test("a key that cannot make the call is a rejected promise, never a throw", async () => {
    const pending = vertexRequest(key(API_KEY), { url: (k) => publisherModelUrl(k, "anthropic", "claude-haiku-4-5", ":rawPredict"), accept: "application/json", body: "{}" });
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).rejects.toBeInstanceOf(CredentialFailure);
  });

  test("a service-account key with a broken private key fails the attempt as a refused key, naming the field", async () => {
    const broken = JSON.stringify({ ...JSON.parse(account.json), private_key: "not a key" });
    const pending = vertexRequest(key(broken), { url: () => "https://x/v1/y", accept: "application/json" });
    const failure = await (pending as Promise<unknown>).then(
      () => undefined,
      (error: CredentialFailure) => error.failure,
    );
    expect(failure).toMatchObject({ class: "invalid_key", code: "invalid_service_account" });
    expect(failure!.message).toContain("private_key");
  });
});

describe("display and redaction", () => {
  test("a service account is shown by its e-mail; its private key is a secret part; an API key has none", () => {
    expect(vertexKeyLabel(account.json)).toBe(account.email);
    expect(vertexSecretParts(account.json)).toEqual([account.privatePem]);
    expect(vertexKeyLabel(API_KEY)).toBeUndefined();
    expect(vertexSecretParts(API_KEY)).toEqual([]);
  });
});
