/**
 * Keys held in files. A cloud key can be a whole document — a Google service-account JSON key —
 * that people keep as a file (`VERTEX_API_KEY_1=/secrets/sa-prod.json`) rather than paste into a
 * variable. For providers whose catalog entry allows it, a key variable that names a file (a path,
 * or a name ending in `.json`) stands for the file's text; inline JSON is taken as it is. The file is
 * read once, at start, so a missing or unreadable file is a setup error naming the variable, not a
 * failure of every request.
 */

import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { resolve } from "node:path";
import { parseServiceAccount, ServiceAccountError } from "../providers/vertex/service-account.ts";
import { ConfigError } from "./paths.ts";

/** A key written inline as a JSON document (it may hold spaces and line breaks). */
export function isJsonKey(value: string): boolean {
  return value.trimStart().startsWith("{");
}

/** `/abs`, `./rel`, `../rel`, `~/home`, `C:\win`, or any name ending in `.json`. */
export function namesKeyFile(value: string): boolean {
  return /^(?:\/|\.\.?[\\/]|~[\\/]|[A-Za-z]:[\\/])/.test(value) || /\.json$/i.test(value);
}

/**
 * The key a variable's value stands for: the named file's text, or the value itself. A JSON key
 * (the only documents keys come as: Google service-account keys) must be a usable one, so a wrong
 * file (a gcloud user login, a damaged private key) stops the start instead of failing every call.
 * `where` names the setting in errors; no error quotes the key.
 */
export function readHeldKey(value: string, where: string): string {
  const key = fileOrValue(value.trim(), where);
  if (isJsonKey(key)) {
    try {
      parseServiceAccount(key);
    } catch (error) {
      if (error instanceof ServiceAccountError) throw new ConfigError(`${where}: ${error.message}`);
      throw error;
    }
  }
  return key;
}

function fileOrValue(trimmed: string, where: string): string {
  if (isJsonKey(trimmed) || !namesKeyFile(trimmed)) return trimmed;
  const path = resolve(trimmed.startsWith("~") ? homedir() + trimmed.slice(1) : trimmed);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new ConfigError(`${where} names the key file ${path}, which cannot be read (${code}).`);
  }
  if (text.trim() === "") throw new ConfigError(`${where} names the key file ${path}, which is empty.`);
  return text.trim();
}
