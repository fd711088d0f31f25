/**
 * `llm-key-proxy setup [flags]`: the same `.env` edits as the wizard, from flags (and keys
 * from standard input), for scripts, Docker and CI where there is no terminal. Without
 * flags it opens the wizard on a terminal and otherwise explains what to do instead.
 *
 * Output follows the wizard's rules: provider keys only ever masked (`…last4`); the proxy
 * key in full only right after it was generated or rotated, or when `--show-proxy-key`
 * asks for it. A change is written once, atomically, after every flag has been checked, so
 * a bad flag leaves the file as it was.
 */

import { resolve } from "node:path";
import { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { ConfigError } from "../src/config/paths.ts";
import { maskKey } from "../src/key-identity.ts";
import { catalogEntry } from "../src/providers/catalog.ts";
import { checkKey, checkTarget } from "./check-key.ts";
import { addProviderKeys, configuredProviders, envVars, generateProxyKey, getVar, loadEnvDocument, PERMISSIONS_NOTE, providerKeys, proxyKeyMissing, removeProviderKey, renderEnvDocument, setVar, writeEnvFileAtomic, type EnvDocument } from "./env-editor.ts";
import { baseUrlProblem, isHostName, normaliseBaseUrl, parsePastedKeys, parsePort, providerNameProblem } from "./key-input.ts";
import { curlCommand, describeAdded, describeProviders, describeRemoval, runSetupWizard } from "./wizard.ts";

export interface SetupCommandOptions {
  /** The `.env` to edit when `--env-file` is not given (main resolves it as for serving). */
  envPath: string;
  /** Where `--key -` reads keys from, and the wizard's input; null when there is none. */
  stdin: NodeJS.ReadableStream | null;
  /** Both standard input and output are a terminal: the wizard can run. */
  isTTY: boolean;
  /** Relative `--env-file` paths start here (default process.cwd()). */
  cwd?: string;
  /** How the user starts the proxy (`npm start`, the binary's name), for the wizard's last screen. */
  startCommand?: string;
  stdout?: Writer;
  stderr?: Writer;
}

export interface Writer {
  write(text: string): unknown;
}

export interface SetupFlags {
  add?: string;
  keys: string[];
  /** `--key -`: read keys from standard input as well. */
  keysFromStdin: boolean;
  baseUrl?: string;
  check: boolean;
  remove?: string;
  keySuffix?: string;
  list: boolean;
  rotateProxyKey: boolean;
  showProxyKey: boolean;
  host?: string;
  port?: string;
  requestLogging?: string;
  envFile?: string;
  help: boolean;
}

export const SETUP_HELP = `llm-key-proxy setup: edit the .env file (provider keys, proxy key, server settings).

On a terminal, without flags, it opens an interactive wizard. With flags it works without one:

  --add PROVIDER          add keys to PROVIDER (a known provider such as gemini, or a custom name with --base-url)
  --key KEY               a key for --add; repeat for more. --key - reads keys from standard input
                          (one per line or comma-separated)
  --base-url URL          base URL with its version path: needed for a custom OpenAI-compatible provider; for a
                          known one it replaces the usual address; alone (no --key) it re-points the provider
                          (e.g. http://localhost:11434/v1) or to override a known one
  --check                 check each new key with a model-list call (5 s timeout); refused keys are not added
  --remove PROVIDER       remove the key of PROVIDER that ends with --key-suffix
  --key-suffix CHARS      the last characters of the key to remove (as --list shows them)
  --list                  list providers and their keys (masked)
  --rotate-proxy-key      replace PROXY_API_KEY with a new random key and print it once
  --show-proxy-key        print PROXY_API_KEY
  --host HOST             address to listen on (HOST)
  --port N                port to listen on (PORT)
  --request-logging on|off  detailed request logs (REQUEST_LOGGING)
  --env-file PATH         edit this file instead of ./.env
  -h, --help              show this help

Examples:
  llm-key-proxy setup --add gemini --key AIza... --key AIza...
  printf '%s\\n' "$KEY1" "$KEY2" | llm-key-proxy setup --add groq --key -
  llm-key-proxy setup --add ollama --base-url http://localhost:11434/v1 --key none
  llm-key-proxy setup --remove gemini --key-suffix Xy12

A new .env gets a random PROXY_API_KEY, printed once. Keys go to <PROVIDER>_API_KEY_<N>.
`;

const NO_TERMINAL =
  "llm-key-proxy setup: there is no terminal for the interactive wizard. Use flags instead, for example " +
  "llm-key-proxy setup --add gemini --key <key> (keys can also come from standard input with --key -); " +
  "llm-key-proxy setup --help lists them all.\n";

/** Switches, and the field each turns on. */
const SWITCHES = {
  "--check": "check",
  "--list": "list",
  "--rotate-proxy-key": "rotateProxyKey",
  "--show-proxy-key": "showProxyKey",
  "--help": "help",
  "-h": "help",
} as const satisfies Record<string, keyof SetupFlags>;
/** Flags that take one value, and the field it goes to. `--key` is apart: it repeats, and `-` means standard input. */
const VALUE_FLAGS = {
  "--add": "add",
  "--remove": "remove",
  "--base-url": "baseUrl",
  "--key-suffix": "keySuffix",
  "--host": "host",
  "--port": "port",
  "--request-logging": "requestLogging",
  "--env-file": "envFile",
} as const satisfies Record<string, keyof SetupFlags>;

/**
 * Runs `setup` with the arguments after the word `setup` (a leading `setup` is skipped too).
 * Returns the exit code: 0 done, 1 a problem with the file or a value, 2 a usage error or no
 * terminal for the wizard, 130 the wizard was cancelled.
 */
export async function runSetupCommand(argv: string[], options: SetupCommandOptions): Promise<number> {
  const out = options.stdout ?? process.stdout;
  const err = options.stderr ?? process.stderr;
  const parsed = parseSetupFlags(argv[0] === "setup" ? argv.slice(1) : argv);
  if (typeof parsed === "string") {
    err.write(`llm-key-proxy setup: ${parsed} Run llm-key-proxy setup --help.\n`);
    return 2;
  }
  if (parsed.help) {
    out.write(SETUP_HELP);
    return 0;
  }
  const envPath = parsed.envFile === undefined ? options.envPath : resolve(options.cwd ?? process.cwd(), parsed.envFile);

  try {
    if (!hasAction(parsed)) {
      if (!options.isTTY) {
        err.write(NO_TERMINAL);
        return 2;
      }
      const stdin = options.stdin instanceof Readable ? options.stdin : undefined;
      const result = await runSetupWizard({ envPath, stdin, checkKeys: true, then: { kind: "exit", command: options.startCommand } });
      return result === "cancelled" ? 130 : 0;
    }
    await applyFlags(parsed, envPath, options, out, err);
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    err.write(`llm-key-proxy setup: ${error.message}\n`);
    return 1;
  }
}

/** Reads setup's flags; a string is the usage error to report. */
export function parseSetupFlags(argv: readonly string[]): SetupFlags | string {
  const flags: SetupFlags = { keys: [], keysFromStdin: false, check: false, list: false, rotateProxyKey: false, showProxyKey: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    if (Object.hasOwn(SWITCHES, flag) && eq === -1) {
      flags[SWITCHES[flag as keyof typeof SWITCHES]] = true;
      continue;
    }
    if (flag !== "--key" && !Object.hasOwn(VALUE_FLAGS, flag)) {
      return flag.startsWith("-") ? `Unknown option ${flag}.` : `Unexpected argument "${arg}".`;
    }
    let value = eq === -1 ? argv[i + 1] : arg.slice(eq + 1);
    if (eq === -1) {
      // `--key -` means standard input; any other following flag means the value was forgotten.
      if (value !== undefined && value.startsWith("--")) value = undefined;
      else i++;
    }
    if (value === undefined || value.trim() === "") return `Option ${flag} needs a value.`;
    value = value.trim();
    if (flag === "--key") {
      if (value === "-") flags.keysFromStdin = true;
      else flags.keys.push(value);
      continue;
    }
    const field = VALUE_FLAGS[flag as keyof typeof VALUE_FLAGS];
    // A provider name is its model prefix, which is lower case.
    flags[field] = field === "add" || field === "remove" ? value.toLowerCase() : value;
  }
  if (flags.add === undefined && (flags.keys.length > 0 || flags.keysFromStdin || flags.baseUrl !== undefined || flags.check)) {
    return "--key, --base-url and --check go with --add PROVIDER.";
  }
  if (flags.add !== undefined && flags.keys.length === 0 && !flags.keysFromStdin && flags.baseUrl === undefined) {
    return "--add needs at least one --key (or --key - to read keys from standard input), or --base-url to re-point a provider that has keys.";
  }
  if ((flags.remove === undefined) !== (flags.keySuffix === undefined)) return "--remove PROVIDER and --key-suffix CHARS go together.";
  return flags;
}

function hasAction(flags: SetupFlags): boolean {
  return (
    flags.add !== undefined ||
    flags.remove !== undefined ||
    flags.list ||
    flags.rotateProxyKey ||
    flags.showProxyKey ||
    flags.host !== undefined ||
    flags.port !== undefined ||
    flags.requestLogging !== undefined
  );
}

async function applyFlags(flags: SetupFlags, envPath: string, options: SetupCommandOptions, out: Writer, err: Writer): Promise<void> {
  const loaded = await loadEnvDocument(envPath);
  let doc = loaded.doc;
  const report: string[] = [];

  let newProxyKey: string | undefined;
  const edits = flags.add !== undefined || flags.remove !== undefined || flags.host !== undefined || flags.port !== undefined || flags.requestLogging !== undefined;
  // A file this command writes must let the proxy start, so it never lacks a proxy key. It
  // is set first so that a new file has it at the top.
  if (flags.rotateProxyKey || (edits && proxyKeyMissing(getVar(doc, "PROXY_API_KEY")))) {
    newProxyKey = generateProxyKey();
    doc = setVar(doc, "PROXY_API_KEY", newProxyKey);
  }
  if (flags.add !== undefined) doc = await addFromFlags(doc, flags, flags.add, options, report, err);
  if (flags.remove !== undefined) doc = removeFromFlags(doc, flags.remove, flags.keySuffix!, report);
  if (flags.host !== undefined) {
    if (!isHostName(flags.host)) throw new ConfigError(`--host must be a host name or IP address (got "${flags.host}").`);
    doc = setVar(doc, "HOST", flags.host);
  }
  if (flags.port !== undefined) {
    const port = parsePort(flags.port);
    if (port === undefined) throw new ConfigError(`--port must be a whole number from 1 to 65535 (got "${flags.port}").`);
    doc = setVar(doc, "PORT", String(port));
  }
  if (flags.requestLogging !== undefined) doc = setVar(doc, "REQUEST_LOGGING", String(parseOnOff(flags.requestLogging)));

  const text = renderEnvDocument(doc);
  if (text !== renderEnvDocument(loaded.doc)) {
    await writeEnvFileAtomic(envPath, text);
    report.push(`Wrote ${envPath}${PERMISSIONS_NOTE}.`);
  } else if (edits) {
    report.push(`Nothing to change in ${envPath}.`);
  }
  for (const line of report) out.write(`${line}\n`);

  if (newProxyKey !== undefined) {
    out.write(
      `\nNew proxy key (shown once; copy it now):\n\n  ${newProxyKey}\n\n` +
        `Clients send it as "Authorization: Bearer <key>". Once the proxy runs, try:\n\n  ${curlCommand(doc, newProxyKey)}\n`,
    );
  }
  if (flags.list) out.write(listing(doc, envPath, loaded.original === null && newProxyKey === undefined));
  if (flags.showProxyKey) {
    const key = getVar(doc, "PROXY_API_KEY");
    if (proxyKeyMissing(key)) throw new ConfigError(`${envPath} has no proxy key yet; llm-key-proxy setup --rotate-proxy-key creates one.`);
    out.write(`${key!.trim()}\n`);
  }
}

async function addFromFlags(doc: EnvDocument, flags: SetupFlags, provider: string, options: SetupCommandOptions, report: string[], err: Writer): Promise<EnvDocument> {
  const baseVar = `${provider.toUpperCase()}_API_BASE`;
  if (catalogEntry(provider) === undefined) {
    const existing = getVar(doc, baseVar);
    const problem = existing === undefined ? providerNameProblem(provider) : undefined;
    if (problem !== undefined) throw new ConfigError(`--add ${provider}: ${problem}`);
    if (existing === undefined && flags.baseUrl === undefined) {
      throw new ConfigError(
        `"${provider}" is not a known provider: add --base-url <its base URL, e.g. http://localhost:11434/v1> to use it as a custom OpenAI-compatible provider.`,
      );
    }
  }
  const baseUrl = flags.baseUrl === undefined ? undefined : normaliseBaseUrl(flags.baseUrl);
  const baseProblem = baseUrl === undefined ? undefined : baseUrlProblem(baseUrl);
  if (baseProblem !== undefined) throw new ConfigError(baseProblem.replace(/^The base URL/, "--base-url"));

  if (flags.keys.length === 0 && !flags.keysFromStdin) {
    // Only a new address: the keys stay as they are.
    if (providerKeys(doc, provider).length === 0) throw new ConfigError(`${provider} has no keys yet: give at least one with --key.`);
    report.push(`${baseVar} set to ${baseUrl}.`);
    return setVar(doc, baseVar, baseUrl!);
  }
  let text = flags.keys.join("\n");
  if (flags.keysFromStdin) text += `\n${await readKeysFromStdin(options, err)}`;
  const pasted = parsePastedKeys(text, provider);
  if (pasted.keys.length === 0) throw new ConfigError(`No keys were given for ${provider}.`);
  for (const { key, reasons } of pasted.flagged) err.write(`warning: ${provider} key ${maskKey(key)} looks wrong (${reasons.join("; ")}); added anyway.\n`);

  let keys = pasted.keys;
  if (flags.check) {
    const vars = envVars(doc);
    if (baseUrl !== undefined) vars.set(baseVar, baseUrl);
    const target = checkTarget(vars, provider)!;
    const known = new Set(providerKeys(doc, provider).map((k) => k.key));
    const refused = new Set<string>();
    for (const key of keys.filter((k) => !known.has(k))) {
      const result = await checkKey({ ...target, key });
      err.write(`key check ${provider} ${maskKey(key)}: ${result.message}${result.status === "rejected" ? "; not added" : ""}\n`);
      if (result.status === "rejected") refused.add(key);
    }
    keys = keys.filter((k) => !refused.has(k));
  }

  const result = addProviderKeys(doc, provider, keys, baseUrl === undefined ? {} : { baseUrl });
  if (result.added.length > 0) {
    report.push(`Added ${result.added.length} ${provider} key${result.added.length === 1 ? "" : "s"}: ${describeAdded(result.added)}.`);
  }
  if (result.skipped.length > 0) report.push(`Skipped ${result.skipped.length} already configured: ${result.skipped.map(maskKey).join(", ")}.`);
  return result.doc;
}

function removeFromFlags(doc: EnvDocument, provider: string, suffix: string, report: string[]): EnvDocument {
  const keys = providerKeys(doc, provider);
  const matches = keys.filter((k) => k.key.endsWith(suffix));
  if (keys.length === 0) throw new ConfigError(`There are no ${provider} keys to remove.`);
  if (matches.length === 0) {
    throw new ConfigError(`No ${provider} key ends with "${suffix}"; its keys end with ${keys.map((k) => maskKey(k.key)).join(", ")}.`);
  }
  if (matches.length > 1) {
    throw new ConfigError(`${matches.length} ${provider} keys end with "${suffix}" (${matches.map((k) => k.name).join(", ")}); give more of the end of the key.`);
  }
  const key = matches[0]!.key;
  const result = removeProviderKey(doc, provider, key);
  report.push(`${describeRemoval(result, key)}.`);
  return result.doc;
}

function listing(doc: EnvDocument, envPath: string, missing: boolean): string {
  if (missing) return `${envPath} does not exist yet; llm-key-proxy setup creates it.\n`;
  const providers = configuredProviders(doc).length === 0 ? ["No provider keys yet."] : describeProviders(doc);
  const proxyKey = getVar(doc, "PROXY_API_KEY");
  const proxy = proxyKeyMissing(proxyKey) ? "not set (llm-key-proxy setup --rotate-proxy-key creates one)" : maskKey(proxyKey!.trim());
  return [`${envPath}`, ...providers.map((l) => `  ${l}`), `Proxy key: ${proxy}`, ""].join("\n");
}

async function readKeysFromStdin(options: SetupCommandOptions, err: Writer): Promise<string> {
  if (options.stdin === null) throw new ConfigError("--key - reads keys from standard input, but there is none.");
  if (options.isTTY) err.write("Paste the keys (one per line), then press Ctrl-D (Ctrl-Z and Enter on Windows):\n");
  const decoder = new StringDecoder("utf8");
  let text = "";
  for await (const chunk of options.stdin) text += typeof chunk === "string" ? chunk : decoder.write(chunk);
  return text + decoder.end();
}

function parseOnOff(value: string): boolean {
  const v = value.toLowerCase();
  if (["on", "true", "1", "yes"].includes(v)) return true;
  if (["off", "false", "0", "no"].includes(v)) return false;
  throw new ConfigError(`--request-logging takes on or off (got "${value}").`);
}
