/**
 * Where releases live, and what a release holds. One layout for every location — the
 * project's GitHub releases, a mirror, an air-gapped share, a test server:
 *
 *   <base>/VERSION                   the release's version, one line ("0.2.0")
 *   <base>/SHA256SUMS                "<sha256>  <file>" for every other file
 *   <base>/SHA256SUMS.sig            an Ed25519 signature of SHA256SUMS (signature.ts)
 *   <base>/venvoy-<target>[.exe]     one executable per target (RELEASE_TARGETS)
 *   <base>/install.sh, install.ps1   the installers of that release
 *
 * The default base is GitHub's "latest release" download folder, which serves exactly
 * this layout from a release's assets. VENVOY_RELEASE_URL replaces it (https, file:// or
 * an absolute path; plain http only with VENVOY_INSECURE_HTTP=1 or --insecure-http).
 * install.sh and install.ps1 carry the same default and the same rules.
 */
import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";
import { UsageError, VenvoyError } from "../ui/errors.ts";
import type { EnvLookup } from "../env/paths.ts";

export const DEFAULT_RELEASE_URL =
  "https://github.com/zaphodbeeblebrox3rd/venvoy/releases/latest/download";

export const VERSION_FILE = "VERSION";
export const SUMS_FILE = "SHA256SUMS";
export const SIG_FILE = "SHA256SUMS.sig";
export const INSECURE_HTTP_VAR = "VENVOY_INSECURE_HTTP";

export const RELEASE_TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
] as const;

export type ReleaseTarget = typeof RELEASE_TARGETS[number];

export function assetName(target: ReleaseTarget): string {
  return `venvoy-${target}${target.endsWith("-windows-msvc") ? ".exe" : ""}`;
}

/** The release target for this machine (Windows on Arm runs the x86_64 build). */
export function hostTarget(target: string = Deno.build.target): ReleaseTarget {
  const mapped = target === "aarch64-pc-windows-msvc" ? "x86_64-pc-windows-msvc" : target;
  const found = RELEASE_TARGETS.find((t) => t === mapped);
  if (!found) {
    throw new VenvoyError(`venvoy publishes no release for this platform (${target})`, {
      hint: `releases exist for: ${RELEASE_TARGETS.join(", ")}`,
    });
  }
  return found;
}

export interface ReleaseBaseOptions {
  /** --release-url: wins over VENVOY_RELEASE_URL. */
  url?: string;
  /** --insecure-http: accept a plain http:// folder (VENVOY_INSECURE_HTTP=1 does too). */
  insecureHttp?: boolean;
}

/**
 * The release folder: --release-url, VENVOY_RELEASE_URL, or the project's latest GitHub
 * release. Plain http:// is refused (exit 2) unless asked for: the signature still holds a
 * mirror to the project's binaries, but on http anyone on the path sees what is fetched
 * and can hold back updates or serve an older signed release.
 */
export function releaseBase(env: EnvLookup, options: ReleaseBaseOptions = {}): string {
  const given = (options.url ?? env("VENVOY_RELEASE_URL"))?.trim();
  if (!given) return DEFAULT_RELEASE_URL;
  if (isAbsolute(given) && !/^[a-z][a-z0-9+.-]*:\/\//i.test(given)) {
    return pathToFileURL(given).href.replace(/\/+$/, "");
  }
  if (!/^(https?|file):\/\//i.test(given)) {
    throw new UsageError(`the release URL is not a URL or an absolute path: '${given}'`, {
      hint: "use https://host/folder, file:///folder or /folder (the folder holds VERSION)",
    });
  }
  if (/^http:/i.test(given) && !(options.insecureHttp || insecureHttpAllowed(env))) {
    throw new UsageError(`refusing a plain http:// release URL: '${given}'`, {
      hint: `use https://, a file:// URL or a path; or, on a network you trust, pass ` +
        `--insecure-http (or set ${INSECURE_HTTP_VAR}=1)`,
    });
  }
  return given.replace(/\/+$/, "");
}

function insecureHttpAllowed(env: EnvLookup): boolean {
  return ["1", "true", "yes"].includes(env(INSECURE_HTTP_VAR)?.trim().toLowerCase() ?? "");
}

export function releaseUrl(base: string, file: string): string {
  return `${base}/${file}`;
}
