/**
 * Reading a release: its SHA256SUMS, whose signature is checked before any checksum in it
 * is trusted, then its VERSION and assets against those checksums.
 */
import { VenvoyError } from "../ui/errors.ts";
import { releaseUrl, SIG_FILE, SUMS_FILE, VERSION_FILE } from "./location.ts";
import { parseSha256Sums, verifySha256 } from "./sha256sums.ts";
import { SignatureError, verifySignature } from "./signature.ts";
import type { ReleaseKey } from "./key.ts";
import { mustParseVersion, type Version } from "./version.ts";

const SMALL_TIMEOUT_MS = 30_000;
const ASSET_TIMEOUT_MS = 15 * 60_000;
const MAX_REDIRECTS = 10;

export interface FetchOptions {
  timeoutMs?: number;
}

/**
 * GET a URL (http, https or file) and return its body; any failure is a VenvoyError.
 * Redirects are followed, but never from https to anything else.
 */
export async function fetchBytes(url: string, options: FetchOptions = {}): Promise<Uint8Array> {
  const signal = AbortSignal.timeout(options.timeoutMs ?? SMALL_TIMEOUT_MS);
  let res: Response;
  try {
    res = await follow(url, signal);
  } catch (e) {
    throw e instanceof VenvoyError ? e : downloadError(url, e);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new VenvoyError(
      `could not download ${url}: HTTP ${res.status} ${res.statusText}`.trim(),
      {
        hint: res.status === 404
          ? "no such file in the release folder; check VENVOY_RELEASE_URL"
          : "try again later, or set VENVOY_RELEASE_URL to a mirror",
      },
    );
  }
  try {
    return new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    throw downloadError(url, e);
  }
}

async function follow(url: string, signal: AbortSignal): Promise<Response> {
  let current = url;
  for (let hops = 0;; hops++) {
    const res = await fetch(current, { signal, redirect: "manual" });
    const location = res.headers.get("location");
    if (res.status < 300 || res.status > 399 || !location) return res;
    await res.body?.cancel();
    const next = new URL(location, current).href;
    if (hops === MAX_REDIRECTS) {
      throw new VenvoyError(`could not download ${url}: more than ${MAX_REDIRECTS} redirects`);
    }
    if (isDowngrade(current, next)) {
      throw new VenvoyError(
        `could not download ${url}: it redirects to ${next}, which is not https`,
        {
          hint: "the server or a proxy downgrades the connection; use another mirror",
        },
      );
    }
    current = next;
  }
}

/** A redirect from https to anything else (http, file...), which fetchBytes refuses. */
export function isDowngrade(from: string, to: string): boolean {
  return new URL(from).protocol === "https:" && new URL(to).protocol !== "https:";
}

export async function fetchText(url: string, options: FetchOptions = {}): Promise<string> {
  return new TextDecoder().decode(await fetchBytes(url, options));
}

function downloadError(url: string, e: unknown): VenvoyError {
  const why = e instanceof DOMException && e.name === "TimeoutError"
    ? "timed out"
    : e instanceof Error
    ? e.message
    : String(e);
  return new VenvoyError(`could not download ${url}: ${why}`, {
    hint: "check the network (and HTTPS_PROXY), or set VENVOY_RELEASE_URL to a mirror",
    cause: e,
  });
}

/** A release whose SHA256SUMS carries a valid signature, and whose VERSION matches it. */
export interface SignedRelease {
  base: string;
  version: Version;
  /** File name -> sha256, from the signed SHA256SUMS. */
  sums: Map<string, string>;
}

/**
 * Reads the release at `base`: SHA256SUMS and SHA256SUMS.sig first, and the signature must
 * be `key`'s (SignatureError otherwise); then VERSION, which must match its signed checksum.
 */
export async function openRelease(base: string, key: ReleaseKey): Promise<SignedRelease> {
  const sumsUrl = releaseUrl(base, SUMS_FILE);
  const sigUrl = releaseUrl(base, SIG_FILE);
  const sumsBytes = await fetchBytes(sumsUrl);
  const sigText = await fetchText(sigUrl).catch((e: VenvoyError) => {
    throw new SignatureError(`the release at ${base} is not signed: ${e.message}`, {
      hint: "a release from before signing, or a mirror that was tampered with; nothing was " +
        "changed. Use the project's release, or a full copy of one with its SHA256SUMS.sig",
      cause: e,
    });
  });
  await verifySignature(sumsBytes, sigText, { key, source: sigUrl });
  const sums = parseSha256Sums(new TextDecoder().decode(sumsBytes), sumsUrl);
  const versionUrl = releaseUrl(base, VERSION_FILE);
  const versionBytes = await fetchBytes(versionUrl);
  const version = mustParseVersion(new TextDecoder().decode(versionBytes), versionUrl);
  await verifySha256(VERSION_FILE, versionBytes, sums);
  return { base, version, sums };
}

/** Downloads `name` from a signed release and checks it against its SHA256SUMS. */
export async function downloadAsset(release: SignedRelease, name: string): Promise<Uint8Array> {
  if (!release.sums.has(name)) {
    throw new VenvoyError(`the release at ${release.base} has no ${name}`, {
      hint: "that release does not support this platform, or it is incomplete",
    });
  }
  const bytes = await fetchBytes(releaseUrl(release.base, name), { timeoutMs: ASSET_TIMEOUT_MS });
  await verifySha256(name, bytes, release.sums);
  return bytes;
}
