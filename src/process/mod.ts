/**
 * The ProcessRunner seam: the only place in venvoy that spawns processes.
 *
 * Domain code builds argv arrays and hands them here; unit tests inject a recording
 * fake (tests/fakes/runner.ts) and assert the exact argv. Nothing builds shell strings;
 * `displayCommand` quotes only for showing a command to a person.
 */
import { delimiter, isAbsolute, join } from "../util/path.ts";

export type Stdio = "piped" | "inherit" | "null";

export interface RunRequest {
  /** argv; cmd[0] is the program, looked up on the runner's PATH unless absolute. */
  cmd: string[];
  /** Variables added to (not replacing) the inherited environment. */
  env?: Record<string, string>;
  cwd?: string;
  /** How to connect stdin when no `input` is given. Default "null". */
  stdin?: "inherit" | "null";
  /** Text or bytes to feed on stdin (then stdin is a pipe). */
  input?: string | Uint8Array;
  /** Default "piped": captured and returned. */
  stdout?: Stdio;
  stderr?: Stdio;
  /** Kill the process (SIGKILL) after this long; the result has timedOut=true. */
  timeoutMs?: number;
  /**
   * Keep venvoy alive on SIGINT/SIGTERM/SIGHUP and pass them to the child instead, so
   * Ctrl-C reaches the command in the container and venvoy can clean up after it.
   */
  forwardSignals?: boolean;
}

export interface RunResult {
  code: number;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface SpawnRequest extends Omit<RunRequest, "stdin" | "input"> {
  stdin?: Stdio;
}

export interface SpawnedProcess {
  readonly stdin: WritableStream<Uint8Array> | null;
  readonly stdout: ReadableStream<Uint8Array> | null;
  readonly stderr: ReadableStream<Uint8Array> | null;
  /** Resolves when the process ends. stdout/stderr are "" here: read the streams. */
  readonly status: Promise<RunResult>;
  kill(signal?: Deno.Signal): void;
}

export interface ProcessRunner {
  run(req: RunRequest): Promise<RunResult>;
  /** A process with streaming stdio, for large data (image save/load). */
  spawn(req: SpawnRequest): SpawnedProcess;
  /** Find a program on the runner's PATH without spawning anything. */
  which(program: string): string | null;
  /** The environment the runner's children see (for HPC and engine detection). */
  env(name: string): string | undefined;
}

export interface DenoRunnerOptions {
  /** Overrides merged over Deno.env (PATH, DOCKER_HOST, …); tests use this. */
  env?: Record<string, string>;
}

const FORWARDED: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

export class DenoRunner implements ProcessRunner {
  #env: Record<string, string>;

  constructor(options: DenoRunnerOptions = {}) {
    this.#env = options.env ?? {};
  }

  env(name: string): string | undefined {
    return name in this.#env ? this.#env[name] : Deno.env.get(name);
  }

  which(program: string): string | null {
    return whichOnPath(program, this.env("PATH") ?? "");
  }

  async run(req: RunRequest): Promise<RunResult> {
    const feed = req.input;
    const stdinMode: Stdio = feed !== undefined ? "piped" : req.stdin ?? "null";
    const child = this.#command(req, stdinMode, req.stdout ?? "piped", req.stderr ?? "piped");
    const removeForwarders = req.forwardSignals ? forwardSignals(child.proc) : () => {};
    try {
      if (feed !== undefined) {
        const writer = child.proc.stdin.getWriter();
        await writer.write(typeof feed === "string" ? new TextEncoder().encode(feed) : feed)
          .catch(() => {});
        await writer.close().catch(() => {});
      }
      const [status, out, err] = await Promise.all([
        child.proc.status,
        req.stdout === "inherit" || req.stdout === "null" ? "" : readAll(child.proc.stdout),
        req.stderr === "inherit" || req.stderr === "null" ? "" : readAll(child.proc.stderr),
      ]);
      return {
        code: status.code,
        signal: status.signal ?? null,
        stdout: out,
        stderr: err,
        timedOut: child.timedOut(),
      };
    } finally {
      child.clearTimer();
      removeForwarders();
    }
  }

  spawn(req: SpawnRequest): SpawnedProcess {
    const child = this.#command(
      req,
      req.stdin ?? "null",
      req.stdout ?? "piped",
      req.stderr ?? "piped",
    );
    const removeForwarders = req.forwardSignals ? forwardSignals(child.proc) : () => {};
    const proc = child.proc;
    const status = proc.status.then((s) => {
      child.clearTimer();
      removeForwarders();
      return {
        code: s.code,
        signal: s.signal ?? null,
        stdout: "",
        stderr: "",
        timedOut: child.timedOut(),
      };
    });
    return {
      stdin: (req.stdin ?? "null") === "piped" ? proc.stdin : null,
      stdout: (req.stdout ?? "piped") === "piped" ? proc.stdout : null,
      stderr: (req.stderr ?? "piped") === "piped" ? proc.stderr : null,
      status,
      kill: (signal: Deno.Signal = "SIGTERM") => {
        try {
          proc.kill(signal);
        } catch { /* already gone */ }
      },
    };
  }

  #command(req: RunRequest | SpawnRequest, stdin: Stdio, stdout: Stdio, stderr: Stdio) {
    if (req.cmd.length === 0) throw new Error("empty command");
    const [program, ...args] = req.cmd;
    const resolved = isAbsolute(program) ? program : this.which(program) ?? program;
    const proc = new Deno.Command(resolved, {
      args,
      cwd: req.cwd,
      env: { ...this.#env, ...req.env },
      stdin,
      stdout,
      stderr,
    }).spawn();
    let timedOut = false;
    const timer = req.timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      try {
        proc.kill("SIGKILL");
      } catch { /* already gone */ }
    }, req.timeoutMs);
    return {
      proc,
      timedOut: () => timedOut,
      clearTimer: () => timer !== undefined && clearTimeout(timer),
    };
  }
}

function forwardSignals(proc: Deno.ChildProcess): () => void {
  const handlers: [Deno.Signal, () => void][] = [];
  for (const sig of FORWARDED) {
    const handler = () => {
      try {
        proc.kill(sig);
      } catch { /* gone */ }
    };
    try {
      Deno.addSignalListener(sig, handler);
      handlers.push([sig, handler]);
    } catch { /* signal not supported on this platform (Windows) */ }
  }
  return () => {
    for (const [sig, handler] of handlers) Deno.removeSignalListener(sig, handler);
  };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}

/** PATH lookup with no spawn: the first executable regular file named `program`. */
export function whichOnPath(program: string, path: string): string | null {
  if (program.includes("/")) return program;
  const exts = Deno.build.os === "windows" ? ["", ".exe", ".cmd", ".bat"] : [""];
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const candidate = join(dir, program + ext);
      try {
        const st = Deno.statSync(candidate);
        if (st.isFile && (Deno.build.os === "windows" || ((st.mode ?? 0o111) & 0o111) !== 0)) {
          return candidate;
        }
      } catch { /* not here */ }
    }
  }
  return null;
}

/** Quote argv for showing to a person (POSIX shell style). Never executed. */
export function displayCommand(argv: string[]): string {
  return argv.map(shellQuote).join(" ");
}

export function shellQuote(arg: string): string {
  if (arg !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'"'"'`)}'`;
}
