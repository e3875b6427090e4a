/**
 * vup-core: the backend of the `vup` shell function (shell/vup.bash), also reachable as a
 * binary named `vup-core`. See docs/vup.md.
 *
 * This is the instant path: it runs on every venv activation, so nothing under src/vup
 * imports the command framework, an npm module, a node: builtin or anything outside src/vup
 * but src/util/path.ts (node:-free on POSIX). tests/unit/boot/loaded_modules_test.ts loads
 * it and checks. Output goes straight to Deno.stdout and Deno.stderr; the exit status is
 * returned, never Deno.exit'ed.
 */
import {
  create,
  errorLines,
  EXIT,
  find,
  help,
  homeForm,
  init,
  ls,
  type MakeVenv,
  type Outcome,
  prompt,
  rmCheck,
  validateCommand,
  type VupContext,
} from "./core.ts";
import { normalize } from "./paths.ts";
import { makeVenvWithPython } from "./spawn.ts";

const enc = new TextEncoder();

function write(stream: { writeSync(p: Uint8Array): number }, lines: string[], end = "\n"): void {
  if (lines.length === 0) return;
  const bytes = enc.encode(lines.join(end) + end);
  let off = 0;
  while (off < bytes.length) off += stream.writeSync(bytes.subarray(off));
}

/** The status a shell reports for SIGPIPE (128+13): the reader went away (`vup-core ls | head`). */
export const EXIT_BROKEN_PIPE = 141;

function emit(o: Outcome): number {
  try {
    write(Deno.stderr, o.err);
    write(Deno.stdout, o.out, o.nul ? "\0" : "\n");
  } catch (e) {
    // Deno ignores SIGPIPE, so a closed pipe is an EPIPE error: end quietly, as coreutils do.
    if (e instanceof Deno.errors.BrokenPipe) return EXIT_BROKEN_PIPE;
    throw e;
  }
  return o.code;
}

function usageError(message: string): Outcome {
  return { code: EXIT.usage, out: [], err: errorLines(message, "see 'vup help'") };
}

/**
 * The current directory as the shell sees it: $PWD when it names the same directory as the
 * process's real cwd (so symlinked homes and paths keep their names), otherwise the real one.
 * A cwd reached through the real path of a symlinked ~ is mapped back under ~.
 */
export function currentDir(
  home: string,
  { pwd, real }: { pwd: string | undefined; real: string },
): string {
  let cwd = normalize(real);
  if (pwd && pwd.startsWith("/")) {
    const p = normalize(pwd);
    if (p === cwd) return homeForm(home, p);
    try {
      const a = Deno.statSync(p);
      const b = Deno.statSync(cwd);
      if (a.dev === b.dev && a.ino === b.ino) cwd = p;
    } catch { /* keep the real cwd */ }
  }
  // Also when $PWD is the real path (a shell that resolved the link, or `cd -P`).
  return homeForm(home, cwd);
}

/**
 * The real home, cwd and environment. vup-core reads HOME and PWD itself rather than through
 * src/env/paths.ts: the instant path loads nothing outside src/vup but src/util/path.ts.
 */
function realContext(): VupContext | Outcome {
  const h = Deno.env.get("HOME");
  if (!h || !h.startsWith("/")) {
    return { code: EXIT.failure, out: [], err: errorLines("HOME is not set to an absolute path") };
  }
  const home = normalize(h);
  let real: string;
  try {
    real = Deno.cwd();
  } catch {
    return {
      code: EXIT.failure,
      out: [],
      err: errorLines("the current directory no longer exists"),
    };
  }
  return {
    home,
    cwd: currentDir(home, { pwd: Deno.env.get("PWD"), real }),
    env: (n) => Deno.env.get(n),
  };
}

interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
}

/**
 * Options may come anywhere; `--opt value` or `--opt=value`; `--` ends options. `names`
 * maps each accepted spelling to its canonical name and whether it takes a value.
 */
export function parseArgs(
  args: string[],
  names: Record<string, { key: string; value: boolean }>,
): Parsed | string {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      positional.push(a);
      continue;
    }
    const eq = a.startsWith("--") ? a.indexOf("=") : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const spec = names[flag];
    if (!spec) return `unknown option '${flag}'`;
    if (!spec.value) {
      if (eq > 0) return `option '${flag}' takes no value`;
      flags.set(spec.key, true);
    } else if (eq > 0) {
      flags.set(spec.key, a.slice(eq + 1));
    } else if (i + 1 < args.length) {
      flags.set(spec.key, args[++i]);
    } else {
      return `option '${flag}' needs a directory`;
    }
  }
  return { positional, flags };
}

const HELP_FLAGS = new Set(["help", "-h", "--help"]);

/** Runs one vup-core subcommand in a given context; the testable core of vupCoreMain. */
export async function runVupCore(
  ctx: VupContext,
  args: string[],
  opts: { makeVenv: MakeVenv },
): Promise<Outcome> {
  const [sub, ...rest] = args;
  const withPrompt = {
    "--with-prompt": { key: "withPrompt", value: false },
    "--nul": { key: "nul", value: false },
  };
  const nul = { "--nul": { key: "nul", value: false } };
  /** `--nul`: stdout's fields end with NUL, so no path can be split wrongly. */
  const fields = (p: Parsed, o: Outcome): Outcome => p.flags.has("nul") ? { ...o, nul: true } : o;
  const take = (
    names: Record<string, { key: string; value: boolean }>,
    max: number,
  ): Parsed | Outcome => {
    const p = parseArgs(rest, names);
    if (typeof p === "string") return usageError(p);
    if (p.positional.length > max) {
      return usageError(`unexpected argument '${p.positional[max]}'`);
    }
    return p;
  };
  const str = (p: Parsed, key: string) => {
    const v = p.flags.get(key);
    return typeof v === "string" ? v : undefined;
  };
  switch (sub) {
    case "find": {
      const p = take({
        "--start-dir": { key: "startDir", value: true },
        "--no-traverse": { key: "noTraverse", value: false },
        "-d": { key: "dir", value: true },
        ...withPrompt,
      }, 1);
      if ("code" in p) return p;
      const dir = str(p, "dir");
      if (dir !== undefined && p.flags.has("startDir")) {
        return usageError("give either -d or --start-dir, not both");
      }
      return fields(
        p,
        find(ctx, p.positional[0], {
          startDir: dir ?? str(p, "startDir"),
          noTraverse: dir !== undefined || p.flags.has("noTraverse"),
          withPrompt: p.flags.has("withPrompt"),
        }),
      );
    }
    case "ls": {
      const p = take({
        "--start-dir": { key: "startDir", value: true },
        "--names": { key: "names", value: false },
      }, 1);
      if ("code" in p) return p;
      if (p.positional.length && p.flags.has("startDir")) {
        return usageError("give the directory once: ls DIR or ls --start-dir DIR");
      }
      return ls(ctx, {
        startDir: p.positional[0] ?? str(p, "startDir"),
        names: p.flags.has("names"),
      });
    }
    case "validate": {
      const p = take({}, 1);
      return "code" in p ? p : validateCommand(ctx, p.positional[0]);
    }
    case "init": {
      const p = take({}, 0);
      return "code" in p ? p : init(ctx);
    }
    case "new": {
      const p = take(withPrompt, 1);
      if ("code" in p) return p;
      return fields(
        p,
        await create(ctx, p.positional[0], {
          makeVenv: opts.makeVenv,
          withPrompt: p.flags.has("withPrompt"),
        }),
      );
    }
    case "rm-check": {
      const p = take(nul, 1);
      return "code" in p ? p : fields(p, rmCheck(ctx, p.positional[0]));
    }
    case "prompt": {
      const p = take({}, 1);
      return "code" in p ? p : prompt(ctx, p.positional[0]);
    }
    case "off": {
      const p = take({}, 0);
      if ("code" in p) return p;
      return usageError("'off' is done by the vup shell function: run 'vup off'");
    }
    case undefined:
      return { code: EXIT.usage, out: [], err: help().out };
    default:
      if (HELP_FLAGS.has(sub)) return help();
      return usageError(`unknown vup-core subcommand '${sub}'`);
  }
}

export async function vupCoreMain(args: string[]): Promise<number> {
  const ctx = realContext();
  if ("code" in ctx) return emit(ctx);
  return emit(await runVupCore(ctx, args, { makeVenv: makeVenvWithPython }));
}
