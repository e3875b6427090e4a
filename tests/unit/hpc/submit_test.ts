/**
 * `venvoy submit`: flag grammar (exit 2), scheduler detection (exit 3), the SLURM script
 * text, PBS and LSF scripts against golden files, exact scheduler argv, shell quoting
 * (performed: the script runs under bash), the SIF prepared before sbatch, --wait.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { RecordingRunner } from "../../fakes/runner.ts";
import { type EnvConfig, writeConfig } from "../../../src/env/config.ts";
import { statePaths } from "../../../src/env/paths.ts";
import { parseArray, parseJobFlags, parseMem, parseTime } from "../../../src/hpc/job.ts";
import { schedulerAdapter } from "../../../src/hpc/scheduler.ts";
import { renderJobScript, type ScriptInput } from "../../../src/hpc/script.ts";
import { highestSlurmExit } from "../../../src/hpc/slurm.ts";
import { submitJob, type SubmitOptions } from "../../../src/hpc/submit.ts";
import type { RunRequest, SpawnedProcess, SpawnRequest } from "../../../src/process/mod.ts";
import { UsageError, VenvoyError } from "../../../src/ui/errors.ts";
import { tempDir } from "../../fakes/tmp.ts";
import { envConfig } from "../../fakes/env_config.ts";

const FIXTURES = new URL("../../fixtures/jobs/", import.meta.url).pathname;
const IMAGE_ID = "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

function exitOf(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    if (e instanceof VenvoyError) return e.exitCode;
    throw e;
  }
  return 0;
}

async function exitOfAsync(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (e) {
    if (e instanceof VenvoyError) return e.exitCode;
    throw e;
  }
  return 0;
}

Deno.test("--time, --mem, --array: accepted forms and their meaning", () => {
  assertEquals(parseTime("90"), 5400);
  assertEquals(parseTime("30:00"), 1800);
  assertEquals(parseTime("2:00:00"), 7200);
  assertEquals(parseTime("1-12"), 36 * 3600);
  assertEquals(parseTime("1-00:30"), 86400 + 1800);
  assertEquals(parseTime("2-01:02:03"), 2 * 86400 + 3723);
  assertEquals(parseMem("4G"), 4096);
  assertEquals(parseMem("500"), 500);
  assertEquals(parseMem("1.5GB"), 1536);
  assertEquals(parseMem("100k"), 1);
  assertEquals(parseMem("1T"), 1048576);
  const a = parseArray("0-20:2,33%4");
  assertEquals([a.count, a.throttle, a.ranges.length], [12, 4, 2]);
  assertEquals(parseArray("1-8").count, 8);
  assertEquals(parseArray("5").count, 1);
});

Deno.test("bad --time, --mem, --array, --cpus, --partition, --output: exit 2 with a hint", () => {
  for (
    const flags of [
      { time: "1h" },
      { time: "0" },
      { time: "1:60:00" },
      { time: "1-24:00" },
      { time: "2:00\n#SBATCH --uid=0" },
      { mem: "4 GB" },
      { mem: "lots" },
      { mem: "0" },
      { array: "1-8;rm" },
      { array: "8-1" },
      { array: "1-8:0" },
      { array: "1-8%0" },
      { array: "1-2000000" },
      { array: "" },
      { cpus: "0" },
      { cpus: "2.5" },
      { gpus: "-1" },
      { partition: "gpu a100" },
      { partition: "gpu\n#SBATCH --x" },
      { account: "$(id)" },
      { output: "my log.txt" },
      { output: "out\n#SBATCH --uid=0" },
      { output: "$HOME/x" },
    ]
  ) {
    assertEquals(exitOf(() => parseJobFlags("study", flags)), 2, JSON.stringify(flags));
  }
  try {
    parseTime("1h");
  } catch (e) {
    assert.ok(e instanceof UsageError && /HH:MM:SS/.test(e.hint ?? ""));
  }
});

const FULL = {
  array: "1-8%2",
  time: "1-02:03:04",
  cpus: "4",
  mem: "8G",
  gpus: "2",
  partition: "gpu",
  account: "proj42",
  output: "logs/job.out",
};

function input(over: Partial<ScriptInput> = {}): ScriptInput {
  return {
    envName: "study",
    workdir: "/home/ann/my project",
    venvoy: ["/opt/venvoy/bin/venvoy"],
    exports: [
      ["VENVOY_HOME", "/home/ann/.venvoy"],
      ["VENVOY_PROJECTS", "/home/ann/venvoy-projects"],
      ["VENVOY_ENGINE", "apptainer"],
    ],
    command: `python task.py "$SLURM_ARRAY_TASK_ID" 'it''s'`,
    readOnly: true,
    gpus: true,
    ...over,
  };
}

Deno.test("SLURM script: directives, cd, exports, venvoy run by absolute path, read-only", async () => {
  const slurm = await schedulerAdapter("slurm");
  const text = renderJobScript(slurm, parseJobFlags("study", FULL), input());
  assertEquals(
    text,
    `#!/bin/bash
#SBATCH --job-name=venvoy-study
#SBATCH --time=1-02:03:04
#SBATCH --cpus-per-task=4
#SBATCH --mem=8192M
#SBATCH --gpus=2
#SBATCH --partition=gpu
#SBATCH --account=proj42
#SBATCH --array=1-8%2
#SBATCH --output=logs/job.out
#
# Written by \`venvoy submit\`: runs one command in the venvoy environment study.
# The job's variables (SLURM_*, TMPDIR, ...) reach the command; its exit code is the job's.
cd '/home/ann/my project' || exit 1
export VENVOY_HOME=/home/ann/.venvoy
export VENVOY_PROJECTS=/home/ann/venvoy-projects
export VENVOY_ENGINE=apptainer
exec /opt/venvoy/bin/venvoy run --name study --read-only --gpus --command 'python task.py "$SLURM_ARRAY_TASK_ID" '"'"'it'"'"''"'"'s'"'"''
`,
  );
  const minimal = renderJobScript(
    slurm,
    parseJobFlags("study", { time: "90" }),
    input({ readOnly: false, gpus: false, command: "true" }),
  );
  assert.match(minimal, /^#SBATCH --job-name=venvoy-study\n#SBATCH --time=01:30:00\n#\n/m);
  assert.match(minimal, /\nexec \/opt\/venvoy\/bin\/venvoy run --name study --command true\n$/);
});

Deno.test("PBS and LSF scripts match their golden files", async () => {
  for (const s of ["pbs", "lsf"] as const) {
    const text = renderJobScript(
      await schedulerAdapter(s),
      parseJobFlags("study", FULL),
      input(),
    );
    const golden = join(FIXTURES, `${s}.sh`);
    if (Deno.env.get("VENVOY_UPDATE_GOLDEN")) await Deno.writeTextFile(golden, text);
    assertEquals(text, await Deno.readTextFile(golden), `${s} script differs from ${golden}`);
  }
  const lsf = await schedulerAdapter("lsf");
  const list = renderJobScript(lsf, parseJobFlags("s", { array: "1-5,7,9-11:2" }), input());
  assert.match(list, /^#BSUB -J "venvoy-s\[1-5,7,9-11:2\]"$/m);
});

Deno.test("PBS arrays take one ascending range: a list is exit 2", async () => {
  const pbs = await schedulerAdapter("pbs");
  for (const array of ["1,3", "5", "1-4,6-8"]) {
    assertEquals(
      exitOf(() => renderJobScript(pbs, parseJobFlags("s", { array }), input())),
      2,
      array,
    );
  }
  const ok = renderJobScript(pbs, parseJobFlags("s", { array: "0-20:2%3" }), input());
  assert.match(ok, /^#PBS -J 0-20:2%3$/m);
});

Deno.test("a line break in the command or the folder is refused (exit 2)", async () => {
  const slurm = await schedulerAdapter("slurm");
  const job = parseJobFlags("s", {});
  for (
    const over of [
      { command: "true\nrm -rf ~" },
      { command: "true\r" },
      { workdir: "/tmp/a\nb" },
      { venvoy: ["/opt/v\nx"] },
    ]
  ) {
    assertEquals(exitOf(() => renderJobScript(slurm, job, input(over))), 2, JSON.stringify(over));
  }
});

Deno.test("attack: quotes, $() and backticks in the command and folder arrive as typed", async () => {
  const root = await tempDir("venvoy submit quoting ");
  const workdir = join(root, `it's $(touch pwned1) \`touch pwned2\``);
  await Deno.mkdir(workdir);
  const stub = join(root, "venvoy stub");
  // The stub stands in for venvoy: it prints its arguments, one per line, NUL-separated.
  await Deno.writeTextFile(stub, '#!/bin/sh\nprintf "%s\\0" "$PWD" "$@"\n');
  await Deno.chmod(stub, 0o755);
  const command = `echo "$(touch pwned3)" '; touch pwned4; ' \`touch pwned5\` $HOME \\ "`;
  const slurm = await schedulerAdapter("slurm");
  const text = renderJobScript(
    slurm,
    parseJobFlags("study", {}),
    input({
      workdir,
      venvoy: [stub],
      command,
      exports: [["VENVOY_HOME", `${root}/$(touch pwned6)`]],
    }),
  );
  const script = join(root, "job.sh");
  await Deno.writeTextFile(script, text);
  const out = await new Deno.Command("bash", { args: [script], cwd: root, stdout: "piped" })
    .output();
  assertEquals(out.code, 0);
  const args = new TextDecoder().decode(out.stdout).split("\0").slice(0, -1);
  assertEquals(args, [
    workdir,
    "run",
    "--name",
    "study",
    "--read-only",
    "--gpus",
    "--command",
    command,
  ]);
  for (const dir of [root, workdir]) {
    const names = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.ok(!names.some((n) => n.startsWith("pwned")), `nothing ran: ${names}`);
  }
});

// --- submitJob against the recording runner ---

async function setupEnv(engine = "podman") {
  const root = await tempDir("venvoy submit ");
  const paths = statePaths((n) =>
    ({
      HOME: join(root, "home"),
      VENVOY_HOME: join(root, "state"),
      VENVOY_PROJECTS: join(root, "projects"),
    } as Record<string, string>)[n]
  );
  const dir = join(paths.environments, "study");
  await Deno.mkdir(join(dir, "persist"), { recursive: true });
  const cfg: EnvConfig = envConfig({
    name: "study",
    engine,
    image: engine === "apptainer" ? join(dir, "image.sif") : "localhost/venvoy/study:latest",
    image_id: IMAGE_ID,
  });
  await writeConfig(dir, cfg);
  const cwd = join(root, "work");
  await Deno.mkdir(cwd);
  return { root, paths, dir, cwd };
}

function ctxFor(
  s: Awaited<ReturnType<typeof setupEnv>>,
  runner: RecordingRunner,
  engine: string | null = null,
) {
  const notes: string[] = [];
  return {
    ctx: {
      runner,
      paths: s.paths,
      engine,
      cwd: s.cwd,
      note: (m: string) => notes.push(m),
      venvoy: ["/opt/venvoy/bin/venvoy"],
      hostname: "laptop",
    },
    notes,
  };
}

const slurmPaths = { sbatch: "/opt/slurm/bin/sbatch", podman: "/usr/bin/podman" };

Deno.test("submit (SLURM): script in jobs/, exact sbatch argv, the job id", async () => {
  const s = await setupEnv();
  const runner = new RecordingRunner({ paths: slurmPaths });
  runner.on(["sbatch"], { stdout: "4242\n" });
  const { ctx } = ctxFor(s, runner);
  const r = await submitJob(ctx, { name: "study", command: "python a.py", time: "10" });
  assertEquals(r.jobId, "4242");
  assertEquals(r.scheduler, "slurm");
  assertEquals(r.engine, "podman", "no apptainer here: the recorded engine");
  assert.ok(r.scriptPath!.startsWith(join(s.dir, "jobs") + "/slurm-"));
  assertEquals(runner.argvs, [["sbatch", "--parsable", r.scriptPath!]]);
  assertEquals(runner.calls[0].cwd, s.cwd);
  const text = await Deno.readTextFile(r.scriptPath!);
  assertEquals(text, r.scriptText);
  assert.match(text, /run --name study --read-only --command 'python a.py'\n$/);
  assert.match(text, /^export VENVOY_ENGINE=podman$/m);
  assert.ok(text.includes(`\nexport VENVOY_HOME='${s.paths.venvoyHome}'\n`), text);
  // --writable drops --read-only; "123;cluster" is parsed too.
  runner.on(["sbatch"], { stdout: "4243;cluster\n" });
  const w = await submitJob(ctx, { name: "study", command: "true", writable: true });
  assertEquals(w.jobId, "4243");
  assert.match(w.scriptText, /run --name study --command true\n$/);
});

Deno.test("submit: sbatch failing is an error with its message", async () => {
  const s = await setupEnv();
  const runner = new RecordingRunner({ paths: slurmPaths });
  runner.on(["sbatch"], { code: 1, stderr: "sbatch: error: invalid partition specified: x" });
  const { ctx } = ctxFor(s, runner);
  await assert.rejects(
    submitJob(ctx, { name: "study", command: "true", partition: "x" }),
    /invalid partition/,
  );
});

Deno.test("submit: no scheduler found is exit 3; --dry-run with --scheduler prints only", async () => {
  const s = await setupEnv();
  const runner = new RecordingRunner({ paths: { podman: "/usr/bin/podman" } });
  const { ctx } = ctxFor(s, runner);
  assertEquals(await exitOfAsync(submitJob(ctx, { name: "study", command: "true" })), 3);
  assertEquals(
    await exitOfAsync(submitJob(ctx, { name: "study", command: "true", scheduler: "slurm" })),
    3,
    "sbatch missing",
  );
  const dry = await submitJob(ctx, {
    name: "study",
    command: "true",
    scheduler: "pbs",
    dryRun: true,
  });
  assertEquals([dry.jobId, dry.scriptPath], [null, null]);
  assert.match(dry.scriptText, /^#PBS -N venvoy-study$/m);
  assertEquals(runner.argvs, [], "nothing ran");
  assert.ok(!(await Deno.stat(join(s.dir, "jobs")).then(() => true, () => false)));
  assertEquals(
    await exitOfAsync(submitJob(ctx, { name: "study", command: "x", scheduler: "sge" })),
    2,
  );
  assertEquals(await exitOfAsync(submitJob(ctx, { name: "study", scheduler: "slurm" })), 2);
  assertEquals(
    await exitOfAsync(
      submitJob(ctx, { name: "study", command: "a\nb", scheduler: "slurm", dryRun: true }),
    ),
    2,
  );
  assertEquals(
    await exitOfAsync(
      submitJob(ctx, { name: "study", command: "a", time: "soon", dryRun: true }),
    ),
    2,
    "bad flags are exit 2 before the scheduler is looked for",
  );
});

Deno.test("submit with apptainer here: the podman image is converted before sbatch", async () => {
  const s = await setupEnv();
  const runner = new RecordingRunner({
    paths: { ...slurmPaths, apptainer: "/usr/bin/apptainer" },
  });
  runner.on(["/usr/bin/podman", "save", "--format", "docker-archive", "-o"], {});
  runner.on(["/usr/bin/apptainer", "build"], (req) => {
    Deno.writeTextFileSync(req.cmd[3], "SIF");
    return {};
  });
  runner.on(["sbatch"], { stdout: "7\n" });
  const { ctx } = ctxFor(s, runner);
  const r = await submitJob(ctx, { name: "study", command: "true", gpus: "1" });
  assertEquals(r.engine, "apptainer");
  assertEquals(runner.argvs.map((a) => a.slice(0, 2)), [
    ["/usr/bin/podman", "save"],
    ["/usr/bin/apptainer", "build"],
    ["sbatch", "--parsable"],
  ]);
  assert.ok(await Deno.stat(join(s.dir, "image-fedcba987654.sif")));
  assert.match(r.scriptText, /^#SBATCH --gpus=1$/m);
  assert.match(r.scriptText, /^export VENVOY_ENGINE=apptainer$/m);
  assert.match(r.scriptText, /run --name study --read-only --gpus --command true\n$/);
  // Submitted again: the SIF is there, nothing is converted.
  await submitJob(ctx, { name: "study", command: "true" });
  assertEquals(runner.argvs.length, 4);
});

Deno.test("submit (LSF): bsub reads the script on stdin; PBS: qsub SCRIPT", async () => {
  const s = await setupEnv("apptainer");
  await Deno.writeTextFile(join(s.dir, "image.sif"), "");
  const runner = new RecordingRunner({ paths: { bsub: "/lsf/bin/bsub", qsub: "/pbs/bin/qsub" } });
  runner.on(["bsub"], { stdout: "Job <981> is submitted to queue <normal>.\n" });
  runner.on(["qsub"], { stdout: "1234.pbs-server\n" });
  const { ctx, notes } = ctxFor(s, runner);
  const l = await submitJob(ctx, { name: "study", command: "true", scheduler: "lsf" });
  assertEquals(l.jobId, "981");
  assertEquals(runner.calls[0].cmd, ["bsub"]);
  assertEquals(runner.calls[0].input, l.scriptText);
  assert.ok(notes.some((n) => /untested against a real lsf/.test(n)));
  const p = await submitJob(ctx, { name: "study", command: "true", scheduler: "pbs" });
  assertEquals(p.jobId, "1234.pbs-server");
  assertEquals(runner.calls[1].cmd, ["qsub", p.scriptPath!]);
  assertEquals(
    (await schedulerAdapter("pbs")).submitCall({ path: "/j.sh", text: "" }, {
      wait: true,
    }).cmd,
    ["qsub", "-W", "block=true", "/j.sh"],
  );
  assertEquals(
    (await schedulerAdapter("lsf")).submitCall({ path: "/j.sh", text: "T" }, { wait: true }),
    { cmd: ["bsub", "-K"], input: "T" },
  );
});

/** sbatch --wait: prints the id at once, exits with the job's code at the end. */
class WaitingRunner extends RecordingRunner {
  constructor(readonly out: string, readonly code: number, paths: Record<string, string>) {
    super({ paths });
  }
  override spawn(req: SpawnRequest): SpawnedProcess {
    this.calls.push(req as RunRequest);
    const bytes = new TextEncoder().encode(this.out);
    return {
      stdin: null,
      stdout: new ReadableStream({
        start(c) {
          // In two pieces: "77" alone must not be taken for the id.
          c.enqueue(bytes.subarray(0, 1));
          c.enqueue(bytes.subarray(1));
          c.close();
        },
      }),
      stderr: null,
      status: Promise.resolve({
        code: this.code,
        signal: null,
        stdout: "",
        stderr: "",
        timedOut: false,
      }),
      kill: () => {},
    };
  }
}

Deno.test("submit --wait: the id as soon as printed; an array exits with its highest code", async () => {
  const s = await setupEnv();
  const runner = new WaitingRunner("77\n", 3, slurmPaths);
  runner.on(["scontrol"], {
    stdout: [
      "JobId=78 ArrayJobId=77 ArrayTaskId=1 JobState=COMPLETED ExitCode=0:0 DerivedExitCode=9:0",
      "JobId=79 ArrayJobId=77 ArrayTaskId=2 JobState=FAILED ExitCode=5:0 DerivedExitCode=0:0",
      "JobId=77 ArrayJobId=77 ArrayTaskId=3 JobState=FAILED ExitCode=2:0 DerivedExitCode=0:0",
    ].join("\n"),
  });
  const { ctx } = ctxFor(s, runner);
  const seen: string[] = [];
  const opts: SubmitOptions = { name: "study", command: "exit $X", array: "1-3", wait: true };
  const r = await submitJob(ctx, opts, { onSubmitted: (id) => seen.push(id) });
  assertEquals(seen, ["77"]);
  assertEquals(r.exitCode, 5, "the highest task, not DerivedExitCode, not sbatch's 3");
  assertEquals(runner.argvs, [
    ["sbatch", "--parsable", "--wait", r.scriptPath!],
    ["scontrol", "-o", "show", "job", "77"],
  ]);
  // Not an array: sbatch's own exit code is the job's.
  const single = new WaitingRunner("80\n", 4, slurmPaths);
  const r2 = await submitJob(ctxFor(s, single).ctx, { name: "study", command: "x", wait: true });
  assertEquals([r2.jobId, r2.exitCode], ["80", 4]);
  assertEquals(single.argvs.length, 1);
});

Deno.test("scontrol exit codes: a signal counts as 128+N; none is null", () => {
  assertEquals(highestSlurmExit("JobId=1 ExitCode=0:9"), 137);
  assertEquals(highestSlurmExit("JobId=1 DerivedExitCode=3:0"), null);
});
