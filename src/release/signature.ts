/**
 * Release signatures: SHA256SUMS.sig is the base64 of a raw 64-byte Ed25519 signature
 * (RFC 8032, not pre-hashed) over the exact bytes of SHA256SUMS, on one line. WebCrypto
 * checks it here, and OpenSSL 3 in install.sh:
 *
 *   openssl base64 -d -A -in SHA256SUMS.sig -out sig.bin
 *   openssl pkeyutl -verify -pubin -inkey release.pub.pem -rawin -in SHA256SUMS -sigfile sig.bin
 *
 * Keys are PEM: SubjectPublicKeyInfo for the public key, PKCS#8 for the private one, as
 * `openssl genpkey -algorithm ed25519` writes them.
 */
import { VenvoyError } from "../ui/errors.ts";
import type { ReleaseKey } from "./key.ts";

/** A release's signature is missing, malformed, or not made by the trusted key. */
export class SignatureError extends VenvoyError {}

const SIGNATURE_BYTES = 64;

function pemDer(pem: string, label: string, source: string): Uint8Array<ArrayBuffer> {
  const m = pem.match(
    new RegExp(`-----BEGIN ${label}-----\\s*([A-Za-z0-9+/=\\s]+?)\\s*-----END ${label}-----`),
  );
  const der = m ? decodeBase64(m[1].replace(/\s+/g, "")) : null;
  if (!der) throw new VenvoyError(`${source} is not a PEM ${label.toLowerCase()}`);
  return der;
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function encodeBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

async function importKey(
  pem: string,
  kind: "public" | "private",
  source: string,
): Promise<CryptoKey> {
  const label = kind === "public" ? "PUBLIC KEY" : "PRIVATE KEY";
  const der = pemDer(pem, label, source);
  try {
    return await crypto.subtle.importKey(
      kind === "public" ? "spki" : "pkcs8",
      der,
      { name: "Ed25519" },
      false,
      [kind === "public" ? "verify" : "sign"],
    );
  } catch (e) {
    throw new VenvoyError(`${source} is not an Ed25519 ${kind} key`, { cause: e });
  }
}

/**
 * Throws a SignatureError unless `sigText` (SHA256SUMS.sig) is `key`'s signature of `data`
 * (SHA256SUMS, byte for byte).
 */
export async function verifySignature(
  data: Uint8Array,
  sigText: string,
  options: { key: ReleaseKey; source: string },
): Promise<void> {
  const { key, source } = options;
  const sig = decodeBase64(sigText.trim());
  if (!sig || sig.length !== SIGNATURE_BYTES) {
    throw new SignatureError(`${source} is not an Ed25519 signature (base64 of 64 bytes)`, {
      hint: "the release folder is damaged or was tampered with; nothing was changed",
    });
  }
  const publicKey = await importKey(key.pem, "public", key.source);
  const ok = await crypto.subtle.verify("Ed25519", publicKey, sig, data as Uint8Array<ArrayBuffer>);
  if (!ok) {
    throw new SignatureError(`${source} is not a valid signature by ${key.source}`, {
      hint: "the release was tampered with, or was not signed by the venvoy project; " +
        "nothing was changed. Use the project's release or a faithful mirror of it",
    });
  }
}

/** The SHA256SUMS.sig text for `data`, signed with a PKCS#8 PEM private key. */
export async function signData(data: Uint8Array, privatePem: string): Promise<string> {
  const key = await importKey(privatePem, "private", "the signing key");
  const sig = await crypto.subtle.sign("Ed25519", key, data as Uint8Array<ArrayBuffer>);
  return `${encodeBase64(new Uint8Array(sig))}\n`;
}

function pem(label: string, der: ArrayBuffer): string {
  const lines = encodeBase64(new Uint8Array(der)).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** A new Ed25519 key pair as PEM text, in the forms openssl writes. */
export async function generateKeyPair(): Promise<{ privatePem: string; publicPem: string }> {
  const pair = await crypto.subtle.generateKey("Ed25519", true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  return {
    privatePem: pem("PRIVATE KEY", await crypto.subtle.exportKey("pkcs8", pair.privateKey)),
    publicPem: pem("PUBLIC KEY", await crypto.subtle.exportKey("spki", pair.publicKey)),
  };
}

/** The public key (SPKI PEM) of a PKCS#8 PEM private key. */
export async function publicKeyOf(privatePem: string): Promise<string> {
  const der = pemDer(privatePem, "PRIVATE KEY", "the signing key");
  const key = await crypto.subtle.importKey("pkcs8", der, { name: "Ed25519" }, true, ["sign"]);
  // WebCrypto exports an Ed25519 private key's public half only through JWK ("x").
  const { x } = await crypto.subtle.exportKey("jwk", key);
  const raw = decodeBase64(`${x ?? ""}=`.replace(/-/g, "+").replace(/_/g, "/"));
  if (!raw || raw.length !== 32) {
    throw new VenvoyError("the signing key has no Ed25519 public half");
  }
  const spki = new Uint8Array([...SPKI_ED25519_PREFIX, ...raw]);
  return pem("PUBLIC KEY", spki.buffer);
}

/** The DER header of an Ed25519 SubjectPublicKeyInfo; the 32 raw key bytes follow it. */
const SPKI_ED25519_PREFIX = [
  0x30,
  0x2a,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x03,
  0x21,
  0x00,
];
