/**
 * Reading a running proxy's key state in tests, by key id (never by the secret), for one provider.
 * The e2e helper modules bind these to the provider they test.
 */

import { keyId, maskKey } from "../../src/key-identity.ts";
import type { KeyStanding } from "../../src/engine/types.ts";
import type { ProxyHarness } from "./proxy-harness.ts";

export function providerStanding(proxy: ProxyHarness, provider: string) {
  const runtime = proxy.ctx.providers.get(provider);
  if (!runtime) throw new Error(`provider ${provider} is not configured`);
  return runtime.pool.standing();
}

export function findKeyStanding(proxy: ProxyHarness, provider: string, secret: string): KeyStanding {
  const found = providerStanding(proxy, provider).keys.find((key) => key.id === keyId(secret));
  if (!found) throw new Error(`no standing for key …${secret.slice(-4)}`);
  return found;
}

/** When (key, model) comes back, or undefined when it is not cooling for that model. */
export function keyCoolingUntil(proxy: ProxyHarness, provider: string, secret: string, model: string): number | undefined {
  return findKeyStanding(proxy, provider, secret).coolingModels.find((cooling) => cooling.model === model)?.until;
}

export function providerInFlight(proxy: ProxyHarness, provider: string): number {
  return providerStanding(proxy, provider).keys.reduce((sum, key) => sum + key.inFlight, 0);
}

/** The masked form the proxy shows for a key in `x-proxy-key` (ASCII dots). */
export function shownKey(secret: string): string {
  return maskKey(secret).replace("…", "...");
}
