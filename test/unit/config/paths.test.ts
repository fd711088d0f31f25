/** Where the .env and the data folder are found, and how keys are shown and identified. */

import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { envFileTarget, resolveDir, resolveEnvFile } from "../../../src/config/paths.ts";
import { keyId, maskKey } from "../../../src/key-identity.ts";
import { ConfigError } from "../../../src/config/settings.ts";

function layout() {
  const root = mkdtempSync(join(tmpdir(), "lkp-paths-"));
  const cwd = join(root, "cwd");
  const bin = join(root, "bin");
  mkdirSync(cwd);
  mkdirSync(bin);
  return { root, cwd, bin, execPath: join(bin, "llm-key-proxy") };
}

describe("resolveEnvFile", () => {
  test(".env in the working directory", () => {
    const { cwd, execPath } = layout();
    writeFileSync(join(cwd, ".env"), "A=1");
    for (const isCompiled of [false, true]) {
      expect(resolveEnvFile({ cwd, execPath, isCompiled })).toEqual({ envFilePath: join(cwd, ".env"), baseDir: cwd });
    }
  });

  test("from source without a .env: none, and the base is the working directory", () => {
    const { cwd, bin, execPath } = layout();
    writeFileSync(join(bin, ".env"), "A=1"); // ignored: only a compiled binary looks beside itself
    expect(resolveEnvFile({ cwd, execPath, isCompiled: false })).toEqual({ envFilePath: null, baseDir: cwd });
  });

  test("a compiled binary falls back to the .env beside the executable", () => {
    const { cwd, bin, execPath } = layout();
    writeFileSync(join(bin, ".env"), "A=1");
    expect(resolveEnvFile({ cwd, execPath, isCompiled: true })).toEqual({ envFilePath: join(bin, ".env"), baseDir: bin });
  });

  test("a compiled binary with no .env anywhere uses its own folder as the base", () => {
    const { cwd, bin, execPath } = layout();
    const location = resolveEnvFile({ cwd, execPath, isCompiled: true });
    expect(location).toEqual({ envFilePath: null, baseDir: bin });
    expect(envFileTarget(location)).toBe(join(bin, ".env"));
  });

  test("an explicit --env-file, relative to the working directory", () => {
    const { root, cwd, execPath } = layout();
    mkdirSync(join(root, "conf"));
    writeFileSync(join(root, "conf", "prod.env"), "A=1");
    writeFileSync(join(cwd, ".env"), "A=2");
    expect(resolveEnvFile({ explicit: "../conf/prod.env", cwd, execPath, isCompiled: false })).toEqual({
      envFilePath: join(root, "conf", "prod.env"),
      baseDir: join(root, "conf"),
    });
  });

  test("an explicit --env-file that does not exist or is a folder is an error", () => {
    const { cwd, execPath } = layout();
    const missing = () => resolveEnvFile({ explicit: "nope.env", cwd, execPath, isCompiled: false });
    expect(missing).toThrow(ConfigError);
    expect(missing).toThrow(`The env file given with --env-file does not exist: ${join(cwd, "nope.env")}.`);
    expect(() => resolveEnvFile({ explicit: ".", cwd, execPath, isCompiled: false })).toThrow(/not a file/);
  });

  test("a folder named .env is not a .env file", () => {
    const { cwd, execPath } = layout();
    mkdirSync(join(cwd, ".env"));
    expect(resolveEnvFile({ cwd, execPath, isCompiled: false }).envFilePath).toBeNull();
  });
});

describe("resolveDir", () => {
  test("absolute, relative and home-relative folders", () => {
    const base = resolve("/base");
    const home = resolve("/home/u");
    expect(resolveDir(resolve("/abs/x"), base, home)).toBe(resolve("/abs/x"));
    expect(resolveDir("data", base, home)).toBe(join(base, "data"));
    expect(resolveDir("../d", join(base, "sub"), home)).toBe(join(base, "d"));
    expect(resolveDir("~/d", base, home)).toBe(join(home, "d"));
    expect(resolveDir("~", base, home)).toBe(home);
  });
});

describe("maskKey", () => {
  test("last 4 characters for normal keys, last 2 for short ones, the id's start for tiny ones", () => {
    expect(maskKey("sk-proj-abcdefgh1234")).toBe("…1234");
    expect(maskKey("123456789")).toBe("…6789");
    expect(maskKey("12345678")).toBe("…78");
    expect(maskKey("12345")).toBe("…45");
    expect(maskKey("none")).toBe("…ne");
    expect(maskKey("ab")).toBe(`…#${keyId("ab").slice(0, 4)}`);
    expect(maskKey("")).toBe(`…#${keyId("").slice(0, 4)}`);
  });

  test("short sibling keys stay apart and none is shown whole", () => {
    const siblings = ["ok-a", "ok-b", "ok-c", "a", "b", "xy", "xz"];
    const shown = siblings.map(maskKey);
    expect(new Set(shown).size).toBe(siblings.length);
    siblings.forEach((key, i) => expect(shown[i]!.slice(1)).not.toBe(key));
  });
});

describe("keyId", () => {
  test("first 12 hex characters of SHA-256, stable and distinct", () => {
    const expected = createHash("sha256").update("sk-abc").digest("hex").slice(0, 12);
    expect(keyId("sk-abc")).toBe(expected);
    expect(keyId("sk-abc")).toMatch(/^[0-9a-f]{12}$/);
    expect(keyId("sk-abd")).not.toBe(keyId("sk-abc"));
  });
});
