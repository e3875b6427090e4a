import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { exportArchive } from "../../../src/archive/export.ts";
import { ChecksumMismatchError, NotAnArchiveError } from "../../../src/archive/errors.ts";
import {
  detectFormat,
  importArchive,
  importFile,
  looksLikeDockerfile,
} from "../../../src/archive/import.ts";
import type { SpawnedProcess, SpawnRequest } from "../../../src/process/mod.ts";
import { PodmanRuntime } from "../../../src/runtime/podman.ts";
import { UsageError } from "../../../src/ui/errors.ts";
import { RecordingRunner } from "../../fakes/runner.ts";
import { craftArchive, manifestFor } from "./craft.ts";

const ID = "sha256:" + "12".repeat(32);

/** podman save prints some bytes; load/tag/inspect answer like podman does. */
class FakePodman extends RecordingRunner {
  constructor(loadedId = ID) {
    super();
    const inspect = (id: string) =>
      JSON.stringify([{ Id: id.slice(7), Architecture: "amd64", Os: "linux", Config: {} }]);
    this.on(["podman", "image", "inspect"], { stdout: inspect(ID) });
    this.on(["podman", "image", "inspect", "localhost/venvoy/copy:latest"], {
      stdout: inspect(loadedId),
    });
    this.on(["podman", "load"], { stdout: "Loaded image: localhost/venvoy/demo:latest\n" });
  }
  override spawn(req: SpawnRequest): SpawnedProcess {
    const proc = super.spawn(req);
    return {
      ...proc,
      stdout: new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode("image bytes"));
          c.close();
        },
      }),
    };
  }
}

async function setup() {
  const root = await Deno.makeTempDir({ prefix: "venvoy-import-" });
  const envs = join(root, "a", "environments");
  const envDir = join(envs, "demo");
  const snap = join(root, "a", "projects", "demo");
  await Deno.mkdir(join(envDir, "persist", "python"), { recursive: true });
  await Deno.mkdir(snap, { recursive: true });
  await Deno.writeTextFile(
    join(envDir, "config.yaml"),
    `# my env\nname: demo\nruntime: python\nengine: podman\nimage: localhost/venvoy/demo:latest\nimage_id: ${ID}\n`,
  );
  await Deno.writeTextFile(join(envDir, "persist", "python", "mod.py"), "X = 1\n");
  await Deno.writeTextFile(join(snap, "environment.yml"), "name: demo\ndependencies: []\n");
  const runner = new FakePodman();
  const file = join(root, "demo.tar.gz");
  await exportArchive({
    runner,
    runtime: new PodmanRuntime(runner, "podman", { rootless: false }),
    envDir,
    output: file,
    snapshotDir: snap,
    venvoyVersion: "1.0.0",
  });
  const b = { envs: join(root, "b", "environments"), projects: join(root, "b", "projects") };
  return { root, file, b };
}

Deno.test("importArchive recreates the environment, tags the image, adds snapshots", async () => {
  const { root, file, b } = await setup();
  try {
    const runner = new FakePodman();
    const runtime = new PodmanRuntime(runner, "podman", { rootless: false });
    const now = new Date(2025, 5, 6, 7, 8, 9);
    const got = await importArchive(file, {
      runtime,
      environmentsDir: b.envs,
      projectsDir: b.projects,
      name: "copy",
      now,
    });
    assertEquals(got.name, "copy");
    assertEquals(got.image, "localhost/venvoy/copy:latest");
    assertEquals(got.imageId, ID);
    const load = runner.argvs.find((a) => a[1] === "load")!;
    assertEquals(load.slice(0, 3), ["podman", "load", "-i"]);
    assert(load[3].endsWith("/image.tar"));
    assert(
      runner.argvs.some((a) =>
        a.join(" ") === "podman tag localhost/venvoy/demo:latest localhost/venvoy/copy:latest"
      ),
    );
    const cfgText = await Deno.readTextFile(join(b.envs, "copy", "config.yaml"));
    assert(cfgText.startsWith("# my env\n"), "comments are kept");
    const cfg = parseYaml(cfgText);
    assertEquals([cfg.name, cfg.engine, cfg.image, cfg.image_id, cfg.runtime], [
      "copy",
      "podman",
      "localhost/venvoy/copy:latest",
      ID,
      "python",
    ]);
    assertEquals(
      await Deno.readTextFile(join(b.envs, "copy", "persist", "python", "mod.py")),
      "X = 1\n",
    );
    assertEquals([...Deno.readDirSync(b.envs)].map((e) => e.name), ["copy"], "no temp left");
    const snaps = [...Deno.readDirSync(join(b.projects, "copy"))].map((e) => e.name).sort();
    assertEquals(snaps, [".last_updated", "environment.yml", "environment_20250606_070809.yml"]);

    // Same name again: refused, then --force replaces it and keeps the snapshot history.
    await assert.rejects(
      importArchive(file, {
        runtime,
        environmentsDir: b.envs,
        projectsDir: b.projects,
        name: "copy",
      }),
      (e: unknown) => e instanceof UsageError && /already exists/.test(e.message),
    );
    await importArchive(file, {
      runtime,
      environmentsDir: b.envs,
      projectsDir: b.projects,
      name: "copy",
      force: true,
      now: new Date(2025, 5, 7, 0, 0, 0),
    });
    const after = [...Deno.readDirSync(join(b.projects, "copy"))].map((e) => e.name).sort();
    assertEquals(after, [
      ".last_updated",
      "environment.yml",
      "environment_20250606_070809.yml",
      "environment_20250607_000000.yml",
    ]);
    assertEquals([...Deno.readDirSync(b.envs)].map((e) => e.name), ["copy"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("importArchive refuses an image whose loaded ID differs from the manifest", async () => {
  const { root, file, b } = await setup();
  try {
    const runner = new FakePodman("sha256:" + "99".repeat(32));
    const runtime = new PodmanRuntime(runner, "podman", { rootless: false });
    await assert.rejects(
      importArchive(file, {
        runtime,
        environmentsDir: b.envs,
        projectsDir: b.projects,
        name: "copy",
      }),
      ChecksumMismatchError,
    );
    assertEquals([...Deno.readDirSync(b.envs)], [], "no environment folder and no temp left");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a hostile archive is refused before any engine command runs", async () => {
  const root = await Deno.makeTempDir({ prefix: "venvoy-import-" });
  try {
    const file = join(root, "evil.tar.gz");
    const evil = [{ name: "../../evil", data: "x" }];
    await Deno.writeFile(file, craftArchive(evil, { manifest: manifestFor([]) }));
    const runner = new FakePodman();
    const runtime = new PodmanRuntime(runner, "podman", { rootless: false });
    await assert.rejects(
      importFile(file, {
        runtime,
        environmentsDir: join(root, "envs"),
        projectsDir: join(root, "p"),
      }),
      /escapes the archive/,
    );
    assertEquals(runner.argvs, []);
    assertEquals([...Deno.readDirSync(join(root, "envs"))], []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("detectFormat goes by content, not by name", async () => {
  const dir = await Deno.makeTempDir({ prefix: "venvoy-detect-" });
  try {
    const w = (name: string, data: string | Uint8Array) =>
      typeof data === "string"
        ? Deno.writeTextFile(join(dir, name), data)
        : Deno.writeFile(join(dir, name), data);
    await w("env.tar.gz", "name: demo\ndependencies:\n  - numpy=2.1\n");
    await w("environment.yml", "# syntax=docker/dockerfile:1\nFROM python:3.11\nRUN true\n");
    await w("Dockerfile", craftArchive([{ name: "a", data: "b" }]));
    await w("junk.yml", new Uint8Array([0, 1, 2, 3]));
    await w("text.txt", "just some words");
    assertEquals(await detectFormat(join(dir, "env.tar.gz")), "yaml");
    assertEquals(await detectFormat(join(dir, "environment.yml")), "dockerfile");
    assertEquals(await detectFormat(join(dir, "Dockerfile")), "archive-or-tarball");
    await assert.rejects(detectFormat(join(dir, "junk.yml")), NotAnArchiveError);
    await assert.rejects(detectFormat(join(dir, "text.txt")), /not YAML, a Dockerfile/);
    assert(looksLikeDockerfile("\n# c\nARG BASE=x\nFROM $BASE\n"));
    assert(!looksLikeDockerfile("name: FROM x\n"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
