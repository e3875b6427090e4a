/** Reading a release: its VERSION, its SHA256SUMS, and a verified asset. */
import { VenvoyError } from "../ui/errors.ts";
import { releaseUrl, SUMS_FILE, VERSION_FILE } from "./location.ts";
import { parseSha256Sums, verifySha256 } from "./sha256sums.ts";
import { mustParseVersion, type Version } from "./version.ts";

const SMALL_TIMEOUT_MS = 30_000;
const ASSET_TIMEOUT_MS = 15 * 60_000;

export interface FetchOptions {
  timeoutMs?: number;
}

/** GET a URL (http, https or file) and return its body; any failure is a VenvoyError. */
export async function fetchBytes(url: string, options: FetchOptions = {}): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? SMALL_TIMEOUT_MS) });
  } catch (e) {
    throw downloadError(url, e);
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

/** The version of the release at `base`, from its VERSION file. */
export async function releaseVersion(base: string): Promise<Version> {
  const url = releaseUrl(base, VERSION_FILE);
  return mustParseVersion(await fetchText(url), url);
}

/** Downloads `name` from the release at `base` and checks it against SHA256SUMS. */
export async function downloadVerified(base: string, name: string): Promise<Uint8Array> {
  const sumsUrl = releaseUrl(base, SUMS_FILE);
  const sums = parseSha256Sums(await fetchText(sumsUrl), sumsUrl);
  if (!sums.has(name)) {
    throw new VenvoyError(`the release at ${base} has no ${name}`, {
      hint: "that release does not support this platform, or it is incomplete",
    });
  }
  const bytes = await fetchBytes(releaseUrl(base, name), { timeoutMs: ASSET_TIMEOUT_MS });
  await verifySha256(name, bytes, sums);
  return bytes;
}
