/** Per-request values shared between middleware and routes. */

import type { CallRecord } from "../core/key-call.ts";
import type { RouteStep } from "../core/model-routes.ts";

export interface AppEnv {
  Variables: {
    requestId: string;
    /** Filled by proxied routes, read by the request log line. */
    call?: CallRecord;
    /** Set while a route's target is tried (routed-call.ts): how its key calls run, and whether it could serve. */
    routeStep?: RouteStep;
  };
}
