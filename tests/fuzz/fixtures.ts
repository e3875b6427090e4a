/**
 * The valid inputs the fuzzer starts from: a real archive made by venvoy's own export
 * (with a fake podman whose `save` prints a small docker-archive), a run record as
 * `venvoy record` writes it, and a podman that loads whatever image.tar it is given.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { exportArchive } from "../../src/archive/export.ts";
import { PodmanRuntime } from "../../src/runtime/podman.ts";
import { SavingRunner } from "../fakes/runner.ts";
import { type Member, parseTar, sha256Hex, tarOf, textBytes, toRecords } from "./tar_model.ts";

const CONFIG = JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { diff_ids: [] } });
const CONFIG_SHA = createHash("sha256").update(CONFIG).digest("hex");
export const IMAGE_ID = `sha256:${CONFIG_SHA}`;
export const RECORD_ID = "20250101_000000";

/** A minimal docker-archive as `podman save` writes it (names included). */
export function imageTar(): Uint8Array {
  return tarOf(toRecords([
    { name: `${CONFIG_SHA}.json`, type: "file", data: textBytes(CONFIG) },
    {
      name: "manifest.json",
      type: "file",
      data: textBytes(JSON.stringify([{
        Config: `${CONFIG_SHA}.json`,
        RepoTags: ["localhost/venvoy/demo:latest"],
        Layers: [],
      }])),
    },
    {
      name: "repositories",
      type: "file",
      data: textBytes(JSON.stringify({ "localhost/venvoy/demo": { latest: CONFIG_SHA } })),
    },
  ]));
}

/** The same image as an oci-archive (`podman save --format oci-archive`): index.json, blobs. */
export function ociImageTar(): Uint8Array {
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: IMAGE_ID },
    layers: [],
  });
  const manifestSha = sha256Hex(textBytes(manifest));
  const index = JSON.stringify({
    schemaVersion: 2,
    manifests: [{
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      digest: `sha256:${manifestSha}`,
      annotations: { "org.opencontainers.image.ref.name": "localhost/venvoy/demo:latest" },
    }],
  });
  return tarOf(toRecords([
    { name: "oci-layout", type: "file", data: textBytes('{"imageLayoutVersion":"1.0.0"}') },
    { name: "blobs/sha256/" + CONFIG_SHA, type: "file", data: textBytes(CONFIG) },
    { name: "blobs/sha256/" + manifestSha, type: "file", data: textBytes(manifest) },
    { name: "index.json", type: "file", data: textBytes(index) },
  ]));
}

/** The image ID of a docker-archive file, as `podman load` would report it; null if none. */
function loadedId(path: string): string | null {
  try {
    const members = parseTar(Deno.readFileSync(path));
    const file = (name: string) => members.find((m) => m.name === name && m.type === "file");
    const [entry] = JSON.parse(new TextDecoder().decode(file("manifest.json")!.data));
    const config = file(String(entry.Config));
    return config ? `sha256:${sha256Hex(config.data!)}` : null;
  } catch {
    return null;
  }
}

/** podman as import and export use it: save prints `saved`, load reports what it loads. */
export class FuzzPodman extends SavingRunner {
  constructor(saved: Uint8Array = imageTar()) {
    super(saved);
    const inspect = JSON.stringify([{ Id: CONFIG_SHA, Architecture: "amd64", Os: "linux" }]);
    this.on(["podman", "image", "inspect"], { stdout: inspect });
    this.on(["podman", "load"], (req) => {
      const id = loadedId(req.cmd[3]);
      return id
        ? { stdout: `Loaded image: ${id}\n` }
        : { code: 125, stderr: "Error: payload does not match any of the supported image formats" };
    });
    this.on(["podman", "save"], {});
    this.on(["podman", "tag"], {});
    this.on(["podman", "run"], {});
  }
}

export function podman(): PodmanRuntime {
  return new PodmanRuntime(new FuzzPodman(), "podman", { rootless: false });
}

/** A run record as `venvoy record` writes it (every check of parseRecord passes). */
export function validRecord(): Record<string, unknown> {
  const sha = sha256Hex(textBytes("1,2\n"));
  return {
    format: "venvoy-record",
    format_version: 1,
    id: RECORD_ID,
    environment: "demo",
    command: "python3 analysis.py",
    workdir: "/home/u/project",
    image: "localhost/venvoy/demo:latest",
    image_id: IMAGE_ID,
    snapshot: null,
    engine: "podman",
    architecture: "x86_64",
    os: "linux",
    started: "2025-01-01T00:00:00.000Z",
    ended: "2025-01-01T00:00:01.000Z",
    exit_code: 0,
    input_paths: ["data.csv", "in"],
    output_paths: ["out"],
    inputs: [
      { path: "data.csv", type: "file", size: 4, sha256: sha },
      { path: "in/link", type: "symlink", target: "../data.csv" },
    ],
    outputs: [{ path: "out/r.txt", type: "file", size: 4, sha256: sha, kept: true }],
    missing_outputs: [],
    venvoy_version: "0.1.0",
  };
}

export interface BaseArchive {
  /** Every member but manifest.json, in the writer's order (a run record added). */
  members: Member[];
  manifest: Record<string, unknown>;
}

/** Exports a small environment with venvoy's own writer and reads the result back. */
export async function baseArchive(dir: string): Promise<BaseArchive> {
  const envDir = join(dir, "environments", "demo");
  const snap = join(dir, "projects", "demo");
  await Deno.mkdir(join(envDir, "persist", "python"), { recursive: true });
  await Deno.mkdir(snap, { recursive: true });
  await Deno.writeTextFile(
    join(envDir, "config.yaml"),
    `name: demo\nruntime: python\nengine: podman\nimage: localhost/venvoy/demo:latest\nimage_id: ${IMAGE_ID}\n`,
  );
  await Deno.writeTextFile(join(envDir, "persist", "python", "mod.py"), "X = 1\n");
  await Deno.writeTextFile(join(snap, "environment.yml"), "name: demo\ndependencies: []\n");
  const runner = new FuzzPodman();
  const output = join(dir, "demo.tar.gz");
  await exportArchive({
    runner,
    runtime: new PodmanRuntime(runner, "podman", { rootless: false }),
    envDir,
    output,
    snapshotDir: snap,
    venvoyVersion: "1.0.0",
    now: new Date(Date.UTC(2025, 0, 1)),
  });
  const all = parseTar(gunzipSync(await Deno.readFile(output)));
  const manifestMember = all.find((m) => m.name === "manifest.json")!;
  const manifest = JSON.parse(new TextDecoder().decode(manifestMember.data));
  const members = all.filter((m) => m !== manifestMember);
  members.push({
    name: `records/${RECORD_ID}.json`,
    type: "file",
    data: textBytes(JSON.stringify(validRecord(), null, 2) + "\n"),
  });
  return { members, manifest };
}
