import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { ChecksumMismatchError, UnsafeMemberError } from "../../../src/archive/errors.ts";
import { stripImageNames } from "../../../src/archive/image_tar.ts";
import { decodeHeader } from "../../../src/archive/tar.ts";
import { DockerRuntime } from "../../../src/runtime/docker.ts";
import { RecordingRunner } from "../../fakes/runner.ts";
import { sha256, tarBytes } from "./craft.ts";
import { tempDir } from "../../fakes/tmp.ts";

const CONFIG = '{"architecture":"amd64","os":"linux"}';
const ID = `sha256:${sha256(CONFIG)}`;
/** The OCI image manifest naming CONFIG, as Docker 25+ and podman's oci-archive write it. */
const MANIFEST = JSON.stringify({
  schemaVersion: 2,
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: ID, size: 37 },
  layers: [],
});
const MANIFEST_DIGEST = `sha256:${sha256(MANIFEST)}`;
const blobOf = (data: string) => ({ name: `blobs/sha256/${sha256(data)}`, data });

function texts(bytes: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  for (let pos = 0; pos + 512 <= bytes.length;) {
    const h = decodeHeader(bytes.subarray(pos, pos + 512));
    if (!h) break;
    out[h.name] = new TextDecoder().decode(bytes.subarray(pos + 512, pos + 512 + h.size));
    pos += 512 + Math.ceil(h.size / 512) * 512;
  }
  return out;
}

async function withTar(members: { name: string; data: string }[]) {
  const dir = await tempDir("venvoy-imgtar-");
  const path = join(dir, "image.tar");
  await Deno.writeFile(path, tarBytes(members));
  return { dir, path };
}

Deno.test("stripImageNames removes RepoTags, repositories and index name annotations in place", async () => {
  const { dir, path } = await withTar([
    { name: "blobs/sha256/" + ID.slice(7), data: CONFIG },
    blobOf(MANIFEST),
    {
      name: "index.json",
      data: JSON.stringify({
        schemaVersion: 2,
        manifests: [{
          digest: MANIFEST_DIGEST,
          annotations: {
            "io.containerd.image.name": "docker.io/library/python:3.11",
            "org.opencontainers.image.ref.name": "3.11",
            "keep.me": "yes",
          },
        }],
      }),
    },
    {
      name: "manifest.json",
      data: JSON.stringify([{
        Config: "blobs/sha256/" + ID.slice(7),
        RepoTags: ["docker.io/library/python:3.11", "localhost/venvoy/victim:latest"],
        Layers: [],
      }]),
    },
    { name: "repositories", data: '{"localhost/venvoy/victim":{"latest":"abc"}}' },
  ]);
  try {
    const size = (await Deno.stat(path)).size;
    const got = await stripImageNames(path, { expectId: ID });
    assertEquals(got.imageId, ID);
    assertEquals(got.removedNames.sort(), [
      "3.11",
      "docker.io/library/python:3.11",
      "localhost/venvoy/victim:latest",
    ]);
    assertEquals((await Deno.stat(path)).size, size, "rewritten in place, same size");
    const t = texts(await Deno.readFile(path));
    assertEquals(JSON.parse(t["manifest.json"])[0].RepoTags, undefined);
    assertEquals(JSON.parse(t["repositories"]), {});
    assertEquals(JSON.parse(t["index.json"]).manifests[0].annotations, { "keep.me": "yes" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stripImageNames refuses two images, or an image that is not the manifest's", async () => {
  const cfg = { name: `${ID.slice(7)}.json`, data: CONFIG };
  const two = await withTar([cfg, {
    name: "manifest.json",
    data: JSON.stringify([{ Config: cfg.name, RepoTags: [] }, { Config: cfg.name, RepoTags: [] }]),
  }]);
  const one = await withTar([cfg, {
    name: "manifest.json",
    data: JSON.stringify([{ Config: cfg.name, RepoTags: ["x:1"] }]),
  }]);
  try {
    await assert.rejects(stripImageNames(two.path), UnsafeMemberError);
    const before = await Deno.readFile(one.path);
    await assert.rejects(
      stripImageNames(one.path, { expectId: "sha256:" + "0".repeat(64) }),
      ChecksumMismatchError,
    );
    assertEquals(await Deno.readFile(one.path), before, "nothing rewritten when refused");
  } finally {
    await Deno.remove(two.dir, { recursive: true });
    await Deno.remove(one.dir, { recursive: true });
  }
});

Deno.test("docker load with expectId: tags the loaded ID only when it is the expected one", async () => {
  const runner = new RecordingRunner();
  runner.on(["docker", "load"], { stdout: `Loaded image ID: ${ID}\n` });
  runner.on(["docker", "tag", ID, "localhost/venvoy/a:latest"], {});
  const docker = new DockerRuntime(runner, "docker");
  const got = await docker.load("/x/image.tar", {
    target: "localhost/venvoy/a:latest",
    expectId: ID,
  });
  assertEquals(got, "localhost/venvoy/a:latest");
  assertEquals(runner.argvs, [
    ["docker", "load", "-i", "/x/image.tar"],
    ["docker", "tag", ID, "localhost/venvoy/a:latest"],
  ]);

  const other = new RecordingRunner();
  other.on(["docker", "load"], { stdout: `Loaded image ID: sha256:${"1".repeat(64)}\n` });
  await assert.rejects(
    new DockerRuntime(other, "docker").load("/x/image.tar", {
      target: "localhost/venvoy/a:latest",
      expectId: ID,
    }),
    /not the expected/,
  );
  assertEquals(other.argvs, [["docker", "load", "-i", "/x/image.tar"]], "no tag, no removal");
});

function ociIndex(digest: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest, ...extra }],
  });
}

Deno.test("an oci-archive (index.json and blobs, no manifest.json) gives the config digest", async () => {
  const { dir, path } = await withTar([
    { name: "oci-layout", data: '{"imageLayoutVersion":"1.0.0"}' },
    blobOf(CONFIG),
    blobOf(MANIFEST),
    {
      name: "index.json",
      data: ociIndex(MANIFEST_DIGEST, {
        annotations: { "org.opencontainers.image.ref.name": "localhost/venvoy/victim:latest" },
      }),
    },
  ]);
  try {
    const got = await stripImageNames(path, { expectId: ID });
    assertEquals(got, {
      imageId: ID,
      manifestDigest: MANIFEST_DIGEST,
      layout: "oci-archive",
      removedNames: ["localhost/venvoy/victim:latest"],
    });
    const t = texts(await Deno.readFile(path));
    assertEquals(JSON.parse(t["index.json"]).manifests[0].annotations, {});
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Docker 25+ layout: a nested index and manifest.json beside it name one image", async () => {
  const inner = ociIndex(MANIFEST_DIGEST, { platform: { architecture: "amd64", os: "linux" } });
  const innerIndex = JSON.stringify({
    ...JSON.parse(inner),
    mediaType: "application/vnd.oci.image.index.v1+json",
  });
  const { dir, path } = await withTar([
    { name: "oci-layout", data: '{"imageLayoutVersion":"1.0.0"}' },
    blobOf(CONFIG),
    blobOf(MANIFEST),
    blobOf(innerIndex),
    {
      name: "index.json",
      data: JSON.stringify({
        schemaVersion: 2,
        manifests: [{
          mediaType: "application/vnd.oci.image.index.v1+json",
          digest: `sha256:${sha256(innerIndex)}`,
          annotations: { "io.containerd.image.name": "docker.io/library/python:3.11" },
        }],
      }),
    },
    {
      name: "manifest.json",
      data: JSON.stringify([{ Config: `blobs/sha256/${ID.slice(7)}`, RepoTags: ["python:3.11"] }]),
    },
  ]);
  try {
    const got = await stripImageNames(path, { expectId: ID });
    assertEquals(got.imageId, ID);
    assertEquals(got.manifestDigest, MANIFEST_DIGEST);
    assertEquals(got.layout, "docker-archive");
    assertEquals(got.removedNames.sort(), ["docker.io/library/python:3.11", "python:3.11"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("OCI layouts: a blob whose bytes are not its digest, or two images, are refused", async () => {
  const forged = MANIFEST.replace('"layers":[]', '"layers":[{"digest":"sha256:x"}]');
  const wrongBlob = await withTar([
    blobOf(CONFIG),
    { name: `blobs/sha256/${MANIFEST_DIGEST.slice(7)}`, data: forged },
    { name: "index.json", data: ociIndex(MANIFEST_DIGEST) },
  ]);
  const otherConfig = '{"architecture":"arm64","os":"linux"}';
  const m2 = MANIFEST.replace(ID, `sha256:${sha256(otherConfig)}`);
  const two = await withTar([
    blobOf(CONFIG),
    blobOf(otherConfig),
    blobOf(MANIFEST),
    blobOf(m2),
    {
      name: "index.json",
      data: JSON.stringify({
        schemaVersion: 2,
        manifests: [{ digest: MANIFEST_DIGEST }, { digest: `sha256:${sha256(m2)}` }],
      }),
    },
  ]);
  // manifest.json says one config, index.json another: which one would the engine load?
  const split = await withTar([
    blobOf(CONFIG),
    blobOf(otherConfig),
    blobOf(m2),
    { name: "index.json", data: ociIndex(`sha256:${sha256(m2)}`) },
    { name: "manifest.json", data: JSON.stringify([{ Config: `blobs/sha256/${ID.slice(7)}` }]) },
  ]);
  try {
    const before = await Deno.readFile(wrongBlob.path);
    await assert.rejects(stripImageNames(wrongBlob.path), ChecksumMismatchError);
    assertEquals(await Deno.readFile(wrongBlob.path), before, "nothing rewritten when refused");
    await assert.rejects(stripImageNames(two.path), UnsafeMemberError);
    await assert.rejects(stripImageNames(split.path), /different images/);
  } finally {
    for (const t of [wrongBlob, two, split]) await Deno.remove(t.dir, { recursive: true });
  }
});
