/**
 * initEnv through the strict fake runner: every engine command init runs is scripted and
 * asserted as exact argv: a fresh build (pull, pin, build, capture), the base-pin reuse of
 * a --force rebuild, the offline build, and the SIF conversion for Apptainer.
 */
import assert, { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { join } from "node:path";
import { type InitContext, initEnv } from "../../../src/env/init.ts";
import { readConfig } from "../../../src/env/config.ts";
import { statePaths } from "../../../src/env/paths.ts";
import { LOCK_FILE } from "../../../src/recipe/mod.ts";
import { UsageError, VenvoyError } from "../../../src/ui/errors.ts";
import type { RunRequest } from "../../../src/process/mod.ts";
import { RecordingRunner } from "../../fakes/runner.ts";
import { tempDir } from "../../fakes/tmp.ts";

const PODMAN = "/usr/bin/podman";
const APPTAINER = "/usr/bin/apptainer";
const BASE = "python:3.11-slim";
const DIGEST = "sha256:" + "d1".repeat(32);
const PINNED = `docker.io/library/python@${DIGEST}`;
const BASE_ID = "ba".repeat(32);
const TAG = "localhost/venvoy/demo:latest";
const IDS = ["11".repeat(32), "22".repeat(32)];
const CAPTURE = "@@versions\npython\t3.11.9\n@@python\npip\t24.0\n";

/** A podman (and optionally apptainer) host; images appear when pulled or built. */
async function lab(options: { apptainer?: boolean; pulled?: boolean } = {}) {
  const root = await tempDir("venvoy init ");
  const paths = statePaths((n) =>
    ({ HOME: join(root, "home"), VENVOY_HOME: join(root, "state") } as Record<string, string>)[n]
  );
  const images = new Map<string, { Id: string; RepoDigests: string[] }>();
  const base = { Id: BASE_ID, RepoDigests: [PINNED] };
  if (options.pulled) {
    images.set(BASE, base);
    images.set(PINNED, base);
  }
  let builds = 0;
  const runner = new RecordingRunner({
    paths: { podman: PODMAN, ...(options.apptainer ? { apptainer: APPTAINER } : {}) },
  });
  runner.on([PODMAN, "version", "--format", "json"], {
    stdout: JSON.stringify({ Client: { Version: "4.3.1" } }),
  });
  runner.on([PODMAN, "image", "inspect"], (req) => {
    const img = images.get(req.cmd[3]);
    return img
      ? { stdout: JSON.stringify([{ ...img, Architecture: "amd64", Os: "linux" }]) }
      : { code: 125, stderr: `Error: ${req.cmd[3]}: image not known` };
  });
  runner.on([PODMAN, "pull", BASE], () => {
    images.set(BASE, base);
    images.set(PINNED, base);
    return {};
  });
  runner.on([PODMAN, "build"], () => {
    images.set(TAG, { Id: IDS[Math.min(builds++, IDS.length - 1)], RepoDigests: [] });
    return { stdout: "STEP 1/9: FROM ...\n" };
  });
  // capture.sh writes what the image contains into the folder mounted at /opt/venvoy/out.
  const capture = (req: RunRequest) => {
    const m = req.cmd.find((a) => /(target|destination)=\/opt\/venvoy\/out/.test(a))!;
    Deno.writeTextFileSync(join(/source=([^,]+)/.exec(m)![1], "capture.txt"), CAPTURE);
    return {};
  };
  runner.on([PODMAN, "run"], capture);
  runner.on([PODMAN, "image", "rm"], {});
  if (options.apptainer) {
    runner.on([APPTAINER, "--version"], { stdout: "apptainer version 1.4.5\n" });
    runner.on([PODMAN, "save", "--format", "docker-archive", "-o"], (req) => {
      Deno.writeTextFileSync(req.cmd[5], "docker-archive bytes");
      return {};
    });
    runner.on([APPTAINER, "build", "--force"], (req) => {
      Deno.writeTextFileSync(req.cmd[3], "SIF bytes");
      return {};
    });
    runner.on([APPTAINER, "inspect", "--json", "--labels"], {
      stdout: JSON.stringify({ data: { attributes: { labels: {} } } }),
    });
    runner.on([APPTAINER, "exec"], capture);
  }
  const notes: string[] = [];
  const ctx: InitContext = {
    runner,
    paths,
    engine: null,
    venvoyVersion: "0.1.0",
    note: (m) => notes.push(m),
    quiet: true,
    user: { uid: 1000, gid: 1000 },
    now: () => new Date("2026-12-01T00:00:00Z"),
  };
  const dir = join(paths.environments, "demo");
  return { root, paths, runner, ctx, notes, images, dir, builds: () => builds };
}

/** The argv minus the engine probe, each cut to its first `n` words. */
function heads(runner: RecordingRunner, n = 3): string[][] {
  return runner.argvs.filter((a) => !(a[1] === "version" || a[1] === "--version")).map((a) =>
    a.slice(0, n)
  );
}

Deno.test("init: pulls the base, pins its digest, builds FROM the digest, lists the image", async () => {
  const l = await lab();
  const res = await initEnv(l.ctx, { name: "demo" });
  assertEquals(heads(l.runner), [
    [PODMAN, "image", "inspect"],
    [PODMAN, "pull", BASE],
    [PODMAN, "image", "inspect"],
    [PODMAN, "build", "--layers"],
    [PODMAN, "image", "inspect"],
    [PODMAN, "run", "--rm"],
  ]);
  const build = l.runner.argvs.find((a) => a[1] === "build")!;
  assertEquals(build.slice(0, 8), [
    PODMAN,
    "build",
    "--layers",
    "--force-rm",
    "-t",
    TAG,
    "-f",
    join(l.dir, "Dockerfile"),
  ]);
  assertEquals(build.at(-1), l.dir);
  assert(build.includes(`org.venvoy.base=${PINNED}`), "the pin is a label");
  assert(!build.includes("--network"), "online build");
  const dockerfile = await Deno.readTextFile(join(l.dir, "Dockerfile"));
  assert(dockerfile.includes(`FROM ${PINNED}`), dockerfile.split("\n")[0]);
  assertEquals(res.unchanged, false);
  const cfg = (await readConfig(l.dir))!;
  assertEquals([cfg.base_image, cfg.base_image_pinned, cfg.image, cfg.image_id], [
    BASE,
    PINNED,
    TAG,
    `sha256:${IDS[0]}`,
  ]);
  assertEquals([cfg.engine, cfg.python_version, cfg.created], [
    "podman",
    "3.11",
    "2026-12-01T00:00:00.000Z",
  ]);
  const listed = JSON.parse(await Deno.readTextFile(join(l.dir, "base-packages.json")));
  assertEquals(listed.python, [{ name: "pip", version: "24.0" }]);
  for (const f of ["requirements.txt", "requirements-dev.txt", ".dockerignore", "persist"]) {
    assert(await Deno.stat(join(l.dir, f)), f);
  }
});

Deno.test("init --force reuses the recorded pin: the digest is checked, the name never re-resolved", async () => {
  const l = await lab({ pulled: true });
  await initEnv(l.ctx, { name: "demo" });
  l.runner.calls.length = 0;
  // Same image ID from the cache: unchanged, nothing listed again, nothing removed.
  l.runner.on([PODMAN, "build"], () => ({}));
  const again = await initEnv(l.ctx, { name: "demo", force: true });
  assertEquals(heads(l.runner, 4), [
    [PODMAN, "image", "inspect", PINNED],
    [PODMAN, "build", "--layers", "--force-rm"],
    [PODMAN, "image", "inspect", TAG],
  ]);
  assertEquals(again.unchanged, true);
  assertEquals(again.config.base_image_pinned, PINNED);
  // A rebuild that makes a new image: the old one is removed after config.yaml is written.
  l.runner.calls.length = 0;
  l.images.set(TAG, { Id: IDS[1], RepoDigests: [] });
  const changed = await initEnv(l.ctx, { name: "demo", force: true });
  assertEquals(changed.unchanged, false);
  assertEquals(changed.config.image_id, `sha256:${IDS[1]}`);
  assertEquals(l.runner.argvs.at(-1), [PODMAN, "image", "rm", `sha256:${IDS[0]}`]);
  // The pinned digest gone from the host and the registry: a clear error, no new pin.
  l.images.delete(PINNED);
  l.runner.on([PODMAN, "pull", PINNED], { code: 125, stderr: "Error: unreachable" });
  await rejects(initEnv(l.ctx, { name: "demo", force: true }), (e: unknown) => {
    assert(e instanceof VenvoyError);
    assert.match(e.message, /pinned base image .* is no longer available/);
    return true;
  });
});

Deno.test("init --offline builds with networking disabled from the pinned base; pulls nothing", async () => {
  const l = await lab({ pulled: true });
  await rejects(initEnv(l.ctx, { name: "demo", offline: true }), (e: unknown) => {
    assert(e instanceof UsageError);
    assert.match(e.message, /--offline rebuilds an existing environment/);
    return true;
  });
  await initEnv(l.ctx, { name: "demo" });
  await rejects(initEnv(l.ctx, { name: "demo", force: true, offline: true }), /not been frozen/);
  await Deno.writeTextFile(join(l.dir, LOCK_FILE), "pip==24.0 --hash=sha256:00\n");
  l.images.delete(BASE); // only the digest is here; the name is never looked up
  l.runner.calls.length = 0;
  await initEnv(l.ctx, { name: "demo", force: true, offline: true });
  assertEquals(heads(l.runner, 4), [
    [PODMAN, "image", "inspect", PINNED],
    [PODMAN, "build", "--layers", "--force-rm"],
    [PODMAN, "image", "inspect", TAG],
    [PODMAN, "run", "--rm", "--user"],
    [PODMAN, "image", "rm", `sha256:${IDS[0]}`],
  ]);
  const build = l.runner.argvs.find((a) => a[1] === "build")!;
  assertEquals(build.slice(-3), ["--network", "none", l.dir]);
  assert(!l.runner.argvs.some((a) => a[1] === "pull"));
  // The pinned base missing: offline pulls nothing and says how to load it.
  l.images.delete(PINNED);
  l.runner.calls.length = 0;
  await rejects(initEnv(l.ctx, { name: "demo", force: true, offline: true }), (e: unknown) => {
    assert(e instanceof VenvoyError);
    assert.match(e.message, /is not here, and --offline pulls nothing/);
    assert.match(e.hint!, /podman load -i FILE/);
    return true;
  });
  assertEquals(heads(l.runner, 4), [[PODMAN, "image", "inspect", PINNED]]);
});

Deno.test("init --engine apptainer: podman builds the image, saved and converted to a SIF once", async () => {
  const l = await lab({ apptainer: true, pulled: true });
  const ctx = { ...l.ctx, engine: "apptainer" };
  const res = await initEnv(ctx, { name: "demo" });
  const sif = join(l.dir, "image.sif");
  const save = l.runner.argvs.find((a) => a[1] === "save")!;
  const archive = save[5];
  assert(archive.startsWith(join(l.dir, ".sif-build-")) && archive.endsWith("/image.tar"));
  assertEquals(heads(l.runner, 5), [
    [PODMAN, "image", "inspect", BASE],
    [PODMAN, "build", "--layers", "--force-rm", "-t"],
    [PODMAN, "image", "inspect", TAG],
    [PODMAN, "save", "--format", "docker-archive", "-o"],
    [
      APPTAINER,
      "build",
      "--force",
      join(l.dir, ".image.sif.building"),
      `docker-archive:${archive}`,
    ],
    [APPTAINER, "inspect", "--json", "--labels", sif],
    [APPTAINER, "exec", "--cleanenv", "--no-home", "--mount"],
  ]);
  assertEquals(save.at(-1), TAG);
  assertEquals(await Deno.readTextFile(sif), "SIF bytes");
  assertEquals(await Deno.readTextFile(join(l.dir, "image.sif.source")), `sha256:${IDS[0]}\n`);
  assert(!(await Deno.stat(archive).then(() => true, () => false)), "the archive is removed");
  assertEquals([res.config.engine, res.config.image], ["apptainer", sif]);
  assert(res.config.image_id?.startsWith("sha256:"));
  assert(await Deno.stat(join(l.dir, "venvoy.def")), "the definition is written beside it");
  // Rebuilt with the same OCI image: the SIF is current, nothing is saved or converted.
  l.runner.calls.length = 0;
  l.runner.on([PODMAN, "build"], () => ({}));
  const again = await initEnv(ctx, { name: "demo", force: true });
  assert(!l.runner.argvs.some((a) => a[1] === "save" || a[0] === APPTAINER && a[1] === "build"));
  assertEquals(again.unchanged, true);
});

Deno.test("init --engine apptainer --offline without podman or docker says how to do it", async () => {
  const l = await lab({ apptainer: true, pulled: true });
  await initEnv({ ...l.ctx, engine: "apptainer" }, { name: "demo" });
  await Deno.writeTextFile(join(l.dir, LOCK_FILE), "pip==24.0\n");
  const alone = new RecordingRunner({ paths: { apptainer: APPTAINER } })
    .on([APPTAINER, "--version"], { stdout: "apptainer version 1.4.5\n" });
  await rejects(
    initEnv({ ...l.ctx, runner: alone, engine: "apptainer" }, {
      name: "demo",
      force: true,
      offline: true,
    }),
    /cannot build with networking disabled, and neither podman nor docker is usable/,
  );
  assertEquals(alone.argvs, [[APPTAINER, "--version"]]);
});

Deno.test("init: an image without the asked Python leaves no image behind (new environment)", async () => {
  const l = await lab({ pulled: true });
  l.runner.on([PODMAN, "run"], (req) => {
    const m = req.cmd.find((a) => a.includes("target=/opt/venvoy/out"))!;
    const out = join(/source=([^,]+)/.exec(m)![1], "capture.txt");
    Deno.writeTextFileSync(out, "@@versions\npython\t3.12.1\n");
    return {};
  });
  await rejects(initEnv(l.ctx, { name: "demo" }), /has Python 3\.12\.1, not 3\.11/);
  assertEquals(l.runner.argvs.at(-1), [PODMAN, "image", "rm", TAG]);
  assertEquals(await readConfig(l.dir).catch(() => null), null, "no config.yaml");
});
