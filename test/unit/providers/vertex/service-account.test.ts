/**
 * Service-account keys → signed JWT → access token, against a real RSA key pair made here and a mock
 * token endpoint on loopback that checks what Google checks: the form, the grant, the signature.
 */

import { afterAll, beforeAll, beforeEach, describe, expect, spyOn, test } from "bun:test";
import {
  DEFAULT_SCOPE,
  DEFAULT_TOKEN_URI,
  ServiceAccountError,
  TokenExchangeError,
  createAccessTokenSource,
  parseServiceAccount,
  signJwt,
} from "../../../../src/providers/vertex/service-account.ts";
import type { ServiceAccount } from "../../../../src/providers/vertex/service-account.ts";

const RSA = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;

let publicKey: CryptoKey;
let privatePem: string;

function pemOf(der: ArrayBuffer, label: string): string {
  const lines = Buffer.from(der).toString("base64").match(/.{1,64}/g)!;
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** The base64 body of the PEM, the part that must never show up in a message. */
const keyBody = (pem: string): string => pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");

/** No line of the key and no 12-character stretch of it anywhere in `text`. */
function expectNoKeyMaterial(text: string, pem = privatePem): void {
  const body = keyBody(pem);
  for (let at = 0; at + 12 <= body.length; at++) {
    if (text.includes(body.slice(at, at + 12))) throw new Error(`key material at offset ${at} in: ${text}`);
  }
}

function serviceAccountJson(overrides: Record<string, unknown> = {}): string {
  const fields: Record<string, unknown> = {
    type: "service_account",
    project_id: "proxy-test-project",
    private_key_id: "0123456789abcdef0123456789abcdef01234567",
    private_key: privatePem,
    client_email: "proxy@proxy-test-project.iam.gserviceaccount.com",
    client_id: "123456789012345678901",
    auth_uri: "https://accounts.google.com/o/oauth2/auth",
    token_uri: DEFAULT_TOKEN_URI,
    ...overrides,
  };
  for (const [name, value] of Object.entries(fields)) if (value === undefined) delete fields[name];
  return JSON.stringify(fields, null, 2);
}

function parseError(text: string): ServiceAccountError {
  try {
    parseServiceAccount(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ServiceAccountError);
    expectNoKeyMaterial((error as Error).message);
    return error as ServiceAccountError;
  }
  throw new Error("parseServiceAccount accepted the key");
}

function decodePart(part: string): any {
  return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
}

/** Whether `jwt` is three base64url parts whose signature the test key pair's public half accepts. */
async function signatureValid(jwt: string): Promise<boolean> {
  const parts = jwt.split(".");
  if (parts.length !== 3 || !parts.every((part) => /^[A-Za-z0-9_-]+$/.test(part))) return false;
  const [header, claims, signature] = parts as [string, string, string];
  return crypto.subtle.verify(RSA, publicKey, Buffer.from(signature, "base64url"), new TextEncoder().encode(`${header}.${claims}`));
}

async function verifyJwt(jwt: string): Promise<{ header: any; claims: any }> {
  expect(await signatureValid(jwt)).toBe(true);
  const [header, claims] = jwt.split(".") as [string, string];
  return { header: decodePart(header), claims: decodePart(claims) };
}

beforeAll(async () => {
  const pair = await crypto.subtle.generateKey({ ...RSA, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) }, true, ["sign", "verify"]);
  publicKey = pair.publicKey;
  privatePem = pemOf(await crypto.subtle.exportKey("pkcs8", pair.privateKey), "PRIVATE KEY");
});

describe("parseServiceAccount", () => {
  test("reads a Google key file and defaults token_uri", () => {
    const account = parseServiceAccount(serviceAccountJson({ token_uri: undefined }));
    expect(account).toEqual({
      projectId: "proxy-test-project",
      clientEmail: "proxy@proxy-test-project.iam.gserviceaccount.com",
      privateKeyId: "0123456789abcdef0123456789abcdef01234567",
      tokenUri: DEFAULT_TOKEN_URI,
    });
  });

  test("keeps a token_uri of its own, https or loopback http", () => {
    expect(parseServiceAccount(serviceAccountJson({ token_uri: "https://oauth2.example.test/token" })).tokenUri).toBe("https://oauth2.example.test/token");
    expect(parseServiceAccount(serviceAccountJson({ token_uri: "http://127.0.0.1:9/token" })).tokenUri).toBe("http://127.0.0.1:9/token");
  });

  test("the parsed account cannot print its private key: not logged, not serialised", () => {
    const account = parseServiceAccount(serviceAccountJson());
    expectNoKeyMaterial(Bun.inspect(account));
    expectNoKeyMaterial(JSON.stringify(account));
    expectNoKeyMaterial(String(Object.getOwnPropertyNames(account).map((name) => (account as any)[name])));
  });

  test("accepts a byte-order mark and a key whose newlines stayed escaped", async () => {
    const doubleEscaped = serviceAccountJson({ private_key: privatePem.replaceAll("\n", "\\n") });
    const account = parseServiceAccount(`\uFEFF${doubleEscaped}`);
    await verifyJwt(await signJwt(account));
  });

  test("text that is not JSON: one sentence, none of the text quoted", () => {
    const broken = serviceAccountJson().replace('"type": "service_account",', '"type": service_account,');
    expect(parseError(broken).message).toBe(
      "The service-account key is not valid JSON; use the JSON key file created for the service account in Google Cloud.",
    );
    // Broken right next to the key, where a parser's own message would quote it.
    const nearKey = `{"private_key": ${JSON.stringify(privatePem).slice(1)}`;
    expect(parseError(nearKey).field).toBeNull();
    expect(parseError("").field).toBeNull();
  });

  test.each([["[]"], ["null"], ['"a string"'], ["42"]])("JSON that is not an object: %s", (text) => {
    expect(parseError(text).message).toContain("not a JSON object");
  });

  test("wrong or missing type, with a hint for the credential files people mix up", () => {
    const user = parseError(serviceAccountJson({ type: "authorized_user" }));
    expect(user.field).toBe("type");
    expect(user.message).toContain("gcloud auth application-default login");
    expect(parseError(serviceAccountJson({ type: "external_account" })).message).toContain("workload identity federation");
    expect(parseError(serviceAccountJson({ type: undefined })).message).toBe(
      'The service-account key has no "type"; a service-account key file says "type": "service_account".',
    );
    // A value that is key material is never echoed.
    const pasted = parseError(serviceAccountJson({ type: keyBody(privatePem).slice(0, 200) }));
    expect(pasted.message).toBe('The key\'s "type" is not "service_account"; create a JSON key for a service account instead.');
  });

  test.each([["client_email"], ["private_key"], ["private_key_id"], ["project_id"]])("missing %s is named", (field) => {
    const error = parseError(serviceAccountJson({ [field]: undefined }));
    expect(error.field).toBe(field);
    expect(error.message).toBe(`The service-account key is missing "${field}".`);
    expect(parseError(serviceAccountJson({ [field]: null })).field).toBe(field);
  });

  test.each([["client_email"], ["private_key"], ["private_key_id"], ["project_id"]])("%s that is not a non-empty string", (field) => {
    for (const value of ["", "   ", 42, { nested: true }, ["x"]]) {
      const error = parseError(serviceAccountJson({ [field]: value }));
      expect(error.field).toBe(field);
      expect(error.message).toBe(`The service-account key's "${field}" must be a non-empty string.`);
    }
  });

  test("client_email that is not an email address", () => {
    expect(parseError(serviceAccountJson({ client_email: "proxy" })).field).toBe("client_email");
  });

  test("private_key that is not PEM PKCS#8 says why without quoting it", () => {
    const body = keyBody(privatePem);
    const cases: [string, string][] = [
      [body, "is not a PEM PKCS#8 private key"],
      [privatePem.replaceAll("PRIVATE KEY", "RSA PRIVATE KEY"), "is a PKCS#1 key"],
      [privatePem.replaceAll("PRIVATE KEY", "ENCRYPTED PRIVATE KEY"), "is encrypted"],
      [privatePem.replaceAll("PRIVATE KEY", "PUBLIC KEY"), "is not a PEM PKCS#8 private key"],
      [privatePem.replace(body.slice(100, 110), "!!!!!!!!!!"), "its PEM body is not base64"],
      [privatePem.slice(0, -50) + "\n-----END PRIVATE KEY-----", "its PEM body is not base64"],
      ["-----BEGIN PRIVATE KEY-----\n\n-----END PRIVATE KEY-----", "its PEM body is not base64"],
    ];
    for (const [privateKey, why] of cases) {
      const error = parseError(serviceAccountJson({ private_key: privateKey }));
      expect(error.field).toBe("private_key");
      expect(error.message).toContain(why);
    }
  });

  test("token_uri that is not a URL, or would send the assertion in clear text", () => {
    for (const tokenUri of ["", "not a url", 7, "http://oauth2.googleapis.com/token", "ftp://127.0.0.1/token"]) {
      const error = parseError(serviceAccountJson({ token_uri: tokenUri }));
      expect(error.field).toBe("token_uri");
    }
    expect(parseError(serviceAccountJson({ token_uri: "http://10.0.0.1/token" })).message).toBe(
      'The service-account key\'s "token_uri" must be an https URL.',
    );
  });
});

describe("signJwt", () => {
  test("an RS256 JWT with the key id, the account's claims, verified with the public key", async () => {
    const account = parseServiceAccount(serviceAccountJson());
    const now = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
    const jwt = await signJwt(account, { now });
    expect(jwt).not.toContain("=");
    const { header, claims } = await verifyJwt(jwt);
    expect(header).toEqual({ alg: "RS256", typ: "JWT", kid: account.privateKeyId });
    const iat = Math.floor(now / 1000);
    expect(claims).toEqual({ iss: account.clientEmail, scope: DEFAULT_SCOPE, aud: DEFAULT_TOKEN_URI, iat, exp: iat + 3600 });
  });

  test("a scope of its own, and the clock by default", async () => {
    const account = parseServiceAccount(serviceAccountJson({ token_uri: "https://oauth2.example.test/token" }));
    const before = Math.floor(Date.now() / 1000);
    const { claims } = await verifyJwt(await signJwt(account, { scope: "https://www.googleapis.com/auth/cloud-platform.read-only" }));
    expect(claims.scope).toBe("https://www.googleapis.com/auth/cloud-platform.read-only");
    expect(claims.aud).toBe("https://oauth2.example.test/token");
    expect(claims.iat).toBeGreaterThanOrEqual(before);
    expect(claims.iat).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });

  test("the private key is imported once per account, not once per signature", async () => {
    const importKey = spyOn(crypto.subtle, "importKey");
    try {
      const account = parseServiceAccount(serviceAccountJson());
      await Promise.all([signJwt(account), signJwt(account)]);
      await signJwt(account);
      expect(importKey).toHaveBeenCalledTimes(1);
      await signJwt(parseServiceAccount(serviceAccountJson()));
      expect(importKey).toHaveBeenCalledTimes(2);
    } finally {
      importKey.mockRestore();
    }
  });

  test("an account not made by parseServiceAccount has nothing to sign with", async () => {
    const account = parseServiceAccount(serviceAccountJson());
    const copy: ServiceAccount = { ...account };
    const error = await signJwt(copy).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ServiceAccountError);
    expect((error as Error).message).toContain("not made by parseServiceAccount");
  });

  test("a PKCS#8 key that is not RSA fails on the field, without key material, every time", async () => {
    const ec = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
    const ecPem = pemOf(await crypto.subtle.exportKey("pkcs8", ec.privateKey), "PRIVATE KEY");
    const account = parseServiceAccount(serviceAccountJson({ private_key: ecPem }));
    for (let round = 0; round < 2; round++) {
      const error = (await signJwt(account).catch((thrown: unknown) => thrown)) as ServiceAccountError;
      expect(error).toBeInstanceOf(ServiceAccountError);
      expect(error.field).toBe("private_key");
      expect(error.message).toBe(`The "private_key" of ${account.clientEmail} is not an RSA private key that can sign.`);
      expectNoKeyMaterial(error.message, ecPem);
      expect(error.cause).toBeUndefined();
    }
  });
});

describe("createAccessTokenSource against a mock token endpoint", () => {
  interface Exchange {
    assertion: string;
    claims: any;
  }
  type Answer = (exchange: Exchange) => Response | Promise<Response>;

  let server: ReturnType<typeof Bun.serve>;
  let tokenUri: string;
  let exchanges: Exchange[];
  let answers: Answer[];
  let issued: number;

  const tokenAnswer = (expiresIn = 3599): Answer => () =>
    Response.json({ access_token: `ya29.token-${++issued}`, expires_in: expiresIn, token_type: "Bearer" });
  const oauthErrorResponse = (status: number, error: string, description: string): Response =>
    Response.json({ error, error_description: description }, { status });
  const oauthError = (status: number, error: string, description: string): Answer => () => oauthErrorResponse(status, error, description);

  beforeAll(() => {
    server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(request) {
        if (request.method !== "POST" || new URL(request.url).pathname !== "/token") return new Response("not found", { status: 404 });
        // Google's checks, answered the way Google answers, so a broken request fails the test loudly.
        if (request.headers.get("content-type") !== "application/x-www-form-urlencoded") return oauthErrorResponse(400, "invalid_request", "form expected");
        const form = new URLSearchParams(await request.text());
        if ([...form.keys()].sort().join() !== "assertion,grant_type") return oauthErrorResponse(400, "invalid_request", "unexpected fields");
        if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") return oauthErrorResponse(400, "unsupported_grant_type", "wrong grant");
        const assertion = form.get("assertion")!;
        if (!(await signatureValid(assertion))) return oauthErrorResponse(400, "invalid_grant", "Invalid JWT Signature.");
        const claims = decodePart(assertion.split(".")[1]!);
        if (claims.aud !== tokenUri || claims.exp - claims.iat !== 3600) return oauthErrorResponse(400, "invalid_grant", "Invalid JWT claims.");
        const exchange = { assertion, claims };
        exchanges.push(exchange);
        const answer = answers.shift() ?? tokenAnswer();
        return answer(exchange);
      },
    });
    tokenUri = `http://127.0.0.1:${server.port}/token`;
  });

  afterAll(() => server.stop(true));

  beforeEach(() => {
    exchanges = [];
    answers = [];
    issued = 0;
  });

  const account = (): ServiceAccount => parseServiceAccount(serviceAccountJson({ token_uri: tokenUri }));

  /** A hand-turned clock. */
  function clock(start = Date.UTC(2025, 5, 1)): { now: () => number; advance: (ms: number) => void } {
    let at = start;
    return { now: () => at, advance: (ms) => (at += ms) };
  }

  async function exchangeError(promise: Promise<unknown>): Promise<TokenExchangeError> {
    const error = await promise.then(
      () => {
        throw new Error("the exchange succeeded");
      },
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(TokenExchangeError);
    const message = (error as Error).message;
    expectNoKeyMaterial(message);
    for (const { assertion } of exchanges) {
      expect(message).not.toContain(assertion);
      expect(message).not.toContain(assertion.split(".")[2]!);
    }
    return error as TokenExchangeError;
  }

  test("posts the signed assertion as a form and returns the token with its expiry", async () => {
    const time = clock();
    const source = createAccessTokenSource(account(), { now: time.now });
    const token = await source.token();
    expect(token).toEqual({ accessToken: "ya29.token-1", tokenType: "Bearer", expiresAt: time.now() + 3599_000 });
    expect(exchanges).toHaveLength(1);
    expect(exchanges[0]!.claims.iat).toBe(Math.floor(time.now() / 1000));
    expect(exchanges[0]!.claims.scope).toBe(DEFAULT_SCOPE);
  });

  test("a scope of its own reaches the assertion", async () => {
    const scope = "https://www.googleapis.com/auth/cloud-platform.read-only";
    await createAccessTokenSource(account(), { scope }).token();
    expect(exchanges[0]!.claims.scope).toBe(scope);
  });

  test("one exchange serves many calls", async () => {
    const time = clock();
    const source = createAccessTokenSource(account(), { now: time.now });
    for (let call = 0; call < 5; call++) {
      expect((await source.token()).accessToken).toBe("ya29.token-1");
      time.advance(60_000);
    }
    expect(exchanges).toHaveLength(1);
  });

  test("exchanged again once inside the refresh margin, not before", async () => {
    const time = clock();
    const source = createAccessTokenSource(account(), { now: time.now });
    const first = await source.token();
    time.advance(3599_000 - 5 * 60_000 - 1);
    expect(await source.token()).toBe(first);
    time.advance(1);
    const second = await source.token();
    expect(second.accessToken).toBe("ya29.token-2");
    expect(second.expiresAt).toBe(time.now() + 3599_000);
    expect(exchanges).toHaveLength(2);
    expect(exchanges[1]!.claims.iat).toBe(Math.floor(time.now() / 1000));
  });

  test("a margin of its own", async () => {
    const time = clock();
    const source = createAccessTokenSource(account(), { now: time.now, refreshMarginMs: 60_000 });
    await source.token();
    time.advance(3599_000 - 60_001);
    await source.token();
    expect(exchanges).toHaveLength(1);
    time.advance(1);
    await source.token();
    expect(exchanges).toHaveLength(2);
  });

  test("a token shorter-lived than the margin is kept for half its life, not exchanged on every call", async () => {
    const time = clock();
    answers.push(tokenAnswer(120));
    const source = createAccessTokenSource(account(), { now: time.now });
    await source.token();
    time.advance(59_999);
    await source.token();
    expect(exchanges).toHaveLength(1);
    time.advance(1);
    await source.token();
    expect(exchanges).toHaveLength(2);
  });

  test("concurrent callers share one exchange", async () => {
    answers.push(async (exchange) => {
      await Bun.sleep(50);
      return tokenAnswer()(exchange);
    });
    const source = createAccessTokenSource(account());
    const tokens = await Promise.all(Array.from({ length: 10 }, () => source.token()));
    expect(exchanges).toHaveLength(1);
    expect(new Set(tokens.map((token) => token.accessToken))).toEqual(new Set(["ya29.token-1"]));
  });

  test("400 invalid_grant: the credential is bad, in Google's words", async () => {
    answers.push(oauthError(400, "invalid_grant", "Invalid JWT Signature."));
    const source = createAccessTokenSource(account());
    const error = await exchangeError(source.token());
    expect(error.status).toBe(400);
    expect(error.code).toBe("invalid_grant");
    expect(error.name).toBe("TokenExchangeError");
    expect(error.message).toBe(
      `The token exchange for proxy@proxy-test-project.iam.gserviceaccount.com at ${tokenUri} failed with HTTP 400 invalid_grant: Invalid JWT Signature.`,
    );
  });

  test("401 invalid_client, without a description", async () => {
    answers.push(() => Response.json({ error: "invalid_client" }, { status: 401 }));
    const error = await exchangeError(createAccessTokenSource(account()).token());
    expect(error.status).toBe(401);
    expect(error.code).toBe("invalid_client");
    expect(error.message).toEndWith("failed with HTTP 401 invalid_client.");
  });

  test("an answer that echoes the assertion has it cut out of the message", async () => {
    answers.push(({ assertion }) => oauthErrorResponse(400, "invalid_grant", `Bad assertion ${assertion} (signature ${assertion.split(".")[2]})`));
    const error = await exchangeError(createAccessTokenSource(account()).token());
    expect(error.message).toContain("Bad assertion [assertion] (signature [signature])");
  });

  test("500 with a page instead of an OAuth error: status kept, nothing of the page quoted", async () => {
    answers.push(({ assertion }) => new Response(`<html>Internal error while handling assertion=${assertion}</html>`, { status: 500 }));
    const error = await exchangeError(createAccessTokenSource(account()).token());
    expect(error.status).toBe(500);
    expect(error.code).toBeNull();
    expect(error.message).toEndWith("failed with HTTP 500 and no OAuth error in the answer.");
    expect(error.message).not.toContain("html");
  });

  test("a redirect is not followed: the assertion goes only where the key file says", async () => {
    answers.push(() => new Response(null, { status: 307, headers: { location: "https://elsewhere.example.test/token" } }));
    const error = await exchangeError(createAccessTokenSource(account()).token());
    expect(error.status).toBe(307);
    expect(exchanges).toHaveLength(1);
  });

  test("200 without a usable token is an invalid_response", async () => {
    for (const body of [{ expires_in: 3599 }, { access_token: "", expires_in: 3599 }, { access_token: "ya29.x" }, { access_token: "ya29.x", expires_in: 0 }, "[]"]) {
      answers.push(() => (typeof body === "string" ? new Response(body) : Response.json(body)));
      const error = await exchangeError(createAccessTokenSource(account()).token());
      expect(error.status).toBe(200);
      expect(error.code).toBe("invalid_response");
    }
  });

  test("token_type defaults to Bearer when the answer leaves it out", async () => {
    answers.push(() => Response.json({ access_token: "ya29.plain", expires_in: 3599 }));
    expect((await createAccessTokenSource(account()).token()).tokenType).toBe("Bearer");
  });

  test("connection refused: status 0, network_error", async () => {
    const closed = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
    const deadUri = `http://127.0.0.1:${closed.port}/token`;
    await closed.stop(true);
    const source = createAccessTokenSource(parseServiceAccount(serviceAccountJson({ token_uri: deadUri })));
    const error = await exchangeError(source.token());
    expect(error.status).toBe(0);
    expect(error.code).toBe("network_error");
    expect(error.message).toStartWith(`The token exchange for proxy@proxy-test-project.iam.gserviceaccount.com at ${deadUri} failed: `);
  });

  test("an endpoint that does not answer in time: status 0, timeout", async () => {
    answers.push(async (exchange) => {
      await Bun.sleep(500);
      return tokenAnswer()(exchange);
    });
    const error = await exchangeError(createAccessTokenSource(account(), { exchangeTimeoutMs: 50 }).token());
    expect(error.status).toBe(0);
    expect(error.code).toBe("timeout");
    expect(error.message).toEndWith("failed: no answer within 0.05 s.");
  });

  test("a failed exchange is not cached: the next call exchanges again", async () => {
    answers.push(oauthError(500, "internal_failure", "Backend error."));
    const source = createAccessTokenSource(account());
    const error = await exchangeError(source.token());
    expect(error.status).toBe(500);
    expect(error.code).toBe("internal_failure");
    expect((await source.token()).accessToken).toBe("ya29.token-1");
    expect(exchanges).toHaveLength(2);
  });

  test("concurrent callers share one failure too, and the next call starts afresh", async () => {
    answers.push(async () => {
      await Bun.sleep(30);
      return oauthErrorResponse(503, "temporarily_unavailable", "Try again.");
    });
    const source = createAccessTokenSource(account());
    const errors = await Promise.all(Array.from({ length: 5 }, () => exchangeError(source.token())));
    expect(exchanges).toHaveLength(1);
    expect(new Set(errors).size).toBe(1);
    expect(errors[0]!.status).toBe(503);
    expect((await source.token()).accessToken).toBe("ya29.token-1");
    expect(exchanges).toHaveLength(2);
  });

  test("an aborted caller stops waiting; the shared exchange goes on and its token is cached", async () => {
    answers.push(async (exchange) => {
      await Bun.sleep(50);
      return tokenAnswer()(exchange);
    });
    const source = createAccessTokenSource(account());
    const leaving = new AbortController();
    const left = source.token(leaving.signal);
    const staying = source.token();
    leaving.abort(new Error("client left"));
    await expect(left).rejects.toThrow("client left");
    expect((await staying).accessToken).toBe("ya29.token-1");
    expect((await source.token()).accessToken).toBe("ya29.token-1");
    expect(exchanges).toHaveLength(1);
  });

  test("an already aborted signal gets no token and starts no exchange", async () => {
    const source = createAccessTokenSource(account());
    const aborted = AbortSignal.abort(new Error("too late"));
    await expect(source.token(aborted)).rejects.toThrow("too late");
    await Bun.sleep(10);
    expect(exchanges).toHaveLength(0);
  });

  test("a key that cannot sign fails as a ServiceAccountError before the endpoint is called", async () => {
    const ec = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
    const ecPem = pemOf(await crypto.subtle.exportKey("pkcs8", ec.privateKey), "PRIVATE KEY");
    const source = createAccessTokenSource(parseServiceAccount(serviceAccountJson({ private_key: ecPem, token_uri: tokenUri })));
    await expect(source.token()).rejects.toBeInstanceOf(ServiceAccountError);
    await Bun.sleep(10);
    expect(exchanges).toHaveLength(0);
  });

  test("an injected fetch is used instead of the global one", async () => {
    const calls: string[] = [];
    const fakeFetch = (async (input: string | URL | Request, init?: RequestInit) => {
      calls.push(`${init?.method} ${String(input)}`);
      return Response.json({ access_token: "ya29.injected", expires_in: 3599, token_type: "Bearer" });
    }) as typeof fetch;
    const token = await createAccessTokenSource(account(), { fetch: fakeFetch }).token();
    expect(token.accessToken).toBe("ya29.injected");
    expect(calls).toEqual([`POST ${tokenUri}`]);
    expect(exchanges).toHaveLength(0);
  });
});
