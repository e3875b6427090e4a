/** What changed between two snapshots: +added, -removed, ~version, per ecosystem. Pure. */
import { type Ecosystem, ECOSYSTEM_LABEL, ECOSYSTEMS, type Pkg, type Snapshot } from "./model.ts";

export interface VersionChange {
  name: string;
  from: string;
  to: string;
}

export interface EcosystemDiff {
  added: Pkg[];
  removed: Pkg[];
  changed: VersionChange[];
}

export interface MetaChange {
  field: "python" | "r" | "base_image" | "image_id";
  label: string;
  from: string | null;
  to: string | null;
}

export type SnapshotDiff = Record<Ecosystem, EcosystemDiff> & { meta: MetaChange[] };

export function diffPackages(before: Pkg[], after: Pkg[]): EcosystemDiff {
  const a = new Map(before.map((p) => [p.name, p]));
  const b = new Map(after.map((p) => [p.name, p]));
  const byName = <T extends { name: string }>(x: T, y: T) => (x.name < y.name ? -1 : 1);
  const added = [...b.values()].filter((p) => !a.has(p.name)).sort(byName);
  const removed = [...a.values()].filter((p) => !b.has(p.name)).sort(byName);
  const changed: VersionChange[] = [];
  for (const [name, p] of b) {
    const old = a.get(name);
    if (old && old.version !== p.version) changed.push({ name, from: old.version, to: p.version });
  }
  return { added, removed, changed: changed.sort(byName) };
}

const META: [MetaChange["field"], string, (s: Snapshot) => string | undefined][] = [
  ["python", "Python", (s) => s.meta.pythonVersion],
  ["r", "R", (s) => s.meta.rVersion],
  ["base_image", "base image", (s) => s.meta.baseImagePinned ?? s.meta.baseImage],
  ["image_id", "image ID", (s) => s.meta.imageId],
];

export function diffSnapshots(before: Snapshot, after: Snapshot): SnapshotDiff {
  const meta: MetaChange[] = [];
  for (const [field, label, get] of META) {
    const from = get(before) ?? null;
    const to = get(after) ?? null;
    if (from !== to) meta.push({ field, label, from, to });
  }
  return {
    python: diffPackages(before.state.python, after.state.python),
    r: diffPackages(before.state.r, after.state.r),
    conda: diffPackages(before.state.conda, after.state.conda),
    meta,
  };
}

export function changeCount(d: SnapshotDiff, options: { meta?: boolean } = {}): number {
  let n = options.meta ? d.meta.length : 0;
  for (const e of ECOSYSTEMS) n += d[e].added.length + d[e].removed.length + d[e].changed.length;
  return n;
}

/** `+requests 2.32.3`, `-six 1.16.0`, `~numpy 1.26.4 -> 2.1.0`, prefixed `R:`/`conda:`. */
export function changeLines(d: SnapshotDiff): string[] {
  const out: string[] = [];
  for (const e of ECOSYSTEMS) {
    const tag = e === "python" ? "" : `${ECOSYSTEM_LABEL[e]}:`;
    for (const p of d[e].added) out.push(`+${tag}${p.name} ${p.version}`.trimEnd());
    for (const p of d[e].removed) out.push(`-${tag}${p.name} ${p.version}`.trimEnd());
    for (const c of d[e].changed) out.push(`~${tag}${c.name} ${c.from} -> ${c.to}`);
  }
  return out;
}

/** One line for a history entry, at most `max` changes then "and N more". */
export function summarizeDiff(d: SnapshotDiff, options: { max?: number } = {}): string {
  const lines = changeLines(d);
  const meta = d.meta
    .filter((m) => m.field === "python" || m.field === "r")
    .map((m) => `${m.label} ${m.from ?? "?"} -> ${m.to ?? "?"}`);
  const all = [...meta, ...lines];
  if (all.length === 0) return "no package changes";
  const max = options.max ?? 6;
  const shown = all.slice(0, max).join(", ");
  return all.length > max ? `${shown}, and ${all.length - max} more` : shown;
}

/** The full difference, grouped by ecosystem, for `history --diff`. */
export function renderDiff(d: SnapshotDiff): string {
  const out: string[] = [];
  for (const m of d.meta) out.push(`${m.label}: ${m.from ?? "(none)"} -> ${m.to ?? "(none)"}`);
  for (const e of ECOSYSTEMS) {
    const x = d[e];
    const n = x.added.length + x.removed.length + x.changed.length;
    if (n === 0) {
      out.push(`${ECOSYSTEM_LABEL[e]}: no changes`);
      continue;
    }
    out.push(
      `${ECOSYSTEM_LABEL[e]}: ${x.added.length} added, ${x.removed.length} removed, ` +
        `${x.changed.length} changed`,
    );
    for (const p of x.added) out.push(`  + ${p.name} ${p.version}`.trimEnd());
    for (const p of x.removed) out.push(`  - ${p.name} ${p.version}`.trimEnd());
    for (const c of x.changed) out.push(`  ~ ${c.name} ${c.from} -> ${c.to}`);
  }
  return out.join("\n");
}
