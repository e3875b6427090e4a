/**
 * Export -> verify -> import round trips against the real engines of the lab: podman into a
 * separate storage root (another machine, in effect), the docker CLI on the podman socket,
 * and apptainer building a SIF from the docker-archive. Image IDs and the output of the
 * same script are compared. restore.sh is run too, with no venvoy involved.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { exportArchive } from "../../src/archive/export.ts";
import { importArchive } from "../../src/archive/import.ts";
import { extractVerified } from "../../src/archive/reader.ts";
import { decodeHeader } from "../../src/archive/tar.ts";
import { TarGzWriter } from "../../src/archive/writer.ts";
import { VenvoyError } from "../../src/ui/errors.ts";
import { manifestFor, tarBytes } from "../unit/archive/craft.ts";
import { DenoRunner, type RunRequest, type SpawnRequest } from "../../src/process/mod.ts";
import { ApptainerRuntime } from "../../src/runtime/apptainer.ts";
import { DockerRuntime } from "../../src/runtime/docker.ts";
import { PodmanRuntime } from "../../src/runtime/podman.ts";

const LAB = "localhost/venvoy-lab/debian:bookworm";
const runner = new DenoRunner();
const SCRIPT = ["sh", "-c", "cat /etc/debian_version; ls /usr/bin | wc -l; echo ok"];

async function ok(cmd: string[]): Promise<string> {
  const res = await runner.run({ cmd });
  if (res.code !== 0) throw new Error(`${cmd.join(" ")} failed: ${res.stderr}`);
  return res.stdout;
}

async function available(cmd: string[]): Promise<boolean> {
  if (!runner.which(cmd[0])) return false;
  try {
    return (await runner.run({ cmd, timeoutMs: 20_000 })).code === 0;
  } catch {
    return false;
  }
}

const hasPodman = await available(["podman", "image", "exists", LAB]);
const hasDocker = hasPodman && await available(["docker", "image", "inspect", LAB]);
const hasApptainer = hasPodman && await available(["apptainer", "version"]);
if (!hasPodman) console.error(`skipping archive round trips: podman or ${LAB} is missing`);
if (hasPodman && !hasDocker) console.error("skipping the docker round trip: no docker CLI/socket");
if (hasPodman && !hasApptainer) console.error("skipping the apptainer round trip: no apptainer");

/** Runs every podman command against a private storage root, like a second machine. */
class AltRootRunner extends DenoRunner {
  constructor(readonly root: string) {
    super();
  }
  #rewrite<T extends { cmd: string[] }>(req: T): T {
    if (req.cmd[0] !== "podman") return req;
    const flags = ["--root", join(this.root, "r"), "--runroot", join(this.root, "rr")];
    return { ...req, cmd: ["podman", ...flags, ...req.cmd.slice(1)] };
  }
  override run(req: RunRequest) {
    return super.run(this.#rewrite(req));
  }
  override spawn(req: SpawnRequest) {
    return super.spawn(this.#rewrite(req));
  }
}

class AltRootPodman extends PodmanRuntime {
  constructor(root: string) {
    super(new AltRootRunner(root), "podman", { rootless: false });
  }
}

interface Fixture {
  root: string;
  tag: string;
  archive: string;
  labId: string;
  expected: string;
}

let shared: Fixture | null = null;

/** One export shared by the tests of this file (the lab image, tagged under our name). */
async function fixture(): Promise<Fixture> {
  if (shared) return shared;
  const root = await Deno.makeTempDir({ prefix: "venvoy-archive-it-" });
  const tag = `localhost/venvoy-test-archive/rt-${crypto.randomUUID().slice(0, 8)}:latest`;
  await ok(["podman", "tag", LAB, tag]);
  const envDir = join(root, "home", "environments", "rt");
  const snap = join(root, "projects", "rt");
  await Deno.mkdir(join(envDir, "persist", "python"), { recursive: true });
  await Deno.mkdir(snap, { recursive: true });
  const labId = JSON.parse(await ok(["podman", "image", "inspect", tag]))[0].Id;
  await Deno.writeTextFile(
    join(envDir, "config.yaml"),
    `name: rt\nruntime: python\nengine: podman\nbase_image: ${LAB}\nbase_image_pinned: ${LAB}\nimage: ${tag}\nimage_id: sha256:${labId}\n`,
  );
  await Deno.writeTextFile(join(envDir, "Dockerfile"), `FROM ${LAB}\n`);
  await Deno.writeTextFile(join(envDir, "persist", "python", "note.txt"), "kept\n");
  await Deno.writeTextFile(join(snap, "environment.yml"), "name: rt\ndependencies: []\n");
  const archive = join(root, "rt-archive.tar.gz");
  await exportArchive({
    runner,
    runtime: new PodmanRuntime(runner, "podman", { rootless: false }),
    envDir,
    output: archive,
    snapshotDir: snap,
    venvoyVersion: "0.0.0-it",
  });
  const expected = await ok(["podman", "run", "--rm", tag, ...SCRIPT]);
  shared = { root, tag, archive, labId: `sha256:${labId}`, expected };
  return shared;
}

async function cleanupFixture() {
  if (!shared) return;
  await runner.run({ cmd: ["podman", "image", "rm", shared.tag] });
  await Deno.remove(shared.root, { recursive: true }).catch(() => {});
  shared = null;
}

Deno.test({
  name: "archive: podman export, verified, imported into a separate podman storage root",
  ignore: !hasPodman,
  sanitizeResources: false,
  fn: async () => {
    const f = await fixture();
    const verified = await extractVerified(f.archive, { tmpDir: f.root });
    assertEquals(verified.manifest.image.id, f.labId);
    assertEquals(verified.manifest.engine, "podman");
    await verified.cleanup();

    const store = await Deno.makeTempDir({ prefix: "vva-" });
    const alt = new AltRootPodman(store);
    try {
      assertEquals(await alt.inspect(f.tag), null, "the second store starts empty");
      const home = join(f.root, "machine-b");
      const got = await importArchive(f.archive, {
        runtime: alt,
        environmentsDir: join(home, "environments"),
        projectsDir: join(home, "projects"),
        name: "rt-copy",
      });
      assertEquals(got.image, "localhost/venvoy/rt-copy:latest");
      assertEquals(got.imageId, f.labId, "the image ID survives save, archive and load");
      assertEquals((await alt.inspect(got.image))?.id, f.labId);
      assertEquals(
        await Deno.readTextFile(join(got.envDir, "persist", "python", "note.txt")),
        "kept\n",
      );
      const res = await alt.runner.run({ cmd: ["podman", "run", "--rm", got.image, ...SCRIPT] });
      assertEquals(res.code, 0, res.stderr);
      assertEquals(res.stdout, f.expected, "the same script prints the same bytes");
    } finally {
      await alt.runner.run({ cmd: ["podman", "rmi", "-a", "-f"] });
      await Deno.remove(store, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "archive: restore.sh loads the image into podman without venvoy",
  ignore: !hasPodman || !runner.which("tar"),
  sanitizeResources: false,
  fn: async () => {
    const f = await fixture();
    const store = await Deno.makeTempDir({ prefix: "vva-" });
    const x = join(f.root, "extracted");
    const bin = join(f.root, "bin");
    try {
      await Deno.mkdir(x, { recursive: true });
      await Deno.mkdir(bin, { recursive: true });
      await ok(["tar", "-xzf", f.archive, "-C", x]);
      // A `podman` on PATH that uses the private store: restore.sh knows nothing of it.
      const real = runner.which("podman")!;
      await Deno.writeTextFile(
        join(bin, "podman"),
        `#!/bin/sh\nexec ${real} --root ${store}/r --runroot ${store}/rr "$@"\n`,
      );
      await Deno.chmod(join(bin, "podman"), 0o755);
      const res = await runner.run({
        cmd: ["sh", join(x, "restore.sh"), "podman"],
        env: { PATH: `${bin}:${Deno.env.get("PATH")}` },
      });
      assertEquals(res.code, 0, res.stderr);
      assertEquals(res.stdout, `${f.tag}\n`);
      assert(res.stderr.includes("verifying checksums"));
      const id = await ok([join(bin, "podman"), "image", "inspect", "--format", "{{.Id}}", f.tag]);
      assertEquals(`sha256:${id.trim()}`, f.labId);

      // A damaged file is caught by restore.sh's own checksum check.
      await Deno.writeTextFile(join(x, "env", "Dockerfile"), "FROM tampered\n");
      const bad = await runner.run({
        cmd: ["sh", join(x, "restore.sh"), "podman"],
        env: { PATH: `${bin}:${Deno.env.get("PATH")}` },
      });
      assertEquals(bad.code, 1);
      assert.match(bad.stderr, /checksum verification failed/);
    } finally {
      await runner.run({ cmd: [join(bin, "podman"), "rmi", "-a", "-f"] });
      await Deno.remove(store, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "archive: import with the docker CLI (podman socket) keeps the image ID and output",
  ignore: !hasDocker,
  sanitizeResources: false,
  fn: async () => {
    const f = await fixture();
    const docker = new DockerRuntime(runner, "docker", { backend: "podman" });
    const home = join(f.root, "machine-docker");
    const got = await importArchive(f.archive, {
      runtime: docker,
      environmentsDir: join(home, "environments"),
      projectsDir: join(home, "projects"),
      name: "rt-docker",
    });
    try {
      assertEquals(got.imageId, f.labId);
      const name = `venvoy-test-archive-${crypto.randomUUID().slice(0, 8)}`;
      const res = await runner.run({
        cmd: ["docker", "run", "--name", name, got.image, ...SCRIPT],
      });
      await runner.run({ cmd: ["docker", "rm", "-f", name] });
      assertEquals(res.code, 0, res.stderr);
      assertEquals(res.stdout, f.expected);
    } finally {
      await runner.run({ cmd: ["docker", "rmi", got.image] });
    }
  },
});

Deno.test({
  name: "archive: import with apptainer builds a SIF from the docker-archive",
  ignore: !hasApptainer,
  sanitizeResources: false,
  fn: async () => {
    const f = await fixture();
    const apptainer = new ApptainerRuntime(runner, "apptainer");
    const home = join(f.root, "machine-hpc");
    const got = await importArchive(f.archive, {
      runtime: apptainer,
      environmentsDir: join(home, "environments"),
      projectsDir: join(home, "projects"),
      name: "rt-sif",
    });
    assertEquals(got.image, join(home, "environments", "rt-sif", "image.sif"));
    assert((await Deno.stat(got.image)).size > 1_000_000);
    const res = await runner.run({ cmd: ["apptainer", "exec", got.image, ...SCRIPT] });
    assertEquals(res.code, 0, res.stderr);
    assertEquals(res.stdout, f.expected);
  },
});

const LAB_OTHER = "localhost/venvoy-lab/python:3.11";
const OTHER_ID = "sha256:" + "0d".repeat(32);

/** The image ID a tag points to in the shared podman store (null: no such tag). */
async function idOf(ref: string): Promise<string | null> {
  const res = await runner.run({ cmd: ["podman", "image", "inspect", "--format", "{{.Id}}", ref] });
  return res.code === 0 ? `sha256:${res.stdout.trim()}` : null;
}

/** Exports a one-file environment whose image is `tag` (podman save records that name). */
async function exportAs(root: string, tag: string, name: string): Promise<string> {
  const envDir = join(root, "src-home", "environments", name);
  await Deno.mkdir(join(envDir, "persist"), { recursive: true });
  await Deno.writeTextFile(
    join(envDir, "config.yaml"),
    `name: ${name}\nruntime: python\nengine: podman\nimage: ${tag}\n`,
  );
  const archive = join(root, `${name}.tar.gz`);
  await exportArchive({
    runner,
    runtime: new PodmanRuntime(runner, "podman", { rootless: false }),
    envDir,
    output: archive,
    venvoyVersion: "0.0.0-it",
  });
  return archive;
}

Deno.test({
  name: "issue 11.5: loading an archive does not re-tag another image named inside image.tar",
  ignore: !hasPodman || !(await available(["podman", "image", "exists", LAB_OTHER])),
  sanitizeResources: false,
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "venvoy-retag-it-" });
    const rand = crypto.randomUUID().slice(0, 8);
    const victim = `localhost/venvoy-test-victim/v-${rand}:latest`;
    const name = `rt-victim-${rand}`;
    try {
      // The archive's image.tar names `victim` (it was saved under that name) ...
      await ok(["podman", "tag", LAB, victim]);
      const archive = await exportAs(root, victim, "evil");
      // ... which, on this machine, is another image.
      await ok(["podman", "tag", LAB_OTHER, victim]);
      const victimId = await idOf(victim);
      assert(victimId && victimId !== await idOf(LAB));

      const got = await importArchive(archive, {
        runtime: new PodmanRuntime(runner, "podman", { rootless: false }),
        environmentsDir: join(root, "home", "environments"),
        projectsDir: join(root, "home", "projects"),
        name,
      });
      assertEquals(got.image, `localhost/venvoy/${name}:latest`);
      assertEquals(await idOf(got.image), await idOf(LAB), "venvoy's own tag is the import");
      assertEquals(await idOf(victim), victimId, "the victim tag still names its own image");
    } finally {
      await runner.run({ cmd: ["podman", "image", "rm", victim] });
      await runner.run({ cmd: ["podman", "image", "rm", `localhost/venvoy/${name}:latest`] });
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "issue 11.7: a failed import --force leaves the environment and its image tag as they were",
  ignore: !hasPodman,
  sanitizeResources: false,
  fn: async () => {
    const f = await fixture();
    const root = await Deno.makeTempDir({ prefix: "venvoy-force-it-" });
    const name = `rt-force-${crypto.randomUUID().slice(0, 8)}`;
    const tag = `localhost/venvoy/${name}:latest`;
    const home = {
      environmentsDir: join(root, "environments"),
      projectsDir: join(root, "projects"),
    };
    const podman = new PodmanRuntime(runner, "podman", { rootless: false });
    try {
      const first = await importArchive(f.archive, { runtime: podman, ...home, name });
      await Deno.writeTextFile(join(first.envDir, "persist", "mine.txt"), "mine\n");
      const config = await Deno.readTextFile(join(first.envDir, "config.yaml"));
      const files = [...Deno.readDirSync(first.envDir)].map((e) => e.name).sort();
      const id = await idOf(tag);
      assertEquals(id, f.labId);

      const verified = await extractVerified(f.archive, { tmpDir: root });
      const realTar = join(root, "real-image.tar");
      await Deno.copyFile(join(verified.dir, "image.tar"), realTar);
      const real = await Deno.readFile(realTar);
      await verified.cleanup();
      const cfgName = `${f.labId.slice(7)}.json`;
      const cfgText = (() => {
        for (let pos = 0; pos + 512 <= real.length;) {
          const h = decodeHeader(real.subarray(pos, pos + 512));
          if (!h) break;
          if (h.name === cfgName) {
            return new TextDecoder().decode(real.subarray(pos + 512, pos + 512 + h.size));
          }
          pos += 512 + Math.ceil(h.size / 512) * 512;
        }
        throw new Error("no config in image.tar");
      })();
      const brokenTar = join(root, "broken-image.tar");
      await Deno.writeFile(
        brokenTar,
        tarBytes([
          { name: cfgName, data: cfgText },
          {
            name: "manifest.json",
            data: JSON.stringify([{ Config: cfgName, RepoTags: [tag], Layers: ["missing.tar"] }]),
          },
        ]),
      );
      /** A verified archive (every checksum right) with this image.tar and image ID. */
      const archiveWith = async (imageTar: string, imageId: string, out: string) => {
        const w = await TarGzWriter.create(out);
        await w.addBytes("env/config.yaml", `name: ${name}\nruntime: python\n`);
        await w.addFile("image.tar", imageTar);
        const m = manifestFor([]) as Record<string, unknown> & { image: Record<string, unknown> };
        m.image = { ...m.image, id: imageId, docker_archive: "image.tar" };
        m.members = w.members;
        await w.addBytes("manifest.json", JSON.stringify(m));
        await w.finish();
        return out;
      };
      for (
        const [label, file] of [
          // The image loads, but it is not the one the manifest names (the old code then
          // removed the environment's tag).
          ["another image", await archiveWith(realTar, OTHER_ID, join(root, "other.tar.gz"))],
          // The right config (so the right ID), but a layer that is not there.
          ["a missing layer", await archiveWith(brokenTar, f.labId, join(root, "broken.tar.gz"))],
        ]
      ) {
        await assert.rejects(
          importArchive(file, { runtime: podman, ...home, name, force: true }),
          (e: unknown) => e instanceof VenvoyError,
          label,
        );
        assertEquals(await Deno.readTextFile(join(first.envDir, "config.yaml")), config, label);
        assertEquals([...Deno.readDirSync(first.envDir)].map((e) => e.name).sort(), files);
        assertEquals(await Deno.readTextFile(join(first.envDir, "persist", "mine.txt")), "mine\n");
        assertEquals(await idOf(tag), id, `${label}: the image tag still names the old image`);
      }
      assertEquals([...Deno.readDirSync(home.environmentsDir)].map((e) => e.name), [name]);
    } finally {
      await runner.run({ cmd: ["podman", "image", "rm", tag] });
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "archive: cleanup of the shared fixture",
  ignore: !hasPodman,
  sanitizeResources: false,
  fn: async () => {
    await cleanupFixture();
    assertEquals(shared, null);
  },
});
