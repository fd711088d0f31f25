/**
 * One configured provider as the server holds it: its settings, its key pool and the adapter that
 * speaks its wire family. Its own module so that the pieces built from it (the model catalog, the
 * routes) and the context that builds it do not import each other.
 */

import type { ProviderSettings } from "../config/settings.ts";
import type { KeyPool } from "../engine/key-pool.ts";
import type { ProviderAdapter } from "../providers/adapter.ts";

export interface ProviderRuntime {
  settings: ProviderSettings;
  pool: KeyPool;
  adapter: ProviderAdapter;
}
