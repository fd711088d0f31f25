/**
 * Tests of the scripted Bedrock mock itself, driven with plain fetch: its SigV4 check accepts a
 * request signed by aws-sigv4.ts and refuses a wrong secret, a tampered body or an unknown key id
 * (before any script step is used); streams are the recorded bytes, handed out in several reads;
 * errors carry their recorded bodies and `x-amzn-ErrorType`; the exception frames decode as AWS
 * sends them; embeddings and the model list have the documented shapes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { signAwsRequest } from "../../src/providers/bedrock/aws-sigv4.ts";
import { createEventStreamDecoder } from "../../src/providers/bedrock/event-stream.ts";
import { fixturePath, readFixtureText } from "./fixtures.ts";
import { FIXTURE, RECORDED_TEXT, THROTTLING_FRAME_MESSAGE, framePayload, startMockBedrock, textBeforeException, type MockBedrock } from "./mock-bedrock.ts";
import { json, waitFor } from "./probes.ts";

const AKID = "AKIAIOSFODNN7EXAMPLE";
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const API_KEY = "ABSKQmVkcm9ja0FQSUtleS1tb2NrLXRlc3Qta2V5LTAwMDE=";
const MODEL = "us.amazon.nova-micro-v1:0";
const BODY = JSON.stringify({ messages: [{ role: "user", content: [{ text: "What is the capital of France?" }] }] });

let mock: MockBedrock;
beforeAll(async () => {
  mock = await startMockBedrock({ accessKeys: { [AKID]: SECRET } });
});
afterEach(() => mock.reset());
afterAll(() => mock.stop());

const modelUrl = (operation: string, model = MODEL) => `${mock.url}/model/${encodeURIComponent(model)}/${operation}`;

function bearer(url: string, body = BODY, signal?: AbortSignal): Promise<Response> {
  return fetch(url, { method: "POST", headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" }, body, signal });
}

async function signed(url: string, options: { secret?: string; region?: string; body?: string; sentBody?: string; method?: "GET" | "POST" } = {}): Promise<Response> {
  const method = options.method ?? "POST";
  const body = options.body ?? (method === "POST" ? BODY : "");
  const headers = await signAwsRequest({
    method,
    url,
    headers: { accept: "application/json", ...(method === "POST" ? { "content-type": "application/json" } : {}) },
    body,
    credentials: { accessKeyId: AKID, secretAccessKey: options.secret ?? SECRET },
    region: options.region ?? "us-east-1",
    service: "bedrock",
  });
  return fetch(url, { method, headers, body: method === "POST" ? (options.sentBody ?? body) : undefined });
}

/** Every read of a body, as bytes. */
async function reads(response: Response): Promise<Uint8Array[]> {
  const reader = response.body!.getReader();
  const out: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return out;
    out.push(value);
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

describe("SigV4 verification", () => {
  test("a request signed with the known secret passes; region, service, key id and wire path are recorded", async () => {
    const response = await signed(modelUrl("converse"), { region: "eu-west-1" });
    expect(response.status).toBe(200);
    expect((await json(response)).output.message.content[0].text).toBe(RECORDED_TEXT);
    expect(mock.calls[0]).toMatchObject({
      key: AKID,
      auth: "sigv4",
      signature: "valid",
      region: "eu-west-1",
      service: "bedrock",
      path: "/model/us.amazon.nova-micro-v1%3A0/converse",
      modelId: MODEL,
      operation: "converse",
    });
    expect(mock.calls[0]!.signedHeaders).toEqual(expect.arrayContaining(["host", "x-amz-date", "content-type"]));
  });

  test("a wrong secret, or a body changed after signing, is 403 InvalidSignatureException and uses no script step", async () => {
    mock.script(AKID, [{ kind: "error", name: "ThrottlingException" }, { kind: "text", text: "second step" }]);
    for (const response of [await signed(modelUrl("converse"), { secret: `${SECRET}x` }), await signed(modelUrl("converse"), { sentBody: BODY.replace("France", "Spain") })]) {
      expect(response.status).toBe(403);
      expect(response.headers.get("x-amzn-errortype")).toStartWith("InvalidSignatureException:");
      const { message } = await json(response);
      expect(message).toContain("signature we calculated does not match");
      expect(message).toContain("The Canonical String for this request should have been\n'POST\n/model/us.amazon.nova-micro-v1%253A0/converse\n");
    }
    expect(mock.calls.map((call) => call.signature)).toEqual(["invalid", "invalid"]);
    // The script is untouched: the first good call still gets its first step.
    expect((await signed(modelUrl("converse"))).status).toBe(429);
  });

  test("an unknown access key id is 403 UnrecognizedClientException; no Authorization is 403 MissingAuthenticationToken", async () => {
    const other = await startMockBedrock();
    try {
      const url = `${other.url}/model/${encodeURIComponent(MODEL)}/converse`;
      const unknown = await signed(url);
      expect(unknown.status).toBe(403);
      expect(unknown.headers.get("x-amzn-errortype")).toStartWith("UnrecognizedClientException:");
      const none = await fetch(url, { method: "POST", body: BODY });
      expect(none.status).toBe(403);
      expect(none.headers.get("x-amzn-errortype")).toStartWith("MissingAuthenticationTokenException:");
      expect(other.calls.map((call) => call.signature)).toEqual(["unknown_key", "missing"]);
    } finally {
      await other.stop();
    }
  });

  test("a GET with a query (the model list) verifies too", async () => {
    const response = await signed(`${mock.url}/foundation-models?byOutputModality=TEXT`, { method: "GET" });
    expect(response.status).toBe(200);
    const { modelSummaries } = await json(response);
    expect(modelSummaries.map((m: any) => m.modelId)).toEqual(["amazon.nova-micro-v1:0", "anthropic.claude-3-sonnet-20240229-v1:0"]);
    expect(modelSummaries[0]).toMatchObject({ providerName: "Amazon", outputModalities: ["TEXT"], modelArn: "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0" });
  });
});

describe("streams", () => {
  test("the recorded text stream is served byte for byte, in several reads that cut frames", async () => {
    const response = await bearer(modelUrl("converse-stream"));
    expect(response.headers.get("content-type")).toBe("application/vnd.amazon.eventstream");
    const parts = await reads(response);
    const recorded = new Uint8Array(readFileSync(fixturePath(FIXTURE.streamText)));
    expect(concat(parts)).toEqual(recorded);
    expect(parts.length).toBeGreaterThan(10);
    expect(mock.calls[0]).toMatchObject({ key: API_KEY, auth: "bearer", stream: true, operation: "converse-stream" });
  });

  test("exception frames: modelStreamErrorException before content, throttlingException after three deltas", async () => {
    mock.script(API_KEY, [{ kind: "exception_before_content" }, { kind: "exception_after_content", exception: "throttlingException" }]);
    const decode = async (response: Response) => createEventStreamDecoder().push(concat(await reads(response)));

    const before = await decode(await bearer(modelUrl("converse-stream")));
    expect(before.map((m) => m.headers[":event-type"] ?? m.headers[":exception-type"])).toEqual(["messageStart", "modelStreamErrorException"]);
    expect(before[1]!.headers[":message-type"]).toBe("exception");
    expect(framePayload(before[1]!)).toMatchObject({ originalStatusCode: 500 });

    const after = await decode(await bearer(modelUrl("converse-stream")));
    const last = after.at(-1)!;
    expect(last.headers).toEqual({ ":message-type": "exception", ":exception-type": "throttlingException", ":content-type": "application/json" });
    expect(framePayload(last)).toEqual({ message: THROTTLING_FRAME_MESSAGE });
    const text = after.slice(0, -1).map(framePayload).map((p) => p.delta?.text ?? "").join("");
    expect(text).toBe(textBeforeException());
    expect(text.length).toBeGreaterThan(0);
  });

  test("a text of the test's choosing streams in the recorded event order", async () => {
    mock.script(API_KEY, { kind: "text", text: "Hello there, Bedrock.", chunks: 4 });
    const messages = createEventStreamDecoder().push(concat(await reads(await bearer(modelUrl("converse-stream")))));
    expect(messages.map((m) => m.headers[":event-type"])).toEqual(["messageStart", ...Array(4).fill("contentBlockDelta"), "contentBlockStop", "messageStop", "metadata"]);
    expect(messages.map(framePayload).map((p) => p.delta?.text ?? "").join("")).toBe("Hello there, Bedrock.");
  });

  test("a client leaving mid-stream is recorded and the connection released", async () => {
    mock.script(API_KEY, { kind: "text", readBytes: 40, chunkDelayMs: 50 });
    const controller = new AbortController();
    const response = await bearer(modelUrl("converse-stream"), BODY, controller.signal);
    await response.body!.getReader().read();
    controller.abort();
    await waitFor(() => mock.openConnections() === 0);
    expect(mock.calls[0]!.aborted).toBe(true);
  });
});

describe("errors, embeddings", () => {
  test("recorded errors keep their bytes and x-amzn-ErrorType; synthesized ones have the documented status", async () => {
    mock.script(API_KEY, [
      { kind: "error", name: "ValidationException" },
      { kind: "error", name: "ExpiredTokenException" },
      { kind: "error", name: "ModelNotReadyException" },
      { kind: "error", name: "ServiceQuotaExceededException" },
    ]);
    const validation = await bearer(modelUrl("converse"));
    expect([validation.status, await validation.text()]).toEqual([400, readFixtureText(FIXTURE.validation)]);
    expect(validation.headers.get("x-amzn-errortype")).toBe("ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/");
    const expired = await bearer(modelUrl("converse"));
    expect([expired.status, await expired.text()]).toEqual([403, readFixtureText(FIXTURE.expiredToken)]);
    expect(expired.headers.get("x-amzn-errortype")).toBe("ExpiredTokenException:http://internal.amazon.com/coral/com.amazon.coral.service/");
    const notReady = await bearer(modelUrl("converse"));
    expect(notReady.status).toBe(429);
    expect(notReady.headers.get("x-amzn-errortype")).toStartWith("ModelNotReadyException:");
    expect(Object.keys(await json(notReady))).toEqual(["message"]);
    expect((await bearer(modelUrl("converse"))).status).toBe(400);
  });

  test("Titan v2 answers one normalized vector with its token count; Cohere v3 a list", async () => {
    const titan = await json(await bearer(modelUrl("invoke", "amazon.titan-embed-text-v2:0"), JSON.stringify({ inputText: "hello", dimensions: 256 })));
    expect(titan.embedding).toHaveLength(256);
    expect(Math.hypot(...titan.embedding)).toBeCloseTo(1, 3);
    expect(titan.inputTextTokenCount).toBeGreaterThan(0);
    const cohere = await json(await bearer(modelUrl("invoke", "cohere.embed-english-v3"), JSON.stringify({ texts: ["a", "b"], input_type: "search_document" })));
    expect(cohere.embeddings).toHaveLength(2);
    expect(cohere.embeddings[0]).toHaveLength(1024);
    expect(cohere.embeddings[0]).not.toEqual(cohere.embeddings[1]);
  });
});
