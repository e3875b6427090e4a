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

/**
 * `--as-of YYYY-MM-DD`: a real calendar date, not after tomorrow (UTC). Python packages then
 * resolve as the index was at 00:00 UTC that day. "none" clears a recorded date (null).
 */
export function parseAsOf(value: string, now: Date = new Date()): string | null {
  const v = value.trim();
  if (v.toLowerCase() === "none") return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
  if (!m || !d || d.toISOString().slice(0, 10) !== v) {
    throw new UsageError(`invalid --as-of '${value}': not a date YYYY-MM-DD`, {
      hint: "e.g. --as-of 2024-06-30 (or --as-of none to drop a recorded date)",
    });
  }
  if (d.getTime() > now.getTime() + 24 * 3600 * 1000) {
    throw new UsageError(`--as-of ${v} is in the future`, {
      hint: "give a date up to today; packages resolve as the index was at 00:00 UTC that day",
    });
  }
  return v;
}

/** The cut-off for uv's exclude-newer and pip's uploaded-prior-to: 00:00 UTC of the date. */
export function asOfTimestamp(asOf: string): string {
  return `${asOf}T00:00:00Z`;
}

/** The placeholder `--cran-url` replaces with the --as-of date. */
export const CRAN_DATE_PLACEHOLDER = "{date}";

/**
 * `--cran-url URL`: an http(s) CRAN repository, optionally with {date}, e.g.
 * https://packagemanager.posit.co/cran/{date}. The URL reaches the build's environment, so
 * quotes, spaces, `$`, backquotes, backslashes and newlines are refused.
 */
export function parseCranUrl(value: string): string {
  const v = value.trim();
  if (!/^https?:\/\/[A-Za-z0-9._~:/?#@!&+,;=%{}[\]-]+$/.test(v)) {
    throw new UsageError(`invalid --cran-url '${value.replaceAll("\n", "\\n")}'`, {
      hint:
        "give an http(s) URL without spaces or quotes, e.g. https://packagemanager.posit.co/cran/{date}",
    });
  }
  const rest = v.replaceAll(CRAN_DATE_PLACEHOLDER, "");
  if (/[{}]/.test(rest)) {
    throw new UsageError(`invalid --cran-url '${v}': the only placeholder is {date}`, {
      hint: "e.g. https://packagemanager.posit.co/cran/{date}",
    });
  }
  return v;
}

/** The repository URL with the date in place of {date}; a URL with {date} needs a date. */
export function cranUrlFor(template: string, asOf: string | null): string {
  if (!template.includes(CRAN_DATE_PLACEHOLDER)) return template;
  if (!asOf) {
    throw new UsageError(`--cran-url ${template} has {date} but the environment has no --as-of`, {
      hint: "add --as-of YYYY-MM-DD, or give a URL without {date}",
    });
  }
  return template.replaceAll(CRAN_DATE_PLACEHOLDER, asOf);
}
