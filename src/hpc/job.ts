/**
 * What `venvoy submit` asks of a scheduler, validated once: every value that reaches a
 * batch script is checked against its grammar here (exit 2 when it does not fit) or
 * shell-quoted where the script is rendered (script.ts). A line break is refused everywhere.
 */
import { UsageError } from "../ui/errors.ts";

export type SchedulerName = "slurm" | "pbs" | "lsf";
export const SCHEDULER_NAMES: readonly SchedulerName[] = ["slurm", "pbs", "lsf"];

export interface ArrayRange {
  start: number;
  end: number;
  step: number;
}

export interface ArraySpec {
  /** As given, e.g. "1-8", "0-20:2,33%4". */
  text: string;
  ranges: ArrayRange[];
  /** At most this many tasks at once (the %N suffix). */
  throttle: number | null;
  /** How many tasks the array has. */
  count: number;
}

/** The resources and placement of one job (or array), scheduler-neutral. */
export interface JobSpec {
  /** venvoy-<environment> */
  jobName: string;
  timeSeconds: number | null;
  cpus: number | null;
  memMb: number | null;
  gpus: number | null;
  partition: string | null;
  account: string | null;
  output: string | null;
  array: ArraySpec | null;
}

export interface JobFlags {
  array?: string;
  time?: string;
  cpus?: string;
  mem?: string;
  gpus?: string;
  partition?: string;
  account?: string;
  output?: string;
}

const TIME_HINT = "use MINUTES, MM:SS, HH:MM:SS or D-HH[:MM[:SS]], e.g. --time 90, " +
  "--time 2:00:00, --time 1-12:00:00";

/** SLURM's --time forms; the result is seconds. */
export function parseTime(value: string): number {
  const bad = () => new UsageError(`invalid --time '${oneLine(value)}'`, { hint: TIME_HINT });
  let m: RegExpMatchArray | null;
  let seconds: number;
  if ((m = value.match(/^(\d{1,7})$/))) {
    seconds = Number(m[1]) * 60;
  } else if ((m = value.match(/^(\d{1,5}):(\d{2})$/))) {
    if (Number(m[2]) > 59) throw bad();
    seconds = Number(m[1]) * 60 + Number(m[2]);
  } else if ((m = value.match(/^(\d{1,5}):(\d{2}):(\d{2})$/))) {
    if (Number(m[2]) > 59 || Number(m[3]) > 59) throw bad();
    seconds = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  } else if ((m = value.match(/^(\d{1,4})-(\d{1,2})(?::(\d{2})(?::(\d{2}))?)?$/))) {
    const [d, h, mi, s] = [m[1], m[2], m[3] ?? "0", m[4] ?? "0"].map(Number);
    if (h > 23 || mi > 59 || s > 59) throw bad();
    seconds = ((d * 24 + h) * 60 + mi) * 60 + s;
  } else {
    throw bad();
  }
  if (seconds <= 0) throw bad();
  return seconds;
}

const MEM_UNITS: Record<string, number> = { K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024 };

/** 4G, 500M, 2048 (MB), 1.5GB; the result is whole MiB, rounded up. */
export function parseMem(value: string): number {
  const m = value.match(/^(\d{1,9}(?:\.\d{1,3})?)([KMGT])?B?$/i);
  const mb = m ? Math.ceil(Number(m[1]) * MEM_UNITS[(m[2] ?? "M").toUpperCase()]) : 0;
  if (!m || !(mb > 0)) {
    throw new UsageError(`invalid --mem '${oneLine(value)}'`, {
      hint: "use a size with an optional unit K, M (default), G or T, e.g. --mem 4G",
    });
  }
  return mb;
}

const MAX_TASKS = 1_000_000;

/** SLURM's --array grammar: ranges and single indexes, comma-separated, with :STEP and %MAX. */
export function parseArray(value: string): ArraySpec {
  const bad = (why: string) =>
    new UsageError(`invalid --array '${oneLine(value)}': ${why}`, {
      hint: "use e.g. --array 1-8, --array 0-20:2, --array 1,3,5-7 or --array 1-100%10",
    });
  const m = value.match(/^([0-9,:-]+)(?:%(\d{1,6}))?$/);
  if (!m) throw bad("not a list of indexes and ranges");
  const ranges: ArrayRange[] = [];
  let count = 0;
  for (const part of m[1].split(",")) {
    const r = part.match(/^(\d{1,7})(?:-(\d{1,7})(?::(\d{1,7}))?)?$/);
    if (!r) throw bad(`'${part}' is not N, N-M or N-M:STEP`);
    const start = Number(r[1]);
    const end = r[2] === undefined ? start : Number(r[2]);
    const step = r[3] === undefined ? 1 : Number(r[3]);
    if (end < start) throw bad(`${start}-${end} counts down`);
    if (step < 1) throw bad("a step is at least 1");
    ranges.push({ start, end, step });
    count += Math.floor((end - start) / step) + 1;
  }
  if (count > MAX_TASKS) throw bad(`more than ${MAX_TASKS} tasks`);
  const throttle = m[2] === undefined ? null : Number(m[2]);
  if (throttle === 0) throw bad("%0 would never run a task");
  return { text: value, ranges, throttle, count };
}

/** A positive whole number (--cpus, --gpus). */
export function parseCount(value: string, flag: string): number {
  if (!/^[1-9]\d{0,5}$/.test(value)) {
    throw new UsageError(`invalid ${flag} '${oneLine(value)}': a whole number from 1 is needed`, {
      hint: `e.g. ${flag} 4`,
    });
  }
  return Number(value);
}

/** Partition, queue or account names: letters, digits and _ . + - @ only. */
export function parseSchedulerWord(value: string, flag: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.+@-]{0,127}$/.test(value)) {
    throw new UsageError(`invalid ${flag} '${oneLine(value)}'`, {
      hint: `${flag} takes a name of letters, digits and _ . + - @ (as the cluster lists it)`,
    });
  }
  return value;
}

/**
 * The job's output file, as the scheduler reads it (relative to the job's folder; SLURM's
 * %j, %A, %a patterns pass). Scheduler directives are not shell lines, so instead of
 * quoting, the characters a directive parser could split or expand are refused.
 */
export function parseOutput(value: string): string {
  if (!/^[A-Za-z0-9_./%@+,:=-]{1,4096}$/.test(value)) {
    throw new UsageError(`invalid --output '${oneLine(value)}'`, {
      hint: "use a path of letters, digits and _ . / % @ + , : = - (no spaces or quotes), " +
        "e.g. --output logs/%x-%j.out",
    });
  }
  return value;
}

/** Refuses a line break (or NUL) in a value placed into a script. Exit 2. */
export function noLineBreak(value: string, what: string): string {
  if (/[\n\r\0]/.test(value)) {
    throw new UsageError(`${what} contains a line break`, {
      hint: `a batch script takes it on one line: join the lines with ';' or '&&', ` +
        `or put them in a script file and run that`,
    });
  }
  return value;
}

export function parseJobFlags(envName: string, flags: JobFlags): JobSpec {
  return {
    jobName: `venvoy-${envName}`,
    timeSeconds: flags.time === undefined ? null : parseTime(flags.time),
    cpus: flags.cpus === undefined ? null : parseCount(flags.cpus, "--cpus"),
    memMb: flags.mem === undefined ? null : parseMem(flags.mem),
    gpus: flags.gpus === undefined ? null : parseCount(flags.gpus, "--gpus"),
    partition: flags.partition === undefined
      ? null
      : parseSchedulerWord(flags.partition, "--partition"),
    account: flags.account === undefined ? null : parseSchedulerWord(flags.account, "--account"),
    output: flags.output === undefined ? null : parseOutput(flags.output),
    array: flags.array === undefined ? null : parseArray(flags.array),
  };
}

/** HH:MM:SS with as many hours as needed. */
export function hms(seconds: number): string {
  const p = (n: number) => String(n).padStart(2, "0");
  const h = Math.floor(seconds / 3600);
  return `${p(h)}:${p(Math.floor((seconds % 3600) / 60))}:${p(seconds % 60)}`;
}

function oneLine(value: string): string {
  return value.replace(/[\n\r\0]/g, "\\n");
}
