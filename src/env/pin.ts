/**
 * Pinning the base image when it is first resolved: the image ID for local images (IDs
 * survive save/load; local digests do not), the repository digest for registry images.
 */
import type { ContainerRuntime, ImageInfo } from "../runtime/mod.ts";
import { VenvoyError } from "../ui/errors.ts";

export interface Pin {
  /** What config.yaml records as base_image_pinned. */
  pinned: string;
  /** What FROM uses: a bare 64-hex image ID or repo@sha256:…. */
  from: string;
  local: boolean;
}

const HEX64 = /^(sha256:)?[0-9a-f]{64}$/;

/** localhost/…, bare IDs and names without a registry digest are local images. */
export function isLocalRef(ref: string): boolean {
  return ref.startsWith("localhost/") || HEX64.test(ref);
}

/** "docker.io/library/python" for "python:3.11-slim"; repositories compare on this. */
export function repoOf(ref: string): string {
  let r = ref.split("@")[0];
  const lastSlash = r.lastIndexOf("/");
  const colon = r.lastIndexOf(":");
  if (colon > lastSlash) r = r.slice(0, colon);
  const first = r.split("/")[0];
  const hasRegistry = r.includes("/") &&
    (first.includes(".") || first.includes(":") || first === "localhost");
  if (!hasRegistry) r = `docker.io/${r.includes("/") ? r : `library/${r}`}`;
  return r;
}

export function pinFromInfo(ref: string, info: ImageInfo): Pin {
  const hex = info.id.replace(/^sha256:/, "");
  const byId: Pin = { pinned: `sha256:${hex}`, from: hex, local: true };
  if (isLocalRef(ref)) return byId;
  if (/@sha256:[0-9a-f]{64}$/.test(ref)) return { pinned: ref, from: ref, local: false };
  const repo = repoOf(ref);
  const digest = info.digests.find((d) => repoOf(d) === repo) ??
    info.digests.find((d) => !d.startsWith("localhost/"));
  if (!digest) return byId;
  const sha = digest.slice(digest.indexOf("@") + 1);
  const pinned = `${repo}@${sha}`;
  return { pinned, from: pinned, local: false };
}

/** Pins `ref` on an OCI engine, pulling a registry image if it is not present. */
export async function pinBase(
  builder: ContainerRuntime,
  ref: string,
): Promise<Pin> {
  let info = await builder.inspect(ref);
  if (!info && !isLocalRef(ref)) {
    if (await builder.pull(ref)) info = await builder.inspect(ref);
  }
  if (!info) throw missingBase(ref, builder.binary);
  return pinFromInfo(ref, info);
}

/** A pinned base recorded earlier: it must still be there (pull a digest if not). */
export async function checkPinned(
  builder: ContainerRuntime,
  pinned: string,
): Promise<Pin> {
  const local = HEX64.test(pinned);
  const ref = local ? pinned.replace(/^sha256:/, "") : pinned;
  let info = await builder.inspect(ref);
  if (!info && !local) {
    if (await builder.pull(ref)) info = await builder.inspect(ref);
  }
  if (!info) {
    throw new VenvoyError(`the pinned base image ${pinned} is no longer available`, {
      hint: local
        ? "restore that image (podman load / docker load), or pin a new base: venvoy init --force --base-image IMAGE"
        : "check the registry is reachable, or pin a new base: venvoy init --force --base-image IMAGE",
    });
  }
  return { pinned, from: local ? ref.replace(/^sha256:/, "") : ref, local };
}

export function missingBase(ref: string, binary: string): VenvoyError {
  return new VenvoyError(`base image '${ref}' was not found`, {
    hint: isLocalRef(ref)
      ? `build or load it first (\`${binary} images\` lists what is here), or pass another --base-image`
      : `the registry may be unreachable: \`${binary} pull ${ref}\`, or pass a local --base-image`,
  });
}
