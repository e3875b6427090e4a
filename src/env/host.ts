/**
 * Facts about the host that builds and sessions pass into containers. Kept apart from
 * init.ts, so `venvoy run` (a hot path) does not load the build machinery to read them.
 */
import type { ProcessRunner } from "../process/mod.ts";

export function hostUser(): { uid: number; gid: number } | undefined {
  const uid = Deno.uid?.();
  const gid = Deno.gid?.();
  return uid === null || uid === undefined || gid === null || gid === undefined
    ? undefined
    : { uid, gid };
}

export function hostPlatform(): { system: string; architecture: string } {
  const arch = Deno.build.arch === "x86_64"
    ? "amd64"
    : Deno.build.arch === "aarch64"
    ? "arm64"
    : Deno.build.arch;
  return { system: Deno.build.os, architecture: arch };
}

/** The host's CA bundle, for builds and sessions behind a TLS-intercepting proxy. */
export function hostCaBundle(runner: ProcessRunner): string | null {
  for (const v of ["PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"]) {
    const p = runner.env(v);
    if (!p) continue;
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch { /* not a file */ }
  }
  return null;
}
