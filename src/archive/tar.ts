/**
 * The tar format, pure functions only: POSIX ustar headers with PAX extended headers for
 * long names and sizes of 8 GiB and more (read by GNU tar, bsdtar, docker and podman),
 * and member path rules. The streaming reader and writer build on these.
 */
import { printable } from "../ui/errors.ts";
import { CorruptArchiveError, UnsafeMemberError } from "./errors.ts";

export const BLOCK = 512;

export type MemberType =
  | "file"
  | "directory"
  | "symlink"
  | "hardlink"
  | "char-device"
  | "block-device"
  | "fifo"
  | "pax-header"
  | "pax-global"
  | "gnu-longname"
  | "gnu-longlink"
  | "other";

export interface RawHeader {
  name: string;
  mode: number;
  size: number;
  mtime: number;
  type: MemberType;
  typeflag: string;
  linkname: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: false });

const TYPEFLAGS: Record<string, MemberType> = {
  "0": "file",
  "\0": "file",
  "7": "file",
  "5": "directory",
  "2": "symlink",
  "1": "hardlink",
  "3": "char-device",
  "4": "block-device",
  "6": "fifo",
  "x": "pax-header",
  "g": "pax-global",
  "L": "gnu-longname",
  "K": "gnu-longlink",
};

/** Largest size the 11 octal digits of a ustar header hold (8 GiB - 1). */
const USTAR_MAX_SIZE = 0o77777777777;

function cString(buf: Uint8Array, offset: number, length: number): string {
  const field = buf.subarray(offset, offset + length);
  const nul = field.indexOf(0);
  return dec.decode(nul === -1 ? field : field.subarray(0, nul));
}

/** Octal (ustar) or base-256 (GNU, first byte 0x80) number field. */
export function parseNumber(buf: Uint8Array, offset: number, length: number): number {
  const field = buf.subarray(offset, offset + length);
  if (field[0] & 0x80) {
    if (field[0] === 0xff) throw new CorruptArchiveError("negative number in a tar header");
    let n = field[0] & 0x7f;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i];
    if (!Number.isSafeInteger(n)) throw new CorruptArchiveError("number too large in a tar header");
    return n;
  }
  const text = cString(buf, offset, length).trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) {
    throw new CorruptArchiveError(`invalid number '${text}' in a tar header`);
  }
  return Number.parseInt(text, 8);
}

export function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** The header checksum: the sum of all bytes with the checksum field read as spaces. */
export function headerChecksum(block: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i];
  return sum;
}

/** Decodes one 512-byte header; null when its checksum is wrong (not a tar header). */
export function decodeHeader(block: Uint8Array): RawHeader | null {
  const stored = cString(block, 148, 8).trim();
  if (!/^[0-7]+$/.test(stored) || Number.parseInt(stored, 8) !== headerChecksum(block)) {
    return null;
  }
  const typeflag = String.fromCharCode(block[156]);
  let name = cString(block, 0, 100);
  const magic = cString(block, 257, 6);
  if (magic === "ustar" || magic === "ustar ") {
    const prefix = magic === "ustar" ? cString(block, 345, 155) : "";
    if (prefix) name = `${prefix}/${name}`;
  }
  return {
    name,
    mode: parseNumber(block, 100, 8),
    size: parseNumber(block, 124, 12),
    mtime: parseNumber(block, 136, 12),
    type: TYPEFLAGS[typeflag] ?? "other",
    typeflag,
    linkname: cString(block, 157, 100),
  };
}

/** PAX extended header records: "<len> <key>=<value>\n" repeated. */
export function parsePax(data: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) break;
    const space = data.indexOf(0x20, pos);
    if (space === -1) throw new CorruptArchiveError("malformed PAX header");
    // Digits only, as GNU tar reads them: parseInt would take '+30' and '30x' as 30, where
    // tar refuses the record and so unpacks the member under its ustar name instead.
    const lenText = dec.decode(data.subarray(pos, space));
    const len = /^\d{1,16}$/.test(lenText) ? Number(lenText) : NaN;
    if (!Number.isSafeInteger(len) || len <= space - pos || pos + len > data.length) {
      throw new CorruptArchiveError("malformed PAX header record");
    }
    // Its last byte is the newline (GNU tar refuses the record otherwise; this reader
    // dropped whatever byte stood there).
    if (data[pos + len - 1] !== 0x0a) throw new CorruptArchiveError("malformed PAX header record");
    const record = dec.decode(data.subarray(space + 1, pos + len - 1));
    const eq = record.indexOf("=");
    if (eq <= 0) throw new CorruptArchiveError("malformed PAX header record");
    out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}

/**
 * The value of a PAX `size` record: decimal digits only, as POSIX writes it and GNU tar
 * reads it. ' 5', '0x10', '1e3', '' or '-1' would be read by Number() as sizes that GNU
 * tar refuses (or, negative, as no size at all).
 */
export function paxSize(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new CorruptArchiveError(`invalid size '${printable(value, 40)}' in a PAX header`);
  }
  return n;
}

export interface HeaderFields {
  name: string;
  type: "file" | "directory" | "symlink" | "hardlink";
  size?: number;
  mode?: number;
  mtime?: number;
  linkname?: string;
}

const FLAG_OF: Record<HeaderFields["type"], string> = {
  file: "0",
  directory: "5",
  symlink: "2",
  hardlink: "1",
};

function fitsAscii(s: string, max: number): boolean {
  return enc.encode(s).length <= max && /^[\x20-\x7e]*$/.test(s);
}

function writeString(block: Uint8Array, offset: number, length: number, s: string): void {
  block.set(enc.encode(s).subarray(0, length), offset);
}

function writeOctal(block: Uint8Array, offset: number, length: number, n: number): void {
  writeString(block, offset, length, n.toString(8).padStart(length - 1, "0") + "\0");
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = enc.encode(body).length;
  let len = bodyLen + 1;
  while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
  return `${len}${body}`;
}

function ustarBlock(f: HeaderFields, name: string, linkname: string, size: number): Uint8Array {
  const block = new Uint8Array(BLOCK);
  writeString(block, 0, 100, name);
  writeOctal(block, 100, 8, f.mode ?? (f.type === "directory" ? 0o755 : 0o644));
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, size);
  writeOctal(block, 136, 12, Math.max(0, Math.floor(f.mtime ?? 0)));
  block[156] = FLAG_OF[f.type].charCodeAt(0);
  writeString(block, 157, 100, linkname);
  writeString(block, 257, 6, "ustar\0");
  writeString(block, 263, 2, "00");
  writeString(block, 265, 32, "root");
  writeString(block, 297, 32, "root");
  writeString(block, 148, 8, headerChecksum(block).toString(8).padStart(6, "0") + "\0 ");
  return block;
}

/**
 * The header blocks for one member: a PAX header first when the name, link target or
 * size does not fit ustar. Data and its padding follow, written by the caller.
 */
export function encodeHeader(f: HeaderFields): Uint8Array {
  const size = f.type === "file" ? f.size ?? 0 : 0;
  const linkname = f.linkname ?? "";
  const pax: string[] = [];
  if (!fitsAscii(f.name, 100)) pax.push(paxRecord("path", f.name));
  if (!fitsAscii(linkname, 100)) pax.push(paxRecord("linkpath", linkname));
  if (size > USTAR_MAX_SIZE) pax.push(paxRecord("size", String(size)));
  const main = ustarBlock(
    f,
    fitsAscii(f.name, 100) ? f.name : asciiStub(f.name),
    fitsAscii(linkname, 100) ? linkname : asciiStub(linkname),
    size > USTAR_MAX_SIZE ? 0 : size,
  );
  if (pax.length === 0) return main;
  const body = enc.encode(pax.join(""));
  const paxHeader = ustarBlock(
    { name: "", type: "file", mode: 0o644 },
    `PaxHeaders/${asciiStub(f.name).slice(0, 80)}`,
    "",
    body.length,
  );
  paxHeader[156] = "x".charCodeAt(0);
  paxHeader.fill(0, 148, 156);
  writeString(paxHeader, 148, 8, headerChecksum(paxHeader).toString(8).padStart(6, "0") + "\0 ");
  const out = new Uint8Array(BLOCK + padded(body.length) + BLOCK);
  out.set(paxHeader, 0);
  out.set(body, BLOCK);
  out.set(main, BLOCK + padded(body.length));
  return out;
}

function asciiStub(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, "_").slice(-99);
}

/** Size rounded up to whole 512-byte blocks. */
export function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

/**
 * A member name as venvoy stores it: relative, '/'-separated, without '.' parts. Throws
 * UnsafeMemberError for absolute paths, '..', backslashes, NUL, empty names, and names
 * longer than the file system takes (NAME_MAX, PATH_MAX).
 */
export function normalizeMemberPath(raw: string, what = "member"): string {
  if (raw.includes("\0")) throw new UnsafeMemberError(`${what} name contains a NUL byte`);
  const shown = printable(raw);
  if (raw.startsWith("/") || /^[A-Za-z]:/.test(raw)) {
    throw new UnsafeMemberError(`${what} '${shown}' has an absolute path`);
  }
  if (raw.includes("\\")) {
    throw new UnsafeMemberError(`${what} '${shown}' contains a backslash`);
  }
  const parts = raw.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) {
    throw new UnsafeMemberError(`${what} '${shown}' escapes the archive ('..' in its path)`);
  }
  if (parts.length === 0) throw new UnsafeMemberError(`${what} has an empty name`);
  const path = parts.join("/");
  if (parts.some((p) => enc.encode(p).length > NAME_MAX)) {
    throw new UnsafeMemberError(
      `${what} '${printable(path, 80)}' has a name part over ${NAME_MAX} bytes`,
    );
  }
  if (enc.encode(path).length > PATH_MAX) {
    throw new UnsafeMemberError(
      `${what} '${printable(path, 80)}' is longer than ${PATH_MAX} bytes`,
    );
  }
  return path;
}

/**
 * Longest name part and member path venvoy writes or extracts: Linux's NAME_MAX, and
 * PATH_MAX (4096) less room for the folder it is extracted into. Past them the file
 * system refuses the name (ENAMETOOLONG) after the archive was judged safe.
 */
export const NAME_MAX = 255;
export const PATH_MAX = 3072;
