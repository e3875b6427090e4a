/**
 * The one place that says what a value may look like before it reaches a Dockerfile, an
 * Apptainer definition or a shell line. Each check returns the value unchanged or throws
 * a GrammarError (a UsageError: exit 2) naming what was wrong; `is*` forms answer without
 * throwing, for readers that skip what they cannot use.
 *
 * A newline (or any other control character) is refused everywhere: in a definition file
 * it starts a new section (`%setup` runs on the host), in a Dockerfile a new instruction.
 */
import { printable, UsageError } from "../ui/errors.ts";

/** A value refused by its grammar. Exit 2, like every other bad input. */
export class GrammarError extends UsageError {
  readonly what: string;
  constructor(what: string, value: string, why: string, hint?: string) {
    super(`invalid ${what} '${printable(value, 200)}': ${why}`, { hint });
    this.what = what;
  }
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x1f\x7f\u0080-\u009f\u2028\u2029]/;

export function hasControl(value: string): boolean {
  return CONTROL.test(value);
}

/** Any value headed for a build file or a shell line: no newline, no control character. */
export function checkLine(what: string, value: string): string {
  if (/[\r\n]/.test(value)) {
    throw new GrammarError(what, value, "it contains a line break", "remove the line break");
  }
  if (CONTROL.test(value)) {
    throw new GrammarError(what, value, "it contains a control character");
  }
  return value;
}

// OCI image references (github.com/distribution/reference, reference.go):
//   reference := name [ ":" tag ] [ "@" digest ]
//   name      := [domain "/"] path-component ["/" path-component]*
//   domain    := host [":" port-number]
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])`;
const DOMAIN = `${HOST}(?::[0-9]+)?`;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[_.]|__|[-]+)[a-z0-9]+)*";
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "sha256:[a-f0-9]{64}";
const REFERENCE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const IMAGE_ID = /^(?:sha256:)?[a-f0-9]{64}$/;
/** A SIF file (Apptainer's local base), optionally pinned as path@sha256:<hex>. */
const SIF_PATH = new RegExp(`^[A-Za-z0-9_./+~@-]+\\.sif(?:@${DIGEST})?$`);

export function isImageRef(value: string): boolean {
  const m = REFERENCE.exec(value);
  return !!m && m[1].length <= 255;
}

/**
 * An image reference as FROM and `From:` take it: an OCI reference (registry host:port,
 * name components, :tag, @sha256:digest, localhost/…), a 64-hex image ID (or
 * sha256:<hex>), and with `sif` a path to a .sif file (Apptainer's localimage bootstrap).
 */
export function checkImageRef(
  value: string,
  options: { what?: string; sif?: boolean } = {},
): string {
  const what = options.what ?? "image reference";
  checkLine(what, value);
  if (IMAGE_ID.test(value) || isImageRef(value)) return value;
  if (options.sif && SIF_PATH.test(value) && !value.split("/").includes("..")) return value;
  throw new GrammarError(
    what,
    value,
    "not an image reference",
    `use NAME[:TAG][@sha256:DIGEST], e.g. python:3.11-slim or registry.example:5000/team/img:1.0${
      options.sif ? ", or the path of a .sif file (letters, digits, . _ - / only)" : ""
    }`,
  );
}

/** A runtime version as the build takes it: "3.11", "4.2.1". */
export function checkRuntimeVersion(what: string, value: string): string {
  checkLine(what, value);
  if (/^\d+(?:\.\d+){0,3}$/.test(value)) return value;
  throw new GrammarError(what, value, "not a version like 3.11");
}

/** venvoy's own version (semver, with pre-release and build parts). */
export function checkVenvoyVersion(value: string): string {
  checkLine("venvoy version", value);
  if (/^[0-9A-Za-z][0-9A-Za-z.+-]{0,63}$/.test(value)) return value;
  throw new GrammarError("venvoy version", value, "not a version like 0.1.0");
}

// PEP 503 / PEP 508 names; PEP 440 versions (public and local parts, also the legacy
// versions pip still lists: letters, digits and . _ - + ! only).
const PEP508_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;
const PY_VERSION = /^[A-Za-z0-9](?:[A-Za-z0-9._+!-]{0,126})$/;

export function isPythonName(value: string): boolean {
  return PEP508_NAME.test(value) && value.length <= 200;
}

export function isPythonVersion(value: string): boolean {
  return PY_VERSION.test(value);
}

export function checkPythonPackage(name: string, version?: string): void {
  if (!isPythonName(name)) {
    throw new GrammarError(
      "Python package name",
      name,
      "not a PEP 503 name (letters, digits, . _ -)",
    );
  }
  if (version !== undefined && version !== "" && !isPythonVersion(version)) {
    throw new GrammarError(`version of ${name}`, version, "not a PEP 440 version");
  }
}

// R: package names (Writing R Extensions 1.1.1) and package_version()s.
const R_NAME = /^[A-Za-z][A-Za-z0-9.]*[A-Za-z0-9]$/;
const R_VERSION = /^\d+(?:[.-]\d+)+$/;

export function isRPackage(name: string, version = "1.0"): boolean {
  return R_NAME.test(name) && (version === "" || R_VERSION.test(version));
}

export function checkRPackage(name: string, version?: string): void {
  if (!R_NAME.test(name)) {
    throw new GrammarError("R package name", name, "not an R package name");
  }
  if (version !== undefined && version !== "" && !R_VERSION.test(version)) {
    throw new GrammarError(`version of ${name}`, version, "not an R package version");
  }
}

// conda: names, versions (MatchSpec's version characters), channels.
const CONDA_NAME = /^[A-Za-z0-9_][A-Za-z0-9._+-]*$/;
const CONDA_VERSION = /^[A-Za-z0-9_][A-Za-z0-9._+!*-]*$/;
const CONDA_CHANNEL = /^(?:[A-Za-z0-9_][A-Za-z0-9._-]*|https?:\/\/[A-Za-z0-9._~:/%+-]+)$/;

export function isCondaPackage(name: string, version = ""): boolean {
  return CONDA_NAME.test(name) && (version === "" || CONDA_VERSION.test(version));
}

export function checkCondaPackage(name: string, version?: string): void {
  if (!CONDA_NAME.test(name)) throw new GrammarError("conda package name", name, "not a name");
  if (version !== undefined && version !== "" && !CONDA_VERSION.test(version)) {
    throw new GrammarError(`version of ${name}`, version, "not a conda version");
  }
}

export function checkCondaChannel(value: string): string {
  checkLine("conda channel", value);
  if (CONDA_CHANNEL.test(value)) return value;
  throw new GrammarError("conda channel", value, "not a channel name or http(s) URL");
}

/** A package repository URL written into a build step. */
export function checkUrl(what: string, value: string): string {
  checkLine(what, value);
  if (/^https?:\/\/[A-Za-z0-9._~:/?#@!$&()*+,;=%[\]-]+$/.test(value) && !/['"`\\]/.test(value)) {
    return value;
  }
  throw new GrammarError(what, value, "not an http(s) URL without quotes or spaces");
}

/** A variable name for ENV / export. */
export function checkVariableName(value: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) return value;
  throw new GrammarError("variable name", value, "use letters, digits and _");
}

/** A label key (org.venvoy.env and the like). */
export function checkLabelKey(value: string): string {
  if (/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(value)) return value;
  throw new GrammarError("label key", value, "use letters, digits, . _ -");
}

/** A path written into a build file: no control characters, no whitespace, no quotes. */
export function checkBuildPath(what: string, value: string): string {
  checkLine(what, value);
  if (/^[A-Za-z0-9_./+@~-]+$/.test(value)) return value;
  throw new GrammarError(what, value, "use letters, digits and . _ - / + @ ~ only");
}

/** One shell word, single-quoted (POSIX sh). */
export function shellQuote(value: string): string {
  checkLine("shell word", value);
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}
