/**
 * What the fuzzer does to a valid archive, a manifest or a run record: fast-check
 * arbitraries that describe mutations (plain data, so a failing case prints and shrinks),
 * and the functions that apply them. Layers, from the inside out:
 *   model   members renamed, re-targeted, re-typed, duplicated, added, removed, reordered
 *           (the manifest recomputed to match, or kept stale);
 *   json    manifest or record fields set to hostile values, deleted, or added;
 *   text    the JSON text itself: duplicate keys, raw numbers, truncation, a BOM;
 *   header  one field of one tar header (name, mode, size, typeflag, link, magic, prefix,
 *           checksum), the checksum usually recomputed so the change gets past it;
 *   meta    PAX records (path, linkpath, size, bogus lengths) and GNU long names inserted;
 *   stream  the tar stream cut, flipped, overwritten, extended;
 *   gzip    bit flips, truncation, concatenated members, trailing bytes, header flags.
 */
import fc from "fast-check";
import { BLOCK, encodeHeader, padded } from "../../src/archive/tar.ts";
import {
  concat,
  fixChecksum,
  gzip,
  type Member,
  type MemberKind,
  membersTable,
  tarOf,
  textBytes,
  toRecords,
} from "./tar_model.ts";

// ---- names, targets and values an attacker would try ----

const NAME_PREFIXES = [
  "",
  "",
  "",
  "env/",
  "env/persist/",
  "records/",
  "records/blobs/",
  "../",
  "../../",
  "/",
  "./",
  "env/../",
  "env/../../",
  "a/",
  "\\",
  "C:",
  "//",
] as const;
const NAME_SUFFIXES = [
  "",
  "",
  "",
  "/",
  "/x",
  "/..",
  "/../..",
  "/.",
  "/./x",
  "\0",
  "\0x",
  "\n\x1b[8m",
  "x",
  "/manifest.json",
  "/image.sif",
  "/.config.cache.json",
  "\\..",
] as const;

/** A name built from an existing member's name (index into the model) or from scratch. */
export interface NameSpec {
  ref: number | null;
  prefix: string;
  suffix: string;
}

export const nameSpec: fc.Arbitrary<NameSpec> = fc.record({
  ref: fc.option(fc.nat(64), { freq: 2, nil: null }),
  prefix: fc.oneof(
    { arbitrary: fc.constantFrom(...NAME_PREFIXES), weight: 6 },
    { arbitrary: fc.string({ maxLength: 6 }), weight: 1 },
  ),
  suffix: fc.oneof(
    { arbitrary: fc.constantFrom(...NAME_SUFFIXES), weight: 6 },
    { arbitrary: fc.string({ maxLength: 6 }), weight: 1 },
    { arbitrary: fc.string({ unit: "grapheme", minLength: 90, maxLength: 260 }), weight: 1 },
  ),
});

const TARGETS = [
  "",
  ".",
  "..",
  "../",
  "../..",
  "../../..",
  "../../../../../../etc/passwd",
  "/etc/passwd",
  "/",
  "env",
  "env/..",
  "env/../..",
  "x/../..",
  "./../x",
  "a\0b",
  "manifest.json",
  "image.tar",
  "env/config.yaml",
  "config.yaml",
  "persist",
  "~/.bashrc",
] as const;

export interface TargetSpec {
  ref: number | null;
  prefix: string;
  literal: string;
}

export const targetSpec: fc.Arbitrary<TargetSpec> = fc.record({
  ref: fc.option(fc.nat(64), { freq: 2, nil: null }),
  prefix: fc.constantFrom("", "", "../", "../../", "./", "/", "env/", ".."),
  literal: fc.oneof(
    { arbitrary: fc.constantFrom(...TARGETS), weight: 5 },
    { arbitrary: fc.string({ maxLength: 8 }), weight: 1 },
    { arbitrary: fc.string({ minLength: 100, maxLength: 200 }), weight: 1 },
  ),
});

function nameOf(spec: NameSpec, members: Member[]): string {
  const base = spec.ref === null || members.length === 0
    ? ""
    : members[spec.ref % members.length].name;
  return spec.prefix + base + spec.suffix || "x";
}

function targetOf(spec: TargetSpec, members: Member[]): string {
  const base = spec.ref === null || members.length === 0
    ? spec.literal
    : members[spec.ref % members.length].name;
  return spec.prefix + base;
}

/** JSON values that break assumptions: wrong types, huge numbers, paths, control bytes. */
export const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  {
    arbitrary: fc.constantFrom<unknown>(
      null,
      true,
      false,
      0,
      -1,
      1.5,
      2 ** 53,
      -(2 ** 53),
      1e308,
      -1e308,
      "",
      "..",
      "../../x",
      "x/../../../etc",
      "/etc/passwd",
      "\0",
      "a\nverdict: same\x1b[8m",
      "\u202e\u2028",
      "sha256:" + "0".repeat(64),
      "0".repeat(64),
      "venvoy-archive",
      "venvoy-tarball",
      "venvoy-record",
      "20250101_000000",
      "__proto__",
      "constructor",
      "toString",
      [],
      {},
      [null],
      [""],
      ["../x"],
      ["x/../../y"],
      { type: "file" },
      { type: "symlink" },
      { type: "symlink", target: "../../../.." },
      { type: "file", size: -1, sha256: "0".repeat(64) },
      { type: "file", size: 1e20, sha256: "0".repeat(64) },
      { type: "file", size: 2 ** 53 + 2, sha256: "0".repeat(64) },
      { path: "../x", type: "file", size: 0, sha256: "0".repeat(64) },
      { path: "..", type: "symlink", target: "/" },
      { path: "x", type: "file", size: Infinity, sha256: "0".repeat(64) },
    ),
    weight: 4,
  },
  { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 },
  { arbitrary: fc.string({ maxLength: 12 }), weight: 1 },
);

// ---- model mutations ----

export type ModelMutation =
  | { op: "rename"; at: number; name: NameSpec }
  | { op: "retarget"; at: number; as: "symlink" | "hardlink"; target: TargetSpec }
  | { op: "retype"; at: number; type: MemberKind }
  | { op: "duplicate"; at: number }
  | { op: "add"; name: NameSpec; type: MemberKind; target: TargetSpec; data: string }
  | { op: "remove"; at: number }
  | { op: "data"; at: number; data: string }
  | { op: "mode"; at: number; mode: number }
  | { op: "move"; from: number; to: number };

const kind = fc.constantFrom<MemberKind>(
  "file",
  "file",
  "directory",
  "symlink",
  "symlink",
  "hardlink",
  "char-device",
  "block-device",
  "fifo",
);

export const modelMutation: fc.Arbitrary<ModelMutation> = fc.oneof(
  fc.record({ op: fc.constant("rename" as const), at: fc.nat(), name: nameSpec }),
  fc.record({
    op: fc.constant("retarget" as const),
    at: fc.nat(),
    as: fc.constantFrom("symlink" as const, "hardlink" as const),
    target: targetSpec,
  }),
  fc.record({ op: fc.constant("retype" as const), at: fc.nat(), type: kind }),
  fc.record({ op: fc.constant("duplicate" as const), at: fc.nat() }),
  fc.record({
    op: fc.constant("add" as const),
    name: nameSpec,
    type: kind,
    target: targetSpec,
    data: fc.string({ maxLength: 40 }),
  }),
  fc.record({ op: fc.constant("remove" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("data" as const), at: fc.nat(), data: fc.string({ maxLength: 40 }) }),
  fc.record({
    op: fc.constant("mode" as const),
    at: fc.nat(),
    mode: fc.constantFrom(0, 0o777, 0o4755, 0o2755, 0o1777, 0o7777, 0o100644),
  }),
  fc.record({ op: fc.constant("move" as const), from: fc.nat(), to: fc.nat() }),
);

export function applyModel(members: Member[], muts: ModelMutation[]): Member[] {
  const ms = members.map((m) => ({ ...m }));
  for (const mut of muts) {
    if (ms.length === 0 && mut.op !== "add") continue;
    const pick = (n: number) => n % ms.length;
    switch (mut.op) {
      case "rename":
        ms[pick(mut.at)].name = nameOf(mut.name, ms);
        break;
      case "retarget": {
        const m = ms[pick(mut.at)];
        m.type = mut.as;
        m.target = targetOf(mut.target, ms);
        delete m.data;
        break;
      }
      case "retype": {
        const m = ms[pick(mut.at)];
        m.type = mut.type;
        if (mut.type === "file") m.data ??= new Uint8Array(0);
        if ((mut.type === "symlink" || mut.type === "hardlink") && m.target === undefined) {
          m.target = "x";
        }
        break;
      }
      case "duplicate": {
        const i = pick(mut.at);
        ms.splice(i + 1, 0, { ...ms[i] });
        break;
      }
      case "add":
        ms.push({
          name: nameOf(mut.name, ms),
          type: mut.type,
          target: targetOf(mut.target, ms),
          data: mut.type === "file" ? textBytes(mut.data) : undefined,
        });
        break;
      case "remove":
        ms.splice(pick(mut.at), 1);
        break;
      case "data":
        ms[pick(mut.at)].data = textBytes(mut.data);
        break;
      case "mode":
        ms[pick(mut.at)].mode = mut.mode;
        break;
      case "move": {
        const [m] = ms.splice(pick(mut.from), 1);
        ms.splice(mut.to % (ms.length + 1), 0, m);
        break;
      }
    }
  }
  return ms;
}

// ---- JSON mutations (manifest, records) ----

export type JsonMutation =
  | { op: "set"; path: number; value: unknown }
  | { op: "delete"; path: number }
  | { op: "add"; path: number; key: string; value: unknown };

export const jsonMutation: fc.Arbitrary<JsonMutation> = fc.oneof(
  {
    arbitrary: fc.record({ op: fc.constant("set" as const), path: fc.nat(), value: hostileJson }),
    weight: 4,
  },
  { arbitrary: fc.record({ op: fc.constant("delete" as const), path: fc.nat() }), weight: 1 },
  {
    arbitrary: fc.record({
      op: fc.constant("add" as const),
      path: fc.nat(),
      key: fc.oneof(
        fc.constantFrom("__proto__", "../x", "", "x/../../y", "env/a", "manifest.json", "a\nb"),
        fc.string({ maxLength: 8 }),
      ),
      value: hostileJson,
    }),
    weight: 1,
  },
);

type Json = Record<string, unknown> | unknown[];

/** Every place in a JSON tree: [container, key] pairs, the root's own keys first. */
function places(root: Json): [Json, string | number][] {
  const out: [Json, string | number][] = [];
  const visit = (node: unknown) => {
    if (Array.isArray(node)) {
      node.forEach((v, i) => {
        out.push([node, i]);
        visit(v);
      });
    } else if (node && typeof node === "object") {
      for (const k of Object.keys(node)) {
        out.push([node as Record<string, unknown>, k]);
        visit((node as Record<string, unknown>)[k]);
      }
    }
  };
  visit(root);
  return out;
}

/** Applies `muts` to a deep copy of `value` (JSON round trip; `__proto__` stays a key). */
export function applyJson<T>(value: T, muts: JsonMutation[]): T {
  const root = JSON.parse(JSON.stringify(value)) as Json;
  for (const mut of muts) {
    const all = places(root);
    if (all.length === 0) continue;
    const [node, key] = all[mut.path % all.length];
    const val = JSON.parse(JSON.stringify(mut.op === "delete" ? null : mut.value ?? null));
    if (mut.op === "set") (node as Record<string | number, unknown>)[key] = val;
    else if (mut.op === "delete") {
      if (Array.isArray(node)) node.splice(key as number, 1);
      else delete (node as Record<string, unknown>)[key as string];
    } else {
      const target = (node as Record<string | number, unknown>)[key];
      if (target && typeof target === "object" && !Array.isArray(target)) {
        Object.defineProperty(target, mut.key, {
          value: val,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else if (Array.isArray(target)) target.push(val);
    }
  }
  return root as T;
}

// ---- JSON text mutations ----

export type TextMutation =
  | { op: "number"; nth: number; raw: string }
  | { op: "dupkey"; key: string; value: string }
  | { op: "truncate"; at: number }
  | { op: "bom" }
  | { op: "trailing"; text: string };

export const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({
    op: fc.constant("number" as const),
    nth: fc.nat(),
    raw: fc.constantFrom(
      "1e999",
      "-1e999",
      "-0",
      "1e-400",
      "123456789012345678901234567890",
      "0.5",
    ),
  }),
  fc.record({
    op: fc.constant("dupkey" as const),
    key: fc.constantFrom("format", "format_version", "members", "image", "id", "environment"),
    value: fc.constantFrom('"x"', "null", "2", "{}", "[]", '"venvoy-archive"'),
  }),
  fc.record({
    op: fc.constant("truncate" as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
  }),
  fc.constant({ op: "bom" as const }),
  fc.record({ op: fc.constant("trailing" as const), text: fc.constantFrom("x", "{}", "\0", " ") }),
);

export function applyText(text: string, mut: TextMutation | null): string {
  if (!mut) return text;
  switch (mut.op) {
    case "number": {
      const nums = [...text.matchAll(/(?<=":\s*)-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/g)];
      if (nums.length === 0) return text;
      const m = nums[mut.nth % nums.length];
      return text.slice(0, m.index) + mut.raw + text.slice(m.index! + m[0].length);
    }
    case "dupkey": {
      const end = text.lastIndexOf("}");
      return `${text.slice(0, end)},"${mut.key}":${mut.value}${text.slice(end)}`;
    }
    case "truncate":
      return text.slice(0, Math.floor(text.length * mut.at));
    case "bom":
      return "\uFEFF" + text;
    case "trailing":
      return text + mut.text;
  }
}

// ---- tar header mutations ----

const FIELDS = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  size: [124, 12],
  mtime: [136, 12],
  checksum: [148, 8],
  typeflag: [156, 1],
  linkname: [157, 100],
  magic: [257, 6],
  version: [263, 2],
  prefix: [345, 155],
} as const;
type Field = keyof typeof FIELDS;

const FIELD_VALUES: string[] = [
  "",
  "0",
  "-1",
  " 1",
  "0x10",
  "8",
  "99999999999",
  "77777777777",
  "7777777",
  "00000001000",
  "\x80\0\0\0\0\0\0\0\0\0\x10\0",
  "\x80\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
  "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
  "ustar",
  "ustar ",
  "ustar\0",
  "00",
  "0",
  "1",
  "2",
  "3",
  "4",
  "5",
  "6",
  "7",
  "x",
  "g",
  "L",
  "K",
  "S",
  "V",
  "D",
  "M",
  "N",
  "\0",
  "../../etc",
  "/etc/passwd",
  "..",
  "env",
  "manifest.json",
  "a\\b",
];

export interface HeaderMutation {
  at: number;
  /** The main ustar block, or the first block (a PAX header, when there is one). */
  block: "main" | "first";
  field: Field;
  value: string | number[];
  fixChecksum: boolean;
}

export const headerMutation: fc.Arbitrary<HeaderMutation> = fc.record({
  at: fc.nat(),
  block: fc.constantFrom("main" as const, "main" as const, "first" as const),
  field: fc.constantFrom(...(Object.keys(FIELDS) as Field[])),
  value: fc.oneof(
    { arbitrary: fc.constantFrom(...FIELD_VALUES), weight: 4 },
    { arbitrary: fc.array(fc.nat(255), { maxLength: 12 }), weight: 1 },
  ),
  fixChecksum: fc.oneof(
    { arbitrary: fc.constant(true), weight: 5 },
    { arbitrary: fc.constant(false), weight: 1 },
  ),
});

function latin1(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
}

// ---- PAX and GNU long-name insertions ----

export interface MetaInsertion {
  at: number;
  kind: "pax" | "pax-global" | "gnu-longname" | "gnu-longlink";
  records: { key: string; value: string }[];
  /**
   * The first PAX record's length field: a lie (a number), or the right length written
   * oddly ("+", " ", "0" before it, letters after it), instead of the right one.
   */
  bogusLength: number | "plus" | "space" | "zero" | "suffix" | null;
}

const PAX_VALUES = [
  "",
  "0",
  "-1",
  "1e3",
  "0x10",
  " 5",
  "12abc",
  "99999999999999999999",
  "9007199254740993",
  "513",
  "../../../etc/passwd",
  "/etc/passwd",
  "env",
  "..",
  "a\0b",
  "manifest.json",
  "env/config.yaml",
];

export const metaInsertion: fc.Arbitrary<MetaInsertion> = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom(
    "pax" as const,
    "pax" as const,
    "pax-global" as const,
    "gnu-longname" as const,
    "gnu-longlink" as const,
  ),
  records: fc.array(
    fc.record({
      key: fc.constantFrom(
        "path",
        "path",
        "linkpath",
        "size",
        "size",
        "mtime",
        "uid",
        "comment",
        "hdrcharset",
        "GNU.sparse.major",
        "GNU.sparse.name",
        "GNU.sparse.realsize",
        "",
      ),
      value: fc.oneof(
        { arbitrary: fc.constantFrom(...PAX_VALUES), weight: 4 },
        { arbitrary: fc.string({ maxLength: 20 }), weight: 1 },
      ),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  bogusLength: fc.option(
    fc.oneof(
      fc.integer({ min: -5, max: 2000 }),
      fc.constantFrom("plus" as const, "space" as const, "zero" as const, "suffix" as const),
    ),
    { freq: 3, nil: null },
  ),
});

function paxBody(records: MetaInsertion["records"], bogus: MetaInsertion["bogusLength"]) {
  const parts = records.map(({ key, value }, i) => {
    const body = ` ${key}=${value}\n`;
    const odd = i === 0 && typeof bogus === "string";
    // The right length, spelt oddly (the spelling's own bytes counted in), or a lie.
    const [pre, post] = odd
      ? { plus: ["+", ""], space: [" ", ""], zero: ["0", ""], suffix: ["", "x"] }[bogus]
      : ["", ""];
    const fixed = textBytes(body).length + pre.length + post.length;
    let len = fixed + 1;
    while (String(len).length + fixed !== len) len = String(len).length + fixed;
    if (i === 0 && typeof bogus === "number") return `${bogus}${body}`;
    return `${pre}${len}${post}${body}`;
  });
  return textBytes(parts.join(""));
}

function metaRecord(ins: MetaInsertion): { header: Uint8Array; data: Uint8Array } {
  const body = ins.kind === "pax" || ins.kind === "pax-global"
    ? paxBody(ins.records, ins.bogusLength)
    : textBytes(ins.records.map((r) => r.value).join("") + "\0");
  const header = encodeHeader({ name: "././@LongLink", type: "file", size: body.length });
  header[156] = { "pax": 0x78, "pax-global": 0x67, "gnu-longname": 0x4c, "gnu-longlink": 0x4b }[
    ins.kind
  ];
  fixChecksum(header, 0);
  const data = new Uint8Array(padded(body.length));
  data.set(body);
  return { header, data };
}

// ---- tar stream and gzip mutations ----

const fraction = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });

export type StreamMutation =
  | { op: "truncate"; at: number }
  | { op: "flip"; at: number; bit: number }
  | { op: "overwrite"; at: number; bytes: number[] }
  | { op: "no-end-marker" }
  | { op: "append"; bytes: number[] }
  | { op: "insert-block"; at: number; fill: number };

export const streamMutation: fc.Arbitrary<StreamMutation> = fc.oneof(
  fc.record({ op: fc.constant("truncate" as const), at: fraction }),
  fc.record({ op: fc.constant("flip" as const), at: fraction, bit: fc.nat(7) }),
  fc.record({
    op: fc.constant("overwrite" as const),
    at: fraction,
    bytes: fc.array(fc.nat(255), { minLength: 1, maxLength: 16 }),
  }),
  fc.constant({ op: "no-end-marker" as const }),
  fc.record({
    op: fc.constant("append" as const),
    bytes: fc.array(fc.nat(255), { maxLength: 1100 }),
  }),
  fc.record({ op: fc.constant("insert-block" as const), at: fraction, fill: fc.nat(255) }),
);

export type GzipMutation =
  | { op: "flip"; at: number; bit: number }
  | { op: "truncate"; at: number }
  | { op: "concat"; with: "garbage" | "empty" | "same" | "tar-garbage" }
  | { op: "trailing"; bytes: number[] }
  | { op: "header"; at: number; value: number };

export const gzipMutation: fc.Arbitrary<GzipMutation> = fc.oneof(
  fc.record({ op: fc.constant("flip" as const), at: fraction, bit: fc.nat(7) }),
  fc.record({ op: fc.constant("truncate" as const), at: fraction }),
  fc.record({
    op: fc.constant("concat" as const),
    with: fc.constantFrom(
      "garbage" as const,
      "empty" as const,
      "same" as const,
      "tar-garbage" as const,
    ),
  }),
  fc.record({
    op: fc.constant("trailing" as const),
    bytes: fc.array(fc.nat(255), { minLength: 1, maxLength: 32 }),
  }),
  fc.record({ op: fc.constant("header" as const), at: fc.nat(11), value: fc.nat(255) }),
);

// ---- one whole case ----

export interface ArchiveCase {
  model: ModelMutation[];
  /** Keep the manifest's members table of the unmutated archive. */
  stale: boolean;
  manifest: JsonMutation[];
  manifestText: TextMutation | null;
  headers: HeaderMutation[];
  meta: MetaInsertion[];
  stream: StreamMutation[];
  gzip: GzipMutation[];
}

/** Usually none (weight `weightNone` to 1), else one to `max` mutations of a kind. */
export const few = <T>(arb: fc.Arbitrary<T>, weightNone: number, max = 2) =>
  fc.oneof(
    { arbitrary: fc.constant([] as T[]), weight: weightNone },
    { arbitrary: fc.array(arb, { minLength: 1, maxLength: max }), weight: 1 },
  );

export const archiveCase: fc.Arbitrary<ArchiveCase> = fc.record({
  model: few(modelMutation, 1, 3),
  stale: fc.oneof({ arbitrary: fc.constant(false), weight: 5 }, {
    arbitrary: fc.constant(true),
    weight: 1,
  }),
  manifest: few(jsonMutation, 3),
  manifestText: fc.option(textMutation, { freq: 8, nil: null }),
  headers: few(headerMutation, 4),
  meta: few(metaInsertion, 5),
  stream: few(streamMutation, 8, 1),
  gzip: few(gzipMutation, 8, 1),
});

function at(len: number, f: number): number {
  return Math.min(len - 1, Math.max(0, Math.floor(len * f)));
}

/** The .tar.gz bytes of `members` + `manifest` after every mutation of `c`. */
export function buildArchive(
  members: Member[],
  manifest: Record<string, unknown>,
  c: ArchiveCase,
): Uint8Array {
  const mutated = applyModel(members, c.model);
  const listed = { ...manifest, members: c.stale ? manifest.members : membersTable(mutated) };
  const text = applyText(JSON.stringify(applyJson(listed, c.manifest)), c.manifestText);
  const all = mutated.some((m) => m.name === "manifest.json")
    ? mutated
    : [...mutated, { name: "manifest.json", type: "file" as const, data: textBytes(text) }];
  return gzipMutated(buildTar(all, c), c.gzip);
}

/** The tar stream of `members` after the header, meta and stream mutations of `c`. */
export function buildTar(
  members: Member[],
  c: Pick<ArchiveCase, "headers" | "meta" | "stream">,
): Uint8Array {
  const records = toRecords(members);
  for (const h of records.length ? c.headers : []) {
    const r = records[h.at % records.length];
    const off = h.block === "first" ? 0 : r.header.length - BLOCK;
    const [start, len] = FIELDS[h.field];
    const bytes = typeof h.value === "string" ? latin1(h.value) : Uint8Array.from(h.value);
    r.header.fill(0, off + start, off + start + len);
    r.header.set(bytes.subarray(0, len), off + start);
    if (h.fixChecksum && h.field !== "checksum") fixChecksum(r.header, off);
  }
  for (const m of c.meta) records.splice(m.at % (records.length + 1), 0, metaRecord(m));
  let tar = tarOf(records);
  for (const s of c.stream) {
    switch (s.op) {
      case "truncate":
        tar = tar.slice(0, at(tar.length, s.at));
        break;
      case "flip":
        tar[at(tar.length, s.at)] ^= 1 << s.bit;
        break;
      case "overwrite":
        tar.set(Uint8Array.from(s.bytes).subarray(0, tar.length), at(tar.length - 16, s.at));
        break;
      case "no-end-marker":
        tar = tar.slice(0, tar.length - 2 * BLOCK);
        break;
      case "append":
        tar = concat([tar, Uint8Array.from(s.bytes)]);
        break;
      case "insert-block": {
        const i = Math.floor(at(tar.length, s.at) / BLOCK) * BLOCK;
        tar = concat([tar.subarray(0, i), new Uint8Array(BLOCK).fill(s.fill), tar.subarray(i)]);
        break;
      }
    }
  }
  return tar;
}

function gzipMutated(tar: Uint8Array, muts: GzipMutation[]): Uint8Array {
  let gz = gzip(tar);
  for (const g of muts) {
    switch (g.op) {
      case "flip":
        gz[at(gz.length, g.at)] ^= 1 << g.bit;
        break;
      case "truncate":
        gz = gz.slice(0, at(gz.length, g.at));
        break;
      case "concat": {
        const more = {
          garbage: () => Uint8Array.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8]),
          empty: () => gzip(new Uint8Array(0)),
          same: () => gzip(tar),
          "tar-garbage": () => gzip(new Uint8Array(BLOCK).fill(0x41)),
        }[g.with]();
        gz = concat([gz, more]);
        break;
      }
      case "trailing":
        gz = concat([gz, Uint8Array.from(g.bytes)]);
        break;
      case "header":
        gz[Math.min(g.at, gz.length - 1)] = g.value;
        break;
    }
  }
  return gz;
}
