/**
 * restore and freeze, run against a RecordingRunner that plays the container: it reads the
 * mounts from the exact podman argv and does to persist/ and vendor/ what pip would.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { RecordingRunner } from "../../fakes/runner.ts";
import { type EnvConfig, writeConfig } from "../../../src/env/config.ts";
import { statePaths } from "../../../src/env/paths.ts";
import type { RunRequest } from "../../../src/process/mod.ts";
import { restoreEnv } from "../../../src/snapshot/restore_run.ts";
import {
  freezeEnv,
  pythonToFreeze,
  requirementName,
  rToFreeze,
} from "../../../src/snapshot/freeze_run.ts";
import { execSpec, wrapperScript } from "../../../src/snapshot/exec.ts";
import { listSnapshots, writeSnapshot } from "../../../src/snapshot/store.ts";
import { readPackageState } from "../../../src/snapshot/state.ts";
import { PodmanRuntime } from "../../../src/runtime/mod.ts";
import { VenvoyError } from "../../../src/ui/errors.ts";
import { snap } from "./helpers.ts";
import { tempDir } from "../../fakes/tmp.ts";
import { envConfig } from "../../fakes/env_config.ts";

const PODMAN = "/usr/bin/podman";

async function world(devPackages: string[] = []) {
  const root = await tempDir("venvoy-restore-");
  const paths = statePaths((n) =>
    ({
      HOME: root,
      VENVOY_HOME: join(root, "state"),
      VENVOY_PROJECTS: join(root, "proj"),
    } as Record<string, string>)[n]
  );
  const dir = join(paths.environments, "demo");
  const site = join(dir, "persist/python/lib/python3.11/site-packages");
  await Deno.mkdir(site, { recursive: true });
  await Deno.mkdir(join(dir, "vendor"), { recursive: true });
  const cfg: EnvConfig = envConfig({ dev_packages: devPackages });
  await writeConfig(dir, cfg);
  await Deno.writeTextFile(
    join(dir, "base-packages.json"),
    JSON.stringify({
      python: [{ name: "pip", version: "23.0.1" }, { name: "uv", version: "0.13.9" }],
      r: [],
      conda: [],
      os: [],
    }),
  );
  const runner = new RecordingRunner({ paths: { podman: PODMAN } });
  const notes: string[] = [];
  const ctx = {
    runner,
    paths,
    engine: null,
    note: (m: string) => notes.push(m),
    user: { uid: 1, gid: 1 },
  };
  return { root, paths, dir, site, runner, ctx, notes, projectDir: join(paths.projects, "demo") };
}

function mountOf(req: RunRequest, target: string): string {
  const m = req.cmd.find((a) => a.startsWith("type=bind,") && a.endsWith(`,target=${target}`));
  assert(m, `no mount at ${target}`);
  return m.split(",")[1].slice("source=".length);
}

/** Plays `pip install --prefix … name==version …` inside the container. */
function fakePip(
  world: { site: string },
  available: Record<string, string[]>,
): (req: RunRequest) => { code: number } {
  return (req) => {
    const work = mountOf(req, "/workspace");
    const pins = req.cmd.filter((a) => /^[a-z0-9-]+==/.test(a));
    for (const p of pins) {
      const [n, v] = p.split("==");
      if (!(available[n] ?? []).includes(v)) {
        Deno.writeTextFileSync(
          join(work, ".venvoy-exec.log"),
          `ERROR: Could not find a version that satisfies the requirement ${p} (from versions: ${
            (available[n] ?? []).join(", ") || "none"
          })\n`,
        );
        return { code: 1 };
      }
    }
    for (const p of pins) {
      const [n, v] = p.split("==");
      Deno.mkdirSync(join(world.site, `${n}-${v}.dist-info`), { recursive: true });
    }
    Deno.writeTextFileSync(join(work, ".venvoy-exec.log"), "Successfully installed\n");
    return { code: 0 };
  };
}

Deno.test("exec: the wrapper keeps the exit code and the output; the spec mounts persist/", () => {
  assertEquals(wrapperScript(false), `"$@" 1>&2`);
  assert.match(wrapperScript(true), /tee \/workspace\/\.venvoy-exec\.log >&2; exit "\$\(cat/);
  const runner = new RecordingRunner();
  const rt = new PodmanRuntime(runner, PODMAN, { rootless: false });
  const env = { name: "demo", dir: "/e/demo", config: {} as EnvConfig };
  const spec = execSpec(rt, env, {
    image: "img",
    argv: ["python3", "-V"],
    workDir: "/tmp/w",
    capture: true,
    ca: null,
    id: "x",
  });
  assertEquals(spec.command, [
    "/opt/venvoy/bin/venvoy-entry",
    "sh",
    "-c",
    wrapperScript(true),
    "sh",
    "python3",
    "-V",
  ]);
  assertEquals(spec.mounts?.map((m) => `${m.source}:${m.target}`), [
    "/tmp/w:/workspace",
    "/e/demo/persist:/opt/venvoy/persist",
  ]);
  assertEquals(spec.name, "venvoy-demo-x");
  assertEquals(spec.tty, false);
});

Deno.test("restore: installs the snapshot's versions into persist/, verifies, keeps an undo", async () => {
  const w = await world();
  try {
    const target = await writeSnapshot(
      w.projectDir,
      snap({ pip: "23.0.1", uv: "0.13.9", six: "1.16.0" }),
      {
        now: new Date("2026-01-01T00:00:00Z"),
      },
    );
    await Deno.mkdir(join(w.site, "requests-2.32.3.dist-info"));
    w.runner.on([PODMAN, "run"], fakePip(w, { six: ["1.16.0"] }));
    const res = await restoreEnv(w.ctx, { name: "demo", snapshot: target.entry.id });
    assertEquals(res.mismatches, []);
    assertEquals(res.installed.python, 1);
    const argv = w.runner.argvs[0];
    assertEquals(argv.slice(argv.indexOf("/opt/venvoy/bin/venvoy-entry") + 5), [
      "python3",
      "-m",
      "pip",
      "install",
      "--no-deps",
      "--no-input",
      "--disable-pip-version-check",
      "--ignore-installed",
      "--prefix",
      "/opt/venvoy/persist/python",
      "six==1.16.0",
    ]);
    const state = await readPackageState(w.dir);
    assertEquals(state.state.python.map((p) => p.name), ["pip", "six", "uv"], "requests is gone");
    const ids = (await listSnapshots(w.projectDir)).map((e) => e.id);
    assert(ids.includes(res.undo.id) && res.undo.id !== target.entry.id, "the old state is kept");
    assertEquals(ids[0], res.after.id);
    const undone = (await import("../../../src/snapshot/store.ts")).loadSnapshot;
    const before = await undone(
      (await listSnapshots(w.projectDir)).find((e) => e.id === res.undo.id)!,
    );
    assert(before.state.python.some((p) => p.name === "requests"));
  } finally {
    await Deno.remove(w.root, { recursive: true });
  }
});

Deno.test("restore: versions gone from the index fail with every one listed; nothing changes", async () => {
  const w = await world();
  try {
    const target = await writeSnapshot(
      w.projectDir,
      snap({ pip: "23.0.1", uv: "0.13.9", six: "9.9", attrs: "0.0.1", idna: "3.7" }),
      { now: new Date("2026-01-01T00:00:00Z") },
    );
    await Deno.mkdir(join(w.site, "requests-2.32.3.dist-info"));
    w.runner.on(
      [PODMAN, "run"],
      fakePip(w, { six: ["1.15.0", "1.16.0"], attrs: ["23.1.0"], idna: ["3.7"] }),
    );
    await assert.rejects(
      restoreEnv(w.ctx, { name: "demo", snapshot: target.entry.id }),
      (e: unknown) => {
        assert(e instanceof VenvoyError);
        assert.match(e.message, /2 Python package\(s\) could not be met/);
        assert.match(e.message, /six==9\.9: not available \(available: 1\.15\.0, 1\.16\.0\)/);
        assert.match(e.message, /attrs==0\.0\.1: not available/);
        assert.match(e.hint ?? "", /--allow-nearest/);
        return true;
      },
    );
    const state = await readPackageState(w.dir);
    assertEquals(state.state.python.map((p) => p.name), ["pip", "requests", "uv"], "put back");
    assert(w.notes.some((n) => /unchanged/.test(n)));

    // --allow-nearest takes 1.16.0 for 9.9 and 23.1.0 for 0.0.1, and says so.
    const res = await restoreEnv(w.ctx, {
      name: "demo",
      snapshot: target.entry.id,
      allowNearest: true,
    });
    assertEquals(
      res.deviations.map((d) => `${d.name} ${d.wanted}->${d.chosen}`).sort(),
      ["attrs 0.0.1->23.1.0", "six 9.9->1.16.0"],
    );
    assertEquals(res.mismatches, [], "deviations are reported, not counted as mismatches");
  } finally {
    await Deno.remove(w.root, { recursive: true });
  }
});

Deno.test("restore: no --snapshot and no terminal is a usage error; unknown ids are listed", async () => {
  const w = await world();
  try {
    const t = await writeSnapshot(w.projectDir, snap({ pip: "23.0.1" }));
    await assert.rejects(restoreEnv(w.ctx, { name: "demo" }), /restore needs --snapshot/);
    await assert.rejects(
      restoreEnv(w.ctx, { name: "demo", snapshot: "20000101_000000" }),
      (e: unknown) => e instanceof Error && e.message.includes(t.entry.id),
    );
    let asked = 0;
    const res = await restoreEnv(w.ctx, {
      name: "demo",
      ask: (es) => {
        asked++;
        return Promise.resolve(es[0]);
      },
    });
    assertEquals(asked, 1, "on a terminal it asks");
    assertEquals(res.restored.id, t.entry.id);
    assertEquals(res.needsRebuild.map((n) => n.pkg.name), ["uv"], "only a rebuild removes uv");
  } finally {
    await Deno.remove(w.root, { recursive: true });
  }
});

Deno.test("freeze: which packages, the pip wheel argv with vendor/ mounted, the hashed lock", async () => {
  assertEquals(requirementName("pytest>=8 ; python_version > '3'"), "pytest");
  assertEquals(requirementName("-r other.txt"), null);
  assertEquals(requirementName("Typing_Extensions==4"), "typing-extensions");
  const py = [
    { name: "pip", version: "23" },
    { name: "pytest", version: "8.0.0" },
    { name: "six", version: "1.16.0" },
  ];
  assertEquals(pythonToFreeze(py, ["pytest>=8"], false).pkgs.map((p) => p.name), ["six"]);
  assertEquals(pythonToFreeze(py, ["pytest>=8"], true).pkgs.map((p) => p.name), ["pytest", "six"]);
  assertEquals(
    rToFreeze(
      [
        { name: "base", version: "4.2.2", source: "Base" },
        { name: "jsonlite", version: "1.8.4", source: "Repository" },
        { name: "digest", version: "0.6.35", source: "Repository" },
        { name: "gh", version: "1.0", source: "GitHub" },
      ],
      [{ name: "jsonlite", version: "1.8.4" }, { name: "digest", version: "0.6.31" }],
      [],
    ).map((p) => p.name),
    ["digest"],
  );

  const w = await world(["pytest"]);
  try {
    await Deno.mkdir(join(w.site, "six-1.16.0.dist-info"));
    await Deno.mkdir(join(w.site, "pytest-8.0.0.dist-info"));
    w.runner.on([PODMAN, "run"], (req) => {
      const vendor = mountOf(req, "/opt/venvoy/vendor");
      Deno.writeTextFileSync(join(vendor, "six-1.16.0-py2.py3-none-any.whl"), "six wheel");
      Deno.writeTextFileSync(join(vendor, "uv-0.13.9-py3-none-manylinux_2_17_x86_64.whl"), "uv");
      return { code: 0 };
    });
    const res = await freezeEnv(w.ctx, { name: "demo" });
    assertEquals(res.devSkipped.map((p) => p.name), ["pytest"]);
    const argv = w.runner.argvs[0];
    assert(argv.includes(`type=bind,source=${join(w.dir, "vendor")},target=/opt/venvoy/vendor`));
    assertEquals(
      argv.slice(
        argv.indexOf("/opt/venvoy/bin/venvoy-entry") + 1,
        argv.indexOf("/opt/venvoy/bin/venvoy-entry") + 5,
      ),
      [
        "sh",
        "-c",
        `"$@" 1>&2`,
        "sh",
      ],
    );
    assert(
      argv.join(" ").endsWith(
        "--wheel-dir /opt/venvoy/vendor --requirement /opt/venvoy/vendor/pins.txt",
      ),
    );
    assertEquals(
      await Deno.readTextFile(join(w.dir, "vendor", "pins.txt")),
      "six==1.16.0\nuv==0.13.9\n",
    );
    const lock = await Deno.readTextFile(res.lock);
    assert.match(lock, /^six==1\.16\.0 \\\n {4}--hash=sha256:[0-9a-f]{64}$/m);
    assert.match(lock, /^uv==0\.13\.9 \\\n/m);
    assert(!lock.includes("pytest"));

    // A wheel pip did not produce is an error naming it.
    await Deno.remove(join(w.dir, "vendor", "uv-0.13.9-py3-none-manylinux_2_17_x86_64.whl"));
    w.runner.on([PODMAN, "run"], { code: 0 });
    await assert.rejects(freezeEnv(w.ctx, { name: "demo" }), /no wheel in .* for: uv==0\.13\.9/);
  } finally {
    await Deno.remove(w.root, { recursive: true });
  }
});

Deno.test("freeze refuses, before pip runs, a package whose METADATA a session made a FIFO", async () => {
  // Found by hand: pip in the container lists site-packages and blocks on the FIFO for ever.
  const w = await world();
  try {
    await Deno.mkdir(join(w.site, "six-1.16.0.dist-info"));
    await Deno.writeTextFile(join(w.site, "six-1.16.0.dist-info", "METADATA"), "Name: six\n");
    await Deno.mkdir(join(w.site, "evil-1.0.dist-info"));
    const fifo = join(w.site, "evil-1.0.dist-info", "METADATA");
    assert((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success);
    const pins = join(w.dir, "vendor", "pins.txt");
    await assert.rejects(
      freezeEnv(w.ctx, { name: "demo" }),
      (e: Error) =>
        /package metadata that is not a regular file: persist\/python\/.*evil-1\.0\.dist-info\/METADATA/
          .test(e.message),
    );
    assertEquals(w.runner.argvs, [], "no engine command ran");
    assertEquals(await Deno.lstat(pins).catch(() => null), null, "nothing written to vendor/");
  } finally {
    await Deno.remove(w.root, { recursive: true });
  }
});
