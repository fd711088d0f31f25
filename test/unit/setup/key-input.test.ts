/** Pasted keys split, deduplicated and flagged; names, base URLs, hosts and ports checked; terminal pastes folded onto one line. */

import { describe, expect, test } from "bun:test";
import { baseUrlProblem, foldPastedLineBreaks, isHostName, keyProblems, newPasteState, normaliseBaseUrl, parsePastedKeys, parsePort, providerNameProblem } from "../../../setup/key-input.ts";

const START = "\x1b[200~";
const END = "\x1b[201~";

describe("parsePastedKeys", () => {
  test("one per line, comma- or space-separated, blanks and repeats dropped", () => {
    const result = parsePastedKeys("gsk_aaaaaaaa1\r\n\n gsk_bbbbbbbb2, gsk_cccccccc3 ,,gsk_aaaaaaaa1\tgsk_dddddddd4\n");
    expect(result.keys).toEqual(["gsk_aaaaaaaa1", "gsk_bbbbbbbb2", "gsk_cccccccc3", "gsk_dddddddd4"]);
    expect(result.duplicates).toBe(1);
    expect(result.flagged).toEqual([]);
  });

  test("quotes around a key (from JSON or a quoted .env line) are dropped", () => {
    expect(parsePastedKeys(`"sk-aaaaaaaaaa", 'sk-bbbbbbbbbb'`).keys).toEqual(["sk-aaaaaaaaaa", "sk-bbbbbbbbbb"]);
  });

  test("nothing but separators gives no keys", () => {
    expect(parsePastedKeys(" ,\n\n, ").keys).toEqual([]);
  });

  test("odd keys are flagged, not dropped", () => {
    const result = parsePastedKeys("short\nAIzaGoodLookingKey123\nsk-wrong-prefix-key", "gemini");
    expect(result.keys).toEqual(["short", "AIzaGoodLookingKey123", "sk-wrong-prefix-key"]);
    expect(result.flagged.map((f) => f.key)).toEqual(["short", "sk-wrong-prefix-key"]);
    expect(result.flagged[1]!.reasons).toEqual(['Google Gemini keys start with "AIza"']);
  });
});

describe("keyProblems", () => {
  test("a well-formed key has none", () => {
    expect(keyProblems("gsk_0123456789abcdef", "groq")).toEqual([]);
    expect(keyProblems("any-format-at-all-123", "mistral")).toEqual([]);
    expect(keyProblems("whatever-custom-1", "my_local")).toEqual([]);
  });

  test("too short, quotes, spaces, invisible characters, NAME=value", () => {
    expect(keyProblems("abc")).toEqual(["shorter than 8 characters"]);
    expect(keyProblems(`sk-abc"defgh`)).toEqual(["contains quotes"]);
    expect(keyProblems("sk-abc defgh")).toEqual(["contains spaces"]);
    expect(keyProblems("sk-abc\u200bdefgh")).toEqual(["contains invisible or non-ASCII characters"]);
    expect(keyProblems("GROQ_API_KEY=gsk_abcdefgh")).toEqual(["looks like NAME=value; paste only the value"]);
  });

  test("known prefixes per provider", () => {
    expect(keyProblems("AIzaSyAbcdefghijk", "gemini")).toEqual([]);
    expect(keyProblems("sk-ant-api03-abcdef", "anthropic")).toEqual([]);
    expect(keyProblems("sk-proj-abcdefgh", "anthropic")).toEqual(['Anthropic keys start with "sk-ant-"']);
    expect(keyProblems("nvapi-abcdefgh", "nvidia_nim")).toEqual([]);
    expect(keyProblems("abcdefghijkl", "groq")).toEqual(['Groq keys start with "gsk_"']);
  });
});

describe("provider names and base URLs", () => {
  test("custom names: lower-case letters, digits and underscores, not a catalog name, not proxy", () => {
    expect(providerNameProblem("vllm")).toBeUndefined();
    expect(providerNameProblem("my_llm2")).toBeUndefined();
    expect(providerNameProblem("My-LLM")).toContain("lower-case");
    expect(providerNameProblem("2fast")).toContain("starting with a letter");
    expect(providerNameProblem("")).toBeDefined();
    expect(providerNameProblem("groq")).toContain("known provider");
    expect(providerNameProblem("proxy")).toContain("PROXY_API_KEY");
  });

  test("base URLs follow the proxy's own rule", () => {
    expect(baseUrlProblem("http://localhost:8000/v1")).toBeUndefined();
    expect(baseUrlProblem("https://api.example.com/v1/")).toBeUndefined();
    expect(baseUrlProblem("localhost:8000")).toContain("http:// or https://");
    expect(baseUrlProblem("http://user:pw@host/v1")).toContain("user name or password");
    expect(baseUrlProblem("http://host/v1?x=1")).toContain("?query");
    expect(baseUrlProblem("")).toBeDefined();
  });

  test("stored without trailing slashes", () => {
    expect(normaliseBaseUrl(" http://h/v1// ")).toBe("http://h/v1");
  });
});

describe("foldPastedLineBreaks", () => {
  test("line breaks inside a bracketed paste become spaces; the markers go", () => {
    const state = newPasteState();
    expect(foldPastedLineBreaks(`${START}key-one\rkey-two\r\nkey-three\r${END}`, state)).toBe("key-one key-two key-three ");
    expect(state.inPaste).toBe(false);
  });

  test("a paste split over chunks, even inside a marker", () => {
    const state = newPasteState();
    const chunks = [`${START}a1\r`, "b2\r", `c3${END.slice(0, 3)}`, `${END.slice(3)}\r`];
    expect(chunks.map((c) => foldPastedLineBreaks(c, state)).join("")).toBe("a1 b2 c3\r");
  });

  test("the Enter key stays a line break", () => {
    const state = newPasteState();
    expect(foldPastedLineBreaks("\r", state)).toBe("\r");
    expect(foldPastedLineBreaks("abc", state)).toBe("abc");
    expect(foldPastedLineBreaks("\r", state)).toBe("\r");
  });

  test("without bracketed paste, line breaks followed by more text in one chunk are a paste", () => {
    const state = newPasteState();
    expect(foldPastedLineBreaks("k1\rk2\n\nk3\r\r", state)).toBe("k1 k2 k3\r");
    expect(foldPastedLineBreaks("typed\r", state)).toBe("typed\r");
  });

  test("Escape and Ctrl-C pass through untouched", () => {
    const state = newPasteState();
    expect(foldPastedLineBreaks("\x1b", state)).toBe("\x1b");
    expect(foldPastedLineBreaks("\x03", state)).toBe("\x03");
  });
});

describe("host and port, as the proxy reads HOST and PORT", () => {
  test("a port is a whole number from 1 to 65535", () => {
    expect(parsePort(" 8123 ")).toBe(8123);
    expect(parsePort("65535")).toBe(65535);
    for (const bad of ["0", "65536", "99999", "80.5", "-1", "8o80", ""]) expect(parsePort(bad)).toBeUndefined();
  });

  test("a host is one word", () => {
    expect(isHostName(" 0.0.0.0 ")).toBe(true);
    expect(isHostName("::1")).toBe(true);
    expect(isHostName("my host")).toBe(false);
    expect(isHostName("  ")).toBe(false);
  });
});
