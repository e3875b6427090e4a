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

Deno.test({
  name: "archive: cleanup of the shared fixture",
  ignore: !hasPodman,
  sanitizeResources: false,
  fn: async () => {
    await cleanupFixture();
    assertEquals(shared, null);
  },
});
