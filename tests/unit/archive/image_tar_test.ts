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
    {
      name: "index.json",
      data: JSON.stringify({
        schemaVersion: 2,
        manifests: [{
          digest: "sha256:" + "a".repeat(64),
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
