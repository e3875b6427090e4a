/**
 * `venvoy history`: the snapshots of one environment, newest first, with counts and what
 * changed since the previous one; and the full difference between two of them.
 */
import { join } from "../util/path.ts";
import { chooseEnvName, isValidName, validateName } from "../util/names.ts";
import type { StatePaths } from "../env/paths.ts";
import { UsageError, VenvoyError } from "../ui/errors.ts";
import { changeLines, diffSnapshots, type SnapshotDiff, summarizeDiff } from "./diff.ts";
import { counts, type Ecosystem, type Snapshot } from "./model.ts";
import { ID_RE, listSnapshots, loadSnapshot, type SnapshotEntry } from "./store.ts";

export interface HistoryEntry {
  entry: SnapshotEntry;
  latest: boolean;
  snapshot: Snapshot | null;
  /** Why the file could not be read (it names the file and line). */
  error: string | null;
  /** Against the next older readable snapshot; null for the first one. */
  changes: SnapshotDiff | null;
}

async function subdirs(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory && isValidName(e.name)) out.push(e.name);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out;
}

/** Environment names that have snapshots or an environment folder. */
export async function knownEnvironments(paths: StatePaths): Promise<string[]> {
  const names = new Set(await subdirs(paths.environments));
  for (const n of await subdirs(paths.projects)) {
    if ((await listSnapshots(join(paths.projects, n))).length > 0) names.add(n);
  }
  return [...names].sort();
}

/**
 * The environment a history command is about: chooseEnvName over the environments and the
 * names that still have snapshots (a deleted environment's history stays reachable).
 */
export async function resolveEnvironmentName(
  paths: StatePaths,
  name: string | undefined,
): Promise<{ name: string; note: string | null }> {
  return chooseEnvName(name, name === undefined ? await knownEnvironments(paths) : []);
}

export function snapshotDir(paths: StatePaths, name: string): string {
  return join(paths.projects, validateName(name));
}

/** Reads every snapshot of `dir`; unreadable ones are kept with their error. */
export async function loadHistory(dir: string): Promise<HistoryEntry[]> {
  const entries = await listSnapshots(dir);
  const out: HistoryEntry[] = [];
  for (const [i, entry] of entries.entries()) {
    let snapshot: Snapshot | null = null;
    let error: string | null = null;
    try {
      snapshot = await loadSnapshot(entry);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    out.push({ entry, latest: i === 0, snapshot, error, changes: null });
  }
  for (const [i, h] of out.entries()) {
    const older = out.slice(i + 1).find((o) => o.snapshot);
    if (h.snapshot && older?.snapshot) h.changes = diffSnapshots(older.snapshot, h.snapshot);
  }
  return out;
}

function noSnapshots(name: string, dir: string): VenvoyError {
  return new VenvoyError(`'${name}' has no snapshots yet (looked in ${dir})`, {
    hint: "venvoy saves one whenever packages change during 'venvoy run', and when it ends",
  });
}

/** `latest`, `YYYYMMDD_HHMMSS`, or a snapshot file name; unknown ones list what exists. */
export function findSnapshot(
  entries: SnapshotEntry[],
  wanted: string,
  options: { name: string },
): SnapshotEntry {
  if (entries.length === 0) throw new VenvoyError(`'${options.name}' has no snapshots yet`);
  const id = wanted.trim().replace(/^environment_/, "").replace(/\.yml$/, "");
  if (id === "latest") return entries[0];
  const found = entries.find((e) => e.id === id);
  if (found) return found;
  const shown = entries.slice(0, 20).map((e, i) => `  ${e.id}${i === 0 ? "  (latest)" : ""}`);
  if (entries.length > 20) shown.push(`  … and ${entries.length - 20} older ones`);
  const why = ID_RE.test(id)
    ? `no snapshot ${id} of '${options.name}'`
    : `'${wanted}' is not a snapshot timestamp (YYYYMMDD_HHMMSS or latest)`;
  throw new UsageError(`${why}; the snapshots are:\n${shown.join("\n")}`, {
    hint: "pass one of those timestamps, or 'latest'",
  });
}

function iso(d: Date): string {
  return d.toISOString().replace(/\.000Z$/, "Z");
}

function localTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function diffJson(d: SnapshotDiff) {
  const eco = (e: Ecosystem) => ({
    added: d[e].added.map((p) => ({ name: p.name, version: p.version })),
    removed: d[e].removed.map((p) => ({ name: p.name, version: p.version })),
    changed: d[e].changed,
  });
  return { python: eco("python"), r: eco("r"), conda: eco("conda"), meta: d.meta };
}

export function historyJson(name: string, dir: string, history: HistoryEntry[]) {
  return {
    name,
    directory: dir,
    snapshots: history.map((h) => ({
      timestamp: h.entry.id,
      time: iso(h.entry.time),
      latest: h.latest,
      file: h.entry.yml,
      r_lock: h.entry.rLock,
      counts: h.snapshot ? counts(h.snapshot.state) : null,
      python_version: h.snapshot?.meta.pythonVersion ?? null,
      r_version: h.snapshot?.meta.rVersion ?? null,
      changes: h.changes ? diffJson(h.changes) : null,
      error: h.error,
    })),
  };
}

export function renderHistory(
  name: string,
  dir: string,
  history: HistoryEntry[],
  table: (rows: string[][]) => string,
): string {
  const rows = [["  SNAPSHOT", "LOCAL TIME", "PYTHON", "R", "CONDA", "CHANGES"]];
  for (const [i, h] of history.entries()) {
    const mark = h.latest ? "* " : "  ";
    const c = h.snapshot ? counts(h.snapshot.state) : null;
    const isFirst = i === history.length - 1;
    const what = h.error
      ? `unreadable: ${h.error}`
      : h.changes
      ? summarizeDiff(h.changes)
      : isFirst
      ? "first snapshot"
      : "(no readable older snapshot)";
    rows.push([
      `${mark}${h.entry.id}`,
      localTime(h.entry.time),
      c ? String(c.python) : "?",
      c ? String(c.r) : "?",
      c ? String(c.conda) : "?",
      what,
    ]);
  }
  const lines = [
    `Snapshots of '${name}' in ${dir}, newest first (timestamps are UTC):`,
    "",
    table(rows).split("\n").map((l) => l.trimEnd()).join("\n"),
    "",
    "* latest (also environment.yml)",
  ];
  if (history.length > 1) {
    lines.push(
      `Full difference: venvoy history --name ${name} --diff ${history[1].entry.id} latest`,
    );
  }
  return lines.join("\n");
}

export interface DiffResult {
  name: string;
  from: SnapshotEntry;
  to: SnapshotEntry;
  diff: SnapshotDiff;
}

export async function diffByIds(
  paths: StatePaths,
  ids: [string, string],
  options: { name: string },
): Promise<DiffResult> {
  const dir = snapshotDir(paths, options.name);
  const entries = await listSnapshots(dir);
  if (entries.length === 0) throw noSnapshots(options.name, dir);
  const from = findSnapshot(entries, ids[0], options);
  const to = findSnapshot(entries, ids[1], options);
  const diff = diffSnapshots(await loadSnapshot(from), await loadSnapshot(to));
  return { name: options.name, from, to, diff };
}

export function diffResultJson(r: DiffResult) {
  return {
    name: r.name,
    from: { timestamp: r.from.id, file: r.from.yml },
    to: { timestamp: r.to.id, file: r.to.yml },
    changes: diffJson(r.diff),
    lines: changeLines(r.diff),
  };
}

export async function historyOf(
  paths: StatePaths,
  name: string,
): Promise<{ dir: string; history: HistoryEntry[] }> {
  const dir = snapshotDir(paths, name);
  const history = await loadHistory(dir);
  if (history.length === 0) throw noSnapshots(name, dir);
  return { dir, history };
}
