/**
 * Stored Responses API responses: what `store` (not false) keeps, so that `previous_response_id`
 * can continue a conversation on any provider and `GET` / `DELETE /v1/responses/{id}` and
 * `input_items` work. The contract is asynchronous so a shared backend (Redis, in cluster mode)
 * can stand behind it; the SQLite one answers at once.
 *
 * Only conversation content is stored, never a key: the same data the client sent and received.
 */

export interface StoredResponse {
  /** `resp_…`, the response's own id. */
  id: string;
  /** Epoch ms. */
  createdAt: number;
  /** The response this one continued, so a chain can be walked back. */
  previousId: string | null;
  /** The response object as the client received it. */
  response: Record<string, unknown>;
  /** This request's input items (each with an `id`), as `GET …/input_items` lists them; the output is in `response`. */
  inputItems: Record<string, unknown>[];
}

export interface ResponseStore {
  /** The stored response, or undefined when it never existed, was deleted or has expired. */
  get(id: string): Promise<StoredResponse | undefined>;
  put(response: StoredResponse): Promise<void>;
  /** True when something was deleted. */
  delete(id: string): Promise<boolean>;
  close(): void;
}
