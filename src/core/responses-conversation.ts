/**
 * The conversation behind a Responses API request: its input items (ids given to those without
 * one, as `GET …/input_items` lists them), the earlier turns that `previous_response_id` points
 * at (rebuilt from the response store, so a conversation can move between keys and providers),
 * and the record a finished response leaves in the store when `store` is not false.
 */

import { itemId } from "../formats/responses/item-id.ts";
import type { ResponseInputItem, ResponsesRequest } from "../formats/responses/types.ts";
import { isRecord } from "../formats/is-record.ts";
import type { ResponseStore } from "../store/response-store.ts";
import type { ProxyError } from "../errors/proxy-error.ts";

/** Far beyond any real chain; it only stops a corrupted store from looping. */
const MAX_CHAIN = 10_000;

const ID_PREFIX: Record<string, string> = {
  message: "msg",
  function_call: "fc",
  function_call_output: "fco",
  custom_tool_call: "ctc",
  custom_tool_call_output: "ctco",
  reasoning: "rs",
};

/** The request's input as items, each with an id: a string input is one user message. */
export function inputItemsOf(request: ResponsesRequest): Record<string, unknown>[] {
  const input = request.input ?? [];
  const items: unknown[] = typeof input === "string" ? [{ type: "message", role: "user", content: [{ type: "input_text", text: input }] }] : input;
  return items.filter(isRecord).map((item) => {
    if (typeof item.id === "string" && item.id !== "") return item;
    const type = typeof item.type === "string" ? item.type : "message";
    return { id: itemId(ID_PREFIX[type] ?? "item"), ...(item.type === undefined ? { type: "message" } : {}), ...item };
  });
}

export type History = { ok: true; items: ResponseInputItem[]; found: boolean } | { ok: false; error: ProxyError };

/**
 * Every earlier turn, oldest first: each stored response's input items, then its output. An id the
 * store does not know is a 404 in OpenAI's words, unless `unknownIsFine` (a native host may know
 * responses created without this proxy).
 */
export async function historyBefore(store: ResponseStore, previousId: string | null | undefined, unknownIsFine: boolean): Promise<History> {
  if (!previousId) return { ok: true, items: [], found: false };
  const turns: ResponseInputItem[][] = [];
  let id: string | null = previousId;
  for (let depth = 0; id !== null && depth < MAX_CHAIN; depth++) {
    const stored = await store.get(id);
    if (stored === undefined) {
      if (depth > 0) break;
      if (unknownIsFine) return { ok: true, items: [], found: false };
      return { ok: false, error: previousNotFound(previousId) };
    }
    const output = Array.isArray(stored.response.output) ? (stored.response.output as ResponseInputItem[]) : [];
    turns.push([...(stored.inputItems as unknown as ResponseInputItem[]), ...output]);
    id = stored.previousId;
  }
  return { ok: true, items: turns.reverse().flat(), found: true };
}

export function previousNotFound(id: string): ProxyError {
  return { status: 404, type: "invalid_request_error", code: "previous_response_not_found", param: "previous_response_id", message: `Previous response with id '${id}' not found.` };
}

export function responseNotFound(id: string): ProxyError {
  return { status: 404, type: "invalid_request_error", code: null, param: null, message: `Response with id '${id}' not found.` };
}

/** Whether the client asked for the response to be kept (the API's default is yes). */
export function wantsStore(request: ResponsesRequest): boolean {
  return request.store !== false;
}
