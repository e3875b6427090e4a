/**
 * `venvoy run` in batch jobs: the scheduler's variables, --read-only, --gpus, a forced
 * engine that probes nothing, and the podman-built image converted to a SIF once.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { RecordingRunner } from "../../fakes/runner.ts";
import { type EnvConfig, writeConfig } from "../../../src/env/config.ts";
import { statePaths } from "../../../src/env/paths.ts";
import { runEnv } from "../../../src/session/run.ts";
import { startSessionAutoSave } from "../../../src/snapshot/env_hooks.ts";
import { schedulerPassthrough } from "../../../src/hpc/passthrough.ts";
import { recordSif, sifNameFor } from "../../../src/hpc/sif.ts";
import { RuntimeUnavailableError } from "../../../src/ui/errors.ts";
import { tempDir } from "../../fakes/tmp.ts";
import { envConfig } from "../../fakes/env_config.ts";

const IMAGE_ID = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

async function setup(
  options: { engine?: string; paths?: Record<string, string>; env?: Record<string, string> } = {},
) {
  const engine = options.engine ?? "podman";
  const root = await tempDir("venvoy hpc run ");
  const paths = statePaths((n) =>
    ({ HOME: join(root, "home"), VENVOY_HOME: join(root, "state") } as Record<string, string>)[n]
  );
  const dir = join(paths.environments, "study");
  await Deno.mkdir(join(dir, "persist"), { recursive: true });
  const cfg: EnvConfig = envConfig({ name: "study", engine, image_id: IMAGE_ID });
  await writeConfig(dir, cfg);
  const cwd = join(root, "job dir");
  await Deno.mkdir(cwd);
  const notes: string[] = [];
  const runner = new RecordingRunner({
    paths: options.paths ?? { podman: "/usr/bin/podman", apptainer: "/usr/bin/apptainer" },
    env: options.env,
  });
  // The session, and the save before a SIF conversion; tests assert their exact argv.
  runner.on(["/usr/bin/podman", "run"], {});
  runner.on(["/usr/bin/podman", "save"], {});
  runner.on(["/usr/bin/apptainer", "exec"], {});
  const ctx = {
    runner,
    paths,
    engine: null,
    cwd,
    note: (m: string) => notes.push(m),
    terminal: { stdin: false, stdout: false },
    stdinData: false,
    user: { uid: 1000, gid: 100 },
    autosave: false,
  };
  return { root, dir, paths, cwd, notes, runner, ctx };
}

const SLURM_JOB = {
  SLURM_JOB_ID: "41",
  SLURM_ARRAY_TASK_ID: "3",
  SLURM_CPUS_ON_NODE: "2",
  PBS_ARRAY_INDEX: "5",
  LSB_JOBINDEX: "6",
  SGE_TASK_ID: "7",
  JOB_ID: "8",
  OMP_NUM_THREADS: "2",
  CUDA_VISIBLE_DEVICES: "0",
  HOME: "/home/ann",
  PATH: "/usr/bin",
  SECRET_TOKEN: "x",
  SLURMD_NODENAME: "vm",
  "SLURM_BAD-NAME": "x",
};

Deno.test("passthrough: the scheduler's variables by prefix and name; nothing else", async () => {
  const tmp = await tempDir("job tmp ");
  const p = schedulerPassthrough({ ...SLURM_JOB, TMPDIR: tmp + "/", SLURM_X: "a\nb" });
  assertEquals(p.env, {
    CUDA_VISIBLE_DEVICES: "0",
    JOB_ID: "8",
    LSB_JOBINDEX: "6",
    OMP_NUM_THREADS: "2",
    PBS_ARRAY_INDEX: "5",
    SGE_TASK_ID: "7",
    SLURM_ARRAY_TASK_ID: "3",
    SLURM_CPUS_ON_NODE: "2",
    SLURM_JOB_ID: "41",
    TMPDIR: tmp,
  });
  assertEquals(p.mounts, [{ source: tmp, target: tmp }]);
  assertEquals(p.skipped, ["SLURM_X (its value has a line break)"]);
  const missing = schedulerPassthrough({ TMPDIR: "/nonexistent/venvoy-tmp" });
  assertEquals([missing.env, missing.mounts], [{}, []]);
  assertEquals(schedulerPassthrough({ TMPDIR: "relative" }).env, {});
});

Deno.test("run in a job, podman: scheduler variables and TMPDIR with its folder mounted", async () => {
  const { ctx, runner } = await setup();
  const tmp = await tempDir("slurm-tmp-");
  await runEnv({ ...ctx, hostEnv: { ...SLURM_JOB, TMPDIR: tmp } }, {
    name: "study",
    command: "true",
    env: ["OMP_NUM_THREADS=4"],
  });
  const argv = runner.argvs[0];
  const envs = argv.flatMap((a, i) => (argv[i - 1] === "-e" ? [a] : []));
  for (
    const v of [
      "SLURM_JOB_ID=41",
      "SLURM_ARRAY_TASK_ID=3",
      "SLURM_CPUS_ON_NODE=2",
      "PBS_ARRAY_INDEX=5",
      "LSB_JOBINDEX=6",
      "SGE_TASK_ID=7",
      "JOB_ID=8",
      "CUDA_VISIBLE_DEVICES=0",
      `TMPDIR=${tmp}`,
    ]
  ) assert.ok(envs.includes(v), `${v} in ${envs}`);
  assert.ok(envs.includes("OMP_NUM_THREADS=4"), "--env wins over the job's value");
  assert.ok(!envs.includes("OMP_NUM_THREADS=2"));
  for (const leaked of ["SECRET_TOKEN", "PATH", "SLURMD_NODENAME", "SLURM_BAD-NAME"]) {
    assert.ok(!envs.some((e) => e.startsWith(`${leaked}=`)), `${leaked} stays outside`);
  }
  assert.ok(argv.includes(`type=bind,source=${tmp},target=${tmp}`));
});

Deno.test("run in a job, apptainer: --cleanenv kept, variables passed as APPTAINERENV_, escaped", async () => {
  const { ctx, runner, dir } = await setup();
  await Deno.writeTextFile(join(dir, sifNameFor(IMAGE_ID)), "");
  await recordSif(join(dir, sifNameFor(IMAGE_ID)), IMAGE_ID); // as venvoy converted it
  const tmp = await tempDir("slurm-tmp-");
  await runEnv({
    ...ctx,
    engine: "apptainer",
    hostEnv: { ...SLURM_JOB, TMPDIR: tmp, SLURM_JOB_NAME: "a $b" },
  }, {
    name: "study",
    command: "true",
    readOnly: true,
  });
  const argv = runner.argvs[0];
  assertEquals(argv.slice(0, 3), ["/usr/bin/apptainer", "exec", "--cleanenv"]);
  const envs = Object.entries(runner.calls[0].env ?? {}).flatMap(([k, v]) =>
    k.startsWith("APPTAINERENV_") ? [`${k.slice("APPTAINERENV_".length)}=${v}`] : []
  );
  assert.ok(!argv.includes("--env"), "no --env: it splits values holding a comma");
  for (
    const v of [
      "SLURM_JOB_ID=41",
      "SLURM_ARRAY_TASK_ID=3",
      "SLURM_CPUS_ON_NODE=2",
      "JOB_ID=8",
      "OMP_NUM_THREADS=2",
      "CUDA_VISIBLE_DEVICES=0",
      `TMPDIR=${tmp}`,
      "SLURM_JOB_NAME=a \\$b",
    ]
  ) assert.ok(envs.includes(v), `${v} in ${envs}`);
  assert.ok(!envs.some((e) => e.startsWith("SECRET_TOKEN=")));
  assert.ok(argv.includes(`type=bind,source=${tmp},destination=${tmp}`));
  assert.ok(
    argv.includes(`type=bind,source=${join(dir, "persist")},destination=/opt/venvoy/persist,ro`),
    "--read-only: persist/ is mounted ro",
  );
  assert.ok(argv.includes(join(dir, sifNameFor(IMAGE_ID))), "the converted SIF is run");
});

Deno.test("run --read-only on podman: persist/ readonly; --gpus adds the CDI device", async () => {
  const { ctx, runner, dir } = await setup();
  await runEnv({ ...ctx, autosave: true, autoSaver: startSessionAutoSave }, {
    name: "study",
    command: "true",
    readOnly: true,
    gpus: true,
  });
  const argv = runner.argvs[0];
  assert.ok(
    argv.includes(`type=bind,source=${join(dir, "persist")},target=/opt/venvoy/persist,readonly`),
  );
  const i = argv.indexOf("--device");
  assertEquals(argv.slice(i, i + 2), ["--device", "nvidia.com/gpu=all"]);
  // Auto-save was asked for (autosave: true) but a read-only session never starts it: no
  // snapshot folder appears.
  const projects = join(ctx.paths.projects, "study");
  assert.ok(!(await Deno.stat(projects).then(() => true, () => false)), "no auto-save");
});

Deno.test("a forced engine probes nothing: its program is looked up, no version call", async () => {
  const { ctx, runner, dir } = await setup({
    env: { VENVOY_ENGINE: "apptainer" },
    paths: {
      podman: "/usr/bin/podman",
      apptainer: "/usr/bin/apptainer",
      docker: "/usr/bin/docker",
    },
  });
  await Deno.writeTextFile(join(dir, sifNameFor(IMAGE_ID)), "");
  await recordSif(join(dir, sifNameFor(IMAGE_ID)), IMAGE_ID); // as venvoy converted it
  await runEnv(ctx, { name: "study", command: "true" });
  assertEquals(runner.argvs.length, 1, JSON.stringify(runner.argvs));
  assertEquals(runner.argvs[0][0], "/usr/bin/apptainer");
  const missing = await setup({ env: { VENVOY_ENGINE: "docker" } });
  await assert.rejects(runEnv(missing.ctx, { name: "study", command: "true" }), (e: unknown) => {
    assert.ok(e instanceof RuntimeUnavailableError);
    assert.match(e.message, /docker was asked for but is not installed here/);
    return true;
  });
  assertEquals(missing.runner.argvs, []);
});

Deno.test("--engine apptainer on a podman env: saved, converted once, then reused", async () => {
  const { ctx, runner, dir } = await setup();
  runner.on(["/usr/bin/apptainer", "build"], (req) => {
    Deno.writeTextFileSync(req.cmd[3], "SIF"); // the temporary output, renamed into place
    return { code: 0 };
  });
  await runEnv({ ...ctx, engine: "apptainer" }, { name: "study", command: "true" });
  const sif = join(dir, "image-0123456789ab.sif");
  const [save, build, run] = runner.argvs;
  assertEquals(save.slice(0, 5), ["/usr/bin/podman", "save", "--format", "docker-archive", "-o"]);
  assertEquals(save.at(-1), "localhost/venvoy/study:latest");
  const archive = save[5];
  assertEquals(build, [
    "/usr/bin/apptainer",
    "build",
    "--force",
    join(dir, ".image-0123456789ab.sif.building"),
    `docker-archive:${archive}`,
  ]);
  assertEquals(run.slice(0, 3), ["/usr/bin/apptainer", "exec", "--cleanenv"]);
  assert.ok(run.includes(sif));
  assertEquals(await Deno.readTextFile(sif), "SIF");
  assert.ok(!(await Deno.stat(archive).then(() => true, () => false)), "archive removed");
  await runEnv({ ...ctx, engine: "apptainer" }, { name: "study", command: "true" });
  assertEquals(runner.argvs.length, 4, "second run: no save, no build");
});

Deno.test("four sessions at once convert once (the lock) and all run", async () => {
  const { ctx, runner } = await setup();
  let builds = 0;
  runner.on(["/usr/bin/apptainer", "build"], (req) => {
    builds++;
    Deno.writeTextFileSync(req.cmd[3], "SIF");
    return { code: 0 };
  });
  await Promise.all(
    [1, 2, 3, 4].map(() =>
      runEnv({ ...ctx, engine: "apptainer" }, { name: "study", command: "true" })
    ),
  );
  assertEquals(builds, 1);
  assertEquals(runner.argvs.filter((a) => a[1] === "exec").length, 4);
});

Deno.test("compute node: podman missing, apptainer here, no SIF: the error names the fix", async () => {
  const { ctx, runner } = await setup({ paths: { apptainer: "/usr/bin/apptainer" } });
  await assert.rejects(runEnv(ctx, { name: "study", command: "true" }), (e: unknown) => {
    assert.ok(e instanceof RuntimeUnavailableError);
    assert.match(e.message, /built with podman, which is not installed here/);
    assert.match(e.hint!, /venvoy --engine apptainer run study --command true/);
    assert.match(e.hint!, /venvoy submit/);
    return true;
  });
  assertEquals(runner.argvs, []);
});

Deno.test("compute node: podman missing, the SIF made on the login node is used", async () => {
  const { ctx, runner, dir } = await setup({ paths: { apptainer: "/usr/bin/apptainer" } });
  await Deno.writeTextFile(join(dir, sifNameFor(IMAGE_ID)), "SIF");
  await recordSif(join(dir, sifNameFor(IMAGE_ID)), IMAGE_ID); // made on the login node
  await runEnv(ctx, { name: "study", command: "true" });
  assertEquals(runner.argvs.length, 1);
  assert.ok(runner.argvs[0].includes(join(dir, "image-0123456789ab.sif")));
});

Deno.test("issue 18.5: a SIF venvoy did not make is never run, even without podman", async () => {
  const { ctx, runner, dir } = await setup({ paths: { apptainer: "/usr/bin/apptainer" } });
  const sif = join(dir, sifNameFor(IMAGE_ID));
  await Deno.writeTextFile(sif, "PLANTED"); // as an archive's env/ would have placed it
  await assert.rejects(runEnv(ctx, { name: "study", command: "true" }), RuntimeUnavailableError);
  assertEquals(runner.argvs, [], "no apptainer exec of the planted file");
  // Where podman is, the planted file is replaced by a conversion of the image.
  const login = await setup();
  const planted = join(login.dir, sifNameFor(IMAGE_ID));
  await Deno.writeTextFile(planted, "PLANTED");
  login.runner.on(["/usr/bin/apptainer", "build"], (req) => {
    Deno.writeTextFileSync(req.cmd[3], "SIF");
    return { code: 0 };
  });
  const notes: string[] = [];
  await runEnv({ ...login.ctx, engine: "apptainer", note: (m) => notes.push(m) }, {
    name: "study",
    command: "true",
  });
  assertEquals(login.runner.argvs.map((a) => a[1]), ["save", "build", "exec"]);
  assertEquals(await Deno.readTextFile(planted), "SIF");
  assert.ok(notes.some((n) => /is not a SIF venvoy made/.test(n)), notes.join("\n"));
});

Deno.test("issue 18.5: a SIF changed after venvoy made it is not run; it is made again", async () => {
  const { ctx, runner, dir } = await setup();
  runner.on(["/usr/bin/apptainer", "build"], (req) => {
    Deno.writeTextFileSync(req.cmd[3], "SIF");
    return { code: 0 };
  });
  const notes: string[] = [];
  const c = { ...ctx, engine: "apptainer", note: (m: string) => notes.push(m) };
  await runEnv(c, { name: "study", command: "true" });
  const sif = join(dir, sifNameFor(IMAGE_ID));
  // The same size, other bytes: only the hash can tell.
  await Deno.writeTextFile(sif, "EVL");
  await runEnv(c, { name: "study", command: "true" });
  assertEquals(runner.argvs.map((a) => a[1]), ["save", "build", "exec", "save", "build", "exec"]);
  assertEquals(await Deno.readTextFile(sif), "SIF");
  assert.ok(notes.some((n) => /sha256 changed since/.test(n)), notes.join("\n"));
  // Touched only (the same bytes): hashed once, trusted, not converted again.
  const t = new Date(Date.now() - 60_000);
  await Deno.utime(sif, t, t);
  await runEnv(c, { name: "study", command: "true" });
  assertEquals(runner.argvs.length, 7);
});
