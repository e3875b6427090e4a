/**
 * Builds .tar.gz files byte by byte for tests, including the hostile ones venvoy's own
 * writer refuses to produce (traversal, devices, duplicates, links leaving the archive).
 */
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { BLOCK, encodeHeader, headerChecksum, padded } from "../../../src/archive/tar.ts";

export type Crafted =
  | { name: string; type?: "file"; data?: string; mode?: number }
  | { name: string; type: "directory" }
  | { name: string; type: "symlink" | "hardlink"; target: string }
  | { name: string; type: "char-device" | "block-device" | "fifo" };

const enc = new TextEncoder();

function rawHeader(c: Crafted): Uint8Array {
  switch (c.type) {
    case "char-device":
    case "block-device":
    case "fifo": {
      const block = encodeHeader({ name: c.name, type: "file", size: 0 }).slice(-BLOCK);
      block[156] = { "char-device": 0x33, "block-device": 0x34, "fifo": 0x36 }[c.type];
      block.fill(0x20, 148, 156);
      const sum = headerChecksum(block).toString(8).padStart(6, "0");
      block.set(enc.encode(sum + "\0 "), 148);
      return block;
    }
    case "directory":
      return encodeHeader({ name: c.name, type: "directory" });
    case "symlink":
    case "hardlink":
      return encodeHeader({ name: c.name, type: c.type, linkname: c.target });
    default: {
      const size = enc.encode(c.data ?? "").length;
      return encodeHeader({ name: c.name, type: "file", size, mode: c.mode });
    }
  }
}

/** The raw (uncompressed) tar bytes, with the two-block end marker. */
export function tarBytes(members: Crafted[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const m of members) {
    parts.push(rawHeader(m));
    if ((m.type ?? "file") === "file") {
      const data = enc.encode((m as { data?: string }).data ?? "");
      const block = new Uint8Array(padded(data.length));
      block.set(data);
      parts.push(block);
    }
  }
  parts.push(new Uint8Array(BLOCK * 2));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function sha256(text: string): string {
  return createHash("sha256").update(enc.encode(text)).digest("hex");
}

/** A manifest listing these members (files with their real checksums, links with targets). */
export function manifestFor(members: Crafted[], extra: Record<string, unknown> = {}) {
  const entries: Record<string, unknown> = {};
  for (const m of members) {
    if ((m.type ?? "file") === "file") {
      const data = (m as { data?: string }).data ?? "";
      entries[m.name] = { type: "file", size: enc.encode(data).length, sha256: sha256(data) };
    } else if (m.type === "symlink") entries[m.name] = { type: "symlink", target: m.target };
  }
  return {
    format: "venvoy-archive",
    format_version: 1,
    venvoy_version: "0.0.0-test",
    created: "2025-01-01T00:00:00Z",
    engine: "podman",
    environment: { name: "t", runtime: "python" },
    host: { system: "linux", architecture: "x86_64" },
    image: {
      tag: null,
      id: null,
      architecture: null,
      os: null,
      base: null,
      docker_archive: null,
      sif: null,
    },
    packages: { python: [], conda: [], r: [], os: [] },
    members: entries,
    ...extra,
  };
}

/** manifest.json's `image` for an archive whose image.tar holds image `id`. */
export function dockerArchiveImage(id: string) {
  return {
    tag: null,
    id,
    architecture: null,
    os: null,
    base: null,
    docker_archive: "image.tar",
    sif: null,
  };
}

/** Members + manifest.json (computed over `listed`, default all members) as .tar.gz bytes. */
export function craftArchive(
  members: Crafted[],
  options: { listed?: Crafted[]; manifest?: unknown | null } = {},
): Uint8Array {
  const all = [...members];
  if (options.manifest !== null) {
    const manifest = options.manifest ?? manifestFor(options.listed ?? members);
    all.push({ name: "manifest.json", data: JSON.stringify(manifest) });
  }
  return gzipSync(tarBytes(all));
}
