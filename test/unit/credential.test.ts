/** A credential's id and display form: stable for plain keys, distinct per endpoint and quota, never the secret. */

import { describe, expect, test } from "bun:test";
import { createCredential } from "../../src/credential.ts";
import { keyId, maskKey } from "../../src/key-identity.ts";

describe("createCredential", () => {
  test("a key with nothing of its own keeps the id and mask it always had", () => {
    const key = createCredential({ secret: "sk-plain-key-0001", baseUrl: "https://api.openai.com/v1" });
    expect(key.id).toBe(keyId("sk-plain-key-0001"));
    expect(key.masked).toBe(maskKey("sk-plain-key-0001"));
    expect(key.options).toEqual({});
  });

  test("one secret on two endpoints is two keys, each shown with its host", () => {
    const a = createCredential({ secret: "none", baseUrl: "http://10.0.0.1:8000/v1", ownEndpoint: true });
    const b = createCredential({ secret: "none", baseUrl: "http://10.0.0.2:8000/v1", ownEndpoint: true });
    expect(a.id).not.toBe(b.id);
    expect(a.id).not.toBe(keyId("none"));
    expect([a.masked, b.masked]).toEqual(["…ne@10.0.0.1:8000", "…ne@10.0.0.2:8000"]);
  });

  test("a keyless server is named by its host", () => {
    const key = createCredential({ secret: "", baseUrl: "http://localhost:11434/v1", ownEndpoint: true });
    expect(key.masked).toBe("localhost:11434");
    expect(key.secret).toBe("");
  });

  test("an option that is its own quota (a region) makes another key and shows; others do not", () => {
    const east = createCredential({ secret: "ABSKsecret0001", baseUrl: "x", options: { region: "us-east-1", tag: "a" }, identityOptions: ["region"] });
    const west = createCredential({ secret: "ABSKsecret0001", baseUrl: "x", options: { region: "us-west-2", tag: "a" }, identityOptions: ["region"] });
    const sameTagOther = createCredential({ secret: "ABSKsecret0001", baseUrl: "x", options: { region: "us-east-1", tag: "b" }, identityOptions: ["region"] });
    expect(east.id).not.toBe(west.id);
    expect(east.id).toBe(sameTagOther.id);
    expect(east.masked).toBe("…0001 (us-east-1)");
    expect(JSON.stringify([east, west].map(({ id, masked }) => ({ id, masked })))).not.toContain("ABSKsecret0001");
  });

  test("a family's label replaces the masked secret", () => {
    expect(createCredential({ secret: "{json}", baseUrl: "x", label: "sa@proj.iam" }).masked).toBe("sa@proj.iam");
  });
});
