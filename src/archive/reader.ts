/**
 * Safe reading of an untrusted .tar.gz (an archive or tarball someone handed over).
 *
 * A first streaming pass reads headers only and writes nothing; a second decompresses,
 * parses and writes regular files into a fresh, locked temporary folder (staging.ts),
 * hashing each member on the way. Nothing is trusted until the whole stream has been read
 * and every member matches manifest.json. The rules:
 *   - gzip and tar framing must be intact (truncation and corruption are refused);
 *   - member names are relative, with no '..', NUL or backslash; no duplicates; no file
 *     and folder of the same name;
 *   - no device files, FIFOs or unknown member types;
 *   - hard links name an earlier regular member, and none is in or into env/; symbolic
 *     links resolve inside the archive (following the archive's other links, as the
 *     kernel would), links under env/ inside env/ (where they will live), and no member
 *     lives below a link; links are created on disk only after everything is verified;
 *   - every member is listed in the manifest with the same size and sha256 (symlinks:
 *     the same target), and every listed member is present; the manifest's image
 *     members name verified regular files;
 *   - sizes: a member is written only when its header size is the declared size, the
 *     total stays within the declared total, and that total must fit in the free space.
 * Files are opened with O_EXCL inside the folder venvoy created, so nothing is ever
 * written outside it; on any refusal the folder is removed. Member names in messages
 * are escaped (printable), so no control character reaches the terminal.
 */
import { createHash, type Hash } from "node:crypto";
import { statfsSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import {
  ArchiveError,
  ChecksumMismatchError,
  CorruptArchiveError,
  DuplicateMemberError,
  ForbiddenMemberTypeError,
  InvalidManifestError,
  MissingManifestError,
  MissingMemberError,
  NameClashError,
  NotAnArchiveError,
  TruncatedArchiveError,
  UnlistedMemberError,
  UnsafeMemberError,
} from "./errors.ts";
import {
  type ArchiveFormat,
  type Manifest,
  MANIFEST_MAX_BYTES,
  MANIFEST_NAME,
  parseManifest,
} from "./manifest.ts";
import { makeOwnedTempDir, removeStaleTempDirs, throwIfSignalled } from "./staging.ts";
import { printable, VenvoyError } from "../ui/errors.ts";
import {
  BLOCK,
  decodeHeader,
  isZeroBlock,
  normalizeMemberPath,
  padded,
  parsePax,
  PATH_MAX,
  paxSize,
} from "./tar.ts";

/** PAX and GNU long-name records are metadata: refuse absurd sizes before buffering. */
const META_MAX_BYTES = 1024 * 1024;
/** Link resolution gives up after this many hops, like the kernel's ELOOP. */
const MAX_LINK_HOPS = 40;

export interface ExtractOptions {
  /** Parent folder for the temporary extraction folder (default: the system temp dir). */
  tmpDir?: string;
  /** Accept only these manifest formats (default: both). */
  formats?: ArchiveFormat[];
  /** Compressed bytes read so far, and the file size. */
  onProgress?: (read: number, total: number) => void;
  /** Free bytes where the folder goes (tests); default: statfs. */
  freeSpace?: (dir: string) => number | null;
}

export interface VerifiedArchive {
  /** The temporary folder holding every verified member. Remove it with cleanup(). */
  dir: string;
  manifest: Manifest;
  /** sha256 of every member as read, keyed by member path (files only). */
  checksums: Record<string, string>;
  cleanup(): Promise<void>;
}

type Seen =
  | { type: "directory" }
  | { type: "file"; size: number; sha256: string }
  | { type: "symlink"; target: string };

const GZIP_MAGIC = [0x1f, 0x8b];

/** True when the file starts with the gzip magic bytes. */
export async function isGzipFile(path: string): Promise<boolean> {
  const head = await readHead(path, 2);
  return head.length === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
}

export async function readHead(path: string, n: number): Promise<Uint8Array> {
  const f = await Deno.open(path);
  try {
    const buf = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const r = await f.read(buf.subarray(got));
      if (r === null) break;
      got += r;
    }
    return buf.subarray(0, got);
  } finally {
    f.close();
  }
}

/**
 * Reads, checks and extracts `file` into a new temporary folder. Throws an ArchiveError
 * subclass (the folder already removed) when anything is wrong.
 *
 * Two passes, because manifest.json comes last in the stream: the first reads headers
 * only and writes nothing, so the manifest's declared sizes are known (and checked
 * against every header, and against the free space) before the second pass writes a
 * byte. The second pass writes each member only when its header size is the declared
 * one, never more than the declared total, and verifies every checksum.
 */
export async function extractVerified(
  file: string,
  options: ExtractOptions = {},
): Promise<VerifiedArchive> {
  const label = `refusing ${printable(basename(file))}`;
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(file);
  } catch (e) {
    throw new ArchiveError(`cannot read ${printable(file)}: ${(e as Error).message}`, {
      hint: "check the path",
    });
  }
  if (!stat.isFile) throw new NotAnArchiveError(`${label}: not a regular file`);
  if (!(await isGzipFile(file))) {
    throw new NotAnArchiveError(`${label}: not a gzip-compressed tar archive`);
  }
  const parent = options.tmpDir ?? tmpdir();
  await removeStaleTempDirs([parent]);
  const owned = await makeOwnedTempDir(parent, ".venvoy-import-");
  const dir = join(owned.dir, "root");
  const cleanup = () => owned.release();
  try {
    const half = (base: number) => (read: number, total: number) =>
      options.onProgress?.(Math.floor(base + read / 2), total);
    const first = await extractInto(file, null, stat.size, {
      ...options,
      onProgress: half(0),
    });
    if (options.formats && !options.formats.includes(first.manifest.format)) {
      throw new NotAnArchiveError(
        `${label}: it is a ${first.manifest.format}, expected ${options.formats.join(" or ")}`,
        { hint: "use `venvoy import FILE`, which recognises every format" },
      );
    }
    const need = declaredTotal(first.manifest, first.manifestText);
    const free = (options.freeSpace ?? freeSpace)(parent);
    if (free !== null && need > free) {
      throw new VenvoyError(
        `not enough free space to import ${printable(basename(file))}: it unpacks to ` +
          `${need} bytes, and ${parent} has ${free} free`,
        {
          hint: "free some space, or set TMPDIR/VENVOY_HOME to a larger disk (nothing was written)",
        },
      );
    }
    await Deno.mkdir(dir);
    const { manifest, checksums } = await extractInto(file, dir, stat.size, {
      ...options,
      onProgress: half(stat.size / 2),
    }, { manifest: first.manifest, text: first.manifestText, budget: need });
    return { dir, manifest, checksums, cleanup };
  } catch (e) {
    await cleanup();
    throwIfSignalled(); // interrupted: whatever failed under it is not the archive's fault
    if (e instanceof ArchiveError && !e.message.startsWith("refusing ")) {
      e.message = `${label}: ${e.message}`;
    }
    throw e;
  }
}

/** Bytes the second pass may write: every declared file, and manifest.json. */
function declaredTotal(manifest: Manifest, manifestText: string): number {
  let n = new TextEncoder().encode(manifestText).length;
  for (const e of Object.values(manifest.members)) if (e.type === "file") n += e.size;
  return n;
}

/** Free bytes for an unprivileged user on the filesystem of `dir`; null when unknown. */
export function freeSpace(dir: string): number | null {
  try {
    const s = statfsSync(dir);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return null;
  }
}

/** What the first pass learnt, which the second pass enforces. */
interface Declared {
  manifest: Manifest;
  text: string;
  /** The most bytes the second pass may write. */
  budget: number;
}

/**
 * One pass over the stream. With `dir` null nothing is written (headers and the manifest
 * only); with `declared`, members are written into `dir` and held to the declared sizes.
 */
async function extractInto(
  file: string,
  dir: string | null,
  total: number,
  options: ExtractOptions,
  declared?: Declared,
): Promise<{ manifest: Manifest; manifestText: string; checksums: Record<string, string> }> {
  const reader = new ByteReader(gunzipStream(file, total, options.onProgress));
  const seen = new Map<string, Seen>();
  /** Every folder a member implies (its ancestors), to refuse file/folder clashes. */
  const dirs = new Set<string>();
  let manifestText: string | null = null;
  let pax: Record<string, string> = {};
  let longName: string | null = null;
  let longLink: string | null = null;
  let headers = 0;
  let written = 0;
  const q = (s: string) => `'${printable(s)}'`;

  for (;;) {
    throwIfSignalled();
    const block = await reader.readExact(BLOCK, { short: true });
    if (block === null || block.length < BLOCK) {
      if (headers === 0) throw new NotAnArchiveError("not a tar archive (too short)");
      throw new TruncatedArchiveError("the tar stream ends before its end-of-archive marker");
    }
    if (isZeroBlock(block)) {
      if (headers === 0) throw new NotAnArchiveError("not a tar archive (empty)");
      break;
    }
    const h = decodeHeader(block);
    if (!h) {
      if (headers === 0) throw new NotAnArchiveError("not a tar archive (no valid tar header)");
      throw new CorruptArchiveError(`tar header checksum mismatch after ${headers} headers`);
    }
    headers++;

    if (h.type === "pax-header" || h.type === "gnu-longname" || h.type === "gnu-longlink") {
      if (h.size > META_MAX_BYTES) throw new CorruptArchiveError("oversized tar metadata header");
      const data = await reader.readExactOrThrow(padded(h.size));
      const body = data.subarray(0, h.size);
      if (h.type === "pax-header") {
        const records = parsePax(body);
        // GNU tar unpacks such a member as a sparse file (its map, its name): other bytes
        // than this reader hashed. venvoy never writes one.
        const sparse = Object.keys(records).find((k) => k.startsWith(GNU_SPARSE));
        if (sparse !== undefined) {
          throw new UnsafeMemberError(
            `a PAX header sets '${
              printable(sparse, 40)
            }' (a GNU sparse file, which venvoy never writes)`,
          );
        }
        pax = { ...pax, ...records };
      } else {
        const text = cString(body);
        if (h.type === "gnu-longname") longName = text;
        else longLink = text;
      }
      continue;
    }
    if (h.type === "pax-global") {
      // venvoy never writes one, and GNU tar applies its records to every later member:
      // one that names, links or sizes members would unpack another archive than this
      // reader verified (for `tar xzf` and restore.sh).
      if (h.size > META_MAX_BYTES) throw new CorruptArchiveError("oversized tar metadata header");
      const data = await reader.readExactOrThrow(padded(h.size));
      const key = Object.keys(parsePax(data.subarray(0, h.size))).find(changesMembers);
      if (key !== undefined) {
        throw new UnsafeMemberError(
          `a global tar header sets '${printable(key, 40)}' for every member after it`,
        );
      }
      continue;
    }

    const rawName = pax.path ?? longName ?? h.name;
    const rawLink = pax.linkpath ?? longLink ?? h.linkname;
    const size = pax.size !== undefined ? paxSize(pax.size) : h.size;
    pax = {};
    longName = longLink = null;
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new CorruptArchiveError(`member ${q(rawName)} has an invalid size`);
    }
    // GNU tar reads no data after a folder or a link, whatever the size says: the bytes
    // this reader would skip as its data are headers and members to tar (a member hidden
    // from verification). venvoy writes size 0 for them.
    if (size !== 0 && (h.type === "directory" || h.type === "symlink" || h.type === "hardlink")) {
      throw new UnsafeMemberError(
        `${h.type} ${q(rawName)} claims ${size} bytes of data, which tar would read as members`,
      );
    }

    if (h.type === "char-device" || h.type === "block-device" || h.type === "fifo") {
      const what = h.type === "fifo" ? "a FIFO" : "a device file";
      throw new ForbiddenMemberTypeError(`member ${q(rawName)} is ${what}`);
    }
    if (h.type === "other") {
      throw new ForbiddenMemberTypeError(
        `member ${q(rawName)} has an unsupported type (tar type flag ${q(h.typeflag)})`,
      );
    }

    // GNU tar makes a folder of any member whose name ends in '/' (or '/.'), whatever its
    // type says.
    if (h.type !== "directory" && /(^|\/)\.?$/.test(rawName)) {
      throw new UnsafeMemberError(`member ${q(rawName)} is a ${h.type} with a folder's name`);
    }
    const path = normalizeMemberPath(rawName);
    if (seen.has(path)) throw new DuplicateMemberError(`member ${q(path)} appears more than once`);
    checkAncestors(path, seen);
    if (h.type !== "directory" && dirs.has(path)) {
      throw new NameClashError(
        `member ${q(path)} is a ${h.type}, but earlier members are inside a folder of that name`,
      );
    }
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join("/"));

    const dest = dir === null ? "" : join(dir, path);
    switch (h.type) {
      case "directory": {
        await reader.skip(padded(size));
        if (dir !== null) await Deno.mkdir(dest, { recursive: true });
        seen.set(path, { type: "directory" });
        break;
      }
      case "symlink": {
        if (rawLink === "") throw new UnsafeMemberError(`symlink ${q(path)} has an empty target`);
        if (new TextEncoder().encode(rawLink).length > PATH_MAX) {
          throw new UnsafeMemberError(`symlink ${q(path)} has a target over ${PATH_MAX} bytes`);
        }
        if (rawLink.startsWith("/") || rawLink.includes("\0")) {
          throw new UnsafeMemberError(
            `symlink ${q(path)} points outside the archive (absolute target ${q(rawLink)})`,
          );
        }
        if (path === ENV_DIR) {
          // env/ is moved into place whole: as a link, its contents would be judged from
          // the wrong place (x/sub/a -> ../../y is inside the archive, not inside env/).
          throw new UnsafeMemberError(`${q(ENV_DIR)} is a symlink; it must be a folder`);
        }
        await reader.skip(padded(size));
        seen.set(path, { type: "symlink", target: rawLink });
        break;
      }
      case "hardlink": {
        let target: string;
        try {
          target = normalizeMemberPath(rawLink, "hardlink target");
        } catch {
          throw new UnsafeMemberError(
            `hardlink ${q(path)} points outside the archive (target ${q(rawLink)})`,
          );
        }
        if (isUnder(path, ENV_DIR) || isUnder(target, ENV_DIR)) {
          throw new UnsafeMemberError(
            `hardlink ${q(path)} -> ${q(target)}: an environment folder holds no hard links`,
          );
        }
        const t = seen.get(target);
        if (!t || t.type !== "file") {
          throw new UnsafeMemberError(
            `hardlink ${q(path)} does not name an earlier regular member (${q(target)})`,
          );
        }
        await reader.skip(padded(size));
        if (dir !== null) {
          await Deno.mkdir(dirname(dest), { recursive: true });
          await Deno.link(join(dir, target), dest);
        }
        seen.set(path, { ...t });
        break;
      }
      case "file": {
        if (path === MANIFEST_NAME) {
          if (size > MANIFEST_MAX_BYTES) {
            throw new CorruptArchiveError("manifest.json is too large");
          }
          const data = await reader.readExactOrThrow(padded(size));
          manifestText = manifestTextOf(data.subarray(0, size));
          if (declared && manifestText !== declared.text) {
            throw new ChecksumMismatchError("manifest.json changed while it was being read");
          }
        } else if (declared) {
          // Held to the declared size before a byte is written: a member whose header is
          // larger than the manifest says is refused here, having written nothing.
          const want = Object.hasOwn(declared.manifest.members, path)
            ? declared.manifest.members[path]
            : undefined;
          if (!want) {
            throw new UnlistedMemberError(`member ${q(path)} is not listed in manifest.json`);
          }
          if (want.type !== "file" || want.size !== size) {
            throw new ChecksumMismatchError(
              `size mismatch: member ${q(path)} holds ${size} bytes, but manifest.json lists ${
                want.type === "file" ? `${want.size} bytes` : `a ${want.type}`
              } (nothing of it was written)`,
            );
          }
        }
        if (dir === null) {
          if (path !== MANIFEST_NAME) await reader.skip(padded(size));
          seen.set(path, { type: "file", size, sha256: "" });
          break;
        }
        written += size;
        if (declared && written > declared.budget) {
          throw new ChecksumMismatchError(
            "the archive holds more bytes than its manifest declares",
          );
        }
        await Deno.mkdir(dirname(dest), { recursive: true });
        const hash = createHash("sha256");
        let out: Deno.FsFile;
        try {
          out = await Deno.open(dest, {
            write: true,
            createNew: true,
            mode: h.mode & 0o111 ? 0o755 : 0o644,
          });
        } catch (e) {
          if (e instanceof Deno.errors.AlreadyExists) {
            throw new NameClashError(`member ${q(path)} clashes with a folder of that name`);
          }
          throw e;
        }
        try {
          if (path === MANIFEST_NAME) {
            const bytes = new TextEncoder().encode(manifestText!);
            hash.update(bytes);
            await writeAll(out, bytes);
          } else {
            await copyData(reader, size, out, hash);
            await reader.skip(padded(size) - size);
          }
        } finally {
          out.close();
        }
        seen.set(path, { type: "file", size, sha256: hash.digest("hex") });
        break;
      }
    }
  }
  // Drain whatever follows the end marker so a damaged gzip trailer is still noticed.
  await reader.drain();

  if (manifestText === null) {
    throw new MissingManifestError("it has no manifest.json, so it is not a venvoy archive");
  }
  const manifest = declared?.manifest ?? parseManifest(manifestText, "archive");
  const checksums: Record<string, string> = {};
  const links = new Map<string, string>();
  for (const [path, s] of seen) if (s.type === "symlink") links.set(path, s.target);
  for (const [path, target] of links) {
    if (dirs.has(path)) {
      throw new UnsafeMemberError(`member below the symlink ${q(path)}`);
    }
    // env/ becomes the environment folder: its links are judged from there, so none may
    // climb out of env/ (into another environment, once moved).
    const floor = isUnder(path, ENV_DIR) ? 1 : 0;
    if (!resolvesInside(path, target, links, floor)) {
      throw new UnsafeMemberError(
        floor
          ? `symlink ${q(path)} points outside the environment folder (${q(target)})`
          : `symlink ${q(path)} points outside the archive (${q(target)})`,
      );
    }
  }
  for (const [path, s] of seen) {
    if (s.type === "directory" || path === MANIFEST_NAME) continue;
    const want = Object.hasOwn(manifest.members, path) ? manifest.members[path] : undefined;
    if (!want) throw new UnlistedMemberError(`member ${q(path)} is not listed in manifest.json`);
    if (want.type !== s.type) {
      throw new ChecksumMismatchError(
        `member ${q(path)} is a ${s.type}, but manifest.json lists a ${want.type}`,
      );
    }
    if (s.type === "file" && want.type === "file") {
      if (s.size !== want.size || (dir !== null && s.sha256 !== want.sha256)) {
        throw new ChecksumMismatchError(
          dir === null
            ? `size mismatch: member ${
              q(path)
            } holds ${s.size} bytes, but manifest.json lists ${want.size} bytes`
            : `checksum mismatch for ${
              q(path)
            }: manifest.json says sha256 ${want.sha256} (${want.size} bytes), the member has ${s.sha256} (${s.size} bytes)`,
        );
      }
      checksums[path] = s.sha256;
    }
    if (s.type === "symlink" && want.type === "symlink" && s.target !== want.target) {
      throw new ChecksumMismatchError(
        `symlink ${q(path)} points to ${q(s.target)}, but manifest.json says ${q(want.target)}`,
      );
    }
  }
  for (const name of Object.keys(manifest.members)) {
    if (!seen.has(name)) {
      throw new MissingMemberError(`manifest.json lists ${q(name)}, which the archive lacks`);
    }
  }
  for (
    const [role, member] of [["image.docker_archive", manifest.image?.docker_archive], [
      "image.sif",
      manifest.image?.sif,
    ]] as const
  ) {
    // The image is loaded from here: it must be one of the verified regular files.
    if (member === null || member === undefined) continue;
    const s = typeof member === "string" ? seen.get(member) : undefined;
    if (!s || s.type !== "file" || isUnder(member as string, ENV_DIR)) {
      throw new UnsafeMemberError(
        `manifest.json's ${role} ${q(String(member))} is not a verified file of the archive`,
      );
    }
  }
  // Verified: only now do links appear on disk (each resolves inside the folder).
  if (dir !== null) {
    for (const [path, target] of links) {
      await Deno.mkdir(dirname(join(dir, path)), { recursive: true });
      await Deno.symlink(target, join(dir, path));
    }
  }
  return { manifest, manifestText, checksums };
}

/**
 * manifest.json's text, byte for byte: a BOM is kept (JSON.parse refuses it) and bytes
 * that are not UTF-8 are refused, so the file written is the file verified.
 */
function manifestTextOf(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new InvalidManifestError("manifest.json is not UTF-8 text");
  }
}

/** PAX keys that change which member a header is, or its data (GNU sparse files). */
function changesMembers(key: string): boolean {
  return ["path", "linkpath", "size"].includes(key) || key.startsWith(GNU_SPARSE);
}

const GNU_SPARSE = "GNU.sparse.";

/** The folder that becomes the environment folder on import. */
const ENV_DIR = "env";

function isUnder(path: string, top: string): boolean {
  return path === top || path.startsWith(top + "/");
}

/** No member may live below a symlink or a regular file. */
function checkAncestors(path: string, seen: Map<string, Seen>): void {
  const parts = path.split("/");
  for (let i = 1; i < parts.length; i++) {
    const prefix = parts.slice(0, i).join("/");
    const s = seen.get(prefix);
    if (s && s.type !== "directory") {
      throw new UnsafeMemberError(
        `member '${printable(path)}' lies below the ${s.type} '${printable(prefix)}'`,
      );
    }
  }
}

/**
 * Resolves a link's target the way the kernel would inside the extraction folder, where
 * the archive's own links are the only links: false when it climbs above the root (or
 * above its first `floor` path parts, e.g. 1 for env/) or loops.
 */
export function resolvesInside(
  linkPath: string,
  target: string,
  links: ReadonlyMap<string, string>,
  floor = 0,
): boolean {
  let hops = 0;
  const walk = (base: string[], rel: string): string[] | null => {
    if (rel.startsWith("/")) return null;
    const stack = [...base];
    for (const part of rel.split("/")) {
      if (part === "" || part === ".") continue;
      if (part === "..") {
        if (stack.length <= floor) return null;
        stack.pop();
        continue;
      }
      stack.push(part);
      const next = links.get(stack.join("/"));
      if (next !== undefined) {
        if (++hops > MAX_LINK_HOPS) return null;
        stack.pop();
        const resolved = walk(stack, next);
        if (resolved === null) return null;
        stack.splice(0, stack.length, ...resolved);
      }
    }
    return stack;
  };
  return walk(linkPath.split("/").slice(0, -1), target) !== null;
}

function cString(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  return new TextDecoder().decode(nul === -1 ? bytes : bytes.subarray(0, nul));
}

async function writeAll(f: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await f.write(bytes.subarray(off));
}

async function copyData(reader: ByteReader, size: number, out: Deno.FsFile, hash: Hash) {
  for await (const chunk of reader.take(size)) {
    hash.update(chunk);
    await writeAll(out, chunk);
  }
}

/** Decompressed chunks of `file`; gzip errors become typed archive errors. */
async function* gunzipStream(
  file: string,
  total: number,
  onProgress?: (read: number, total: number) => void,
): AsyncGenerator<Uint8Array> {
  const f = await Deno.open(file);
  let read = 0;
  const counted = f.readable.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctl) {
        read += chunk.length;
        onProgress?.(read, total);
        ctl.enqueue(chunk);
      },
    }),
  );
  // deno-lint-ignore no-explicit-any
  const source = Readable.fromWeb(counted as any);
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  source.on("error", (e) => gunzip.destroy(e));
  source.pipe(gunzip);
  try {
    for await (const chunk of gunzip) yield chunk as Uint8Array;
  } catch (e) {
    if (e instanceof ArchiveError) throw e;
    const err = e as Error & { code?: string };
    if (err.code === "Z_BUF_ERROR" || /unexpected end of file/i.test(err.message)) {
      throw new TruncatedArchiveError("the gzip stream is truncated (unexpected end of file)");
    }
    throw new CorruptArchiveError(`the gzip stream is corrupt (${err.message})`);
  } finally {
    source.destroy();
    gunzip.destroy();
  }
}

/** Pull-style access to a stream of chunks: exact reads, skips and bounded sub-streams. */
class ByteReader {
  #it: AsyncIterator<Uint8Array>;
  #buf: Uint8Array = new Uint8Array(0);
  #done = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#it = source[Symbol.asyncIterator]();
  }

  async #fill(): Promise<boolean> {
    while (this.#buf.length === 0) {
      if (this.#done) return false;
      const r = await this.#it.next();
      if (r.done) {
        this.#done = true;
        return false;
      }
      this.#buf = r.value;
    }
    return true;
  }

  /**
   * Exactly n bytes; null at a clean end (no byte read); a truncation error otherwise, or
   * with `short` the bytes there were.
   */
  async readExact(n: number, options: { short?: boolean } = {}): Promise<Uint8Array | null> {
    const out = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      if (!(await this.#fill())) {
        if (got === 0) return null;
        if (options.short) return out.subarray(0, got);
        throw new TruncatedArchiveError("the tar stream ends in the middle of a member");
      }
      const take = Math.min(n - got, this.#buf.length);
      out.set(this.#buf.subarray(0, take), got);
      this.#buf = this.#buf.subarray(take);
      got += take;
    }
    return out;
  }

  async readExactOrThrow(n: number): Promise<Uint8Array> {
    const r = await this.readExact(n);
    if (r === null && n > 0) {
      throw new TruncatedArchiveError("the tar stream ends in the middle of a member");
    }
    return r ?? new Uint8Array(0);
  }

  async *take(n: number): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      throwIfSignalled(); // a hang-up stops a large member within one chunk
      if (!(await this.#fill())) {
        throw new TruncatedArchiveError("the tar stream ends in the middle of a member");
      }
      const take = Math.min(left, this.#buf.length);
      const chunk = this.#buf.subarray(0, take);
      this.#buf = this.#buf.subarray(take);
      left -= take;
      yield chunk;
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.take(n)) { /* discard */ }
  }

  async drain(): Promise<void> {
    this.#buf = new Uint8Array(0);
    while (await this.#fill()) this.#buf = new Uint8Array(0);
  }
}
