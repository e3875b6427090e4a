/**
 * The one progress display of venvoy: on stderr, for long steps, in three modes:
 *   "bar"   on a terminal: a byte bar with bytes and rate (cli-progress), or a spinner
 *           (yocto-spinner) for a step whose progress cannot be measured;
 *   "lines" when stderr is piped, TERM=dumb or NO_COLOR is set: a plain line when a step
 *           starts, one at most every `interval` while it runs, and one when it ends;
 *           nothing animated, no escape sequences;
 *   "quiet" nothing at all.
 */
import { CommandExit } from "./errors.ts";
import { formatBytes } from "./bytes.ts";
import { colorEnabled } from "./output.ts";

export type ProgressMode = "bar" | "lines" | "quiet";

/** "bar" on a terminal that takes colour and escapes (not TERM=dumb, no NO_COLOR), else "lines". */
export function progressMode(): ProgressMode {
  return colorEnabled("stderr") ? "bar" : "lines";
}

export interface ProgressOptions {
  mode?: ProgressMode;
  /** Where plain lines go (default: stderr). */
  write?: (line: string) => void;
  /** Clock in ms (tests). */
  now?: () => number;
  /** Least time between two plain progress lines, in ms (default 15 s). */
  interval?: number;
}

export function formatRate(bytes: number, ms: number): string {
  return ms <= 0 ? "-" : `${formatBytes((bytes * 1000) / ms)}/s`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

const stderrLine = (line: string) => {
  Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));
};

/** A step measured in bytes. */
export interface ByteProgress {
  /** Bytes done; `total` when it becomes known (or grows). */
  update(bytes: number, total?: number): void;
  /** The step finished; the final line shows the bytes, time and rate. */
  done(note?: string): void;
  /** The step failed (the error is reported elsewhere). */
  fail(): void;
}

/** A step that cannot be measured. */
export interface StepProgress {
  done(note?: string): void;
  fail(): void;
}

// deno-lint-ignore no-explicit-any
type Libs = { cliProgress: any; yoctoSpinner: any; stderr: unknown };

async function loadLibs(mode: ProgressMode): Promise<Libs | null> {
  if (mode !== "bar") return null;
  const [{ default: cliProgress }, { default: yoctoSpinner }, { stderr }] = await Promise.all([
    import("cli-progress"),
    import("yocto-spinner"),
    import("node:process"),
  ]);
  return { cliProgress, yoctoSpinner, stderr };
}

/**
 * A sequence of steps shown one at a time: `bytes()` moves a byte bar (starting it, and
 * ending the previous step, when the label changes), `step()` starts an unmeasured step,
 * `done()`/`fail()` end the current one. Synchronous, so it fits progress callbacks.
 */
export class Progress {
  readonly mode: ProgressMode;
  #libs: Libs | null;
  #options: ProgressOptions;
  #label: string | null = null;
  #current: ByteProgress | StepProgress | null = null;
  #bytes: ByteProgress | null = null;

  private constructor(mode: ProgressMode, libs: Libs | null, options: ProgressOptions) {
    this.mode = mode;
    this.#libs = libs;
    this.#options = options;
  }

  static async create(options: ProgressOptions = {}): Promise<Progress> {
    const mode = options.mode ?? progressMode();
    return new Progress(mode, await loadLibs(mode), options);
  }

  bytes(label: string, bytes: number, total?: number): void {
    if (this.#label !== label || !this.#bytes) {
      this.done();
      this.#label = label;
      this.#bytes = makeByteProgress(label, this.mode, this.#libs, { ...this.#options, total });
      this.#current = this.#bytes;
    }
    this.#bytes.update(bytes, total);
  }

  step(label: string): void {
    if (this.#label === label && this.#current && !this.#bytes) return;
    this.done();
    this.#label = label;
    this.#current = makeStepProgress(label, this.mode, this.#libs, this.#options);
  }

  done(note?: string): void {
    this.#current?.done(note);
    this.#current = null;
    this.#bytes = null;
    this.#label = null;
  }

  fail(): void {
    this.#current?.fail();
    this.#current = null;
    this.#bytes = null;
    this.#label = null;
  }
}

/** A byte bar on a terminal, occasional plain lines otherwise. */
export async function byteProgress(
  label: string,
  options: ProgressOptions & { total?: number } = {},
): Promise<ByteProgress> {
  const mode = options.mode ?? progressMode();
  return makeByteProgress(label, mode, await loadLibs(mode), options);
}

function makeByteProgress(
  label: string,
  mode: ProgressMode,
  libs: Libs | null,
  options: ProgressOptions & { total?: number },
): ByteProgress {
  const now = options.now ?? (() => performance.now());
  const write = options.write ?? stderrLine;
  const started = now();
  let bytes = 0;
  let total = options.total && options.total > 0 ? options.total : 0;
  let finished = false;
  const summary = () => {
    const ms = now() - started;
    return `${formatBytes(bytes)} in ${seconds(ms)} (${formatRate(bytes, ms)})`;
  };

  if (mode === "quiet") {
    return { update: () => {}, done: () => {}, fail: () => {} };
  }

  if (mode === "lines" || !libs) {
    const interval = options.interval ?? 15_000;
    let lastLine = started;
    write(`${label} ...`);
    return {
      update(b, t) {
        bytes = b;
        if (t && t > 0) total = Math.max(t, b);
        const at = now();
        if (at - lastLine < interval || finished) return;
        lastLine = at;
        const of = total ? ` of ${formatBytes(total)} (${Math.floor((100 * b) / total)}%)` : "";
        write(`${label}: ${formatBytes(b)}${of}, ${formatRate(b, at - started)}`);
      },
      done(note) {
        if (finished) return;
        finished = true;
        write(`${label}: done, ${summary()}${note ? `; ${note}` : ""}`);
      },
      fail() {
        if (finished) return;
        finished = true;
        write(`${label}: failed after ${summary()}`);
      },
    };
  }

  const payload = () => {
    const ms = now() - started;
    return {
      done: formatBytes(bytes),
      of: total ? ` / ${formatBytes(total)}` : "",
      rate: formatRate(bytes, ms),
    };
  };
  const format = (measured: boolean) =>
    measured
      ? `${label} [{bar}] {percentage}% | {done}{of} | {rate}`
      : `${label} | {done} | {rate}`;
  const bar = new libs.cliProgress.SingleBar({
    format: format(total > 0),
    barsize: 25,
    hideCursor: true,
    clearOnComplete: true,
    stream: libs.stderr,
    fps: 8,
  });
  bar.start(total || 1, 0, payload());
  let measured = total > 0;
  return {
    update(b, t) {
      if (finished) return;
      bytes = b;
      if (t && t > 0) total = t;
      if (total && bytes > total) total = bytes; // an estimate that was too small
      if (total > 0 && !measured) {
        measured = true;
        bar.options.format = format(true);
      }
      if (total > 0) bar.setTotal(total);
      bar.update(total > 0 ? bytes : 0, payload());
    },
    done(note) {
      if (finished) return;
      finished = true;
      bar.stop();
      write(`${label}: ${summary()}${note ? `; ${note}` : ""}`);
    },
    fail() {
      if (finished) return;
      finished = true;
      bar.stop();
      write(`${label}: failed after ${summary()}`);
    },
  };
}

/** A spinner on a terminal; a start line and an end line otherwise. */
export async function stepProgress(
  label: string,
  options: ProgressOptions = {},
): Promise<StepProgress> {
  const mode = options.mode ?? progressMode();
  return makeStepProgress(label, mode, await loadLibs(mode), options);
}

function makeStepProgress(
  label: string,
  mode: ProgressMode,
  libs: Libs | null,
  options: ProgressOptions,
): StepProgress {
  const now = options.now ?? (() => performance.now());
  const write = options.write ?? stderrLine;
  const started = now();
  let finished = false;
  if (mode === "quiet") return { done: () => {}, fail: () => {} };
  if (mode === "lines" || !libs) {
    write(`${label} ...`);
    return {
      done(note) {
        if (finished) return;
        finished = true;
        write(`${label}: done (${seconds(now() - started)})${note ? `; ${note}` : ""}`);
      },
      fail() {
        if (finished) return;
        finished = true;
        write(`${label}: failed (${seconds(now() - started)})`);
      },
    };
  }
  // Signals are venvoy's to handle (see interruptible): the spinner must not exit the process.
  const spinner = libs.yoctoSpinner({ text: label, handleSignals: false }).start();
  return {
    done(note) {
      if (finished) return;
      finished = true;
      spinner.success(`${label} (${seconds(now() - started)})${note ? `; ${note}` : ""}`);
    },
    fail() {
      if (finished) return;
      finished = true;
      spinner.error(label);
    },
  };
}

/** Runs `fn` as one unmeasured step: a spinner on a terminal, a start and an end line otherwise. */
export async function withProgress<T>(
  label: string,
  fn: () => Promise<T>,
  options: ProgressOptions & { quiet?: boolean } = {},
): Promise<T> {
  const step = await stepProgress(label, options.quiet ? { ...options, mode: "quiet" } : options);
  try {
    const result = await fn();
    step.done();
    return result;
  } catch (e) {
    step.fail();
    throw e;
  }
}

/** Thrown at the next progress callback after Ctrl-C; venvoy exits 130 once cleaned up. */
export class Interrupted extends CommandExit {
  constructor() {
    super(130);
    this.name = "Interrupted";
  }
}

/**
 * Runs a long, cleanable step so that Ctrl-C (SIGINT, SIGTERM) stops it at its next progress
 * callback (`check()` throws Interrupted) instead of killing venvoy on the spot: the step's
 * own error handling then removes its temporary files. Child processes in the same process
 * group get the terminal's SIGINT themselves and end, which ends the step too.
 */
export async function interruptible<T>(
  fn: (check: () => void) => Promise<T>,
): Promise<T> {
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  try {
    return await fn(() => {
      if (interrupted) throw new Interrupted();
    });
  } catch (e) {
    if (interrupted && !(e instanceof Interrupted)) throw new Interrupted();
    throw e;
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
  }
}
