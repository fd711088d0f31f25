/** dotenv parsing: the syntax people actually write, and the mistakes they make. */

import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEnvFile, readEnvFile } from "../../../src/config/env-file.ts";
import { ConfigError } from "../../../src/config/settings.ts";

const parse = (text: string) => Object.fromEntries(parseEnvFile(text));

describe("parseEnvFile", () => {
  test("plain KEY=value lines, comments and blank lines", () => {
    expect(parse("# comment\n\nA=1\n  # indented comment\nB=two words\n")).toEqual({ A: "1", B: "two words" });
  });

  test("export prefix and whitespace around names and values", () => {
    expect(parse("export A=1\n  export   B = 2  \nC =3")).toEqual({ A: "1", B: "2", C: "3" });
  });

  test("a variable called export is still a variable", () => {
    expect(parse("export=1")).toEqual({ export: "1" });
  });

  test("double quotes process escapes", () => {
    expect(parse(String.raw`A="line1\nline2\t\"q\" \\ end"`)).toEqual({ A: 'line1\nline2\t"q" \\ end' });
  });

  test("unknown escapes in double quotes are kept, so Windows paths survive", () => {
    expect(parse(String.raw`A="C:\data\x"`)).toEqual({ A: String.raw`C:\data\x` });
  });

  test("single quotes are literal", () => {
    expect(parse(String.raw`A='a\nb "c" # d'`)).toEqual({ A: String.raw`a\nb "c" # d` });
  });

  test("quoted values keep inner whitespace and allow a trailing comment", () => {
    expect(parse(`A="  padded  " # note\nB='x' #c`)).toEqual({ A: "  padded  ", B: "x" });
  });

  test("inline comments need whitespace before #", () => {
    expect(parse("A=value # comment\nB=a#b\nC=#c\nD= # only a comment\nE=x\t#tab")).toEqual({
      A: "value",
      B: "a#b",
      C: "#c",
      D: "",
      E: "x",
    });
  });

  test("empty values", () => {
    expect(parse("A=\nB=''\nC=\"\"")).toEqual({ A: "", B: "", C: "" });
  });

  test("CRLF and a BOM are tolerated", () => {
    expect(parse("\uFEFFA=1\r\nB=\"x\"\r\n# c\r\nC=3\r\n")).toEqual({ A: "1", B: "x", C: "3" });
  });

  test("a quoted value may span lines", () => {
    expect(parse('A="one\ntwo"\nB=3')).toEqual({ A: "one\ntwo", B: "3" });
  });

  test("later duplicates win but keep the first position", () => {
    const map = parseEnvFile("A=1\nB=2\nA=3");
    expect([...map]).toEqual([
      ["A", "3"],
      ["B", "2"],
    ]);
  });

  test("values may contain = signs", () => {
    expect(parse("A=b=c==")).toEqual({ A: "b=c==" });
  });

  test("a line without = is an error naming the line but not its text", () => {
    const secret = "sk-very-secret-value";
    try {
      parseEnvFile(`A=1\n\n${secret}\n`, "/x/.env");
      throw new Error("should have thrown");
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toBe("Line 3 of /x/.env is not a KEY=value line.");
      expect((error as Error).message).not.toContain(secret);
    }
  });

  test("an unclosed quote is an error", () => {
    expect(() => parseEnvFile('A=1\nB="open\nC=2')).toThrow(/Line 2 .* double quote that is never closed/);
    expect(() => parseEnvFile("A='open")).toThrow(/Line 1 .* single quote/);
  });

  test("text after a closing quote is an error", () => {
    expect(() => parseEnvFile('A="x" y')).toThrow(/Line 1 .*after the closing quote/);
  });

  test("line numbers stay right after a multi-line value", () => {
    expect(() => parseEnvFile('A="1\n2\n3"\nbroken')).toThrow(/^Line 4 /);
  });
});

describe("readEnvFile", () => {
  test("reads a file and returns null when it is missing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lkp-env-"));
    const path = join(dir, ".env");
    expect(await readEnvFile(path)).toBeNull();
    writeFileSync(path, "A=1\n");
    expect(Object.fromEntries((await readEnvFile(path))!)).toEqual({ A: "1" });
  });

  test("a folder in place of the file is a ConfigError", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lkp-env-"));
    await expect(readEnvFile(dir)).rejects.toBeInstanceOf(ConfigError);
  });
});
