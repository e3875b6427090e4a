/**
 * `venvoy export` / `venvoy import` flows with a RecordingRunner: exact argv, file names,
 * refusals, package lists, persist/ links, and the progress output when piped.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { OutputExistsError } from "../../../src/archive/errors.ts";
import { extractVerified } from "../../../src/archive/reader.ts";
import type { CommandContext } from "../../../src/commands/context.ts";
import {
  type ExportDeps,
  exportEnv,
  lockPathFor,
  outputPath,
} from "../../../src/archive/export_env.ts";
import {
  IMPORT_ACCEPTS,
  importEnv,
  lockBeside,
  requirementsText,
} from "../../../src/archive/import_env.ts";
import { statePaths } from "../../../src/env/paths.ts";
import { readConfig } from "../../../src/env/config.ts";
import type { InitContext, InitOptions } from "../../../src/env/init.ts";
import { standaloneDockerfile } from "../../../src/recipe/standalone.ts";
import type { SpawnedProcess, SpawnRequest } from "../../../src/process/mod.ts";
import { PodmanRuntime } from "../../../src/runtime/podman.ts";
import { UsageError, VenvoyError } from "../../../src/ui/errors.ts";
import { formatBytes } from "../../../src/ui/bytes.ts";
import {
  byteProgress,
  Interrupted,
  interruptible,
  stepProgress,
} from "../../../src/ui/progress.ts";
import { craftArchive, manifestFor, sha256, tarBytes } from "../archive/craft.ts";
import { RecordingRunner } from "../../fakes/runner.ts";
import { tempDir } from "../../fakes/tmp.ts";
import { standaloneSpec } from "../../fakes/standalone_spec.ts";

/** A real (tiny) docker-archive: import strips its names and checks its config digest. */
const CONFIG = JSON.stringify({ architecture: "amd64", os: "linux", pad: "x".repeat(60000) });
const ID = "sha256:" + sha256(CONFIG);
const PODMAN = "/usr/bin/podman";
const SAVED = tarBytes([
  { name: `${ID.slice(7)}.json`, data: CONFIG },
  {
    name: "manifest.json",
    data: JSON.stringify([{
      Config: `${ID.slice(7)}.json`,
      RepoTags: ["localhost/venvoy/demo:latest"],
      Layers: [],
    }]),
  },
]);

/** `podman save` streams SAVED; inspect finds the image; load prints what podman prints. */
class FakePodman extends RecordingRunner {
  constructor() {
    super({ paths: { podman: PODMAN } });
    this.on([PODMAN, "image", "inspect"], {
      stdout: JSON.stringify([{
        Id: ID.slice(7),
        RepoDigests: [],
        Architecture: "amd64",
        Os: "linux",
        Config: { Labels: {} },
      }]),
    });
    this.on([PODMAN, "load"], { stdout: `Loaded image: ${ID}\n` });
    this.on([PODMAN, "save"], {}); // the bytes come from spawn() below
    this.on([PODMAN, "tag"], {});
    // The SBOM's OS query writes its answer into the folder mounted at /opt/venvoy/out.
    this.on([PODMAN, "run"], (req) => {
      const m = req.cmd.find((a) => a.includes("target=/opt/venvoy/out"));
      const src = m ? /source=([^,]+)/.exec(m)?.[1] : undefined;
      if (src) {
        Deno.writeTextFileSync(
          join(src, "os.txt"),
          "@@os-release\nid\tdebian\nversion_id\t12\n@@deb\nlibc6\t2.36-9\tamd64\n",
        );
      }
      return {};
    });
  }
  override spawn(req: SpawnRequest): SpawnedProcess {
    const proc = super.spawn(req);
    return {
      ...proc,
      stdout: new ReadableStream({
        start(c) {
          for (let i = 0; i < SAVED.length; i += 8192) c.enqueue(SAVED.slice(i, i + 8192));
          c.close();
        },
      }),
    };
  }
}

interface World {
  root: string;
  cwd: string;
  ctx: CommandContext;
  runner: FakePodman;
  notes: string[];
  warnings: string[];
  deps: ExportDeps;
}

async function world(engine: string | null = null): Promise<World> {
  const root = await tempDir("venvoy-expimp-");
  const env = (k: string) =>
    ({
      HOME: join(root, "home"),
      VENVOY_HOME: join(root, "vh"),
      VENVOY_PROJECTS: join(root, "vp"),
    })[
      k
    ];
  const paths = statePaths(env);
  const runner = new FakePodman();
  const cwd = join(root, "cwd");
  await Deno.mkdir(cwd, { recursive: true });
  const notes: string[] = [];
  const warnings: string[] = [];
  return {
    root,
    cwd,
    runner,
    notes,
    warnings,
    ctx: { runner, engine, debug: false, paths },
    deps: {
      note: (m) => notes.push(m),
      warn: (m) => warnings.push(m),
      cwd,
      venvoyVersion: "9.9.9",
      progress: "quiet",
      now: new Date(2025, 2, 4, 5, 6, 7),
    },
  };
}

/** An environment folder as init leaves it, plus six installed in a session (persist/). */
async function makeEnv(w: World, name: string, runtime: "python" | "r" = "python") {
  const dir = join(w.ctx.paths.environments, name);
  const site = join(dir, "persist", "python", "lib", "python3.11", "site-packages");
  await Deno.mkdir(join(site, "six-1.16.0.dist-info"), { recursive: true });
  await Deno.mkdir(join(dir, "persist", "python", "bin"), { recursive: true });
  await Deno.writeTextFile(
    join(dir, "config.yaml"),
    [
      `name: ${name}`,
      `runtime: ${runtime}`,
      runtime === "python" ? "python_version: '3.11'" : "r_version: '4.2'",
      "engine: podman",
      "base_image: localhost/venvoy-lab/python:3.11",
      "base_image_pinned: sha256:" + "cd".repeat(32),
      `image: localhost/venvoy/${name}:latest`,
      `image_id: ${ID}`,
      "package_manager: pip",
      "",
    ].join("\n"),
  );
  await Deno.writeTextFile(join(dir, "Dockerfile"), "FROM scratch\n");
  await Deno.writeTextFile(
    join(dir, "base-packages.json"),
    JSON.stringify({
      python: [{ name: "pip", version: "23.0.1" }],
      r: runtime === "r"
        ? [{ name: "jsonlite", version: "1.8.4", source: "Repository", repository: "CRAN" }]
        : [],
      conda: [],
      os: [{ name: "libc6", version: "2.36-9" }],
    }),
  );
  // The session's venv: relative links stay inside, python3 points into the image.
  await Deno.symlink("/usr/bin/python3", join(dir, "persist", "python", "bin", "python3"));
  await Deno.symlink("python3", join(dir, "persist", "python", "bin", "python"));
  return dir;
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

Deno.test("export yaml: latest snapshot (taken first), default name in cwd, sha256", async () => {
  const w = await world();
  try {
    await makeEnv(w, "demo");
    const res = await exportEnv(w.ctx, { format: "yaml" }, w.deps);
    assertEquals(res.name, "demo");
    assertEquals(w.notes[0], "using the only environment, 'demo'");
    const expected = join(w.cwd, "demo-yaml-20250304_050607.yml");
    assertEquals(res.files.map((f) => f.path), [expected]);
    const text = await Deno.readTextFile(expected);
    assert(text.includes("- six==1.16.0"), text);
    assert(text.includes("- pip==23.0.1"), text);
    assert(text.includes("base_image_pinned: sha256:" + "cd".repeat(32)), text);
    const { createHash } = await import("node:crypto");
    assertEquals(res.files[0].sha256, createHash("sha256").update(text).digest("hex"));
    // the snapshot was saved in the history too, and nothing but the file is in cwd
    assert((await names(join(w.ctx.paths.projects, "demo"))).includes("environment.yml"));
    assertEquals(await names(w.cwd), ["demo-yaml-20250304_050607.yml"]);
    assertEquals(w.runner.argvs, [], "a yaml export runs no container");
  } finally {
    await Deno.remove(w.root, { recursive: true });
  }
});

Deno.test("export yaml of an R environment writes <stem>.renv.lock beside it", async () => {
  const w = await world();
  try {
    await makeEnv(w, "rstat", "r");
    const out = join(w.cwd, "x.yml");
    const res = await exportEnv(w.ctx, { format: "yaml", output: "x.yml" }, w.deps);
    assertEquals(res.files.map((f) => f.path), [out, join(w.cwd, "x.renv.lock")]);
    const lock = JSON.parse(await Deno.readTextFile(join(w.cwd, "x.renv.lock")));
    assertEquals(lock.Packages.jsonlite.Version, "1.8.4");
    assertEquals(lockPathFor("/a/b.yaml"), "/a/b.renv.lock");
    assertEquals(await lockBeside(out), join(w.cwd, "x.renv.lock"));
  } finally {
    await Deno.remove(w.root, { recursive: true });
  }
});

Deno.test("export refuses to overwrite without --force (exit 1, hint), replaces with it", async () => {
  const w = await world();
  try {
    await makeEnv(w, "demo");
    await Deno.writeTextFile(join(w.cwd, "out.yml"), "mine\n");
    await assert.rejects(
      exportEnv(w.ctx, { format: "yaml", output: "out.yml" }, w.deps),
      (e: unknown) => {
        assert(e instanceof OutputExistsError);
        assertEquals(e.exitCode, 1);
        assert.match(e.hint ?? "", /--force/);
        return true;
      },
    );
    assertEquals(await Deno.readTextFile(join(w.cwd, "out.yml")), "mine\n");
    await exportEnv(w.ctx, { format: "yaml", output: "out.yml", force: true }, w.deps);
    assert((await Deno.readTextFile(join(w.cwd, "out.yml"))).includes("six==1.16.0"));
    assertEquals(await names(w.cwd), ["out.yml"], "no temporary file is left");
  } finally {
    await Deno.remove(w.root, { recursive: true });
  }
});

Deno.test("export: names, formats and flags are checked before anything is written", async () => {
  const w = await world();
  try {
    await assert.rejects(exportEnv(w.ctx, { format: "yaml" }, w.deps), /no environments yet/);
    await makeEnv(w, "one");
    await makeEnv(w, "two");
    await assert.rejects(
      exportEnv(w.ctx, { format: "yaml" }, w.deps),
      (e: unknown) => e instanceof UsageError && /There are 2: one, two/.test(e.message),
    );
    await assert.rejects(
      exportEnv(w.ctx, { name: "one", format: "zip" }, w.deps),
      (e: unknown) =>
        e instanceof UsageError && /yaml or dockerfile or tarball or archive/.test(e.hint ?? ""),
    );
    await assert.rejects(
      exportEnv(w.ctx, { name: "one", format: "yaml", withSif: true }, w.deps),
      (e: unknown) => e instanceof UsageError && /--with-sif/.test(e.message),
    );
    await assert.rejects(
      exportEnv(w.ctx, { name: "Bad Name", format: "yaml" }, w.deps),
      (e: unknown) => e instanceof UsageError && /invalid environment name/.test(e.message),
    );
    await assert.rejects(
      exportEnv(w.ctx, { name: "one", format: "yaml", output: "nope/x.yml" }, w.deps),
      (e: unknown) => e instanceof UsageError && /mkdir -p/.test(e.hint ?? ""),
    );
    assertEquals(await names(w.cwd), []);
    // an existing folder as --output receives the default name
    assertEquals(
      await outputPath("one", "archive", { output: w.root, cwd: w.cwd, now: w.deps.now }),
      join(w.root, "one-archive-20250304_050607.tar.gz"),
    );
  } finally {
    await Deno.remove(w.root, { recursive: true });
  }
});

Deno.test("export archive: podman save argv, full package lists, persist links never followed", async () => {
  const w = await world();
  try {
    await makeEnv(w, "demo");
    const res = await exportEnv(w.ctx, { name: "demo", format: "archive" }, w.deps);
    const out = join(w.cwd, "demo-archive-20250304_050607.tar.gz");
    assertEquals(res.files.map((f) => f.path), [out]);
    assert(
      w.runner.argvs.some((a) =>
        a.join(" ") === `${PODMAN} save --format docker-archive localhost/venvoy/demo:latest`
      ),
      JSON.stringify(w.runner.argvs),
    );
    assertEquals(await names(w.cwd), ["demo-archive-20250304_050607.tar.gz"], "no spool left");
    const v = await extractVerified(out, { tmpDir: w.root });
    try {
      const m = v.manifest;
      assertEquals(m.venvoy_version, "9.9.9");
      assertEquals(m.packages.python.map((p) => `${p.name}==${p.version}`), [
        "pip==23.0.1",
        "six==1.16.0",
      ]);
      assertEquals(m.packages.os, [{ name: "libc6", version: "2.36-9" }]);
      assert(m.members["environment.yml"], "the snapshot taken first is in the archive");
      assertEquals(m.members["env/persist/python/bin/python"], {
        type: "symlink",
        target: "python3",
      });
      assertEquals(m.members["env/persist/python/bin/python3"], undefined);
      assertEquals(res.skipped, ["persist/python/bin/python3"]);
      assert(res.included?.includes("env/config.yaml") && res.included.includes("image.tar"));
      assertEquals(res.included, m.included, "the summary lists what the manifest lists");
      assert(w.notes.some((n) => /the next session recreates them/.test(n)), w.notes.join("\n"));
      assertEquals(w.warnings, []);
      // The SBOM is a member, checked like the others, and lists the image's OS packages.
      assert(m.members["sbom.cdx.json"], "sbom.cdx.json is in the manifest");
      const bom = JSON.parse(await Deno.readTextFile(join(v.dir, "sbom.cdx.json")));
      assertEquals(
        bom.components.filter((c: { purl: string }) => c.purl.startsWith("pkg:deb/")).map((
          c: { purl: string },
        ) => c.purl),
        ["pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12"],
      );
      const { createHash } = await import("node:crypto");
      assertEquals(
        res.files[0].sha256,
        createHash("sha256").update(await Deno.readFile(out)).digest("hex"),
      );
    } finally {
      await v.cleanup();
    }
  } finally {
    await Deno.remove(w.root, { recursive: true });
  }
});

Deno.test("export archive --with-sif without apptainer exits 3 before writing", async () => {
  const w = await world();
  try {
    await makeEnv(w, "demo");
    await assert.rejects(
      exportEnv(w.ctx, { format: "archive", withSif: true }, w.deps),
      (e: unknown) => (e as { exitCode?: number }).exitCode === 3 && /apptainer/.test(String(e)),
    );
    assertEquals(await names(w.cwd), []);
  } finally {
    await Deno.remove(w.root, { recursive: true });
  }
});

Deno.test("import-archive: loads with the engine given, keeps history, refuses an existing env", async () => {
  const w = await world();
  try {
    await makeEnv(w, "demo");
    await exportEnv(w.ctx, { format: "archive", output: "demo.tar.gz" }, w.deps);
    // a second machine: another VENVOY_HOME
    const b = await world();
    try {
      const runtime = new PodmanRuntime(b.runner, PODMAN, { rootless: false });
      b.runner.on([PODMAN, "image", "inspect", "localhost/venvoy/copy:latest"], {
        stdout: JSON.stringify([{ Id: ID.slice(7), Architecture: "amd64", Os: "linux" }]),
      });
      const file = join(w.cwd, "demo.tar.gz");
      const deps = { ...b.deps, runtime, archiveOnly: true };
      const got = await importEnv(b.ctx, file, { name: "copy" }, deps);
      assertEquals(got.name, "copy");
      assertEquals(got.image, "localhost/venvoy/copy:latest");
      assertEquals(got.imageId, ID);
      assertEquals(got.from?.venvoy_version, "9.9.9");
      assert(
        b.runner.argvs.some((a) => a[0] === PODMAN && a[1] === "load"),
        JSON.stringify(b.runner.argvs),
      );
      const cfg = await Deno.readTextFile(join(got.envDir, "config.yaml"));
      assert(cfg.includes("name: copy"), cfg);
      await assert.rejects(
        importEnv(b.ctx, file, { name: "copy" }, deps),
        (e: unknown) => e instanceof UsageError && /already exists/.test(e.message),
      );
      const again = await importEnv(b.ctx, file, { name: "copy", force: true }, {
        ...deps,
        now: new Date(2025, 5, 1),
      });
      const hist = await names(join(b.ctx.paths.projects, "copy"));
      assertEquals(hist.filter((n) => /^environment_\d/.test(n)).length, 2, hist.join(" "));
      assertEquals(again.envDir, got.envDir);
      // nothing of the import's temporary folders is left
      assertEquals(await names(b.ctx.paths.environments), ["copy"]);
    } finally {
      await Deno.remove(b.root, { recursive: true });
    }
  } finally {
    await Deno.remove(w.root, { recursive: true });
  }
});

Deno.test("import: a venvoy Dockerfile is rebuilt with initEnv from its base and pins", async () => {
  const w = await world();
  try {
    const df = join(w.root, "Dockerfile");
    await Deno.writeTextFile(
      df,
      standaloneDockerfile(standaloneSpec({
        baseImage: "localhost/venvoy-lab/python:3.11",
        basePinned: "sha256:" + "cd".repeat(32),
        venvoyVersion: "9.9.9",
        python: [{ name: "six", version: "1.16.0" }],
      })),
    );
    const calls: { opts: InitOptions; requirements: string }[] = [];
    const initEnv = async (_ctx: InitContext, opts: InitOptions) => {
      calls.push({ opts, requirements: await Deno.readTextFile(opts.requirements!) });
      const dir = await makeEnv(w, opts.name!);
      return { dir, config: await readConfig(dir), unchanged: false };
    };
    const deps = { ...w.deps, archiveOnly: false, initEnv };
    const got = await importEnv(w.ctx, df, { name: "copy" }, deps);
    assertEquals(calls.length, 1);
    const { opts, requirements } = calls[0];
    assertEquals(
      [opts.name, opts.runtime, opts.pythonVersion, opts.rVersion, opts.baseImage],
      ["copy", "python", "3.11", undefined, "localhost/venvoy-lab/python:3.11"],
      "a local pin: the base's name (the yaml rule)",
    );
    assert(requirements.endsWith("\nsix==1.16.0\n"), requirements);
    assertEquals(opts.asOf, undefined, "no date in the file: none given");
    assertEquals(got.format, "dockerfile");
    assertEquals(got.name, "copy");
    assertEquals(got.unmet, []);
    assert(got.snapshots.some((p) => p.endsWith("/copy/environment.yml")), got.snapshots.join());
    // The same name again: refused before anything is built (usage error), unless --force.
    await assert.rejects(
      importEnv(w.ctx, df, { name: "copy" }, deps),
      (e: unknown) => e instanceof UsageError && /already exists/.test(e.message),
    );
    assertEquals(calls.length, 1);
    await importEnv(w.ctx, df, { name: "copy", force: true }, deps);
    assertEquals(calls.length, 2);
    // The offline form (inside a tarball) names no pins: the tarball is what to import.
    const off = join(w.root, "Dockerfile.offline");
    await Deno.writeTextFile(
      off,
      (await Deno.readTextFile(df)).replace('standalone="online"', 'standalone="offline"'),
    );
    await assert.rejects(
      importEnv(w.ctx, off, {}, deps),
      (e: unknown) => e instanceof UsageError && /import the tarball/.test(e.hint ?? ""),
    );
    assertEquals(calls.length, 2);
    // Made with init --as-of: the rebuild resolves as of the same date.
    const dated = join(w.root, "Dockerfile.dated");
    await Deno.writeTextFile(
      dated,
      (await Deno.readTextFile(df)).replace(
        'standalone="online"',
        'standalone="online" \\\n      org.venvoy.as_of="2020-01-01"',
      ),
    );
    await importEnv(w.ctx, dated, { name: "dated" }, deps);
    assertEquals(calls[2].opts.asOf, "2020-01-01");
    assertEquals(w.runner.argvs, [], "nothing ran but the (fake) init");
  } finally {
    await Deno.remove(w.root, { recursive: true });
  }
});

Deno.test("import: a Dockerfile venvoy did not write is a usage error; a tarball without env/ is refused", async () => {
  const w = await world();
  try {
    const runtime = new PodmanRuntime(w.runner, PODMAN, { rootless: false });
    const deps = { ...w.deps, runtime, archiveOnly: false };
    const df = join(w.root, "Dockerfile.txt");
    await Deno.writeTextFile(df, "# syntax\nFROM python:3.11-slim\nRUN true\n");
    await assert.rejects(importEnv(w.ctx, df, {}, deps), (e: unknown) => {
      assert(e instanceof UsageError);
      assertEquals(e.exitCode, 2);
      assert.match(e.message, /is a Dockerfile that venvoy did not write/);
      assert.match(e.hint ?? "", /^build it with docker or podman directly/);
      assert(e.hint?.includes(IMPORT_ACCEPTS), e.hint);
      return true;
    });
    const members = [{ name: "README.md", data: "hi\n" }];
    const tarball = join(w.root, "t.tar.gz");
    await Deno.writeFile(
      tarball,
      craftArchive(members, { manifest: manifestFor(members, { format: "venvoy-tarball" }) }),
    );
    await Deno.mkdir(w.ctx.paths.environments, { recursive: true });
    // A tarball is verified, then needs its env/ folder to be rebuilt offline.
    await assert.rejects(importEnv(w.ctx, tarball, {}, deps), (e: unknown) => {
      assert(e instanceof VenvoyError);
      assert.match(e.message, /the tarball has no env\/config\.yaml/);
      return true;
    });
    assertEquals(await names(w.ctx.paths.environments), [], "the verified folder is removed");
    await assert.rejects(
      importEnv(w.ctx, join(w.root, "missing.tar.gz"), {}, deps),
      (e: unknown) => e instanceof UsageError && /no such file/.test(e.message),
    );
    assertEquals(w.runner.argvs, []);
  } finally {
    await Deno.remove(w.root, { recursive: true });
  }
});

Deno.test("import: a hostile archive is refused and leaves nothing behind", async () => {
  const w = await world();
  try {
    const runtime = new PodmanRuntime(w.runner, PODMAN, { rootless: false });
    const deps = { ...w.deps, runtime, archiveOnly: false };
    const members = [{ name: "../evil.txt", data: "x" }];
    const file = join(w.root, "evil.tar.gz");
    await Deno.writeFile(file, craftArchive(members, { manifest: manifestFor([]) }));
    await assert.rejects(importEnv(w.ctx, file, {}, deps), /\.\./);
    assertEquals(await names(w.ctx.paths.environments), []);
    assertEquals(await names(w.root).then((n) => n.includes("evil.txt")), false);
    // truncated gzip
    const trunc = join(w.root, "trunc.tar.gz");
    await Deno.writeFile(trunc, gzipSync(new Uint8Array(4096)).slice(0, 20));
    await assert.rejects(importEnv(w.ctx, trunc, {}, deps), /truncat|corrupt|ends/i);
    assertEquals(w.runner.argvs, [], "no engine was called");
  } finally {
    await Deno.remove(w.root, { recursive: true });
  }
});

Deno.test("requirementsText pins Python packages and lists R packages by name", () => {
  const pkgs = [{ name: "six", version: "1.16.0" }, { name: "bare", version: "" }];
  assertEquals(requirementsText("python", pkgs, "# h"), "# h\nsix==1.16.0\nbare\n");
  assertEquals(requirementsText("r", pkgs, "# h"), "# h\nsix\nbare\n");
});

Deno.test("progress when piped: a start line, throttled lines, a summary; nothing animated", async () => {
  const lines: string[] = [];
  let t = 0;
  const bar = await byteProgress("Saving", {
    mode: "lines",
    write: (l) => lines.push(l),
    now: () => t,
    interval: 10_000,
  });
  bar.update(1_000_000);
  t = 11_000;
  bar.update(50_000_000, 100_000_000);
  t = 12_000;
  bar.update(60_000_000);
  bar.done();
  bar.done();
  assertEquals(lines, [
    "Saving ...",
    "Saving: 50 MB of 100 MB (50%), 4.5 MB/s",
    "Saving: done, 60 MB in 12.0 s (5.0 MB/s)",
  ]);
  assert(lines.every((l) => !l.includes("\x1b")), "no escape codes");
  const steps: string[] = [];
  const step = await stepProgress("Loading", { mode: "lines", write: (l) => steps.push(l) });
  step.fail();
  assertEquals(steps[0], "Loading ...");
  assert.match(steps[1], /^Loading: failed \(/);
  assertEquals(formatBytes(999), "999 B");
  assertEquals(formatBytes(1_234_567_890), "1.2 GB");
});

Deno.test({
  name:
    "interruptible: SIGTERM (like SIGINT) makes the next progress check throw Interrupted (exit 130)",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    let checks = 0;
    await assert.rejects(
      interruptible(async (check) => {
        Deno.kill(Deno.pid, "SIGTERM"); // SIGINT is the test runner's own
        for (let i = 0; i < 100; i++) {
          await new Promise((r) => setTimeout(r, 10));
          checks++;
          check();
        }
      }),
      (e: unknown) => e instanceof Interrupted && e.exitCode === 130,
    );
    assert(checks < 100, "stopped early");
  },
});

Deno.test("import-archive: an environment exported before any session gets persist/ back", async () => {
  const w = await world();
  try {
    const dir = await makeEnv(w, "fresh");
    await Deno.remove(join(dir, "persist"), { recursive: true });
    await Deno.mkdir(join(dir, "persist"));
    await exportEnv(w.ctx, { format: "archive", output: "f.tar.gz" }, w.deps);
    const b = await world();
    try {
      const runtime = new PodmanRuntime(b.runner, PODMAN, { rootless: false });
      const got = await importEnv(b.ctx, join(w.cwd, "f.tar.gz"), {}, {
        ...b.deps,
        runtime,
        archiveOnly: true,
      });
      assert((await Deno.stat(join(got.envDir, "persist"))).isDirectory, "the mount source exists");
      assert((await Deno.stat(join(got.envDir, "vendor"))).isDirectory);
    } finally {
      await Deno.remove(b.root, { recursive: true });
    }
  } finally {
    await Deno.remove(w.root, { recursive: true });
  }
});
