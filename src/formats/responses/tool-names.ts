/**
 * The names tools go by on the provider's side, and the way back to the client's names.
 *
 * Responses tools may be grouped (Codex's `namespace` tools) and may be freeform (`custom` tools,
 * answered with raw text); chat providers only know flat functions whose names match
 * `^[a-zA-Z0-9_-]{1,64}$`. So each tool is offered under a provider-visible name — the function's
 * own name, or `<namespace>__<name>` for a namespaced one — and the map records what each such name
 * stands for, so that a call comes back to the client exactly as `{name, namespace}` of its kind.
 *
 * The scheme is deterministic (no counters), so the same tool gets the same name on every turn and
 * across restarts, which keeps earlier calls in the history recognisable to the model.
 */

import { createHash } from "node:crypto";

export interface ToolIdentity {
  name: string;
  namespace?: string;
  kind: "function" | "custom";
}

export type ToolNameMap = Map<string /* name the provider sees */, ToolIdentity>;

const PROVIDER_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const MAX_NAME_LENGTH = 64;
const NAMESPACE_SEPARATOR = "__";
/** Enough hash to keep apart the names that share a long prefix. */
const HASH_LENGTH = 8;

/**
 * The provider-visible name of a tool. A name that does not fit is made to: it keeps its start, with
 * the characters providers reject turned into `_`, and ends with a hash of the whole, so that two
 * names made to fit never meet.
 */
export function providerToolName(name: string, namespace?: string): string {
  const joined = namespace === undefined ? name : `${namespace}${NAMESPACE_SEPARATOR}${name}`;
  if (PROVIDER_NAME.test(joined)) return joined;
  const safe = joined.replace(/[^a-zA-Z0-9_-]/g, "_");
  const hash = createHash("sha256").update(joined).digest("hex").slice(0, HASH_LENGTH);
  return `${safe.slice(0, MAX_NAME_LENGTH - HASH_LENGTH - 1)}_${hash}`;
}

/**
 * What a provider's tool call name stands for. A name the map does not know (a model inventing a
 * tool) goes back as a plain function call under that name, for the client to reject.
 */
export function toolIdentity(tools: ToolNameMap, providerName: string): ToolIdentity {
  return tools.get(providerName) ?? { name: providerName, kind: "function" };
}
