/**
 * The names inside an image.tar (a docker-archive, as `docker save` / `podman save`
 * write it) are the archive author's, not ours: `docker load` and `podman load` apply
 * manifest.json's RepoTags, the legacy `repositories` file and OCI index.json's name
 * annotations, so a crafted image.tar could re-tag any image of the engine (another
 * environment's, or `python:3.11`). Before a load, venvoy removes every such name, in
 * place (the tar is a verified copy in venvoy's own temporary folder), and learns the
 * image ID (the sha256 of the config) so that only venvoy tags the loaded image.
 */
import { createHash } from "node:crypto";
import { printable } from "../ui/errors.ts";
import { ChecksumMismatchError, CorruptArchiveError, UnsafeMemberError } from "./errors.ts";
import { BLOCK, decodeHeader, isZeroBlock, padded, parsePax, paxSize } from "./tar.ts";

interface Member {
  type: string;
  offset: number;
  size: number;
}

/** Name files the engines read, whose names are rewritten. */
const NAME_FILES = ["manifest.json", "repositories", "index.json"] as const;
/** Index annotations that name an image on load (containerd, OCI). */
const NAME_ANNOTATIONS = ["io.containerd.image.name", "org.opencontainers.image.ref.name"];
const MAX_JSON = 16 * 1024 * 1024;

async function readAt(f: Deno.FsFile, offset: number, n: number): Promise<Uint8Array> {
  await f.seek(offset, Deno.SeekMode.Start);
  const buf = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = await f.read(buf.subarray(got));
    if (r === null) throw new CorruptArchiveError("image.tar ends in the middle of a member");
    got += r;
  }
  return buf;
}

/** Every member of an uncompressed tar by name, data offsets only (data is seeked over). */
async function listMembers(f: Deno.FsFile, fileSize: number): Promise<Map<string, Member>> {
  const members = new Map<string, Member>();
  let pos = 0;
  let pax: Record<string, string> = {};
  while (pos + BLOCK <= fileSize) {
    const block = await readAt(f, pos, BLOCK);
    if (isZeroBlock(block)) break;
    const h = decodeHeader(block);
    if (!h) throw new CorruptArchiveError("image.tar has a damaged tar header");
    pos += BLOCK;
    if (h.type === "pax-header") {
      if (h.size > 1024 * 1024) throw new CorruptArchiveError("image.tar: oversized PAX header");
      pax = parsePax(await readAt(f, pos, h.size));
      pos += padded(h.size);
      continue;
    }
    const size = pax.size !== undefined ? paxSize(pax.size) : h.size;
    const name = (pax.path ?? h.name).replace(/^(\.\/)+/, "");
    pax = {};
    if (h.type === "pax-global" || h.type === "gnu-longname" || h.type === "gnu-longlink") {
      pos += padded(size);
      continue;
    }
    if ((NAME_FILES as readonly string[]).includes(name) && members.has(name)) {
      throw new UnsafeMemberError(`image.tar holds '${name}' twice`);
    }
    members.set(name, { type: h.type, offset: pos, size: h.type === "file" ? size : 0 });
    pos += h.type === "file" ? padded(size) : 0;
    if (pos > fileSize) throw new CorruptArchiveError("image.tar ends in the middle of a member");
  }
  return members;
}

/** Overwrites a member's data with `text`, padded with spaces to its exact size. */
async function rewrite(f: Deno.FsFile, m: Member, text: string, what: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > m.size) {
    throw new CorruptArchiveError(`image.tar: ${what} cannot be rewritten without its names`);
  }
  const out = new Uint8Array(m.size).fill(0x20);
  out.set(bytes);
  await f.seek(m.offset, Deno.SeekMode.Start);
  let n = 0;
  while (n < out.length) n += await f.write(out.subarray(n));
}

async function readJson(f: Deno.FsFile, m: Member, what: string): Promise<unknown> {
  if (m.type !== "file") throw new UnsafeMemberError(`image.tar: ${what} is not a regular file`);
  if (m.size > MAX_JSON) throw new CorruptArchiveError(`image.tar: ${what} is too large`);
  try {
    return JSON.parse(new TextDecoder().decode(await readAt(f, m.offset, m.size)));
  } catch (e) {
    if (e instanceof CorruptArchiveError) throw e;
    throw new CorruptArchiveError(`image.tar: ${what} is not valid JSON`);
  }
}

/** The layouts engines write: see stripImageNames. */
export type ImageTarLayout = "docker-archive" | "oci-archive";

export interface ImageTarIdentity {
  /** The config digest, "sha256:<hex>": the one identity that holds across engines. */
  imageId: string;
  /** The image manifest's digest, where the tar carries the manifest blob (OCI layouts). */
  manifestDigest: string | null;
  layout: ImageTarLayout;
  removedNames: string[];
}

const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

async function sha256Of(f: Deno.FsFile, m: Member): Promise<string> {
  return `sha256:${createHash("sha256").update(await readAt(f, m.offset, m.size)).digest("hex")}`;
}

/** The blob `digest` of an OCI layout, its bytes checked against the digest. */
async function blob(
  f: Deno.FsFile,
  members: Map<string, Member>,
  digest: unknown,
  what: string,
): Promise<Member> {
  if (typeof digest !== "string" || !DIGEST_RE.test(digest)) {
    throw new CorruptArchiveError(`image.tar: ${what} has no sha256 digest`);
  }
  const m = members.get(`blobs/sha256/${digest.slice(7)}`);
  if (!m || m.type !== "file") throw new CorruptArchiveError(`image.tar lacks the ${what} blob`);
  if (m.size > MAX_JSON) throw new CorruptArchiveError(`image.tar: the ${what} is too large`);
  if ((await sha256Of(f, m)) !== digest) {
    throw new ChecksumMismatchError(`image.tar: the ${what} blob is not ${digest}`);
  }
  return m;
}

/**
 * Follows index.json (through at most one nested index, as Docker's containerd store writes
 * it) to the one image manifest; returns that manifest's digest and its config's digest.
 */
async function ociIdentity(
  f: Deno.FsFile,
  members: Map<string, Member>,
  index: unknown,
): Promise<{ manifestDigest: string; configDigest: string }> {
  // deno-lint-ignore no-explicit-any
  let list: any = index;
  for (let depth = 0; depth < 3; depth++) {
    const ds = Array.isArray(list?.manifests) ? list.manifests : [];
    if (ds.length !== 1 || typeof ds[0] !== "object" || ds[0] === null) {
      throw new UnsafeMemberError("image.tar must hold exactly one image");
    }
    const d = ds[0];
    const m = await blob(f, members, d.digest, "image manifest");
    const doc = await readJson(f, m, `blob ${String(d.digest)}`);
    // deno-lint-ignore no-explicit-any
    const mt = (doc as any)?.mediaType ?? d.mediaType;
    if (mt === OCI_INDEX || mt === DOCKER_LIST) {
      list = doc;
      continue;
    }
    // deno-lint-ignore no-explicit-any
    const config = (doc as any)?.config?.digest;
    await blob(f, members, config, "image config");
    return { manifestDigest: d.digest, configDigest: config };
  }
  throw new CorruptArchiveError("image.tar: index.json nests indexes too deeply");
}

/**
 * Removes every image name from the image tar at `path` (in place) and returns the ID of the
 * one image it holds. Three layouts are read, each as an engine writes it:
 * - a docker-archive (`podman save`, `docker save` before Docker 25): manifest.json;
 * - Docker 25 and later: an OCI image layout (index.json, blobs/) with manifest.json beside it;
 * - an oci-archive (`podman save --format oci-archive`): index.json and blobs/ alone.
 * Where the tar carries the manifest blobs, each digest on the way is checked. Refuses a tar
 * with no or several images, or whose image ID is not `expectId` (the manifest's), before
 * anything reaches the engine; nothing is rewritten then.
 */
export async function stripImageNames(
  path: string,
  options: { expectId?: string | null } = {},
): Promise<ImageTarIdentity> {
  const f = await Deno.open(path, { read: true, write: true });
  try {
    const size = (await f.stat()).size;
    const members = await listMembers(f, size);
    const mf = members.get("manifest.json");
    const index = members.get("index.json");
    if (!mf && !index) {
      throw new CorruptArchiveError(
        "image.tar has neither manifest.json nor index.json (not a docker- or oci-archive)",
      );
    }
    // deno-lint-ignore no-explicit-any
    const indexData = index ? await readJson(f, index, "index.json") as any : null;
    const removedNames: string[] = [];
    let imageId: string;
    let manifestDigest: string | null = null;
    let entry: Record<string, unknown> | null = null;
    if (mf) {
      const entries = await readJson(f, mf, "manifest.json");
      if (
        !Array.isArray(entries) || entries.length !== 1 || typeof entries[0] !== "object" ||
        entries[0] === null
      ) {
        throw new UnsafeMemberError("image.tar must hold exactly one image");
      }
      const { RepoTags, ...rest } = entries[0] as Record<string, unknown>;
      entry = rest;
      if (Array.isArray(RepoTags)) removedNames.push(...RepoTags.map(String));
      const configName = String(rest.Config ?? "").replace(/^(\.\/)+/, "");
      const config = members.get(configName);
      if (!config || config.type !== "file" || config.size > MAX_JSON) {
        throw new CorruptArchiveError("image.tar's manifest.json names no config file");
      }
      imageId = await sha256Of(f, config);
      if (indexData) {
        const oci = await ociIdentity(f, members, indexData);
        if (oci.configDigest !== imageId) {
          throw new UnsafeMemberError(
            "image.tar: index.json and manifest.json name different images",
          );
        }
        manifestDigest = oci.manifestDigest;
      }
    } else {
      const oci = await ociIdentity(f, members, indexData);
      imageId = oci.configDigest;
      manifestDigest = oci.manifestDigest;
    }
    if (options.expectId && options.expectId !== imageId) {
      throw new ChecksumMismatchError(
        `image.tar holds image ${imageId}, but the archive's manifest says ${
          printable(options.expectId)
        }`,
      );
    }
    if (mf && entry) await rewrite(f, mf, JSON.stringify([entry]), "manifest.json");

    const repos = members.get("repositories");
    if (repos) {
      const data = await readJson(f, repos, "repositories");
      if (data && typeof data === "object") {
        for (const [repo, tags] of Object.entries(data as Record<string, unknown>)) {
          for (const tag of Object.keys((tags as Record<string, unknown>) ?? {})) {
            removedNames.push(`${repo}:${tag}`);
          }
        }
      }
      await rewrite(f, repos, "{}", "repositories");
    }
    if (index) {
      for (const d of Array.isArray(indexData?.manifests) ? indexData.manifests : []) {
        for (const key of NAME_ANNOTATIONS) {
          if (d?.annotations && Object.hasOwn(d.annotations, key)) {
            removedNames.push(String(d.annotations[key]));
            delete d.annotations[key];
          }
        }
      }
      await rewrite(f, index, JSON.stringify(indexData), "index.json");
    }
    return {
      imageId,
      manifestDigest,
      layout: mf ? "docker-archive" : "oci-archive",
      removedNames: [...new Set(removedNames)],
    };
  } finally {
    f.close();
  }
}
