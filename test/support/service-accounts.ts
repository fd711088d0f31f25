/**
 * Google service-account keys for tests: a real RSA key pair made here, written as the JSON key
 * file Google's console downloads (fields as Google writes them), with its public half kept so a
 * mock token endpoint can verify the assertions signed with it.
 */

const RSA = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;

export interface TestServiceAccount {
  email: string;
  projectId: string;
  privateKeyId: string;
  /** The key file's text. */
  json: string;
  /** The PEM private key inside it (to check it never shows). */
  privatePem: string;
  publicKey: CryptoKey;
}

function pemOf(der: ArrayBuffer, label: string): string {
  const lines = Buffer.from(der).toString("base64").match(/.{1,64}/g)!;
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

export async function createTestServiceAccount(options: { name: string; projectId: string; tokenUri: string }): Promise<TestServiceAccount> {
  const pair = (await crypto.subtle.generateKey({ ...RSA, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) }, true, ["sign", "verify"])) as CryptoKeyPair;
  const privatePem = pemOf(await crypto.subtle.exportKey("pkcs8", pair.privateKey), "PRIVATE KEY");
  const email = `${options.name}@${options.projectId}.iam.gserviceaccount.com`;
  const privateKeyId = Buffer.from(crypto.getRandomValues(new Uint8Array(20))).toString("hex");
  const json = JSON.stringify(
    {
      type: "service_account",
      project_id: options.projectId,
      private_key_id: privateKeyId,
      private_key: privatePem,
      client_email: email,
      client_id: "1" + String(Math.floor(Math.random() * 1e20)).padStart(20, "0"),
      auth_uri: "https://accounts.google.com/o/oauth2/auth",
      token_uri: options.tokenUri,
      auth_provider_x509_cert_url: "https://www.googleapis.com/oauth2/v1/certs",
      client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(email)}`,
      universe_domain: "googleapis.com",
    },
    null,
    2,
  );
  return { email, projectId: options.projectId, privateKeyId, json, privatePem, publicKey: pair.publicKey };
}

/** Whether `jwt` is an RS256 JWT whose signature `publicKey` accepts; its header and claims when it is. */
export async function verifiedJwt(jwt: string, publicKey: CryptoKey): Promise<{ header: any; claims: any } | undefined> {
  const parts = jwt.split(".");
  if (parts.length !== 3 || !parts.every((part) => /^[A-Za-z0-9_-]+$/.test(part))) return undefined;
  const [header, claims, signature] = parts as [string, string, string];
  const valid = await crypto.subtle.verify(RSA, publicKey, Buffer.from(signature, "base64url"), new TextEncoder().encode(`${header}.${claims}`));
  if (!valid) return undefined;
  return { header: JSON.parse(Buffer.from(header, "base64url").toString("utf8")), claims: JSON.parse(Buffer.from(claims, "base64url").toString("utf8")) };
}
