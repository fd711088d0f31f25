/**
 * The .env document model: untouched text renders byte for byte, edits keep comments, order,
 * unknown lines and formatting, key numbering continues, duplicates are skipped, and the
 * atomic write leaves an owner-only file and no debris.
 */

import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEnvFile } from "../../../src/config/env-file.ts";
import { ConfigError } from "../../../src/config/paths.ts";
import { addProviderKeys, configuredProviders, envVars, generateProxyKey, getVar, loadEnvDocument, NEW_ENV_TEXT, parseEnvDocument, providerKeys, proxyKeyMissing, readEnvText, removeProviderKey, renderEnvDocument, setVar, unsetVar, writeEnvFileAtomic } from "../../../setup/env-editor.ts";

const EXAMPLE = readFileSync(join(import.meta.dir, "../../../.env.example"), "utf8");

function doc(lines: string[]) {
  return parseEnvDocument(lines.join("\n") + "\n");
}

function render(lines: string[]) {
  return lines.join("\n") + "\n";
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "lkp-setup-"));
}

describe("parse and render", () => {
  const samples: Record<string, string> = {
    ".env.example": EXAMPLE,
    "CRLF line ends": "# top\r\nA=1\r\n\r\nB=2 # note\r\n",
    "byte order mark": "\uFEFFA=1\nB=2\n",
    "no final line end": "A=1\nB=2",
    "quoted value over several lines": 'A="one\ntwo" # c\nB=\'x y\'\nexport C = 3\n',
    "unknown variables and odd spacing": "  FOO_BAR = baz  \n\n\n# comment = not a var\nWHATEVER=1#2\n",
    "empty file": "",
  };
  for (const [name, text] of Object.entries(samples)) {
    test(`${name}: renders back byte for byte`, () => {
      expect(renderEnvDocument(parseEnvDocument(text))).toBe(text);
    });
  }

  test("values are what the proxy's reader reads", () => {
    const text = samples["quoted value over several lines"]!;
    expect(envVars(parseEnvDocument(text))).toEqual(parseEnvFile(text));
  });

  test("a later duplicate wins, as when the file is read", () => {
    expect(getVar(doc(["A=1", "A=2"]), "A")).toBe("2");
  });

  test("a broken file is refused with the reader's message, naming the line but not its text", () => {
    let error: unknown;
    try {
      parseEnvDocument("A=1\nsk-pasted-key-on-its-own-line\n", "/x/.env");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain("Line 2 of /x/.env");
    expect((error as Error).message).not.toContain("sk-pasted");
  });

  test("new lines use the file's CRLF line ends", () => {
    const edited = setVar(parseEnvDocument("A=1\r\n"), "B", "2");
    expect(renderEnvDocument(edited)).toBe("A=1\r\nB=2\r\n");
  });
});

describe("provider keys", () => {
  test("providerKeys lists non-blank keys once, in file order, with their variables", () => {
    const d = doc(["GROQ_API_KEY=g1", "OPENAI_API_KEY=o1", "GROQ_API_KEY_2=", "GROQ_API_KEY_X=g2", "GROQ_API_KEY_3=g1", "PROXY_API_KEY=p"]);
    expect(providerKeys(d, "groq")).toEqual([
      { name: "GROQ_API_KEY", key: "g1" },
      { name: "GROQ_API_KEY_X", key: "g2" },
    ]);
    expect(configuredProviders(d)).toEqual(["groq", "openai"]);
  });

  test("the first key of a provider is <P>_API_KEY_1", () => {
    const { doc: d, added } = addProviderKeys(parseEnvDocument(""), "gemini", ["AIza-one", "AIza-two"]);
    expect(added).toEqual([
      { name: "GEMINI_API_KEY_1", key: "AIza-one" },
      { name: "GEMINI_API_KEY_2", key: "AIza-two" },
    ]);
    expect(renderEnvDocument(d)).toBe("GEMINI_API_KEY_1=AIza-one\nGEMINI_API_KEY_2=AIza-two\n");
  });

  test("a bare <P>_API_KEY counts as 1", () => {
    const { added } = addProviderKeys(doc(["GROQ_API_KEY=gsk_a"]), "groq", ["gsk_b"]);
    expect(added).toEqual([{ name: "GROQ_API_KEY_2", key: "gsk_b" }]);
  });

  test("numbering continues after the highest index, gaps and names included", () => {
    const d = doc(["GROQ_API_KEY_2=a", "GROQ_API_KEY_7=b", "GROQ_API_KEY_WORK=c", "OPENAI_API_KEY_9=d"]);
    expect(addProviderKeys(d, "groq", ["e", "f"]).added.map((a) => a.name)).toEqual(["GROQ_API_KEY_8", "GROQ_API_KEY_9"]);
  });

  test("provider names with underscores and custom providers are upper-cased for variables", () => {
    expect(addProviderKeys(parseEnvDocument(""), "nvidia_nim", ["nvapi-1"]).added[0]!.name).toBe("NVIDIA_NIM_API_KEY_1");
  });

  test("keys the provider already has, and repeats in the input, are skipped", () => {
    const d = doc(["GROQ_API_KEY=gsk_a", "GROQ_API_KEY_2=gsk_b"]);
    const result = addProviderKeys(d, "groq", ["gsk_b", "gsk_c", " gsk_c ", "gsk_a", ""]);
    expect(result.added).toEqual([{ name: "GROQ_API_KEY_3", key: "gsk_c" }]);
    expect(result.skipped).toEqual(["gsk_b", "gsk_c", "gsk_a"]);
  });

  test("the same key may belong to two providers", () => {
    const result = addProviderKeys(doc(["OPENAI_API_KEY=sk-same"]), "deepseek", ["sk-same"]);
    expect(result.added).toEqual([{ name: "DEEPSEEK_API_KEY_1", key: "sk-same" }]);
  });

  test("a blank key line from a copied template is filled first", () => {
    const d = doc(["# Groq", "GROQ_API_KEY=", "# end"]);
    const result = addProviderKeys(d, "groq", ["gsk_a", "gsk_b"]);
    expect(renderEnvDocument(result.doc)).toBe(render(["# Groq", "GROQ_API_KEY=gsk_a", "GROQ_API_KEY_2=gsk_b", "# end"]));
  });

  test("new keys go right after the provider's last key, everything else untouched", () => {
    const d = doc(["# keys", "GROQ_API_KEY=a", "# between", "GROQ_API_KEY_2=b", "OTHER=1", "", "# tail"]);
    const result = addProviderKeys(d, "groq", ["c"]);
    expect(renderEnvDocument(result.doc)).toBe(render(["# keys", "GROQ_API_KEY=a", "# between", "GROQ_API_KEY_2=b", "GROQ_API_KEY_3=c", "OTHER=1", "", "# tail"]));
  });

  test("a provider's first key goes beside a commented-out example of its variable", () => {
    const result = addProviderKeys(parseEnvDocument(EXAMPLE), "gemini", ["AIza-one"]);
    const lines = renderEnvDocument(result.doc).split("\n");
    const at = lines.indexOf("GEMINI_API_KEY_1=AIza-one");
    expect(lines[at - 1]).toBe("# GEMINI_API_KEY_2=your-other-gemini-key");
    // Every original line is still there, in order.
    expect(lines.filter((l) => l !== "GEMINI_API_KEY_1=AIza-one").join("\n")).toBe(EXAMPLE);
  });

  test("otherwise after the last key of any provider, else at the end", () => {
    const d = doc(["PROXY_API_KEY=p", "OPENAI_API_KEY=o", "PORT=1"]);
    expect(renderEnvDocument(addProviderKeys(d, "groq", ["g"]).doc)).toBe(render(["PROXY_API_KEY=p", "OPENAI_API_KEY=o", "GROQ_API_KEY_1=g", "PORT=1"]));
    expect(renderEnvDocument(addProviderKeys(doc(["PORT=1"]), "groq", ["g"]).doc)).toBe(render(["PORT=1", "GROQ_API_KEY_1=g"]));
  });

  test("appending to a file without a final line end starts a new line", () => {
    expect(renderEnvDocument(addProviderKeys(parseEnvDocument("PORT=1"), "groq", ["g"]).doc)).toBe("PORT=1\nGROQ_API_KEY_1=g\n");
  });

  test("a custom provider's base URL is written just before its first key", () => {
    const d = doc(["PROXY_API_KEY=p", "OPENAI_API_KEY=o", "# end"]);
    const result = addProviderKeys(d, "vllm", ["none-key"], { baseUrl: "http://localhost:8000/v1" });
    expect(renderEnvDocument(result.doc)).toBe(
      render(["PROXY_API_KEY=p", "OPENAI_API_KEY=o", "VLLM_API_BASE=http://localhost:8000/v1", "VLLM_API_KEY_1=none-key", "# end"]),
    );
  });

  test("an existing base URL is changed in place", () => {
    const d = doc(["VLLM_API_BASE=http://old/v1 # mine", "VLLM_API_KEY=k"]);
    const result = addProviderKeys(d, "vllm", ["k2"], { baseUrl: "http://new/v1" });
    expect(renderEnvDocument(result.doc)).toBe(render(["VLLM_API_BASE=http://new/v1 # mine", "VLLM_API_KEY=k", "VLLM_API_KEY_2=k2"]));
  });

  test("keys that need quoting are written so the reader gets them back exactly", () => {
    const odd = ["has space", "has#hash", `it's "quoted"`, "back\\slash", "dollar$sign"];
    const result = addProviderKeys(parseEnvDocument(""), "groq", odd);
    const read = parseEnvFile(renderEnvDocument(result.doc));
    expect([...read.values()]).toEqual(odd);
  });
});

describe("removing keys", () => {
  test("removes every variable holding the key and nothing else", () => {
    const d = doc(["# c", "GROQ_API_KEY=a", "GROQ_API_KEY_2=b", "GROQ_API_KEY_3=a", "OPENAI_API_KEY=a"]);
    const result = removeProviderKey(d, "groq", "a");
    expect(result.removed).toEqual(["GROQ_API_KEY", "GROQ_API_KEY_3"]);
    expect(result.removedBase).toBeUndefined();
    expect(renderEnvDocument(result.doc)).toBe(render(["# c", "GROQ_API_KEY_2=b", "OPENAI_API_KEY=a"]));
  });

  test("removing the last key of a custom provider removes its base URL too", () => {
    const d = doc(["LOCAL_API_BASE=http://x/v1", "LOCAL_API_KEY_1=k", "PORT=1"]);
    const result = removeProviderKey(d, "local", "k");
    expect(result.removedBase).toBe("LOCAL_API_BASE");
    expect(renderEnvDocument(result.doc)).toBe(render(["PORT=1"]));
  });

  test("a known provider's base override stays", () => {
    const d = doc(["GROQ_API_BASE=http://x/v1", "GROQ_API_KEY=k"]);
    expect(renderEnvDocument(removeProviderKey(d, "groq", "k").doc)).toBe(render(["GROQ_API_BASE=http://x/v1"]));
  });

  test("an unknown key changes nothing", () => {
    const d = doc(["GROQ_API_KEY=k"]);
    const result = removeProviderKey(d, "groq", "nope");
    expect(result.removed).toEqual([]);
    expect(renderEnvDocument(result.doc)).toBe(render(["GROQ_API_KEY=k"]));
  });
});

describe("setting variables", () => {
  test("changes the value in place, keeping export, spacing and the inline comment", () => {
    const d = doc(["# server", "export PORT = 8000   # the port", "HOST=x"]);
    expect(renderEnvDocument(setVar(d, "PORT", "9000"))).toBe(render(["# server", "export PORT = 9000   # the port", "HOST=x"]));
  });

  test("replaces a quoted multi-line value whole", () => {
    const d = parseEnvDocument('A="one\ntwo" # keep\nB=1\n');
    expect(renderEnvDocument(setVar(d, "A", "x"))).toBe("A=x # keep\nB=1\n");
  });

  test("changes the last of duplicate assignments, the one that counts", () => {
    expect(renderEnvDocument(setVar(doc(["PORT=1", "PORT=2"]), "PORT", "3"))).toBe(render(["PORT=1", "PORT=3"]));
  });

  test("a new variable goes after its commented-out example", () => {
    const edited = setVar(parseEnvDocument(EXAMPLE), "PORT", "9000");
    const lines = renderEnvDocument(edited).split("\n");
    expect(lines[lines.indexOf("PORT=9000") - 1]).toBe("# PORT=8000");
    expect(getVar(edited, "PORT")).toBe("9000");
  });

  test("a new variable without an example goes at the end", () => {
    expect(renderEnvDocument(setVar(doc(["# a", "X=1"]), "HOST", "0.0.0.0"))).toBe(render(["# a", "X=1", "HOST=0.0.0.0"]));
  });

  test("unsetVar removes assignments but not comments", () => {
    expect(renderEnvDocument(unsetVar(doc(["# PORT=8000", "PORT=1", "X=2", "PORT=3"]), "PORT"))).toBe(render(["# PORT=8000", "X=2"]));
  });

  test("edits return a new document and leave the original alone (so cancel has nothing to undo)", () => {
    const original = doc(["GROQ_API_KEY=a", "PORT=1"]);
    const before = renderEnvDocument(original);
    setVar(original, "PORT", "2");
    addProviderKeys(original, "groq", ["b"]);
    removeProviderKey(original, "groq", "a");
    unsetVar(original, "PORT");
    expect(renderEnvDocument(original)).toBe(before);
  });
});

describe("proxy key", () => {
  test("generated keys are long, random and URL-safe", () => {
    const keys = new Set(Array.from({ length: 50 }, generateProxyKey));
    expect(keys.size).toBe(50);
    for (const key of keys) {
      expect(key).toMatch(/^lkp-[A-Za-z0-9_-]{43}$/);
    }
  });

  test("missing means unset, blank or the .env.example placeholder", () => {
    expect(proxyKeyMissing(undefined)).toBe(true);
    expect(proxyKeyMissing("  ")).toBe(true);
    expect(proxyKeyMissing(getVar(parseEnvDocument(EXAMPLE), "PROXY_API_KEY"))).toBe(true);
    expect(proxyKeyMissing("lkp-something")).toBe(false);
  });

  test("the text of a new file is a valid, comment-only .env", () => {
    expect(envVars(parseEnvDocument(NEW_ENV_TEXT)).size).toBe(0);
  });
});

describe("writeEnvFileAtomic", () => {
  test("creates the file readable by its owner only", async () => {
    const dir = tempDir();
    const path = join(dir, ".env");
    await writeEnvFileAtomic(path, "A=1\n");
    expect(readFileSync(path, "utf8")).toBe("A=1\n");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual([".env"]);
  });

  test("replacing a world-readable file leaves it owner-only, whatever the umask", async () => {
    const dir = tempDir();
    const path = join(dir, ".env");
    writeFileSync(path, "OLD=1\n");
    chmodSync(path, 0o644);
    const umask = process.umask(0);
    try {
      await writeEnvFileAtomic(path, "NEW=2\n");
    } finally {
      process.umask(umask);
    }
    expect(readFileSync(path, "utf8")).toBe("NEW=2\n");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual([".env"]);
  });

  test("creates a missing folder", async () => {
    const path = join(tempDir(), "nested", "deeper", ".env");
    await writeEnvFileAtomic(path, "A=1\n");
    expect(readFileSync(path, "utf8")).toBe("A=1\n");
  });

  test("a symlinked .env stays a symlink; its target gets the new text", async () => {
    const dir = tempDir();
    const real = join(dir, "real.env");
    writeFileSync(real, "A=1\n");
    symlinkSync(real, join(dir, ".env"));
    await writeEnvFileAtomic(join(dir, ".env"), "A=2\n");
    expect(readFileSync(real, "utf8")).toBe("A=2\n");
    expect(readdirSync(dir).sort()).toEqual([".env", "real.env"]);
  });

  test("a failed write throws one sentence and leaves no temp file behind", async () => {
    const dir = tempDir();
    const path = join(dir, "occupied");
    mkdirSync(path); // rename cannot replace a folder with a file
    writeFileSync(join(path, "inside"), "x");
    let error: unknown;
    try {
      await writeEnvFileAtomic(path, "A=1\n");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain("left as it was");
    expect(readdirSync(dir)).toEqual(["occupied"]);
    expect(readdirSync(path)).toEqual(["inside"]);
  });

  test("readEnvText gives null for a missing file and the exact text otherwise", async () => {
    const dir = tempDir();
    expect(await readEnvText(join(dir, ".env"))).toBeNull();
    writeFileSync(join(dir, ".env"), "\uFEFFA=1\r\n");
    expect(await readEnvText(join(dir, ".env"))).toBe("\uFEFFA=1\r\n");
  });

  test("loadEnvDocument starts a missing file from the new-file text, and refuses a broken one by line number", async () => {
    const dir = tempDir();
    const path = join(dir, ".env");
    const missing = await loadEnvDocument(path);
    expect(missing.original).toBeNull();
    expect(renderEnvDocument(missing.doc)).toBe(NEW_ENV_TEXT);

    writeFileSync(path, "A=1\r\n# note\r\n");
    const existing = await loadEnvDocument(path);
    expect(existing.original).toBe("A=1\r\n# note\r\n");
    expect(renderEnvDocument(existing.doc)).toBe(existing.original!);
    expect(getVar(existing.doc, "A")).toBe("1");

    writeFileSync(path, "A=1\nsk-pasted-on-its-own\n");
    await expect(loadEnvDocument(path)).rejects.toThrow(`Line 2 of ${path} is not a KEY=value line.`);
  });
});
