/**
 * The fuzz properties of the archive boundary, shared by the CI slice
 * (tests/unit/archive/fuzz_test.ts) and the benchmark (bench/fuzz.ts). Each one is a
 * fast-check property over mutations of a valid input (tests/fuzz/mutations.ts), judged
 * by tests/fuzz/harness.ts: typed errors only, bounded time, nothing written outside the
 * target, and a refusal that leaves the target exactly as it was.
 */
import fc from "fast-check";
import { join, posix } from "node:path";
import { extractVerified, type VerifiedArchive } from "../../src/archive/reader.ts";
import { importArchive } from "../../src/archive/import.ts";
import { stripImageNames } from "../../src/archive/image_tar.ts";
import { parseManifest } from "../../src/archive/manifest.ts";
import { decodeHeader, normalizeMemberPath, parsePax } from "../../src/archive/tar.ts";
import { parseRecord, RECORD_ID_RE } from "../../src/proof/record.ts";
import * as grammar from "../../src/util/grammar.ts";
import {
  caseRoot,
  fail,
  isWithin,
  linksStayInside,
  outcome,
  outcomeSync,
  snapshotTree,
  treeDiff,
} from "./harness.ts";
import {
  type BaseArchive,
  baseArchive,
  IMAGE_ID,
  imageTar,
  ociImageTar,
  podman,
  validRecord,
} from "./fixtures.ts";
import {
  applyJson,
  applyText,
  type ArchiveCase,
  archiveCase,
  buildArchive,
  buildTar,
  few,
  headerMutation,
  type JsonMutation,
  jsonMutation,
  metaInsertion,
  streamMutation,
  type TextMutation,
  textMutation,
} from "./mutations.ts";
import { parseTar, sha256Hex } from "./tar_model.ts";

/** A case that takes longer than this has hung (2 noisy cores: generous, still bounded). */
export const CASE_LIMIT_MS = 10_000;
/** A pure parser call on a small input that takes longer than this is a ReDoS or a loop. */
export const PARSE_LIMIT_MS = 250;

export interface FuzzContext {
  /** Where every case's sentinel folder is made. */
  base: string;
  archive: BaseArchive;
}

export async function fuzzContext(base: string): Promise<FuzzContext> {
  const fixture = join(base, "fixture");
  await Deno.mkdir(fixture);
  const archive = await baseArchive(fixture);
  await Deno.remove(fixture, { recursive: true });
  return { base, archive };
}

/** Verified means: inside the target, links inside the folder, every checksum true. */
async function checkVerified(v: VerifiedArchive, target: string): Promise<void> {
  if (!isWithin(target, v.dir)) fail("extracted outside the target", [v.dir]);
  const bad = await linksStayInside(v.dir);
  if (bad.length) fail("a verified archive holds links leading out", bad);
  for (const [path, sha] of Object.entries(v.checksums)) {
    const got = sha256Hex(await Deno.readFile(join(v.dir, path)));
    if (got !== sha) fail("a verified member differs from its checksum", [path]);
  }
}

/** Files (path -> sha256) and links (path -> target) under `dir`; folders left out. */
async function contents(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [rel, what] of await snapshotTree(dir)) {
    if (what.startsWith("link ")) out.set(rel, what);
    else if (what.startsWith("file ")) out.set(rel, `file ${what.split(" ").at(-1)}`);
    else if (!what.startsWith("dir ")) out.set(rel, what);
  }
  return out;
}

export const HAVE_GNU_TAR = await new Deno.Command("tar", { args: ["--version"], stdout: "piped" })
  .output().then((o) => new TextDecoder().decode(o.stdout).includes("GNU tar"), () => false);

/**
 * What venvoy verified is what `tar xzf` (the archive's README and restore.sh) unpacks:
 * the same files with the same bytes and the same links.
 */
async function sameAsGnuTar(file: string, verified: string, scratch: string): Promise<void> {
  if (!HAVE_GNU_TAR) return;
  const dir = join(scratch, "gnu-tar");
  await Deno.mkdir(dir);
  const out = await new Deno.Command("tar", {
    args: ["-xzf", file, "-C", dir, "--no-same-owner"],
    stdout: "null",
    stderr: "piped",
  }).output();
  // tar's own complaints (a malformed mtime) only matter where they change what it unpacks.
  const diff = treeDiff(await contents(verified), await contents(dir));
  if (diff.length) {
    const said = new TextDecoder().decode(out.stderr).trim();
    fail("venvoy verified other files than GNU tar unpacks", [...diff, `tar: ${said}`]);
  }
}

/** extractVerified on a mutated archive: refused or verified, the sentinel unchanged. */
export function extractCase(ctx: FuzzContext) {
  return async (c: ArchiveCase) => {
    const bytes = buildArchive(ctx.archive.members, ctx.archive.manifest, c);
    const { root, target, before } = await caseRoot(ctx.base, { files: { "in.tar.gz": bytes } });
    try {
      let verified: VerifiedArchive | null = null;
      await outcome(CASE_LIMIT_MS, async () => {
        verified = await extractVerified(join(root, "in.tar.gz"), {
          tmpDir: target,
          freeSpace: () => null,
        });
      });
      if (verified) {
        const v: VerifiedArchive = verified;
        try {
          await checkVerified(v, target);
          await sameAsGnuTar(join(root, "in.tar.gz"), v.dir, root);
        } finally {
          await v.cleanup();
        }
      }
      await Deno.remove(join(root, "gnu-tar"), { recursive: true }).catch(() => {});
      const diff = treeDiff(before, await snapshotTree(root));
      if (diff.length) fail("the folder changed after extraction and cleanup", diff);
    } finally {
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  };
}

export interface ImportCase {
  archive: ArchiveCase;
  name: string | undefined;
  force: boolean;
}

export const importCase: fc.Arbitrary<ImportCase> = fc.record({
  archive: archiveCase,
  name: fc.constantFrom(undefined, undefined, "demo", "copy", "other", "../x"),
  // Mostly forced: a refused `import --force` must leave the existing environment be.
  force: fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, {
    arbitrary: fc.constant(false),
    weight: 1,
  }),
});

/** What the target holds before an import: two environments and one's snapshots. */
async function existingState(target: string): Promise<void> {
  const envs = join(target, "environments");
  for (const name of ["demo", "other"]) {
    await Deno.mkdir(join(envs, name, "persist", "python"), { recursive: true });
    await Deno.writeTextFile(
      join(envs, name, "config.yaml"),
      `name: ${name}\nruntime: python\nengine: podman\nimage: localhost/venvoy/${name}:latest\n`,
    );
    await Deno.writeTextFile(join(envs, name, "persist", "python", "mine.py"), `# ${name}\n`);
  }
  await Deno.mkdir(join(target, "projects", "demo", "records"), { recursive: true });
  await Deno.writeTextFile(
    join(target, "projects", "demo", "environment.yml"),
    "name: demo\ndependencies: []\n",
  );
}

/**
 * Bugs the import property finds in code outside the fuzzer's remit, reported and open:
 * a case they explain is counted (knownOpenHits) instead of failing the run. Each has an
 * ignored regression test in tests/unit/archive/fuzz_regressions_test.ts to turn on.
 */
// None is open: the two the property found in import.ts (records checked after the swap,
// patchConfig's raw yaml errors) are fixed, and their regression tests run.
export const KNOWN_OPEN: { what: string; matches: (e: Error) => boolean }[] = [];
export const knownOpenHits = new Map<string, number>();

function knownOpen(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const k = KNOWN_OPEN.find((k) => k.matches(e));
  if (k) knownOpenHits.set(k.what, (knownOpenHits.get(k.what) ?? 0) + 1);
  return k !== undefined;
}

/**
 * importArchive (fake podman) on a mutated archive. Refused: the whole folder is exactly
 * as before. Imported: only `environments/<name>` and `projects/<name>` changed, and the
 * new environment's links stay inside it.
 */
export function importCaseRunner(ctx: FuzzContext) {
  return async (c: ImportCase) => {
    const bytes = buildArchive(ctx.archive.members, ctx.archive.manifest, c.archive);
    const { root, target, before } = await caseRoot(ctx.base, {
      files: { "in.tar.gz": bytes },
      fill: existingState,
    });
    try {
      let name: string | null = null;
      let err: Error | null;
      try {
        err = await outcome(CASE_LIMIT_MS, async () => {
          const got = await importArchive(join(root, "in.tar.gz"), {
            runtime: podman(),
            environmentsDir: join(target, "environments"),
            projectsDir: join(target, "projects"),
            name: c.name,
            force: c.force,
            now: new Date(Date.UTC(2025, 5, 6)),
          });
          name = got.name;
        });
      } catch (e) {
        if (knownOpen((e as Error).cause)) return;
        throw e;
      }
      const after = await snapshotTree(root);
      if (err) {
        const diff = treeDiff(before, after);
        if (diff.length && knownOpen(err)) return;
        if (diff.length) fail(`a refused import (${err.message}) changed the state`, diff);
        return;
      }
      const mine = [`target/environments/${name}`, `target/projects/${name}`];
      const diff = treeDiff(
        before,
        after,
        (rel) => mine.some((m) => rel === m || rel.startsWith(m + "/")),
      );
      if (diff.length) fail(`an import of '${name}' changed other state`, diff);
      const bad = await linksStayInside(join(target, "environments", name!));
      if (bad.length) fail("an imported environment holds links leading out", bad);
    } finally {
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  };
}

// ---- the parsers on their own ----

export interface JsonCase {
  json: JsonMutation[];
  text: TextMutation | null;
}

export const jsonCase: fc.Arbitrary<JsonCase> = fc.record({
  json: fc.array(jsonMutation, { minLength: 1, maxLength: 4 }),
  text: fc.option(textMutation, { freq: 4, nil: null }),
});

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const strOrNull = (v: unknown) => v === null || v === undefined || typeof v === "string";

/** parseManifest: a typed refusal, or a manifest whose fields have the declared types. */
export function manifestCase(ctx: FuzzContext) {
  return (c: JsonCase) => {
    const text = applyText(JSON.stringify(applyJson(ctx.archive.manifest, c.json)), c.text);
    let m: unknown = null;
    outcomeSync(PARSE_LIMIT_MS, () => (m = parseManifest(text, "fuzz")));
    if (m === null) return;
    const man = m as Record<string, unknown>;
    const env = man.environment as Record<string, unknown>;
    const image = man.image as Record<string, unknown>;
    const wrong: string[] = [];
    if (!isObj(env) || typeof env.name !== "string") wrong.push("environment.name");
    if (!isObj(image)) wrong.push("image");
    else {
      for (const k of ["id", "tag", "docker_archive", "sif"]) {
        if (!strOrNull(image[k])) wrong.push(`image.${k}`);
      }
    }
    if (man.records !== undefined && !Array.isArray(man.records)) wrong.push("records");
    for (const [name, e] of Object.entries(man.members as Record<string, unknown>)) {
      if (normalizeMemberPath(name) !== name) wrong.push(`members[${JSON.stringify(name)}]`);
      if (!isObj(e)) wrong.push(`members[${JSON.stringify(name)}] is not an object`);
    }
    if (wrong.length) fail("parseManifest accepted ill-typed fields", wrong);
  };
}

/** A path from a record, joined to a folder: it stays strictly inside. */
function staysInside(p: unknown): boolean {
  return typeof p === "string" && isWithin("/w", posix.join("/w", p)) &&
    posix.join("/w", p) !== "/w";
}

/** parseRecord: a typed refusal, or a record every later step can use as it is typed. */
export function recordCase() {
  const base = validRecord();
  return (c: JsonCase) => {
    const text = applyText(JSON.stringify(applyJson(base, c.json)), c.text);
    let r: Record<string, unknown> | null = null;
    outcomeSync(PARSE_LIMIT_MS, () => (r = parseRecord(text, "fuzz") as never));
    if (r === null) return;
    const rec: Record<string, unknown> = r;
    const wrong: string[] = [];
    if (typeof rec.id !== "string" || !RECORD_ID_RE.test(rec.id)) wrong.push("id");
    if (typeof rec.command !== "string") wrong.push("command");
    for (const k of ["output_paths", "missing_outputs"]) {
      const list = rec[k];
      if (!Array.isArray(list) || !list.every(staysInside)) {
        wrong.push(`${k}: ${JSON.stringify(list)}`);
      }
    }
    for (const k of ["inputs", "outputs"]) {
      for (const e of rec[k] as Record<string, unknown>[]) {
        const p = e.path;
        // Inputs may lie outside the folder ("../data.csv": recorded, never placed).
        const ok = k === "inputs"
          ? typeof p === "string" &&
            (staysInside(p) || (p.startsWith("../") && posix.normalize(p) === p))
          : staysInside(p);
        if (!ok) wrong.push(`${k} path ${JSON.stringify(p)}`);
        if (e.type === "file" && (!Number.isSafeInteger(e.size) || (e.size as number) < 0)) {
          wrong.push(`${k} size ${JSON.stringify(e.size)}`);
        }
      }
    }
    if (wrong.length) fail("parseRecord accepted what later steps cannot use", wrong);
  };
}

/** The tar primitives on arbitrary bytes and strings: typed errors, sane results. */
export const tarPrimitiveCase = fc.record({
  block: fc.uint8Array({ minLength: 512, maxLength: 512 }),
  pax: fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.string({ maxLength: 64 }).map((s) => new TextEncoder().encode(s)),
    fc.array(fc.tuple(fc.nat(40), fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 })), {
      maxLength: 3,
    }).map((rs) => new TextEncoder().encode(rs.map(([n, k, v]) => `${n} ${k}=${v}\n`).join(""))),
  ),
  name: fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.array(fc.constantFrom("a", "..", ".", "", "/", "\\", "\0", "C:", "env"), { maxLength: 6 })
      .map((p) => p.join("/")),
  ),
});

export function tarPrimitives(c: { block: Uint8Array; pax: Uint8Array; name: string }) {
  outcomeSync(PARSE_LIMIT_MS, () => decodeHeader(c.block));
  outcomeSync(PARSE_LIMIT_MS, () => parsePax(c.pax));
  let norm: string | null = null;
  outcomeSync(PARSE_LIMIT_MS, () => (norm = normalizeMemberPath(c.name)));
  if (norm !== null) {
    const n: string = norm;
    const parts = n.split("/");
    if (
      n.startsWith("/") || n.includes("\\") || n.includes("\0") ||
      parts.some((p) => p === "" || p === "." || p === "..")
    ) {
      fail("normalizeMemberPath let an unsafe name through", [JSON.stringify(c.name), n]);
    }
  }
}

/** image.tar (a docker-archive inside a verified archive) mutated, then stripped. */
export const imageTarCase = fc.record({
  /** An oci-archive (index.json, blobs) instead of a docker-archive. */
  oci: fc.boolean(),
  /** The config member emptied (a size of 0 lines up with odd PAX sizes). */
  emptyConfig: fc.boolean(),
  headers: few(headerMutation, 3),
  meta: few(metaInsertion, 3),
  stream: few(streamMutation, 6, 1),
  json: few(jsonMutation, 1, 3),
});

export function imageTarRunner(ctx: FuzzContext) {
  const docker = parseTar(imageTar());
  const oci = parseTar(ociImageTar());
  return async (c: typeof imageTarCase extends fc.Arbitrary<infer T> ? T : never) => {
    const top = c.oci ? "index.json" : "manifest.json";
    const mutated = (c.oci ? oci : docker).map((m) => {
      const config = c.oci
        ? m.name.endsWith(IMAGE_ID.slice(7))
        : /^[0-9a-f]{64}\.json$/.test(m.name);
      if (config && c.emptyConfig) return { ...m, data: new Uint8Array(0) };
      if (m.name !== top || c.json.length === 0) return m;
      const data = JSON.parse(new TextDecoder().decode(m.data));
      return { ...m, data: new TextEncoder().encode(JSON.stringify(applyJson(data, c.json))) };
    });
    const { root } = await caseRoot(ctx.base, { files: { "image.tar": buildTar(mutated, c) } });
    try {
      await outcome(CASE_LIMIT_MS, () => stripImageNames(join(root, "image.tar")));
    } finally {
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  };
}

// ---- grammar checks ----

const HOSTILE_CHARS = [
  "\n",
  "\r",
  "\0",
  "\x1b",
  "\x7f",
  "\u0085",
  "\u2028",
  "\u202e",
  " ",
  "'",
  '"',
  "`",
  "$",
  "\\",
  ";",
  "&",
  "|",
  "/",
  "..",
  ":",
  "@",
  "#",
  "%",
  "é",
  "\ud800",
];

/** Each check with values it accepts. */
const CHECKS: [string, (v: string) => unknown, string[]][] = [
  ["checkImageRef", (v) => grammar.checkImageRef(v, { sif: true }), [
    "python:3.11-slim",
    "registry.example:5000/team/img:1.0@sha256:" + "a".repeat(64),
    "a".repeat(64),
    "images/base.sif",
  ]],
  ["checkRuntimeVersion", (v) => grammar.checkRuntimeVersion("v", v), ["3.11", "4.2.1"]],
  ["checkVenvoyVersion", grammar.checkVenvoyVersion, ["0.1.0", "1.0.0-rc.1+b5"]],
  ["checkPythonPackage", (v) => grammar.checkPythonPackage(v, "1.0"), ["numpy", "zope.interface"]],
  ["checkPythonVersion", (v) => grammar.checkPythonPackage("x", v), ["1.26.4", "2!1.0+local.7"]],
  ["checkRPackage", (v) => grammar.checkRPackage(v, "1.0-2"), ["data.table", "ggplot2"]],
  ["checkCondaPackage", (v) => grammar.checkCondaPackage(v, "1.*"), ["python_abi", "libgcc-ng"]],
  ["checkCondaChannel", grammar.checkCondaChannel, ["conda-forge", "https://conda.anaconda.org/x"]],
  ["checkUrl", (v) => grammar.checkUrl("u", v), ["https://cloud.r-project.org", "http://x/simple"]],
  ["checkVariableName", grammar.checkVariableName, ["PATH", "_X1"]],
  ["checkLabelKey", grammar.checkLabelKey, ["org.venvoy.env"]],
  ["checkBuildPath", (v) => grammar.checkBuildPath("p", v), ["/opt/venvoy/env", "a/b-c.txt"]],
  ["shellQuote", grammar.shellQuote, ["plain", "it's", "a b"]],
  ["checkLine", (v) => grammar.checkLine("l", v), ["anything goes here"]],
];

export const grammarCase = fc.record({
  check: fc.nat(CHECKS.length - 1),
  sample: fc.nat(),
  edits: fc.array(
    fc.record({
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      insert: fc.oneof(
        { arbitrary: fc.constantFrom(...HOSTILE_CHARS), weight: 4 },
        { arbitrary: fc.string({ maxLength: 4 }), weight: 1 },
      ),
      cut: fc.nat(3),
    }),
    { maxLength: 3 },
  ),
  repeat: fc.oneof({ arbitrary: fc.constant(1), weight: 6 }, {
    arbitrary: fc.integer({ min: 2, max: 400 }),
    weight: 1,
  }),
});

/** The single-quoted POSIX word back to its value (shellQuote's inverse). */
function shellUnquote(word: string): string | null {
  let out = "";
  let i = 0;
  while (i < word.length) {
    if (word[i] === "'") {
      const end = word.indexOf("'", i + 1);
      if (end === -1) return null;
      out += word.slice(i + 1, end);
      i = end + 1;
    } else if (word[i] === "\\") {
      out += word[i + 1];
      i += 2;
    } else if (/[A-Za-z0-9_./:=@%+,-]/.test(word[i])) out += word[i++];
    else return null;
  }
  return out;
}

export function grammarRunner(c: typeof grammarCase extends fc.Arbitrary<infer T> ? T : never) {
  const [name, check, samples] = CHECKS[c.check];
  let value = samples[c.sample % samples.length];
  for (const e of c.edits) {
    const i = Math.floor(value.length * e.at);
    value = value.slice(0, i) + e.insert + value.slice(i + e.cut);
  }
  value = value.repeat(c.repeat);
  let got: unknown = undefined;
  const err = outcomeSync(PARSE_LIMIT_MS, () => (got = check(value)));
  if (err) {
    if (!(err instanceof grammar.GrammarError)) fail(`${name} threw ${err.name}`, [err.message]);
    return;
  }
  if (/[\r\n]/.test(value) || grammar.hasControl(value)) {
    fail(`${name} accepted a control character`, [JSON.stringify(value)]);
  }
  if (name === "shellQuote") {
    if (shellUnquote(got as string) !== value) {
      fail("shellQuote's word does not read back as the value", [
        JSON.stringify(value),
        String(got),
      ]);
    }
  } else if (got !== undefined && got !== value) {
    fail(`${name} changed the value`, [JSON.stringify(value), JSON.stringify(got)]);
  }
}

// ---- running them ----

export interface FuzzTarget {
  name: string;
  /** Share of the runs this property gets (import cases cost the most). */
  weight: number;
  run(ctx: FuzzContext, runs: number, seed: number): Promise<void>;
}

const asyncTarget = <T>(
  name: string,
  weight: number,
  arb: fc.Arbitrary<T>,
  make: (ctx: FuzzContext) => (c: T) => Promise<void>,
): FuzzTarget => ({
  name,
  weight,
  run: (ctx, numRuns, seed) =>
    fc.assert(fc.asyncProperty(arb, make(ctx)), { numRuns, seed, endOnFailure: false }),
});

const syncTarget = <T>(
  name: string,
  weight: number,
  arb: fc.Arbitrary<T>,
  make: (ctx: FuzzContext) => (c: T) => void,
): FuzzTarget => ({
  name,
  weight,
  run: (ctx, numRuns, seed) => {
    fc.assert(fc.property(arb, make(ctx)), { numRuns, seed });
    return Promise.resolve();
  },
});

export const TARGETS: FuzzTarget[] = [
  asyncTarget("extract (reader.ts, tar.ts, manifest.ts)", 4, archiveCase, extractCase),
  asyncTarget("import (fake podman)", 2, importCase, importCaseRunner),
  asyncTarget("image.tar name stripping", 1, imageTarCase, imageTarRunner),
  syncTarget("manifest.json", 2, jsonCase, manifestCase),
  syncTarget("run record", 2, jsonCase, recordCase),
  syncTarget("tar primitives", 1, tarPrimitiveCase, () => tarPrimitives),
  syncTarget("grammar", 2, grammarCase, () => grammarRunner),
];

/** The runs each target gets out of `total`, by weight (at least one each). */
export function split(total: number): number[] {
  const sum = TARGETS.reduce((n, t) => n + t.weight, 0);
  return TARGETS.map((t) => Math.max(1, Math.round((total * t.weight) / sum)));
}

/** FUZZ_SEED and FUZZ_RUNS from the environment, or the defaults. */
export function fuzzSettings(defaults: { seed: number; runs: number }) {
  const int = (name: string, fallback: number) => {
    const raw = Deno.env.get(name);
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, not '${raw}'`);
    return n;
  };
  return { seed: int("FUZZ_SEED", defaults.seed), runs: int("FUZZ_RUNS", defaults.runs) };
}
