/**
 * Typed errors. Domain code throws these; only main.ts turns them into an exit code.
 *
 * Exit codes (documented in README.md):
 *   0 ok, 1 failure, 2 usage error, 3 no usable container runtime,
 *   and for `run`, the command's own exit code (CommandExit).
 */

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  noRuntime: 3,
} as const;

export interface ErrorOptions {
  hint?: string;
  cause?: unknown;
}

/** Base class: a failure a person should read, with an optional next step. */
export class VenvoyError extends Error {
  readonly exitCode: number = EXIT.failure;
  readonly hint?: string;

  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** Bad flags, arguments or names. Exit 2. */
export class UsageError extends VenvoyError {
  override readonly exitCode: number = EXIT.usage;
}

/** No container runtime is usable, or the one asked for is not. Exit 3. */
export class RuntimeUnavailableError extends VenvoyError {
  override readonly exitCode: number = EXIT.noRuntime;
}

/** A spawned program failed; carries its output tail for the message. */
export class ProcessError extends VenvoyError {
  readonly argv: string[];
  readonly code: number;
  readonly stderr: string;

  constructor(
    argv: string[],
    result: { code: number; stderr: string },
    options: ErrorOptions & { what?: string } = {},
  ) {
    // The engine's own words, but escaped: its stderr can echo what an image or archive holds.
    const tail = lastLines(result.stderr, 8).split("\n").map((l) => printable(l)).join("\n");
    super(
      `${options.what ?? argv[0]} failed (exit ${result.code})${tail ? `:\n${tail}` : ""}`,
      options,
    );
    this.argv = argv;
    this.code = result.code;
    this.stderr = result.stderr;
  }
}

/**
 * Not an error to report: the command run inside a container ended with this code, and
 * venvoy exits with it too (its output has already been seen).
 */
export class CommandExit extends Error {
  readonly exitCode: number;
  constructor(code: number) {
    super(`command exited with ${code}`);
    this.name = "CommandExit";
    this.exitCode = code;
  }
}

/**
 * The reader of stdout went away (`venvoy list | head -1`): Deno ignores SIGPIPE, so a write
 * fails with EPIPE instead. venvoy ends quietly with the status a shell reports for SIGPIPE
 * (128+13), as coreutils do. (vup-core has its own: src/vup imports nothing from outside.)
 */
export const EXIT_BROKEN_PIPE = 141;

export function isBrokenPipe(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof Deno.errors.BrokenPipe || (e as { code?: unknown }).code === "EPIPE") {
      return true;
    }
  }
  return false;
}

export function lastLines(text: string, n: number): string {
  const lines = text.trimEnd().split("\n");
  return lines.slice(-n).join("\n").trim();
}

/**
 * `s` safe to show on a terminal: control characters (C0 including newline, DEL, C1, and the
 * line and paragraph separators) are written as escapes (`\n`, `\x1b`, `\u009b`), and a
 * backslash as `\\`, so a name taken from an untrusted file can neither move the cursor,
 * recolour the screen nor fake a line of venvoy's own output. Longer than `max`: cut, with `…`.
 */
export function printable(s: string, max = Infinity): string {
  // deno-lint-ignore no-control-regex
  const esc = s.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029\\]/g, (c) => {
    const named: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\" };
    if (named[c]) return named[c];
    const code = c.charCodeAt(0);
    return code < 0x80
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
  return esc.length > max ? `${esc.slice(0, max)}…` : esc;
}

/**
 * A copy of `value` with every string in it (in arrays and plain objects, at any depth)
 * passed through printable: data read from an archive or a container, ready for a
 * renderer that prints its fields as they are. Dates and other objects are kept.
 */
export function printableDeep<T>(value: T): T {
  if (typeof value === "string") return printable(value) as T;
  if (Array.isArray(value)) return value.map((v) => printableDeep(v)) as T;
  if (value && typeof value === "object") {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value;
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [printable(k), printableDeep(v)]),
    ) as T;
  }
  return value;
}
