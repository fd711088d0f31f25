/** Per-request values shared between middleware and routes. */

import type { CallRecord } from "../core/key-call.ts";

export interface AppEnv {
  Variables: {
    requestId: string;
    /** Filled by proxied routes, read by the request log line. */
    call?: CallRecord;
  };
}
