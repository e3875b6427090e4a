/** What `init` accepts: runtimes, supported versions, and the default bases. */
import { UsageError } from "../ui/errors.ts";

export type EnvRuntime = "python" | "r";

export const PYTHON_VERSIONS = ["3.9", "3.10", "3.11", "3.12", "3.13"] as const;
export const R_VERSIONS = ["4.2", "4.3", "4.4", "4.5"] as const;
export const DEFAULT_PYTHON = "3.11";
export const DEFAULT_R = "4.4";
export const DEFAULT_NAME = "venvoy-env";

export function parseRuntime(value: string | undefined): EnvRuntime {
  const v = (value ?? "python").toLowerCase();
  if (v === "python" || v === "r") return v;
  throw new UsageError(`unknown runtime '${value}'`, {
    hint: "use --runtime python or --runtime r",
  });
}

/** "3.11" from "3.11" or "3.11.4"; an unsupported version lists the supported ones. */
export function parseVersion(runtime: EnvRuntime, value: string | undefined): string {
  const supported: readonly string[] = runtime === "python" ? PYTHON_VERSIONS : R_VERSIONS;
  const fallback = runtime === "python" ? DEFAULT_PYTHON : DEFAULT_R;
  const raw = (value ?? fallback).trim();
  const m = raw.match(/^(\d+)\.(\d+)(?:\.\d+)?$/);
  const minor = m ? `${Number(m[1])}.${Number(m[2])}` : raw;
  if (!supported.includes(minor)) {
    const label = runtime === "python" ? "Python" : "R";
    throw new UsageError(`unsupported ${label} version '${raw}'`, {
      hint: `supported ${label} versions: ${supported.join(", ")}`,
    });
  }
  return minor;
}

/** Official images: python:<ver>-slim; rocker/r-ver:<ver>, which pins CRAN to a dated snapshot. */
export function defaultBaseImage(runtime: EnvRuntime, version: string): string {
  return runtime === "python" ? `python:${version}-slim` : `rocker/r-ver:${version}`;
}

/** "K=V" -> [K, V]; the key must be a valid variable name. */
export function parseEnvPair(pair: string): [string, string] {
  const i = pair.indexOf("=");
  const key = i > 0 ? pair.slice(0, i) : "";
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
    throw new UsageError(`invalid --env '${pair}'`, {
      hint: "use --env NAME=value, e.g. --env OMP_NUM_THREADS=4",
    });
  }
  return [key, pair.slice(i + 1)];
}
