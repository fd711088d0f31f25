/** Per-request values shared between middleware and routes, and the record a proxied call leaves. */

import type { AttemptTrace } from "../engine/rotate.ts";
import type { TokenUsage } from "../outcome.ts";

export interface AppEnv {
  Variables: {
    requestId: string;
    /** Filled by proxied routes, read by the request log line. */
    call?: CallRecord;
  };
}

/** What one proxied call did: the trace, usage and serving key that the logs and metrics read. */
export interface CallRecord {
  provider: string;
  model: string;
  attempts: number;
  trace: AttemptTrace[];
  keyMasked?: string;
  usage?: TokenUsage;
  /** Set for streams: resolves once the stream is over, however it ended. */
  ended?: Promise<void>;
}
