/**
 * Records in archives. `export --format archive` adds every run record of the environment
 * (`records/<id>.json`), the kept text outputs, and with `--with-inputs` the recorded input
 * files (`records/blobs/<sha256>`, each stored once). `import` puts them back in
 * `$VENVOY_PROJECTS/<name>/records/`, where `history` and `verify` find them.
 */
import { join } from "node:path";
import { UsageError, VenvoyError } from "../ui/errors.ts";
import { sha256File } from "../util/hash.ts";
import { isInside } from "./files.ts";
import {
  blobPath,
  BLOBS_DIR,
  listRecords,
  parseRecordFile,
  RECORD_ID_RE,
  RECORDS_DIR,
  recordsDir,
} from "./record.ts";

export interface RecordsPlan {
  records: { id: string; file: string }[];
  /** sha256 -> the file that holds those bytes. */
  blobs: Map<string, string>;
  inputFiles: number;
  inputBytes: number;
  /** Unreadable records, left out. */
  skipped: string[];
}

/** Anything that takes archive members (the archive writer). */
export interface MemberSink {
  addFile(name: string, source: string): Promise<{ type: string; sha256?: string }>;
}

/**
 * What the archive will carry, checked before any slow work: with `withInputs`, every input
 * must lie inside the folder its record ran in and still have its recorded sha256.
 */
export async function planRecords(
  projectDir: string,
  options: { withInputs?: boolean } = {},
): Promise<RecordsPlan> {
  const plan: RecordsPlan = {
    records: [],
    blobs: new Map(),
    inputFiles: 0,
    inputBytes: 0,
    skipped: [],
  };
  const listed = await listRecords(projectDir);
  for (const l of listed) {
    if (!l.record) {
      plan.skipped.push(`${l.file}: ${l.error}`);
      continue;
    }
    plan.records.push({ id: l.id, file: l.file });
    for (const o of l.record.outputs) {
      if (o.type !== "file" || !o.kept) continue;
      const blob = blobPath(projectDir, o.sha256);
      if (await Deno.stat(blob).then((s) => s.isFile, () => false)) plan.blobs.set(o.sha256, blob);
    }
  }
  if (options.withInputs) {
    if (plan.records.length === 0) {
      throw new UsageError("--with-inputs: this environment has no run records", {
        hint: 'record a run first: venvoy record --command "..." --inputs data/',
      });
    }
    for (const l of listed) {
      const r = l.record;
      if (!r) continue;
      for (const i of r.inputs) {
        if (!isInside(i.path)) {
          throw new UsageError(
            `input '${i.path}' of record ${r.id} is outside the folder it ran in (${r.workdir})`,
            {
              hint: "archives carry only inputs inside that folder; record again with the " +
                "inputs copied or linked there, or export without --with-inputs",
            },
          );
        }
        if (i.type !== "file" || plan.blobs.has(i.sha256)) continue;
        const abs = join(r.workdir, i.path);
        const sum = await sha256File(abs).catch(() => null);
        if (sum !== i.sha256) {
          throw new VenvoyError(
            `input ${abs} of record ${r.id} ${
              sum ? "has changed" : "is gone"
            } since it was recorded`,
            { hint: "put the recorded input back, or record the run again" },
          );
        }
        plan.blobs.set(i.sha256, abs);
        plan.inputFiles++;
        plan.inputBytes += i.size;
      }
    }
  }
  return plan;
}

/** Adds the planned members; a blob whose bytes changed meanwhile is refused. */
export async function addRecordMembers(
  sink: MemberSink,
  plan: RecordsPlan,
): Promise<{ records: string[] }> {
  for (const r of plan.records) await sink.addFile(`${RECORDS_DIR}/${r.id}.json`, r.file);
  for (const [sha, src] of plan.blobs) {
    const entry = await sink.addFile(`${RECORDS_DIR}/${BLOBS_DIR}/${sha}`, src);
    if (entry.sha256 !== sha) {
      throw new VenvoyError(`${src} changed while the archive was written`, {
        hint: "run the export again when nothing is writing to it",
      });
    }
  }
  return { records: plan.records.map((r) => r.id) };
}

/**
 * The run records of an extracted archive, each checked (parseRecordFile: its id is its file
 * name, its paths are plain): the first bad one throws. Import calls this before it changes
 * anything, so a refused record never leaves a half-imported environment behind.
 */
export async function checkedArchiveRecords(
  extracted: string,
): Promise<{ name: string; src: string }[]> {
  const from = join(extracted, RECORDS_DIR);
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(from)];
  } catch {
    return [];
  }
  const out: { name: string; src: string }[] = [];
  for (const e of entries) {
    const m = /^(.+)\.json$/.exec(e.name);
    if (!e.isFile || !m || !RECORD_ID_RE.test(m[1])) continue;
    const src = join(from, e.name);
    parseRecordFile(
      await Deno.readTextFile(src),
      `archive member ${RECORDS_DIR}/${e.name}`,
      m[1],
    );
    out.push({ name: e.name, src });
  }
  return out;
}

/**
 * Puts an extracted archive's records into `projectDir/records/`. Records are checked
 * (checkedArchiveRecords) and blobs must hash to their name; an existing record is never
 * replaced.
 */
export async function placeRecords(extracted: string, projectDir: string): Promise<string[]> {
  const records = await checkedArchiveRecords(extracted);
  const placed: string[] = [];
  if (records.length === 0 && !existsDir(join(extracted, RECORDS_DIR))) return placed;
  const dest = recordsDir(projectDir);
  await Deno.mkdir(join(dest, BLOBS_DIR), { recursive: true });
  const blobs = join(extracted, RECORDS_DIR, BLOBS_DIR);
  for (
    const e of (() => {
      try {
        return [...Deno.readDirSync(blobs)];
      } catch {
        return [];
      }
    })()
  ) {
    if (!e.isFile || !/^[0-9a-f]{64}$/.test(e.name)) continue;
    const src = join(blobs, e.name);
    if ((await sha256File(src)) !== e.name) continue;
    const to = blobPath(projectDir, e.name);
    if (!(await Deno.lstat(to).then(() => true, () => false))) await Deno.copyFile(src, to);
  }
  for (const { name, src } of records) {
    const to = join(dest, name);
    if (await Deno.lstat(to).then(() => true, () => false)) continue;
    await Deno.copyFile(src, to);
    placed.push(to);
  }
  return placed;
}

function existsDir(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}
