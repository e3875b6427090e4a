/**
 * HPC for real (issue #12): the lab's one-node SLURM cluster (tests/lab/setup-slurm.sh), with
 * every cluster-side step run as the non-root lab user on a compute-node PATH (apptainer and
 * the SLURM clients, no podman, no docker; see hpc.ts). One environment is built with podman
 * by root (the "laptop"), exported as an archive and imported by the cluster user (a SIF);
 * the workflows below share it:
 *   1. the seed's workflow: a job script calls `venvoy run --name X --command "python
 *      analysis.py"`; the output lands in the job's output file, the job's exit code is the
 *      command's (sbatch --wait and scontrol agree);
 *   2. the scheduler's variables reach the container in array tasks (apptainer as the user,
 *      podman as root), other variables do not;
 *   3. eight array tasks run the same environment at once, with --read-only and without;
 *      the snapshot history stays valid;
 *   4. built with podman, run with apptainer: one locked conversion to a SIF, reused; on a
 *      compute node without it, the error names the fix;
 *   5. `venvoy submit` against the real SLURM.
 * Skipped with a reason when not root, the lab user is missing or the cluster is down.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { type CliResult, venvoy } from "./cli.ts";
import { LAB_PYTHON, runner } from "./lab.ts";
import {
  type Cluster,
  cluster,
  ignoreUnlessCluster,
  jobId,
  type Result,
  scontrolExitCodes,
  SLURM_BIN,
} from "./hpc.ts";

const hasPodmanImage = runner.which("podman") !== null &&
  (await runner.run({ cmd: ["podman", "image", "exists", LAB_PYTHON] })).code === 0;
const skip = ignoreUnlessCluster(
  "HPC cluster tests",
  hasPodmanImage ? null : `${LAB_PYTHON} is missing (run tests/lab/setup.sh)`,
);

const NAME = `it-hpc-${crypto.randomUUID().slice(0, 8)}`;
const SITE = "/opt/venvoy/persist/python/lib/python3.11/site-packages";

interface Fixture {
  c: Cluster;
  /** root's state folders (the laptop / login node), with podman on PATH. */
  laptop: Record<string, string>;
  laptopCwd: string;
  archive: string;
}

let shared: Fixture | null = null;

function must<T extends Result | CliResult>(res: T, what: string): T {
  assertEquals(res.code, 0, `${what} failed (exit ${res.code}):\n${res.stdout}\n${res.stderr}`);
  return res;
}

async function fixture(): Promise<Fixture> {
  if (shared) return shared;
  const c = await cluster();
  const laptopRoot = join(c.root, "laptop");
  await Deno.mkdir(laptopRoot, { recursive: true, mode: 0o755 });
  await Deno.chmod(laptopRoot, 0o755);
  const laptop = {
    HOME: join(laptopRoot, "home"),
    VENVOY_HOME: join(laptopRoot, "vh"),
    VENVOY_PROJECTS: join(laptopRoot, "vp"),
  };
  const laptopCwd = join(laptopRoot, "out");
  await Deno.mkdir(laptopCwd, { recursive: true });
  await Deno.chmod(laptopCwd, 0o755);
  globalThis.addEventListener("unload", () => {
    new Deno.Command("podman", {
      args: ["rmi", "-f", `localhost/venvoy/${NAME}:latest`],
      stdout: "null",
      stderr: "null",
    }).outputSync();
  });
  must(
    await venvoy(["--engine", "podman", "init", "--name", NAME, "--base-image", LAB_PYTHON], {
      env: laptop,
      cwd: laptopCwd,
    }),
    "init with podman (laptop)",
  );
  const ex = must(
    await venvoy(["export", "--name", NAME, "--format", "archive"], {
      env: laptop,
      cwd: laptopCwd,
    }),
    "export archive (laptop)",
  );
  const m = /^[0-9a-f]{64} {2}(\/.+)$/m.exec(ex.stdout);
  assert(m, `no archive path in: ${ex.stdout}`);
  const archive = m[1];
  await Deno.chmod(archive, 0o644);

  // The cluster user imports it, with no --engine: the node has only apptainer.
  const imp = must(
    await c.venvoyAsUser(["import", archive, "--name", NAME, "--json"]),
    "import as the cluster user",
  );
  const got = JSON.parse(imp.stdout);
  assertEquals(got.engine, "apptainer", "the compute node's only engine is apptainer");
  assert(String(got.image).endsWith(".sif"), got.image);
  assert(String(got.image).startsWith(c.home + "/"), "the SIF is in the user's own state");
  shared = { c, laptop, laptopCwd, archive };
  return shared;
}

/** sbatch as the cluster user, waiting; returns the job id and sbatch's exit code. */
async function sbatchWait(
  c: Cluster,
  script: string,
  opts: { cwd: string; args?: string[] },
): Promise<{ id: string; code: number; res: Result }> {
  const res = await c.asUser(["sbatch", "--parsable", "--wait", ...(opts.args ?? []), script], {
    cwd: opts.cwd,
  });
  return { id: jobId(res.stdout), code: res.code, res };
}

function jobScript(lines: string[]): string {
  return ["#!/bin/bash", "set -u", ...lines, ""].join("\n");
}

Deno.test({
  name: "hpc 0: the compute node has apptainer and SLURM, and no podman and no docker",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const c = await cluster();
    const who = must(await c.asUser(["id", "-u"]), "id -u");
    assertEquals(Number(who.stdout.trim()), c.uid);
    assert(c.uid !== 0, "the lab user is not root");
    for (const absent of ["podman", "docker"]) {
      const r = await c.asUser(["sh", "-c", `command -v ${absent}`]);
      assert(r.code !== 0, `${absent} is reachable on the compute node: ${r.stdout}`);
    }
    for (const present of ["apptainer", "sbatch", "scontrol", "deno", "venvoy"]) {
      must(await c.asUser(["sh", "-c", `command -v ${present}`]), `command -v ${present}`);
    }
    const info = must(await c.venvoyAsUser(["runtime-info", "--json"]), "runtime-info");
    const text = info.stdout;
    assert(/slurm/i.test(text), `runtime-info sees the scheduler: ${text}`);
  },
});

Deno.test({
  name: "hpc 1: the seed's workflow: job script runs `venvoy run`, output in the job file, " +
    "exit code is the command's",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { c } = await fixture();
    const work = await c.userDir("seed");
    await c.giveFile(
      join(work, "analysis.py"),
      [
        "import os, sys",
        "total = sum(range(1, 101))",
        "print(f\"analysis: total={total} env={os.environ.get('VENVOY_ENV')}\")",
        "sys.exit(3)",
        "",
      ].join("\n"),
    );
    await c.giveFile(
      join(work, "job.sh"),
      jobScript([
        "#SBATCH --job-name=venvoy-seed",
        `cd ${work}`,
        `venvoy run --name ${NAME} --command "python analysis.py"`,
      ]),
      0o755,
    );
    const out = join(work, "slurm-out.txt");
    const job = await sbatchWait(c, join(work, "job.sh"), { cwd: work, args: ["-o", out] });
    const text = await Deno.readTextFile(out);
    assertEquals(job.code, 3, `sbatch --wait exits with the command's code:\n${text}`);
    assert(text.includes(`analysis: total=5050 env=${NAME}`), `job output:\n${text}`);
    assertEquals(await scontrolExitCodes(job.id), ["3:0"], "scontrol agrees with sbatch --wait");
    // The job's output file belongs to the user.
    assertEquals((await Deno.stat(out)).uid, c.uid);
  },
});

const PROBE = 'echo "in task=${SLURM_ARRAY_TASK_ID:-unset} job=${SLURM_JOB_ID:-unset} ' +
  "cpus=${SLURM_CPUS_ON_NODE:-unset} array=${SLURM_ARRAY_JOB_ID:-unset} " +
  'omp=${OMP_NUM_THREADS:-unset} secret=${VENVOY_IT_SECRET:-unset}"; ' +
  'echo "tmp=${TMPDIR:-unset}"; echo "from the container" > "$TMPDIR/inside.txt"';

function probeScript(work: string, runLine: string): string {
  return jobScript([
    `cd ${work}`,
    "export OMP_NUM_THREADS=3 VENVOY_IT_SECRET=leak",
    `export TMPDIR=${work}/tmp-$SLURM_ARRAY_TASK_ID`,
    'mkdir -p "$TMPDIR"',
    'echo "host task=$SLURM_ARRAY_TASK_ID job=$SLURM_JOB_ID cpus=$SLURM_CPUS_ON_NODE ' +
    'array=$SLURM_ARRAY_JOB_ID"',
    runLine,
  ]);
}

async function checkProbe(work: string, tasks: number[]): Promise<void> {
  for (const t of tasks) {
    const text = await Deno.readTextFile(join(work, `out-${t}.txt`));
    const host = /^host task=(\S+) job=(\S+) cpus=(\S+) array=(\S+)$/m.exec(text);
    const inside = /^in task=(\S+) job=(\S+) cpus=(\S+) array=(\S+) omp=(\S+) secret=(\S+)$/m
      .exec(text);
    assert(host && inside, `task ${t} output:\n${text}`);
    assertEquals(inside[1], String(t), `task ${t} sees its own SLURM_ARRAY_TASK_ID:\n${text}`);
    assertEquals(inside.slice(1, 5), host.slice(1, 5), `SLURM_* reach the container:\n${text}`);
    assertEquals(inside[5], "3", "OMP_NUM_THREADS is passed through");
    assertEquals(inside[6], "unset", "other variables stay out (--cleanenv kept)");
    assert(text.includes(`tmp=${work}/tmp-${t}`), `TMPDIR is passed through:\n${text}`);
    const made = await Deno.readTextFile(join(work, `tmp-${t}`, "inside.txt"));
    assertEquals(made, "from the container\n", "the job's TMPDIR is mounted at the same path");
  }
}

Deno.test({
  name: "hpc 2: SLURM_ARRAY_TASK_ID, SLURM_JOB_ID, SLURM_CPUS_ON_NODE, OMP_NUM_THREADS and " +
    "TMPDIR reach `venvoy run` in array tasks (apptainer as the user)",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { c } = await fixture();
    const work = await c.userDir("vars");
    await c.giveFile(
      join(work, "job.sh"),
      probeScript(work, `venvoy run --name ${NAME} --read-only --command '${PROBE}'`),
      0o755,
    );
    const job = await sbatchWait(c, join(work, "job.sh"), {
      cwd: work,
      args: ["--array=0-2", "-o", join(work, "out-%a.txt")],
    });
    assertEquals(job.code, 0, job.res.stderr);
    await checkProbe(work, [0, 1, 2]);
  },
});

Deno.test({
  name: "hpc 2b: the same variables reach `venvoy run` on podman (root's array job)",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { c, laptop } = await fixture();
    const work = join(c.root, "root-vars");
    await Deno.mkdir(work, { mode: 0o755 });
    const script = join(work, "job.sh");
    const bin = c.venvoy;
    await Deno.writeTextFile(
      script,
      probeScript(work, `${bin} run --name ${NAME} --read-only --command '${PROBE}'`),
    );
    const res = await new Deno.Command(join(SLURM_BIN, "sbatch"), {
      args: ["--parsable", "--wait", "--array=0-1", "-o", join(work, "out-%a.txt"), script],
      cwd: work,
      env: { ...laptop, NO_COLOR: "1", PATH: `${Deno.env.get("PATH")}` },
      stdin: "null",
    }).output();
    const stderr = new TextDecoder().decode(res.stderr);
    assertEquals(res.code, 0, stderr);
    await checkProbe(work, [0, 1]);
  },
});

async function historyIds(
  run: (args: string[]) => Promise<Result | CliResult>,
): Promise<string[]> {
  const h = must(await run(["history", "--name", NAME, "--json"]), "history --json");
  const parsed = JSON.parse(h.stdout) as {
    snapshots: { timestamp: string; error: unknown }[];
  };
  for (const s of parsed.snapshots) {
    assertEquals(s.error, null, `snapshot ${s.timestamp} is readable`);
  }
  const ids = parsed.snapshots.map((s) => s.timestamp);
  assertEquals(new Set(ids).size, ids.length, `no duplicate snapshot: ${ids.join(" ")}`);
  return ids;
}

Deno.test({
  name: "hpc 3: eight array tasks run the same environment at once (--read-only, then " +
    "writable); each sees its own task id; history stays valid",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { c } = await fixture();
    const user = (args: string[]) => c.venvoyAsUser(args);
    const before = await historyIds(user);

    // --read-only: persist/ cannot be written, nothing is snapshotted.
    const ro = await c.userDir("array-ro");
    const roCmd = 'echo "task=$SLURM_ARRAY_TASK_ID start=$(date +%s.%N)"; ' +
      `if touch ${SITE}/probe-$SLURM_ARRAY_TASK_ID 2>/dev/null; then echo writable; ` +
      "else echo read-only; fi; sleep 2";
    await c.giveFile(
      join(ro, "job.sh"),
      jobScript([`cd ${ro}`, `venvoy run --name ${NAME} --read-only --command '${roCmd}'`]),
      0o755,
    );
    const a = await sbatchWait(c, join(ro, "job.sh"), {
      cwd: ro,
      args: ["--array=0-7", "-o", join(ro, "out-%a.txt")],
    });
    const starts: number[] = [];
    for (let t = 0; t < 8; t++) {
      const text = await Deno.readTextFile(join(ro, `out-${t}.txt`));
      const m = new RegExp(`^task=${t} start=(\\S+)$`, "m").exec(text);
      assert(m, `task ${t} sees its own id:\n${text}`);
      starts.push(Number(m[1]));
      assert(/^read-only$/m.test(text), `task ${t}: persist/ is read-only:\n${text}`);
    }
    assertEquals(a.code, 0, a.res.stderr);
    assertEquals(await scontrolExitCodes(a.id), Array(8).fill("0:0"));
    // They really ran at once: every session started before the first one ended (2 s sleep).
    assert(Math.max(...starts) - Math.min(...starts) < 2, `starts: ${starts.join(" ")}`);
    assertEquals(await historyIds(user), before, "read-only sessions do not snapshot");

    // Writable: each task installs a (fake) distribution; eight sessions snapshot at once.
    const rw = await c.userDir("array-rw");
    const rwCmd = `d=${SITE}/itarr$SLURM_ARRAY_TASK_ID-1.0.dist-info; mkdir -p $d && ` +
      `printf "Metadata-Version: 2.1\\nName: itarr%s\\nVersion: 1.0\\n" ` +
      "$SLURM_ARRAY_TASK_ID > $d/METADATA && echo task=$SLURM_ARRAY_TASK_ID";
    await c.giveFile(
      join(rw, "job.sh"),
      jobScript([`cd ${rw}`, `venvoy run --name ${NAME} --command '${rwCmd}'`]),
      0o755,
    );
    const b = await sbatchWait(c, join(rw, "job.sh"), {
      cwd: rw,
      args: ["--array=0-7", "-o", join(rw, "out-%a.txt")],
    });
    for (let t = 0; t < 8; t++) {
      const text = await Deno.readTextFile(join(rw, `out-${t}.txt`));
      assert(new RegExp(`^task=${t}$`, "m").test(text), `task ${t}:\n${text}`);
    }
    assertEquals(b.code, 0, b.res.stderr);
    const after = await historyIds(user);
    assert(after.length > before.length, `the installs were snapshotted: ${after.join(" ")}`);
    const files = [...Deno.readDirSync(join(c.home, "venvoy-projects", NAME))].map((e) => e.name);
    assertEquals(
      files.filter((f) => /\.tmp|\.part/.test(f)),
      [],
      "no temporary snapshot files are left behind",
    );
  },
});

Deno.test({
  name: "hpc 4: built with podman, run with apptainer: one locked conversion, reused; " +
    "a compute node without the SIF gets the fix",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { c, laptop, laptopCwd } = await fixture();
    const envDir = join(laptop.VENVOY_HOME, "environments", NAME);
    const imageId = must(
      await runner.run({
        cmd: ["podman", "image", "inspect", "--format", "{{.Id}}", `localhost/venvoy/${NAME}`],
      }),
      "podman image inspect",
    ).stdout.trim();
    const sifs = () =>
      [...Deno.readDirSync(envDir)].map((e) => e.name).filter((n) => /\.sif$/.test(n));
    assertEquals(sifs(), [], "no SIF before the first apptainer run");

    // Four sessions at once on the login node (root, podman and apptainer both installed).
    const runs = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        venvoy(["--engine", "apptainer", "run", NAME, "--command", `echo session ${i}`], {
          env: laptop,
          cwd: laptopCwd,
        })
      ),
    );
    runs.forEach((r, i) => {
      must(r, `apptainer session ${i}`);
      assert(r.stdout.includes(`session ${i}`), r.stdout);
    });
    const kept = sifs();
    assertEquals(kept.length, 1, `one SIF kept: ${kept.join(" ")}`);
    const id12 = imageId.replace(/^sha256:/, "").slice(0, 12);
    assert(kept[0].includes(id12), `the SIF is keyed by the image ID ${id12}: ${kept[0]}`);
    const conversions = runs.filter((r) => /convert/i.test(r.stderr)).length;
    assertEquals(conversions, 1, `one conversion:\n${runs.map((r) => r.stderr).join("\n---\n")}`);
    const leftovers = [...Deno.readDirSync(envDir)].map((e) => e.name).filter((n) =>
      /\.building$|^\.sif-convert|\.tmp|\.part/.test(n)
    );
    assertEquals(leftovers, [], "no partial files are left");
    const first = await Deno.stat(join(envDir, kept[0]));

    // Reused: the next run does not convert again.
    const again = must(
      await venvoy(["--engine", "apptainer", "run", NAME, "--command", "true"], {
        env: laptop,
        cwd: laptopCwd,
      }),
      "apptainer run again",
    );
    assert(!/convert/i.test(again.stderr), again.stderr);
    const second = await Deno.stat(join(envDir, kept[0]));
    assertEquals(second.ino, first.ino);
    assertEquals(second.mtime?.getTime(), first.mtime?.getTime());

    // A compute node (no podman) with the podman-built environment and no SIF yet.
    const vh = join(c.home, "node-vh");
    const cp = await new Deno.Command("cp", {
      args: ["-a", "--no-preserve=ownership", join(laptop.VENVOY_HOME), vh],
    }).output();
    assert(cp.success);
    for (const f of sifs()) await Deno.remove(join(vh, "environments", NAME, f));
    await new Deno.Command("chown", { args: ["-R", `${c.uid}:${c.gid}`, vh] }).output();
    const node = await c.venvoyAsUser(["run", NAME, "--command", "true"], {
      env: { VENVOY_HOME: vh, VENVOY_PROJECTS: join(c.home, "node-vp") },
    });
    assert(node.code !== 0, "it cannot run");
    assert(
      !/podman, which built .* is not installed here/.test(node.stderr),
      `the old dead end:\n${node.stderr}`,
    );
    assert(/hint: .*(venvoy --engine apptainer run|venvoy submit)/.test(node.stderr), node.stderr);
  },
});

Deno.test({
  name: "hpc 5: venvoy submit against SLURM: --dry-run, job id, --wait exit codes, errors",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { c } = await fixture();
    const work = await c.userDir("submit");
    const u = (args: string[], noScheduler = false) =>
      c.venvoyAsUser(["submit", "--name", NAME, ...args], { cwd: work, noScheduler });

    // --dry-run prints the script and submits nothing.
    const dry = must(
      await u(["--command", "python -V", "--time", "00:05:00", "--cpus", "2", "--dry-run"]),
      "submit --dry-run",
    );
    assert(dry.stdout.startsWith("#!"), dry.stdout);
    assert(/^#SBATCH .*--time[= ]00:05:00/m.test(dry.stdout), dry.stdout);
    assert(/^#SBATCH .*--cpus-per-task[= ]2/m.test(dry.stdout), dry.stdout);
    assert(
      dry.stdout.includes(`${c.venvoy}`) &&
        new RegExp(`run --name '?${NAME}'? --read-only --command`).test(dry.stdout),
      `calls this venvoy by absolute path with run --read-only:\n${dry.stdout}`,
    );
    const queue = must(await c.asUser(["squeue", "-h", "-u", "venvoylab", "-o", "%i"]), "squeue");
    assertEquals(queue.stdout.trim(), "", "dry-run submitted nothing");

    // Submit prints the job id; the job runs and its output file has the command's output.
    const out = join(work, "plain.out");
    const sub = must(
      await u(["--command", "echo submitted-$SLURM_JOB_ID", "--output", out]),
      "submit",
    );
    const id = sub.stdout.trim();
    assert(/^\d+$/.test(id), `job id on stdout: ${sub.stdout}`);
    const jobs = [...Deno.readDirSync(join(c.home, ".venvoy", "environments", NAME, "jobs"))];
    assert(jobs.length >= 1, "the script is written into the environment's jobs/ folder");
    for (let i = 0; i < 120; i++) {
      const q = await c.asUser(["squeue", "-h", "-j", id, "-o", "%T"]);
      if (q.stdout.trim() === "") break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const lines = (await Deno.readTextFile(out)).split("\n");
    assert(lines.includes(`submitted-${id}`), `the job's output:\n${lines.join("\n")}`);

    // --wait exits with the job's code; for an array, the highest.
    const w = await u(["--command", "exit 4", "--wait", "--output", join(work, "w.out")]);
    assertEquals(w.code, 4, w.stderr);
    const arr = await u([
      "--command",
      "exit $SLURM_ARRAY_TASK_ID",
      "--array",
      "0-2",
      "--wait",
      "--output",
      join(work, "a-%a.out"),
    ]);
    assertEquals(arr.code, 2, `the highest task exit code:\n${arr.stderr}`);

    // Errors: no scheduler (exit 3, advice); bad --time/--mem/--array (exit 2).
    const none = await u(["--command", "true"], true);
    assertEquals(none.code, 3, none.stderr);
    assert(/hint: /.test(none.stderr), none.stderr);
    for (
      const bad of [["--time", "soon"], ["--mem", "lots"], ["--array", "1-"], ["--time", "1:2:3:4"]]
    ) {
      const r = await u(["--command", "true", ...bad]);
      assertEquals(r.code, 2, `${bad.join(" ")}: ${r.stderr}`);
      assert(/venvoy: error: /.test(r.stderr), r.stderr);
    }
  },
});

Deno.test({
  name: "hpc 6: interactive use: `srun venvoy run` runs as a job step with the job's variables",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { c } = await fixture();
    const work = await c.userDir("srun");
    const r = await c.asUser([
      "srun",
      "--ntasks=1",
      "venvoy",
      "run",
      "--name",
      NAME,
      "--read-only",
      "--command",
      'echo "job=${SLURM_JOB_ID:-unset} step=${SLURM_STEP_ID:-unset} ' +
      'procid=${SLURM_PROCID:-unset} user=$(id -un)"; exit 5',
    ], { cwd: work });
    assertEquals(r.code, 5, `srun exits with the command's code:\n${r.stderr}`);
    assert(/^job=\d+ step=0 procid=0 user=venvoylab$/m.test(r.stdout), r.stdout + r.stderr);
  },
});
