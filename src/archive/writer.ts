/**
 * A streaming .tar.gz writer with bounded memory. Each member's sha256 is computed while
 * its bytes pass through; the output goes to a hidden temporary name in the target folder
 * and is renamed into place by finish(), so an interrupted export never leaves a file that
 * looks complete. The result is a standard gzip'd POSIX tar that `tar xzf` reads.
 */
import { createHash } from "node:crypto";
import { createWriteStream, type WriteStream } from "node:fs";
import { basename, dirname, join } from "node:path";
import { createGzip, type Gzip } from "node:zlib";
import { UsageError, VenvoyError } from "../ui/errors.ts";
import { outputExists, refuseExistingOutput } from "./errors.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import type { MemberEntry } from "./manifest.ts";
import { BLOCK, encodeHeader, normalizeMemberPath, padded } from "./tar.ts";

/** gzip level 1: measured about 6x faster than `gzip -6` here, for about 25% more bytes. */
export const DEFAULT_GZIP_LEVEL = 1;

export interface WriterOptions {
  /** Replace an existing file at the output path. */
  force?: boolean;
  /** gzip level 1..9 (default 1). */
  level?: number;
  /** Modification time stamped on every member (seconds; default now). */
  mtime?: number;
  /** Uncompressed bytes written so far. */
  onProgress?: (written: number) => void;
}

export interface MemberOptions {
  mode?: number;
}

export interface FinishedArchive {
  path: string;
  /** Compressed size in bytes. */
  size: number;
  /** sha256 of the .tar.gz file itself. */
  sha256: string;
}

export class TarGzWriter {
  readonly path: string;
  readonly tmpPath: string;
  #members = new Map<string, MemberEntry>();
  #gzip: Gzip;
  #file: WriteStream;
  #failed: Error | null = null;
  #written = 0;
  #compressed = 0;
  #fileHash = createHash("sha256");
  #options: WriterOptions;
  #closed = false;

  private constructor(path: string, tmpPath: string, options: WriterOptions) {
    this.path = path;
    this.tmpPath = tmpPath;
    this.#options = options;
    this.#gzip = createGzip({ level: options.level ?? DEFAULT_GZIP_LEVEL, chunkSize: 256 * 1024 });
    this.#file = createWriteStream(tmpPath, { flags: "wx", mode: 0o644 });
    const fail = (e: Error) => (this.#failed ??= e);
    this.#gzip.on("error", fail);
    this.#file.on("error", fail);
    this.#gzip.on("data", (chunk: Uint8Array) => {
      this.#compressed += chunk.length;
      this.#fileHash.update(chunk);
    });
    this.#gzip.pipe(this.#file);
  }

  /** Starts an archive at `path`; refuses an existing file unless `force`. */
  static async create(path: string, options: WriterOptions = {}): Promise<TarGzWriter> {
    await refuseExistingOutput(path, options.force);
    const tmp = join(
      dirname(path),
      `.${basename(path)}.partial-${crypto.randomUUID().slice(0, 8)}`,
    );
    return new TarGzWriter(path, tmp, options);
  }

  async #write(bytes: Uint8Array): Promise<void> {
    if (this.#failed) throw this.#wrap(this.#failed);
    this.#written += bytes.length;
    if (!this.#gzip.write(bytes)) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = () => {
          this.#gzip.off("error", onError);
          resolve();
        };
        const onError = (e: Error) => {
          this.#gzip.off("drain", onDrain);
          reject(this.#wrap(e));
        };
        this.#gzip.once("drain", onDrain);
        this.#gzip.once("error", onError);
      });
    }
    this.#options.onProgress?.(this.#written);
  }

  #wrap(e: Error): VenvoyError {
    return new VenvoyError(`cannot write ${this.path}: ${e.message}`, { cause: e });
  }

  #claim(name: string): string {
    // SHA256SUMS is one line per member, and restore.sh checks it with sha256sum -c.
    // deno-lint-ignore no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(name)) {
      throw new UsageError(
        `cannot archive ${
          JSON.stringify(name)
        }: its name contains a line break or control character`,
        { hint: "rename the file, then export again; nothing was written" },
      );
    }
    const path = normalizeMemberPath(name);
    if (path !== name) throw new VenvoyError(`internal: member name '${name}' is not normalized`);
    if (this.#members.has(path)) throw new VenvoyError(`internal: member '${name}' written twice`);
    return path;
  }

  /** What was written so far: member path -> size and sha256 (or link target). */
  get members(): Record<string, MemberEntry> {
    return Object.fromEntries(this.#members);
  }

  #record(path: string, entry: MemberEntry): MemberEntry {
    this.#members.set(path, entry);
    return entry;
  }

  get #mtime(): number {
    return this.#options.mtime ?? Math.floor(Date.now() / 1000);
  }

  /** A member from bytes or text held in memory (small files: manifest, README). */
  async addBytes(name: string, data: Uint8Array | string, options: MemberOptions = {}) {
    const path = this.#claim(name);
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    await this.#write(
      encodeHeader({
        name: path,
        type: "file",
        size: bytes.length,
        mode: options.mode,
        mtime: this.#mtime,
      }),
    );
    await this.#write(bytes);
    await this.#write(new Uint8Array(padded(bytes.length) - bytes.length));
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    return this.#record(path, { type: "file", size: bytes.length, sha256, mode: options.mode });
  }

  /** A member copied from a file, streamed and hashed on the way. */
  async addFile(name: string, source: string, options: MemberOptions = {}): Promise<MemberEntry> {
    const file = await Deno.open(source);
    try {
      const st = await file.stat();
      const mode = options.mode ?? ((st.mode ?? 0o644) & 0o111 ? 0o755 : 0o644);
      const size = st.size;
      return await this.addStream(name, file.readable, { size, mode });
    } finally {
      try {
        file.close();
      } catch { /* the readable closed it */ }
    }
  }

  /**
   * A member from a stream of exactly `size` bytes. A tar header states the size before
   * the data, so a stream of unknown length (a `save` to stdout) is spooled to a temporary
   * file next to the output first: see addSpooled().
   */
  async addStream(
    name: string,
    stream: ReadableStream<Uint8Array>,
    options: MemberOptions & { size: number },
  ): Promise<MemberEntry> {
    const path = this.#claim(name);
    const mode = options.mode ?? 0o644;
    await this.#write(
      encodeHeader({ name: path, type: "file", size: options.size, mode, mtime: this.#mtime }),
    );
    const hash = createHash("sha256");
    let got = 0;
    for await (const chunk of stream) {
      got += chunk.length;
      if (got > options.size) break;
      hash.update(chunk);
      await this.#write(chunk);
    }
    if (got !== options.size) {
      throw new VenvoyError(
        `'${name}' changed while it was being archived (expected ${options.size} bytes, got ${
          got > options.size ? "more" : got
        })`,
        { hint: "run the export again when nothing is writing to the environment" },
      );
    }
    await this.#write(new Uint8Array(padded(got) - got));
    return this.#record(path, { type: "file", size: got, sha256: hash.digest("hex"), mode });
  }

  /** A symbolic link member (a relative target inside the archive). */
  async addSymlink(name: string, target: string): Promise<MemberEntry> {
    const path = this.#claim(name);
    await this.#write(
      encodeHeader({
        name: path,
        type: "symlink",
        linkname: target,
        mode: 0o777,
        mtime: this.#mtime,
      }),
    );
    return this.#record(path, { type: "symlink", target });
  }

  /** Ends the tar and gzip streams, then renames the temporary file into place. */
  async finish(): Promise<FinishedArchive> {
    await this.#write(new Uint8Array(BLOCK * 2));
    await this.#close();
    if (this.#failed) throw this.#wrap(this.#failed);
    await refuseExistingOutput(this.path, this.#options.force);
    await Deno.rename(this.tmpPath, this.path);
    return { path: this.path, size: this.#compressed, sha256: this.#fileHash.digest("hex") };
  }

  /** Stops and removes the temporary file (after a failure or an interrupt). */
  async abort(): Promise<void> {
    await this.#close().catch(() => {});
    await Deno.remove(this.tmpPath).catch(() => {});
  }

  async #close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // A file stream that failed (or closed) already emits nothing more: waiting for it
    // would leave this promise pending for ever.
    if (this.#file.closed || this.#file.destroyed) return;
    await new Promise<void>((resolve) => {
      this.#file.once("close", () => resolve());
      this.#file.once("error", () => resolve());
      this.#gzip.end();
    });
  }
}

/**
 * Copies a stream of unknown length to `path` (bounded memory), returning its size and
 * sha256. Used for `docker save` / `podman save` on stdout, whose size is only known at
 * the end, before the bytes go into the archive with addFile().
 */
export async function spool(
  stream: ReadableStream<Uint8Array>,
  path: string,
  onProgress?: (bytes: number) => void,
): Promise<{ size: number; sha256: string }> {
  const hash = createHash("sha256");
  const file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
  let size = 0;
  try {
    for await (const chunk of stream) {
      hash.update(chunk);
      let off = 0;
      while (off < chunk.length) off += await file.write(chunk.subarray(off));
      size += chunk.length;
      onProgress?.(size);
    }
  } finally {
    file.close();
  }
  return { size, sha256: hash.digest("hex") };
}

/**
 * Writes a small output file the user named (a Dockerfile, environment.yml): refused when
 * it exists unless `force`, written atomically, never over a file that appears meanwhile.
 */
export async function writeOutputFile(
  path: string,
  text: string,
  force?: boolean,
): Promise<{ path: string; size: number; sha256: string }> {
  await refuseExistingOutput(path, force);
  const bytes = new TextEncoder().encode(text);
  await writeFileAtomic(path, bytes, {
    mkdir: false,
    createOnly: !force,
    onExists: () => outputExists(path),
  });
  return { path, size: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
}
