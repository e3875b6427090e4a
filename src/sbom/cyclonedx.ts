/**
 * A CycloneDX 1.5 JSON bill of materials from an environment's facts. Pure: no disk, no
 * clock, no processes, so the same facts always give the same bytes.
 *
 * Determinism: components are sorted by bom-ref, keys are written in a fixed order, there
 * is no metadata.timestamp (the archive manifest records when it was exported), and the
 * serialNumber is a name-based UUID (version 5, SHA-1) of the document's own content, so
 * it changes exactly when the content does.
 */
import type { OsPackage, OsPackages } from "./os.ts";

export const SPEC_VERSION = "1.5";
export const SBOM_FILE = "sbom.cdx.json";
/** The namespace UUID of venvoy's serial numbers (a random constant, fixed forever). */
const SERIAL_NAMESPACE = "5f0c1a9e-6a43-4d1b-9e0d-7c3b2a1f8e64";

export interface SbomPackage {
  name: string;
  version: string;
  /** Where it lives: the image, or persist/ (installed in a session). */
  layer: "image" | "persist";
  /** sha256 hex of its wheels, from requirements.lock (same version only). */
  hashes?: string[];
  /** conda channel. */
  channel?: string;
  /** R: the renv-style source (Repository, GitHub, Base, …). */
  source?: string;
}

export interface SbomInput {
  name: string;
  runtime: string;
  engine: string;
  pythonVersion?: string | null;
  rVersion?: string | null;
  asOf?: string | null;
  /** The environment's image: "sha256:<hex>" (or a SIF's file hash), and its tag or path. */
  imageId: string | null;
  imageRef: string;
  architecture?: string | null;
  /** base_image and base_image_pinned from config.yaml. */
  baseImage: string;
  baseImagePinned: string;
  python: SbomPackage[];
  r: SbomPackage[];
  conda: SbomPackage[];
  os: OsPackages;
  venvoyVersion: string;
}

// deno-lint-ignore no-explicit-any
type Json = any;

/** purl segments: percent-encoded, with `:` kept encoded as the spec asks for versions. */
function enc(s: string): string {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function qualifiers(q: Record<string, string | undefined>): string {
  const parts = Object.entries(q).filter(([, v]) => v).sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${enc(v!)}`);
  return parts.length ? `?${parts.join("&")}` : "";
}

/** PEP 503 name for pkg:pypi (lower case, runs of -_. become -). */
export function pypiPurl(name: string, version: string): string {
  const n = name.trim().replace(/[-_.]+/g, "-").toLowerCase();
  return `pkg:pypi/${enc(n)}@${enc(version)}`;
}

export function cranPurl(name: string, version: string): string {
  return `pkg:cran/${enc(name)}@${enc(version)}`;
}

export function condaPurl(name: string, version: string, channel?: string): string {
  return `pkg:conda/${enc(name.toLowerCase())}@${enc(version)}${qualifiers({ channel })}`;
}

export function osPurl(
  kind: "deb" | "rpm" | "apk",
  p: OsPackage,
  distro: OsPackages["distro"],
): string {
  const ns = enc((distro?.id || "unknown").toLowerCase());
  const d = distro?.id ? `${distro.id}-${distro.versionId}`.replace(/-$/, "") : undefined;
  return `pkg:${kind}/${ns}/${enc(p.name)}@${enc(p.version)}${
    qualifiers({ arch: p.arch, distro: d, epoch: p.epoch })
  }`;
}

/**
 * pkg:oci for an image: `name@sha256%3A<hex>` with repository_url and tag. A local base
 * (pinned by image ID) has no registry digest: its version is the image ID.
 */
export function ociPurl(ref: string, digest: string | null): string {
  const [nameTag, atDigest] = ref.split("@");
  const slash = nameTag.lastIndexOf("/");
  const colon = nameTag.lastIndexOf(":");
  const tag = colon > slash ? nameTag.slice(colon + 1) : undefined;
  const repo = colon > slash ? nameTag.slice(0, colon) : nameTag;
  const last = repo.slice(repo.lastIndexOf("/") + 1).toLowerCase();
  const version = digest ?? atDigest ?? null;
  return `pkg:oci/${enc(last)}${version ? `@${enc(version)}` : ""}${
    qualifiers({ repository_url: repo.includes("/") ? repo : undefined, tag })
  }`;
}

function props(entries: [string, string | null | undefined][]): Json[] | undefined {
  const out = entries.filter(([, v]) => v !== undefined && v !== null && v !== "")
    .map(([name, value]) => ({ name, value: String(value) }));
  return out.length ? out : undefined;
}

function component(c: {
  type: string;
  name: string;
  version?: string;
  purl: string;
  group?: string;
  hashes?: string[];
  properties?: Json[];
  description?: string;
}): Json {
  const o: Json = { "bom-ref": c.purl, type: c.type };
  if (c.group) o.group = c.group;
  o.name = c.name;
  if (c.version) o.version = c.version;
  if (c.description) o.description = c.description;
  if (c.hashes?.length) {
    o.hashes = [...new Set(c.hashes)].sort().map((h) => ({ alg: "SHA-256", content: h }));
  }
  o.purl = c.purl;
  if (c.properties) o.properties = c.properties;
  return o;
}

/** The base image's purl and digest from base_image / base_image_pinned. */
function baseComponent(input: SbomInput): Json {
  const pinned = input.baseImagePinned || input.baseImage;
  const local = /^(sha256:)?[0-9a-f]{64}$/.test(pinned);
  const digest = local
    ? `sha256:${pinned.replace(/^sha256:/, "")}`
    : pinned.includes("@sha256:")
    ? pinned.slice(pinned.indexOf("@") + 1)
    : null;
  const name = local ? input.baseImage : pinned.split("@")[0];
  const purl = ociPurl(local ? input.baseImage : pinned.split("@")[0], digest);
  const short = name.split("@")[0];
  return component({
    type: "container",
    name: short,
    version: digest ?? undefined,
    purl,
    hashes: digest ? [digest.replace(/^sha256:/, "")] : undefined,
    description: "the base image the environment is built FROM",
    properties: props([
      ["venvoy:role", "base-image"],
      ["venvoy:digest_kind", local ? "image-id" : digest ? "registry-digest" : null],
    ]),
  });
}

/** The document, without its serialNumber. */
function document(input: SbomInput): Json {
  const components: Json[] = [];
  for (const p of input.python) {
    components.push(component({
      type: "library",
      name: p.name,
      version: p.version,
      purl: pypiPurl(p.name, p.version),
      hashes: p.hashes,
      properties: props([["venvoy:ecosystem", "python"], ["venvoy:layer", p.layer]]),
    }));
  }
  for (const p of input.r) {
    components.push(component({
      type: "library",
      name: p.name,
      version: p.version,
      purl: cranPurl(p.name, p.version),
      properties: props([
        ["venvoy:ecosystem", "r"],
        ["venvoy:layer", p.layer],
        ["venvoy:r_source", p.source],
      ]),
    }));
  }
  for (const p of input.conda) {
    components.push(component({
      type: "library",
      name: p.name,
      version: p.version,
      purl: condaPurl(p.name, p.version, p.channel),
      properties: props([["venvoy:ecosystem", "conda"], ["venvoy:layer", p.layer]]),
    }));
  }
  const kind = input.os.kind;
  if (kind) {
    for (const p of input.os.packages) {
      components.push(component({
        type: "library",
        name: p.name,
        version: p.epoch ? `${p.epoch}:${p.version}` : p.version,
        purl: osPurl(kind, p, input.os.distro),
        properties: props([["venvoy:ecosystem", `os-${kind}`], ["venvoy:layer", "image"]]),
      }));
    }
  }
  components.push(baseComponent(input));
  // One entry per bom-ref (a package in both the image and persist/ at the same version
  // is one component; persist/ wins, as it does in the environment).
  const byRef = new Map<string, Json>();
  for (const c of components) byRef.set(c["bom-ref"], c);
  const sorted = [...byRef.values()].sort((a, b) =>
    a["bom-ref"] < b["bom-ref"] ? -1 : a["bom-ref"] > b["bom-ref"] ? 1 : 0
  );

  const envPurl = ociPurl(`venvoy-${input.name}`, input.imageId);
  const envComponent = component({
    type: "container",
    name: input.name,
    version: input.imageId ?? undefined,
    purl: envPurl,
    description: `the venvoy environment '${input.name}' (${input.runtime})`,
    properties: props([
      ["venvoy:engine", input.engine],
      ["venvoy:image", input.imageRef],
      ["venvoy:architecture", input.architecture],
      ["venvoy:python_version", input.pythonVersion],
      ["venvoy:r_version", input.rVersion],
      ["venvoy:as_of", input.asOf],
      [
        "venvoy:os_distro",
        input.os.distro ? `${input.os.distro.id} ${input.os.distro.versionId}`.trim() : null,
      ],
    ]),
  });
  return {
    bomFormat: "CycloneDX",
    specVersion: SPEC_VERSION,
    version: 1,
    metadata: {
      tools: {
        components: [{
          type: "application",
          name: "venvoy",
          version: input.venvoyVersion,
          purl: `pkg:generic/venvoy@${enc(input.venvoyVersion)}`,
        }],
      },
      component: envComponent,
    },
    components: sorted,
    dependencies: [
      { ref: envComponent["bom-ref"], dependsOn: sorted.map((c) => c["bom-ref"]) },
    ],
  };
}

/** UUID version 5 (RFC 4122 / 9562): SHA-1 of namespace and name. */
export async function uuidV5(name: string, namespace = SERIAL_NAMESPACE): Promise<string> {
  const ns = namespace.replaceAll("-", "").match(/../g)!.map((h) => parseInt(h, 16));
  const bytes = new Uint8Array([...ns, ...new TextEncoder().encode(name)]);
  const h = new Uint8Array(await crypto.subtle.digest("SHA-1", bytes)).slice(0, 16);
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const hex = [...h].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}

/** The SBOM as an object: the document with its content-derived serialNumber. */
export async function buildSbom(input: SbomInput): Promise<Json> {
  const doc = document(input);
  const serial = `urn:uuid:${await uuidV5(JSON.stringify(doc))}`;
  const { bomFormat, specVersion, ...rest } = doc;
  return { bomFormat, specVersion, serialNumber: serial, ...rest };
}

/** The SBOM as the bytes written to sbom.cdx.json. */
export async function renderSbom(input: SbomInput): Promise<string> {
  return JSON.stringify(await buildSbom(input), null, 2) + "\n";
}
