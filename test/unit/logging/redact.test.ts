/**
 * The redactor: configured secrets become `…last4` wherever they appear, credential headers and
 * `key=` query values disappear, objects are copied rather than changed, and ten thousand keys
 * against a 100 KB body still find every planted secret.
 */

import { describe, expect, test } from "bun:test";
import { createRedactor, REDACTED } from "../../../src/logging/redact.ts";

const OPENAI_KEY = "sk-proj-abcdefghijklmnopqrstuvwx1234";
const GOOGLE_KEY = "AIzaSyA-zyxwvutsrqponmlkjihgf9876";
const PROXY_KEY = "proxy-secret-5555";

/** Deterministic pseudo-random key material, so a failure reproduces. */
function randomSource(seed: number): (length: number) => string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
  let state = seed >>> 0;
  return (length) => {
    let out = "";
    for (let i = 0; i < length; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      out += alphabet[state >>> 26];
    }
    return out;
  };
}

describe("createRedactor().text", () => {
  const redactor = createRedactor([OPENAI_KEY, GOOGLE_KEY, PROXY_KEY]);

  test("masks each secret as … and its last 4 characters, wherever it sits", () => {
    expect(redactor.text(`${OPENAI_KEY} said ${GOOGLE_KEY}, then ${PROXY_KEY}`)).toBe("…1234 said …9876, then …5555");
    expect(redactor.text(`${OPENAI_KEY}${OPENAI_KEY}`)).toBe("…1234…1234");
    expect(redactor.text("nothing secret here")).toBe("nothing secret here");
    expect(redactor.text("")).toBe("");
  });

  test("masks the longer of two secrets that share a start, and overlapping secrets as one span", () => {
    const short = "key-0123456789ab";
    const long = `${short}cdef-tail`;
    const overlapping = "89abcdef-tail-and-more";
    const r = createRedactor([short, long, overlapping]);
    expect(r.text(`[${long}]`)).toBe("[…tail]");
    expect(r.text(`[${short}]`)).toBe("[…89ab]");
    const text = r.text(`x${short}cdef-tail-and-more!`);
    expect(text).toBe("x…more!");
    for (const secret of [short, long, overlapping]) expect(text).not.toContain(secret);
  });

  test("masks the JSON-escaped and URL-encoded forms of a key with special characters", () => {
    const odd = 'ab/cd+ef=gh"ij\\kl';
    const r = createRedactor([odd]);
    const json = r.text(JSON.stringify({ k: odd }));
    expect(JSON.parse(json)).toEqual({ k: "…j\\kl" });
    expect(r.text(`https://h/p?token=${encodeURIComponent(odd)}`)).toBe("https://h/p?token=…j\\kl");
  });

  test("removes key= query values from URLs and keeps the rest of the URL", () => {
    expect(redactor.text("GET https://generativelanguage.googleapis.com/v1beta/models?key=AIzaUnknown123&alt=sse failed")).toBe(
      `GET https://generativelanguage.googleapis.com/v1beta/models?key=${REDACTED}&alt=sse failed`,
    );
    expect(redactor.text("/v1/x?alt=sse&KEY=abc#frag")).toBe(`/v1/x?alt=sse&KEY=${REDACTED}#frag`);
    expect(redactor.text("monkey=banana and ?keys=1")).toBe("monkey=banana and ?keys=1");
  });

  test("with no secrets configured, still strips key= parameters", () => {
    expect(createRedactor([]).text("u?key=abc")).toBe(`u?key=${REDACTED}`);
    expect(createRedactor([""]).text("plain")).toBe("plain");
  });
});

describe("createRedactor().headers", () => {
  const redactor = createRedactor([OPENAI_KEY, PROXY_KEY]);

  test("blanks credential headers and masks secrets in the others", () => {
    const headers = new Headers({
      authorization: `Bearer ${PROXY_KEY}`,
      "x-api-key": OPENAI_KEY,
      "x-goog-api-key": "AIzaSomething",
      "proxy-authorization": "Basic abc",
      cookie: "session=1",
      "x-custom": `token ${OPENAI_KEY}`,
      "content-type": "application/json",
    });
    expect(redactor.headers(headers)).toEqual({
      authorization: REDACTED,
      "x-api-key": REDACTED,
      "x-goog-api-key": REDACTED,
      "proxy-authorization": REDACTED,
      cookie: REDACTED,
      "x-custom": "token …1234",
      "content-type": "application/json",
    });
  });

  test("matches header names in any case in a plain record", () => {
    expect(redactor.headers({ Authorization: "Bearer x", "X-Goog-Api-Key": "g", Accept: "*/*" })).toEqual({
      Authorization: REDACTED,
      "X-Goog-Api-Key": REDACTED,
      Accept: "*/*",
    });
  });
});

describe("createRedactor().value", () => {
  const redactor = createRedactor([OPENAI_KEY, GOOGLE_KEY]);

  test("redacts deeply into a copy and leaves the original untouched", () => {
    const original = {
      model: "gpt-4o",
      messages: [{ role: "user", content: `my key is ${OPENAI_KEY}` }],
      nested: { deeper: [[`url?key=${GOOGLE_KEY}`]], count: 3, flag: true, none: null },
      headers: { Authorization: "Bearer abc", "x-api-key": "k" },
      [`name-${GOOGLE_KEY}`]: 1,
    };
    const before = structuredClone(original);
    const copy = redactor.value(original);
    expect(original).toEqual(before);
    expect(copy).toEqual({
      model: "gpt-4o",
      messages: [{ role: "user", content: "my key is …1234" }],
      nested: { deeper: [[`url?key=${REDACTED}`]], count: 3, flag: true, none: null },
      headers: { Authorization: REDACTED, "x-api-key": REDACTED },
      "name-…9876": 1,
    });
  });

  test("serialises dates and Headers, keeps shared objects and cuts cycles", () => {
    const shared = { secret: OPENAI_KEY };
    const cyclic: Record<string, unknown> = { name: "loop" };
    cyclic.self = cyclic;
    const copy = redactor.value({
      at: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
      headers: new Headers({ "x-api-key": OPENAI_KEY }),
      a: shared,
      b: shared,
      cyclic,
    });
    expect(copy).toEqual({
      at: "2024-01-02T03:04:05.000Z",
      headers: { "x-api-key": REDACTED },
      a: { secret: "…1234" },
      b: { secret: "…1234" },
      cyclic: { name: "loop", self: "[circular]" },
    });
    expect(redactor.value(`${GOOGLE_KEY}`)).toBe("…9876");
    expect(redactor.value(42)).toBe(42);
    expect(redactor.value(undefined)).toBeUndefined();
  });
});

describe("many secrets", () => {
  test("10,000 keys against a 100 KB body: every planted key is masked, nothing else changes", () => {
    const random = randomSource(7);
    // Three providers' shapes: the keys of one provider share a prefix and a length.
    const secrets = Array.from({ length: 10_000 }, (_, i) =>
      i % 3 === 0 ? `sk-proj-${random(40)}` : i % 3 === 1 ? `AIza${random(35)}` : `sk-ant-api03-${random(80)}`,
    );
    const planted = secrets.filter((_, i) => i % 97 === 0);
    const parts: string[] = [];
    let plantedAt = 0;
    while (parts.join("").length < 100_000) {
      parts.push(`${random(180)} `);
      if (plantedAt < planted.length) parts.push(`"${planted[plantedAt++]}" `);
    }
    const body = parts.join("");
    expect(body.length).toBeGreaterThanOrEqual(100_000);
    expect(plantedAt).toBe(planted.length);

    const redactor = createRedactor([...secrets, PROXY_KEY]);
    const out = redactor.text(body);
    for (const secret of planted) {
      expect(out).not.toContain(secret);
      expect(out).toContain(`"…${secret.slice(-4)}"`);
    }
    const expected = planted.reduce((text, secret) => text.replace(secret, `…${secret.slice(-4)}`), body);
    expect(out).toBe(expected);
  });
});
