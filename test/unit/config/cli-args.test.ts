/** Command-line parsing: commands, both flag spellings, and one-sentence errors. */

import { describe, expect, test } from "bun:test";
import { HELP_TEXT, parseCliArgs } from "../../../src/config/cli-args.ts";
import { ConfigError } from "../../../src/config/settings.ts";

function errorOf(argv: string[]): ConfigError {
  try {
    parseCliArgs(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected ${JSON.stringify(argv)} to fail`);
}

describe("parseCliArgs", () => {
  test("no arguments serve with nothing overridden", () => {
    expect(parseCliArgs([])).toEqual({ command: "serve" });
  });

  test("every flag, space-separated", () => {
    expect(
      parseCliArgs(["--host", "0.0.0.0", "--port", "9000", "--enable-request-logging", "--env-file", "a.env", "--data-dir", "/d"]),
    ).toEqual({ command: "serve", host: "0.0.0.0", port: 9000, enableRequestLogging: true, envFile: "a.env", dataDir: "/d" });
  });

  test("every flag, --flag=value", () => {
    expect(parseCliArgs(["--host=::", "--port=1", "--env-file=x=y.env", "--data-dir=data"])).toEqual({
      command: "serve",
      host: "::",
      port: 1,
      envFile: "x=y.env",
      dataDir: "data",
    });
  });

  test("setup and serve commands, flags before or after", () => {
    expect(parseCliArgs(["setup"])).toEqual({ command: "setup" });
    expect(parseCliArgs(["--env-file", "x.env", "setup"])).toEqual({ command: "setup", envFile: "x.env" });
    expect(parseCliArgs(["serve", "--port", "8001"])).toEqual({ command: "serve", port: 8001 });
  });

  test("help and version win, even next to a broken flag", () => {
    expect(parseCliArgs(["--help"]).command).toBe("help");
    expect(parseCliArgs(["-h"]).command).toBe("help");
    expect(parseCliArgs(["--port", "nope", "-h"]).command).toBe("help");
    expect(parseCliArgs(["--version"]).command).toBe("version");
    expect(parseCliArgs(["-v"]).command).toBe("version");
  });

  test("--enable-request-logging accepts =true / =false", () => {
    expect(parseCliArgs(["--enable-request-logging=false"]).enableRequestLogging).toBe(false);
    expect(parseCliArgs(["--enable-request-logging=1"]).enableRequestLogging).toBe(true);
    expect(errorOf(["--enable-request-logging=maybe"]).message).toContain("--enable-request-logging");
  });

  test("later repeats win", () => {
    expect(parseCliArgs(["--port", "1", "--port", "2"]).port).toBe(2);
  });

  test("unknown flag", () => {
    expect(errorOf(["--foo"]).message).toBe("Unknown option --foo. Run llm-key-proxy --help.");
    expect(errorOf(["--foo=bar"]).message).toBe("Unknown option --foo. Run llm-key-proxy --help.");
    expect(errorOf(["-x"]).message).toContain("Unknown option -x.");
  });

  test("unknown command and extra arguments", () => {
    expect(errorOf(["start"]).message).toBe('Unknown command "start". Run llm-key-proxy --help.');
    expect(errorOf(["setup", "now"]).message).toContain('Unexpected argument "now"');
  });

  test("bad port values", () => {
    for (const bad of ["0", "65536", "abc", "80.5", "-1", "1e3"]) {
      const message = errorOf(["--port=" + bad]).message;
      expect(message).toBe(`--port must be a whole number from 1 to 65535 (got "${bad}").`);
    }
  });

  test("a missing value names the flag", () => {
    expect(errorOf(["--port"]).message).toBe("Option --port needs a value, for example --port 8000.");
    expect(errorOf(["--env-file", "--port", "1"]).message).toContain("Option --env-file needs a value");
    expect(errorOf(["--host="]).message).toContain("Option --host needs a value");
  });
});

describe("HELP_TEXT", () => {
  test("lists commands, flags and the main variables", () => {
    for (const word of [
      "setup",
      "--host",
      "--port",
      "--enable-request-logging",
      "--env-file",
      "--data-dir",
      "--help",
      "--version",
      "PROXY_API_KEY",
      "_API_KEY_2",
      "_API_BASE",
      "IGNORE_MODELS_",
      "WHITELIST_MODELS_",
      "GLOBAL_TIMEOUT",
      "DAILY_RESET_TIME_UTC",
      "nvidia_nim",
    ]) {
      expect(HELP_TEXT).toContain(word);
    }
  });
});
