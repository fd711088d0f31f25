/**
 * A provider's configured keys as the credentials the engine rotates: each with the endpoint it
 * goes to (its own, or the provider's) and its family settings, identified and shown so that two
 * uses of one secret (two servers, two regions) are two keys and a key without anything of its
 * own keeps the id it always had.
 */

import { QUOTA_GROUP_OPTION, type ProviderSettings } from "../config/discover-providers.ts";
import { createCredential, type Credential } from "../credential.ts";
import { adapterFor } from "../providers/adapter-for-family.ts";
import { fillBaseUrl, identityOptionsOf } from "../providers/catalog.ts";

export function providerCredentials(provider: ProviderSettings): Credential[] {
  const adapter = adapterFor(provider.family);
  const identityOptions = identityOptionsOf(provider.name);
  return provider.keys.map((key) => {
    const credential = createCredential({
      secret: key.secret,
      baseUrl: key.baseUrl ?? templateFilled(provider.baseUrl, key.options),
      ownEndpoint: key.baseUrl !== undefined,
      options: key.options,
      identityOptions,
      label: key.secret === "" ? undefined : adapter.keyLabel?.(key.secret),
    });
    // A declared group (`<P>_QUOTA_GROUP_<N>`) wins over the one the family knows (a Vertex project).
    const quotaGroup = key.options?.[QUOTA_GROUP_OPTION] ?? adapter.quotaGroup?.(credential);
    return quotaGroup === undefined ? credential : { ...credential, quotaGroup };
  });
}

/** Discovery made sure every placeholder has its setting; a missing one is a bug, said plainly. */
function templateFilled(template: string, options: Readonly<Record<string, string>> | undefined): string {
  const filled = fillBaseUrl(template, options);
  if (!filled.ok) throw new Error(`no "${filled.missing}" setting for the base URL ${template}`);
  return filled.url;
}

/** Every text of a provider's configuration that must never show: the secrets of its keys, and the secret parts of those that have them. */
export function providerSecrets(provider: ProviderSettings): string[] {
  const adapter = adapterFor(provider.family);
  return provider.keys.flatMap((key) => (key.secret === "" ? [] : [key.secret, ...(adapter.secretParts?.(key.secret) ?? [])]));
}
