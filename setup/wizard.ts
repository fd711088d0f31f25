/**
 * The interactive setup wizard (`llm-key-proxy setup` on a terminal): a menu over the `.env`
 * that adds and removes provider keys, sets host / port / request logging, rotates the
 * proxy key and shows how to call the proxy.
 *
 * Every change is made to an in-memory document; the file is written once, atomically, on
 * "Save and exit". Cancelling anywhere (Ctrl-C, Esc, or a Ctrl-C during a key check) returns
 * "cancelled" and leaves the file byte for byte as it was.
 *
 * Secrets on screen: provider keys are typed into a masked prompt and shown as `…last4`.
 * The proxy key is shown in full once, right after a newly generated one has been saved.
 */

import {
  autocomplete,
  cancel,
  confirm,
  intro,
  isCancel,
  log,
  note,
  outro,
  password,
  S_BAR,
  select,
  text,
  unicode,
} from "@clack/prompts";
import { PassThrough, type Readable, type Writable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import type { ReadStream } from "node:tty";
import { styleText } from "node:util";
import { clientExamples, curlLine, exampleModel } from "../src/config/client-examples.ts";
import { discoverProviders } from "../src/config/discover-providers.ts";
import { readHeldKey } from "../src/config/key-files.ts";
import { ConfigError } from "../src/config/paths.ts";
import { maskKey } from "../src/key-identity.ts";
import { catalogByGroup, catalogEntry } from "../src/providers/catalog.ts";
import { checkKey, checkTarget, type KeyCheckResult } from "./check-key.ts";
import { addProviderKeys, configuredProviders, envVars, generateProxyKey, getVar, loadEnvDocument, PERMISSIONS_NOTE, readEnvText, providerKeys, proxyKeyMissing, removeProviderKey, renderEnvDocument, setVar, writeEnvFileAtomic, type AddedKey, type EnvDocument, type RemoveKeyResult } from "./env-editor.ts";
import { BRACKETED_PASTE_OFF, BRACKETED_PASTE_ON, baseUrlProblem, foldPastedLineBreaks, isHostName, newPasteState, normaliseBaseUrl, parsePastedKeys, parsePort, providerNameProblem } from "./key-input.ts";

export interface SetupWizardOptions {
  /** The `.env` to edit or create. */
  envPath: string;
  /** Default process.stdin. */
  stdin?: Readable;
  /** Default process.stdout. */
  stdout?: Writable;
  /** Offer a live check of new keys against their provider (default true). */
  checkKeys?: boolean;
  /**
   * What happens after saving, so the last screen says the truth: the proxy starts in this window
   * (a first run), or the user starts it with `command` (default `llm-key-proxy`).
   */
  then?: { kind: "start" | "exit"; command?: string };
}

export type SetupWizardResult = "saved" | "cancelled" | "unchanged";

interface Io {
  input: Readable;
  output: Writable;
}

interface Session {
  envPath: string;
  /** The file's text when the wizard started; null when there was no file. */
  original: string | null;
  doc: EnvDocument;
  /** PROXY_API_KEY was generated or rotated in this session: show it in full after saving. */
  proxyKeyIsNew: boolean;
  /** Changes the user made (the generated first proxy key is not one). */
  edits: number;
  /** The menu opens on the last choice, so repeating an action is one key press. */
  lastChoice: MenuChoice;
  checkKeys: boolean;
  then: NonNullable<SetupWizardOptions["then"]>;
}

type MenuChoice = "add" | "list" | "remove" | "server" | "rotate" | "call" | "save" | "quit";

/** Thrown from any prompt the user cancels, and caught once at the top. */
const CANCEL = Symbol("setup cancelled");
const CUSTOM_CHOICE = "+custom";
const BACK = "+back";
const DEFAULT_HOST = "127.0.0.1";
const DEFAULT_PORT = "8000";
/** At most this many key checks run at once, so a paste of 50 keys does not trip a rate limit. */
const CHECK_CONCURRENCY = 4;
const SPINNER_FRAMES = unicode ? ["◐", "◓", "◑", "◒"] : ["-", "\\", "|", "/"];

/** Runs the wizard until the user saves, quits or cancels. Throws ConfigError for an unreadable or broken file. */
export async function runSetupWizard(options: SetupWizardOptions): Promise<SetupWizardResult> {
  const io: Io = { input: options.stdin ?? process.stdin, output: options.stdout ?? process.stdout };
  const { original, doc } = await loadEnvDocument(options.envPath);
  const session: Session = {
    envPath: options.envPath,
    original,
    doc,
    proxyKeyIsNew: false,
    edits: 0,
    lastChoice: "add",
    checkKeys: options.checkKeys ?? true,
    then: options.then ?? { kind: "exit" },
  };

  intro(styleText("inverse", " llm-key-proxy setup "), io);
  log.info(`${original === null ? "Creating" : "Editing"} ${options.envPath}. Nothing is written until you choose "Save and exit".`, io);
  if (proxyKeyMissing(getVar(session.doc, "PROXY_API_KEY"))) {
    session.doc = setVar(session.doc, "PROXY_API_KEY", generateProxyKey());
    session.proxyKeyIsNew = true;
    log.info("Generated a strong random proxy key (PROXY_API_KEY); it is shown once, after you save.", io);
  }

  try {
    if (configuredProviders(session.doc).length === 0) {
      log.step("No provider keys yet: start by adding one.", io);
      await addKeysStep(session, io);
    }
    for (;;) {
      const result = await menuStep(session, io);
      if (result !== undefined) return result;
    }
  } catch (error) {
    if (error !== CANCEL) throw error;
    cancel(`Cancelled: ${options.envPath} was not changed.`, io);
    return "cancelled";
  }
}

/**
 * The configured providers with their key variables, keys masked, for `--list` and the
 * wizard's list.
 */
export function describeProviders(doc: EnvDocument): string[] {
  const vars = envVars(doc);
  const lines: string[] = [];
  for (const provider of configuredProviders(doc)) {
    const keys = providerKeys(doc, provider);
    const entry = catalogEntry(provider);
    const base = vars.get(`${provider.toUpperCase()}_API_BASE`)?.trim();
    const where = entry === undefined ? `custom, ${base ?? "no base URL"}` : base ? `${entry.displayName}, ${base}` : entry.displayName;
    lines.push(`${provider}  (${where})  ${keys.length} key${keys.length === 1 ? "" : "s"}`);
    for (const { name, key } of keys) lines.push(`  ${name.padEnd(24)} ${maskKey(key)}`);
  }
  return lines;
}

/** The keys just added, each as `VARIABLE …last4`. */
export function describeAdded(added: readonly AddedKey[]): string {
  return added.map((a) => `${a.name} ${maskKey(a.key)}`).join(", ");
}

/** What removing `key` did: its variables, the key masked, and a custom base that went with it. */
export function describeRemoval(result: RemoveKeyResult, key: string): string {
  const base = result.removedBase === undefined ? "" : ` and ${result.removedBase} (no keys left for this custom provider)`;
  return `Removed ${result.removed.join(", ")} ${maskKey(key)}${base}`;
}

/** A chat completion that works against a proxy started with this file, with the key written as given. */
export function curlCommand(doc: EnvDocument, proxyKey: string): string {
  return curlLine({ origin: callableOrigin(doc), model: exampleModel(configuredProviders(doc)), key: proxyKey });
}

async function menuStep(s: Session, io: Io): Promise<SetupWizardResult | undefined> {
  const providers = configuredProviders(s.doc);
  const keyCount = providers.reduce((n, p) => n + providerKeys(s.doc, p).length, 0);
  const { host, port } = listenAddress(s.doc);
  const choice = await ask(
    select<MenuChoice>({
      ...io,
      message: "What would you like to do?",
      initialValue: s.lastChoice,
      options: [
        { value: "add", label: "Add provider keys" },
        { value: "list", label: "List providers and keys", hint: `${providers.length} providers, ${keyCount} keys` },
        { value: "remove", label: "Remove a key", disabled: keyCount === 0 },
        {
          value: "server",
          label: "Server settings",
          hint: `${host}:${port}, request logging ${requestLogging(s.doc) ? "on" : "off"}`,
        },
        { value: "rotate", label: "Rotate the proxy key" },
        { value: "call", label: "How to call the proxy" },
        { value: "save", label: "Save and exit", hint: saveHint(s) },
        { value: "quit", label: "Exit without saving" },
      ],
    }),
  );
  s.lastChoice = choice;
  switch (choice) {
    case "add":
      await addKeysStep(s, io);
      return undefined;
    case "list":
      note(describeProviders(s.doc).join("\n") || "No provider keys yet.", "Providers and keys", io);
      log.info(`Proxy key ${maskKey(getVar(s.doc, "PROXY_API_KEY") ?? "")}${s.proxyKeyIsNew ? " (new; shown in full after you save)" : ""}`, io);
      return undefined;
    case "remove":
      await removeKeyStep(s, io);
      return undefined;
    case "server":
      await serverStep(s, io);
      return undefined;
    case "rotate":
      await rotateStep(s, io);
      return undefined;
    case "call": {
      const screen = finalScreen({ ...s, proxyKeyIsNew: false });
      note(screen.summary.join("\n"), "Calling the proxy", io);
      io.output.write(`${screen.lines.join("\n")}\n`);
      if (!isSaved(s)) log.warn("These settings take effect once you save and start the proxy.", io);
      return undefined;
    }
    case "save":
      return saveStep(s, io);
    case "quit":
      if (s.edits > 0 && !(await ask(confirm({ ...io, message: `Discard ${s.edits} unsaved change${s.edits === 1 ? "" : "s"}?`, initialValue: false })))) {
        return undefined;
      }
      outro(`${s.envPath} was not changed.`, io);
      return isSaved(s) ? "unchanged" : "cancelled";
  }
}

async function addKeysStep(s: Session, io: Io): Promise<void> {
  const choice = await chooseProvider(s, io);
  if (choice === undefined) return;
  const { provider, baseUrl } = choice;
  const entry = catalogEntry(provider);
  const label = entry?.displayName ?? provider;
  if (entry?.keyless) return addKeylessServer(s, io, provider, label, baseUrl ?? entry.baseUrl);

  const pastedText = await ask(
    askPastedKeys(
      io,
      `Paste your ${label} key(s): one or several, one per line or separated by commas (empty ${providerKeys(s.doc, provider).length > 0 ? "keeps the current keys" : "goes back"})`,
    ),
  );
  const pasted = parsePastedKeys(pastedText, provider);
  if (pasted.keys.length === 0) {
    // Re-pointing a provider that has keys needs no key typed again.
    if (baseUrl !== undefined && providerKeys(s.doc, provider).length > 0 && baseUrl !== getVar(s.doc, baseVarOf(provider))?.trim()) {
      s.doc = setVar(s.doc, baseVarOf(provider), baseUrl);
      s.edits++;
      log.success(`${label} is now reached at ${baseUrl} (saved when you choose "Save and exit").`, io);
    }
    return;
  }
  const existing = new Set(providerKeys(s.doc, provider).map((k) => k.key));
  let keys = pasted.keys.filter((k) => !existing.has(k));
  const notes = [`${pasted.keys.length} key${pasted.keys.length === 1 ? "" : "s"} read`];
  if (pasted.duplicates > 0) notes.push(`${pasted.duplicates} repeated in the paste, dropped`);
  if (pasted.keys.length > keys.length) notes.push(`${pasted.keys.length - keys.length} already configured, skipped`);
  log.info(`${notes.join("; ")}.`, io);

  const flagged = pasted.flagged.filter((f) => keys.includes(f.key));
  if (flagged.length > 0) {
    log.warn(["These look wrong:", ...flagged.map((f) => `  ${maskKey(f.key)}  ${f.reasons.join("; ")}`)].join("\n"), io);
    const keep = await ask(confirm({ ...io, message: `Add ${flagged.length === 1 ? "it" : `these ${flagged.length}`} anyway?`, initialValue: false }));
    if (!keep) keys = keys.filter((k) => !flagged.some((f) => f.key === k));
  }
  // A key kept in a file must be readable and usable now: the proxy reads it at start.
  if (entry?.keyFiles) keys = keys.filter((key) => heldKeyUsable(key, io));
  if (keys.length === 0) {
    log.info("No new keys to add.", io);
    return;
  }

  if (s.checkKeys) keys = await checkStep(s, io, provider, label, keys, baseUrl);
  if (keys.length === 0) return;

  const result = addProviderKeys(s.doc, provider, keys, baseUrl === undefined ? {} : { baseUrl });
  s.doc = result.doc;
  s.edits++;
  log.success(`Added ${describeAdded(result.added)} (saved when you choose "Save and exit").`, io);
  await settingsStep(s, io, provider);
}

function heldKeyUsable(key: string, io: Io): boolean {
  try {
    readHeldKey(key, "This key");
    return true;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log.error(`${error.message} Not added.`, io);
    return false;
  }
}

/** A local server needs no key: its address is the whole configuration, written even when it is the usual one. */
function addKeylessServer(s: Session, io: Io, provider: string, label: string, baseUrl: string): void {
  const name = baseVarOf(provider);
  if (getVar(s.doc, name)?.trim() !== baseUrl) {
    s.doc = setVar(s.doc, name, baseUrl);
    s.edits++;
  }
  log.success(`${label} at ${baseUrl}, no key needed (saved when you choose "Save and exit"). Models: ${provider}/<model it has loaded>.`, io);
}

/**
 * The family's settings that are not part of its address (a Vertex project and location), asked
 * for every key of the provider at once; an empty answer leaves the setting as it was, or unset.
 */
async function settingsStep(s: Session, io: Io, provider: string): Promise<void> {
  for (const option of catalogEntry(provider)?.keyOptions ?? []) {
    if (option.question === undefined) continue;
    const name = `${provider.toUpperCase()}_${option.env}`;
    const current = getVar(s.doc, name)?.trim() || undefined;
    const answer = String((await ask(text({ ...io, message: `${option.question} [${name}]`, initialValue: current }))) ?? "").trim();
    if (answer === "" || answer === current) continue;
    s.doc = setVar(s.doc, name, answer);
    s.edits++;
  }
}

/**
 * The provider to add keys to, and its base URL when it is not the catalog's default: a custom
 * provider always has one; a known one may be pointed elsewhere (a gateway, a local mock).
 * Undefined means "back".
 */
async function chooseProvider(s: Session, io: Io): Promise<{ provider: string; baseUrl?: string } | undefined> {
  const counts = (p: string) => providerKeys(s.doc, p).length;
  const customs = configuredProviders(s.doc).filter((p) => catalogEntry(p) === undefined);
  // Grouped as GET /v1/providers lists them; the group is in the hint, so typing "local" or "embeddings" finds the group.
  const catalog = catalogByGroup().flatMap(({ group, providers }) =>
    providers.map(({ name, entry }) => ({
      value: name,
      label: entry.displayName,
      hint: `${group} · ${counts(name) > 0 ? `${name}, ${counts(name)} key${counts(name) === 1 ? "" : "s"}` : name}`,
    })),
  );
  const others = [...customs.map((name) => ({ value: name, label: name, hint: `custom, ${counts(name)} keys` })), ...catalog];
  const matches = (search: string, option: { value: string; label?: string; hint?: string }): boolean => {
    const needle = search.toLowerCase();
    return [option.value, option.label ?? "", option.hint ?? ""].some((field) => field.toLowerCase().includes(needle));
  };
  const picked = await ask(
    autocomplete<string>({
      ...io,
      message: "Which provider? Type to search.",
      maxItems: 8,
      options: [
        ...others.slice(0, customs.length + 3),
        // On the first screen; and what is left when the name typed is no known provider ("ollama",
        // "mock"), instead of "No matches found".
        { value: CUSTOM_CHOICE, label: "Custom OpenAI-compatible provider…", hint: "any other name: Ollama, vLLM, LM Studio, a mock, any /v1 server" },
        ...others.slice(customs.length + 3),
        { value: BACK, label: "Back to the menu" },
      ],
      filter: (search, option) => (option.value === CUSTOM_CHOICE ? search === "" || !others.some((other) => matches(search, other)) : matches(search, option)),
      validate: (value) => (value === undefined ? "Pick one of the listed options." : undefined),
    }),
  );
  if (picked === BACK) return undefined;
  const known = picked !== CUSTOM_CHOICE ? catalogEntry(picked) : undefined;
  if (known !== undefined) return { provider: picked, baseUrl: await knownEndpointStep(s, io, picked, known.baseUrl) };

  const provider =
    picked !== CUSTOM_CHOICE
      ? picked
      : (
          await ask(
            text({
              ...io,
              message: "Name for this provider (the model prefix, as in ollama/llama3.2)",
              placeholder: "ollama",
              validate: (value) => {
                const name = (value ?? "").trim();
                return customs.includes(name) ? undefined : providerNameProblem(name);
              },
            }),
          )
        ).trim();
  return { provider, baseUrl: await askBaseUrl(io, provider, getVar(s.doc, baseVarOf(provider)), "http://localhost:11434/v1") };
}

/**
 * Where a known provider is reached: its usual endpoint (one key press), the one already in the
 * file, or another. Undefined keeps the catalog default.
 */
async function knownEndpointStep(s: Session, io: Io, provider: string, defaultUrl: string): Promise<string | undefined> {
  const current = getVar(s.doc, baseVarOf(provider))?.trim() || undefined;
  // An address with a part that is the user's own (an Azure resource, a Cloudflare account) has no
  // usual form to offer: it is asked for, the pattern as the example.
  if (/\{\w+\}/.test(defaultUrl)) return askBaseUrl(io, provider, current, defaultUrl);
  const choice = await ask(
    select<"default" | "current" | "other">({
      ...io,
      message: `Where is ${catalogEntry(provider)!.displayName}?`,
      initialValue: current === undefined ? "default" : "current",
      options: [
        { value: "default", label: `Its usual address: ${defaultUrl}` },
        ...(current !== undefined && current !== defaultUrl ? [{ value: "current" as const, label: `As configured: ${current}` }] : []),
        { value: "other", label: "Another base URL…", hint: "a gateway, a proxy in between, a local mock" },
      ],
    }),
  );
  if (choice === "current") return current;
  if (choice === "default") return current === undefined ? undefined : defaultUrl;
  return askBaseUrl(io, provider, current, defaultUrl);
}

async function askBaseUrl(io: Io, provider: string, current: string | undefined, placeholder: string): Promise<string> {
  const baseUrl = await ask(
    text({
      ...io,
      message: `Base URL of ${provider}, including the version path`,
      placeholder,
      initialValue: current,
      validate: (value) => baseUrlProblem((value ?? "").trim()),
    }),
  );
  return normaliseBaseUrl(baseUrl);
}

/** `llm-key-proxy setup`, as the user types it: `npm run setup --` from a source checkout. */
function setupCommand(startCommand = "llm-key-proxy"): string {
  return startCommand === "npm start" ? "npm run setup --" : `${startCommand} setup`;
}

function baseVarOf(provider: string): string {
  return `${provider.toUpperCase()}_API_BASE`;
}

/** Offers the live check; returns the keys to add (rejected ones only if the user keeps them). */
async function checkStep(s: Session, io: Io, provider: string, label: string, keys: string[], baseUrl?: string): Promise<string[]> {
  const vars = envVars(s.doc);
  if (baseUrl !== undefined) vars.set(`${provider.toUpperCase()}_API_BASE`, baseUrl);
  const target = checkTarget(vars, provider);
  if (target === undefined) return keys;
  const what = keys.length === 1 ? "the key" : `the ${keys.length} keys`;
  const wanted = await ask(confirm({ ...io, message: `Check ${what} with ${label} now? (asks for its model list; needs the network)`, initialValue: true }));
  if (!wanted) return keys;

  const results = await withSpinner(io, `Checking ${what} with ${label}`, (signal) =>
    mapLimited(keys, CHECK_CONCURRENCY, (key) => checkKey({ ...target, key, signal })),
  );
  const rejected: string[] = [];
  keys.forEach((key, i) => {
    const result: KeyCheckResult = results[i]!;
    const line = `${maskKey(key)}  ${result.message}`;
    if (result.status === "ok") log.success(line, io);
    else if (result.status === "rejected") {
      log.error(line, io);
      rejected.push(key);
    } else log.warn(`${line}; kept anyway`, io);
  });
  if (rejected.length === 0) return keys;
  const keep = await ask(
    confirm({ ...io, message: `Add the ${rejected.length === 1 ? "rejected key" : `${rejected.length} rejected keys`} anyway?`, initialValue: false }),
  );
  return keep ? keys : keys.filter((k) => !rejected.includes(k));
}

async function removeKeyStep(s: Session, io: Io): Promise<void> {
  const providers = configuredProviders(s.doc);
  const provider = await ask(
    select<string>({
      ...io,
      message: "Remove a key of which provider?",
      options: [
        ...providers.map((p) => ({ value: p, label: p, hint: `${providerKeys(s.doc, p).length} keys` })),
        { value: BACK, label: "Back to the menu" },
      ],
    }),
  );
  if (provider === BACK) return;
  const key = await ask(
    select<string>({
      ...io,
      message: `Which ${provider} key?`,
      options: [
        // The variable name is part of the label: two keys may end in the same four characters.
        ...providerKeys(s.doc, provider).map(({ name, key }) => ({ value: key, label: `${maskKey(key)}  ${name}` })),
        { value: BACK, label: "Back to the menu" },
      ],
    }),
  );
  if (key === BACK) return;
  const result = removeProviderKey(s.doc, provider, key);
  s.doc = result.doc;
  s.edits++;
  log.success(`${describeRemoval(result, key)} (saved when you choose "Save and exit").`, io);
}

async function serverStep(s: Session, io: Io): Promise<void> {
  for (;;) {
    const { host, port } = listenAddress(s.doc);
    const logging = requestLogging(s.doc);
    const choice = await ask(
      select<"host" | "port" | "logging" | typeof BACK>({
        ...io,
        message: "Server settings",
        options: [
          { value: "host", label: `Listen address: ${host}` },
          { value: "port", label: `Port: ${port}` },
          { value: "logging", label: `Request logging: ${logging ? "on" : "off"}` },
          { value: BACK, label: "Back to the menu" },
        ],
      }),
    );
    if (choice === BACK) return;
    if (choice === "host") {
      const value = (
        await ask(
          text({
            ...io,
            message: "Address to listen on: 127.0.0.1 is this computer only, 0.0.0.0 every network interface",
            initialValue: host,
            validate: (v) => (isHostName(v ?? "") ? undefined : "Enter a host name or IP address, e.g. 127.0.0.1."),
          }),
        )
      ).trim();
      changeSetting(s, "HOST", value, host);
      if (value === "0.0.0.0" || value === "::") log.warn("Other machines on your network can then reach the proxy; only the proxy key keeps them out.", io);
    } else if (choice === "port") {
      const value = (
        await ask(
          text({
            ...io,
            message: "Port to listen on (1-65535)",
            initialValue: port,
            validate: (v) => (parsePort(v ?? "") === undefined ? "Enter a whole number from 1 to 65535." : undefined),
          }),
        )
      ).trim();
      changeSetting(s, "PORT", String(Number(value)), port);
    } else {
      const value = await ask(confirm({ ...io, message: "Write a detailed log of every request?", initialValue: logging }));
      changeSetting(s, "REQUEST_LOGGING", String(value), String(logging));
    }
  }
}

async function rotateStep(s: Session, io: Io): Promise<void> {
  const sure = await ask(
    confirm({ ...io, message: "Replace the proxy key? Clients using the current key stop working once you save.", initialValue: false }),
  );
  if (!sure) return;
  s.doc = setVar(s.doc, "PROXY_API_KEY", generateProxyKey());
  s.proxyKeyIsNew = true;
  s.edits++;
  log.success("New proxy key generated; it is shown in full after you save.", io);
}

async function saveStep(s: Session, io: Io): Promise<SetupWizardResult | undefined> {
  if (isSaved(s)) {
    outro(`Nothing changed; ${s.envPath} was left as it was.`, io);
    return "unchanged";
  }
  const problem = configProblem(s.doc);
  if (problem !== undefined) {
    log.warn(`The proxy will not start with this file: ${problem}`, io);
    if (!(await ask(confirm({ ...io, message: "Save anyway?", initialValue: false })))) return undefined;
  }
  const onDisk = await readEnvText(s.envPath);
  if (onDisk !== s.original) {
    log.warn(`${s.envPath} was changed by something else while setup ran.`, io);
    if (!(await ask(confirm({ ...io, message: "Overwrite it with setup's version?", initialValue: false })))) return undefined;
  }
  try {
    await writeEnvFileAtomic(s.envPath, renderEnvDocument(s.doc));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log.error(error.message, io);
    return undefined;
  }
  log.success(`Saved ${s.envPath}${PERMISSIONS_NOTE}.`, io);

  const screen = finalScreen(s);
  note(screen.summary.join("\n"), s.proxyKeyIsNew ? "Ready: your proxy key is shown once, copy it now" : "Ready", io);
  outro(s.then.kind === "start" ? "Starting the proxy now. Then paste one of these:" : `Start the proxy with: ${s.then.command ?? "llm-key-proxy"}   Then paste one of these:`, io);
  // Outside the box, so the terminal does not wrap them into it and each copies as one line.
  io.output.write(`${screen.lines.join("\n")}\n\n`);
  return "saved";
}

/**
 * Everything needed to use the proxy, on one screen: where the file is, the key (in full only when
 * it was just made), the address, and one line per client to paste. The lines carry the real key
 * when it is new (the user is reading it right here anyway), else its masked name.
 */
function finalScreen(s: Session): { summary: string[]; lines: string[] } {
  const proxyKey = getVar(s.doc, "PROXY_API_KEY") ?? "";
  const key = s.proxyKeyIsNew ? proxyKey : `<proxy key ${maskKey(proxyKey)}>`;
  const origin = callableOrigin(s.doc);
  const examples = clientExamples({ origin, model: exampleModel(configuredProviders(s.doc)), key });
  return {
    summary: [
      `Configuration  ${s.envPath}`,
      `Proxy key      ${s.proxyKeyIsNew ? styleText("bold", proxyKey) : `${maskKey(proxyKey)}  (${setupCommand(s.then.command)} --show-proxy-key prints it)`}`,
      `Address        ${origin}/v1`,
    ],
    lines: examples.flatMap(({ client, line }) => [`${client}:`, `  ${line}`]),
  };
}

/**
 * A masked prompt that takes several keys at once. A single-line prompt submits at the
 * first line break of a paste and drops the rest, so on a terminal the prompt reads through
 * a relay that turns pasted line breaks into spaces (bracketed paste, with a fallback for
 * terminals without it).
 */
async function askPastedKeys(io: Io, message: string): Promise<string | symbol> {
  const relay = new PassThrough();
  const decoder = new StringDecoder("utf8");
  const state = newPasteState();
  const stop = readRaw(io.input, (chunk) => {
    relay.write(foldPastedLineBreaks(typeof chunk === "string" ? chunk : decoder.write(chunk), state));
  });
  if (stop === undefined) return password({ ...io, message });
  io.output.write(BRACKETED_PASTE_ON);
  try {
    return await password({ ...io, input: relay, message });
  } finally {
    stop();
    io.output.write(BRACKETED_PASTE_OFF);
    relay.end();
  }
}

/**
 * Shows a spinner while `task` runs. Ctrl-C aborts the task and cancels the wizard. (The
 * @clack spinner would end the whole process on Ctrl-C, skipping the caller's cleanup.)
 */
async function withSpinner<T>(io: Io, message: string, task: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  const out = io.output as Writable & { isTTY?: boolean };
  const stop = readRaw(io.input, (chunk) => {
    if (String(chunk).includes("\x03")) abort.abort();
  });
  let frame = 0;
  const draw = () => out.write(`\r\x1b[2K${styleText("magenta", SPINNER_FRAMES[frame++ % SPINNER_FRAMES.length]!)}  ${message}…`);
  let timer: ReturnType<typeof setInterval> | undefined;
  if (out.isTTY === true) {
    out.write(`${styleText("gray", S_BAR)}\n\x1b[?25l`);
    draw();
    timer = setInterval(draw, 100);
  } else {
    out.write(`${message}…\n`);
  }
  try {
    const result = await task(abort.signal);
    if (abort.signal.aborted) throw CANCEL;
    return result;
  } finally {
    clearInterval(timer);
    // Erase the spinner and the guide line above it; the results are logged in their place.
    if (out.isTTY === true) out.write("\r\x1b[2K\x1b[1A\x1b[2K\x1b[?25h");
    stop?.();
  }
}

/**
 * Hands every key press (raw mode: Ctrl-C and pasted line breaks arrive as bytes) to `onData`
 * until the returned function is called. Undefined when the input is not a terminal.
 */
function readRaw(input: Readable, onData: (chunk: Buffer | string) => void): (() => void) | undefined {
  const tty = input as Readable & Partial<Pick<ReadStream, "isTTY" | "setRawMode">>;
  if (tty.isTTY !== true || typeof tty.setRawMode !== "function") return undefined;
  const setRawMode = tty.setRawMode.bind(tty);
  setRawMode(true);
  tty.on("data", onData);
  tty.resume();
  return () => {
    tty.off("data", onData);
    tty.pause();
    setRawMode(false);
  };
}

/** Awaits a prompt; a cancelled prompt ends the wizard. */
async function ask<T>(prompt: Promise<T>): Promise<Exclude<T, symbol>> {
  const value = await prompt;
  if (isCancel(value)) throw CANCEL;
  return value as Exclude<T, symbol>;
}

function changeSetting(s: Session, name: string, value: string, current: string): void {
  if (value === current) return;
  s.doc = setVar(s.doc, name, value);
  s.edits++;
}

function requestLogging(doc: EnvDocument): boolean {
  const value = getVar(doc, "REQUEST_LOGGING")?.trim().toLowerCase();
  return value === "true" || value === "1";
}

/** True when the file on disk already says what the document says. */
function isSaved(s: Session): boolean {
  return s.original !== null && renderEnvDocument(s.doc) === s.original;
}

function saveHint(s: Session): string {
  if (s.original === null) return `creates ${s.envPath}`;
  if (isSaved(s)) return "nothing changed";
  return s.edits === 0 ? `updates ${s.envPath}` : `${s.edits} change${s.edits === 1 ? "" : "s"} to write`;
}

/** Why the proxy would refuse this file (provider problems or no keys), or undefined. */
function configProblem(doc: EnvDocument): string | undefined {
  try {
    const { providers } = discoverProviders(Object.fromEntries(envVars(doc)));
    return providers.length === 0 ? "it has no provider keys yet." : undefined;
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
}

/** HOST and PORT as the proxy will use them: the file's values, else the proxy's defaults. */
function listenAddress(doc: EnvDocument): { host: string; port: string } {
  const vars = envVars(doc);
  return { host: vars.get("HOST")?.trim() || DEFAULT_HOST, port: vars.get("PORT")?.trim() || DEFAULT_PORT };
}

/** Where clients reach a proxy started with this file: a wildcard listen address is reached via loopback. */
function callableOrigin(doc: EnvDocument): string {
  const { host, port } = listenAddress(doc);
  const reachable = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  // An IPv6 address goes in brackets in a URL.
  return `http://${reachable.includes(":") && !reachable.startsWith("[") ? `[${reachable}]` : reachable}:${port}`;
}

/** Runs `fn` over `items` with at most `limit` at a time; results keep the input order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
