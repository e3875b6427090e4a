/**
 * An archive as the fuzzer mutates it: a list of members and the manifest object, turned
 * into tar records (header blocks + padded data) so that a mutation can aim at one field
 * of one header, then into a tar stream and a gzip file. Hostile member kinds (devices,
 * FIFOs) can be written too: the reader must refuse them, not the fuzzer.
 */
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import {
  BLOCK,
  decodeHeader,
  encodeHeader,
  headerChecksum,
  isZeroBlock,
  type MemberType,
  padded,
  parsePax,
} from "../../src/archive/tar.ts";
import { tarBytes } from "../unit/archive/craft.ts";

/** The member types an archive can hold (metadata headers are mutations of their own). */
export type MemberKind = Exclude<
  MemberType,
  "pax-header" | "pax-global" | "gnu-longname" | "gnu-longlink" | "other"
>;

export interface Member {
  name: string;
  type: MemberKind;
  data?: Uint8Array;
  target?: string;
  mode?: number;
}

/** One member on the wire: its header blocks (PAX first, if any) and its padded data. */
export interface TarRecord {
  header: Uint8Array;
  data: Uint8Array;
}

const enc = new TextEncoder();

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Reads back a tar that venvoy's own writer (or this module) made: files, folders, links. */
export function parseTar(tar: Uint8Array): Member[] {
  const out: Member[] = [];
  let pos = 0;
  let pax: Record<string, string> = {};
  while (pos + BLOCK <= tar.length) {
    const block = tar.subarray(pos, pos + BLOCK);
    if (isZeroBlock(block)) break;
    const h = decodeHeader(block);
    if (!h) throw new Error(`fuzz fixture: bad tar header at ${pos}`);
    pos += BLOCK;
    const size = pax.size !== undefined ? Number(pax.size) : h.size;
    const body = tar.slice(pos, pos + size);
    pos += padded(size);
    if (h.type === "pax-header") {
      pax = parsePax(body);
      continue;
    }
    const name = pax.path ?? h.name;
    const target = pax.linkpath ?? h.linkname;
    pax = {};
    if (h.type === "file") out.push({ name, type: "file", data: body, mode: h.mode });
    else if (h.type === "directory") out.push({ name, type: "directory" });
    else if (h.type === "symlink" || h.type === "hardlink") {
      out.push({ name, type: h.type, target });
    } else throw new Error(`fuzz fixture: unexpected member type ${h.type}`);
  }
  return out;
}

/** Rewrites the checksum field of the ustar block at `offset` (after a field was changed). */
export function fixChecksum(bytes: Uint8Array, offset: number): void {
  const block = bytes.subarray(offset, offset + BLOCK);
  block.fill(0x20, 148, 156);
  block.set(enc.encode(headerChecksum(block).toString(8).padStart(6, "0") + "\0 "), 148);
}

/** The header (and PAX header) of one member, any kind. */
function headerOf(m: Member): Uint8Array {
  switch (m.type) {
    case "char-device":
    case "block-device":
    case "fifo":
      return tarBytes([{ name: m.name, type: m.type }]).slice(0, BLOCK);
    case "directory":
      return encodeHeader({ name: m.name, type: "directory" });
    case "symlink":
    case "hardlink":
      return encodeHeader({ name: m.name, type: m.type, linkname: m.target ?? "" });
    case "file":
      return encodeHeader({
        name: m.name,
        type: "file",
        size: m.data?.length ?? 0,
        mode: m.mode,
      });
  }
}

export function toRecords(members: Member[]): TarRecord[] {
  return members.map((m) => {
    const data = new Uint8Array(m.type === "file" ? padded(m.data?.length ?? 0) : 0);
    if (m.type === "file" && m.data) data.set(m.data);
    return { header: headerOf(m), data };
  });
}

export function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** The tar stream of `records`, with (or, for a mutation, without) the end marker. */
export function tarOf(records: TarRecord[], endMarker = true): Uint8Array {
  const parts = records.flatMap((r) => [r.header, r.data]);
  if (endMarker) parts.push(new Uint8Array(BLOCK * 2));
  return concat(parts);
}

/** A name as the writer lists it: './', '//' and a trailing '/' dropped (else as it is). */
function listedName(name: string): string {
  return name.split("/").filter((p) => p !== "" && p !== ".").join("/") || name;
}

/**
 * The manifest's members table for `members`, as venvoy's writer would list them (under
 * their normal names, so that 'a/' or './a' in a header is judged against a listed 'a').
 */
export function membersTable(members: Member[]): Record<string, unknown> {
  const table: Record<string, unknown> = {};
  for (const m of members) {
    const name = listedName(m.name);
    if (name === "manifest.json") continue;
    if (m.type === "file") {
      const data = m.data ?? new Uint8Array(0);
      table[name] = { type: "file", size: data.length, sha256: sha256Hex(data) };
    } else if (m.type === "symlink") table[name] = { type: "symlink", target: m.target };
    else if (m.type === "hardlink") {
      const t = members.find((o) => o.name === m.target && o.type === "file");
      if (t) table[name] = membersTable([t])[listedName(t.name)];
    }
  }
  return table;
}

export function gzip(bytes: Uint8Array): Uint8Array {
  return gzipSync(bytes, { level: 1 });
}

export function textBytes(s: string): Uint8Array {
  return enc.encode(s);
}
