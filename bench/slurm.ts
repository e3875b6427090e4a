/**
 * `deno task bench:slurm`: the makespan of an 8-task SLURM array whose tasks run
 * `venvoy run --name X --command true`, against the same array running
 * `apptainer exec SIF true` typed by hand (the environment's own SIF), alternated in one
 * run; prints the ratio of the medians (target <= 1.2). A third array runs the same
 * `apptainer exec` from a 3-line Deno program (spawn, wait, exit with its code): the floor,
 * what any program on Deno pays, printed as a ratio too.
 *
 * As on a cluster: the tasks run as the lab's non-root user on a compute-node PATH
 * (apptainer, SLURM, deno; no podman, no docker; tests/integration/hpc.ts), the program is
 * the bundled dist/venvoy. The environment is built with podman by root, exported, and
 * imported by the user (a SIF). The makespan is taken from the tasks' own clocks (first
 * start to last end, `date +%s.%N` around the command), so sbatch's polling does not count.
 * Needs root, the lab user and the cluster (tests/lab/setup.sh, tests/lab/setup-slurm.sh).
 * VENVOY_BENCH_ROUNDS (default 9: the lab's makespans are noisy) arrays of each kind.
 */
import { join } from "node:path";
import { cluster, clusterSkip, jobId, LAB_USER } from "../tests/integration/hpc.ts";

const VENVOY = new URL("../dist/venvoy", import.meta.url).pathname;
const BASE = Deno.env.get("VENVOY_BENCH_BASE") ?? "localhost/venvoy-lab/python:3.11";
const ROUNDS = Number(Deno.env.get("VENVOY_BENCH_ROUNDS") ?? "9");
const TASKS = 8;
const TARGET = 1.2;
const NAME = `bench-slurm-${crypto.randomUUID().slice(0, 6)}`;

if (clusterSkip) {
  console.error(`bench:slurm cannot run here: ${clusterSkip}`);
  Deno.exit(2);
}

const dec = new TextDecoder();
async function must(cmd: string[], opts: { env?: Record<string, string>; cwd?: string } = {}) {
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    env: opts.env,
    cwd: opts.cwd,
    stdin: "null",
  }).output();
  if (out.code !== 0) {
    throw new Error(`${cmd.join(" ")} failed (${out.code}): ${dec.decode(out.stderr)}`);
  }
  return dec.decode(out.stdout);
}

const c = await cluster();
const laptop = {
  HOME: join(c.root, "laptop", "home"),
  VENVOY_HOME: join(c.root, "laptop", "vh"),
  VENVOY_PROJECTS: join(c.root, "laptop", "vp"),
  NO_COLOR: "1",
  PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
};
const out = join(c.root, "laptop", "out");
await Deno.mkdir(out, { recursive: true });
await Deno.chmod(join(c.root, "laptop"), 0o755);
await Deno.chmod(out, 0o755);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
let failed = false;
try {
  console.error(
    `setting up '${NAME}': podman init + export (root), import as the cluster user (${LAB_USER})`,
  );
  await must([VENVOY, "--engine", "podman", "init", "--name", NAME, "--base-image", BASE], {
    env: laptop,
    cwd: out,
  });
  const ex = await must([VENVOY, "export", "--name", NAME, "--format", "archive"], {
    env: laptop,
    cwd: out,
  });
  const archive = /^[0-9a-f]{64} {2}(\/.+)$/m.exec(ex)?.[1];
  if (!archive) throw new Error(`no archive in: ${ex}`);
  await Deno.chmod(archive, 0o644);
  const imp = await c.venvoyAsUser(["import", archive, "--name", NAME, "--json"]);
  if (imp.code !== 0) throw new Error(`import as the user failed: ${imp.stderr}`);
  const sif = JSON.parse(imp.stdout).image as string;

  // The floor: the least any Deno program adds that starts the same command and waits for
  // it (Deno's own start and exit, one spawn). venvoy cannot be cheaper than this.
  const floorDir = await c.userDir("floor");
  const spawner = join(floorDir, "spawn.js");
  await c.giveFile(
    spawner,
    "const [cmd, ...args] = Deno.args;\n" +
      "const p = new Deno.Command(cmd, { args, stdin: 'inherit', stdout: 'inherit', stderr: 'inherit' }).spawn();\n" +
      "Deno.exit((await p.status).code);\n",
    0o644,
  );
  const kinds = {
    venvoy: `venvoy run --name ${NAME} --command true`,
    apptainer: `apptainer exec ${sif} true`,
    floor: `deno run -A --no-config --no-lock --quiet ${spawner} apptainer exec ${sif} true`,
  };
  const spans: Record<keyof typeof kinds, number[]> = { venvoy: [], apptainer: [], floor: [] };
  const array = async (kind: keyof typeof kinds, round: number): Promise<number> => {
    const dir = await c.userDir(`${kind}-${round}`);
    const script = join(dir, "job.sh");
    await c.giveFile(
      script,
      [
        "#!/bin/bash",
        `cd ${dir}`,
        "s=$(date +%s.%N)",
        kinds[kind],
        "rc=$?",
        'echo "span $s $(date +%s.%N) $rc"',
        "",
      ].join("\n"),
      0o755,
    );
    const res = await c.asUser(
      ["sbatch", "--parsable", "--wait", `--array=0-${TASKS - 1}`, "-o", "%a.out", script],
      { cwd: dir },
    );
    if (res.code !== 0) throw new Error(`${kind} array failed: ${res.stderr}`);
    jobId(res.stdout);
    let first = Infinity, last = 0;
    for (let t = 0; t < TASKS; t++) {
      const text = await Deno.readTextFile(join(dir, `${t}.out`));
      const m = /^span (\S+) (\S+) (\d+)$/m.exec(text);
      if (!m || m[3] !== "0") throw new Error(`${kind} task ${t}: ${text}`);
      first = Math.min(first, Number(m[1]));
      last = Math.max(last, Number(m[2]));
    }
    return last - first;
  };
  await array("venvoy", 0); // warm: the user's unpacked program, the page cache
  await array("apptainer", 0);
  await array("floor", 0);
  for (let r = 1; r <= ROUNDS; r++) {
    spans.venvoy.push(await array("venvoy", r));
    spans.apptainer.push(await array("apptainer", r));
    spans.floor.push(await array("floor", r));
  }
  const show = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(" ");
  console.log(
    `${TASKS}-task array of \`${kinds.venvoy}\`: median makespan ` +
      `${median(spans.venvoy).toFixed(3)} s (${show(spans.venvoy)})`,
  );
  console.log(
    `${TASKS}-task array of \`apptainer exec SIF true\`: median makespan ` +
      `${median(spans.apptainer).toFixed(3)} s (${show(spans.apptainer)})`,
  );
  console.log(
    `${TASKS}-task array of a 3-line Deno program spawning it (the floor): median makespan ` +
      `${median(spans.floor).toFixed(3)} s (${show(spans.floor)}), ratio ` +
      `${(median(spans.floor) / median(spans.apptainer)).toFixed(3)}`,
  );
  // Where the time goes: CPU per session (user + system, the command and its children, by
  // bash's `times`), one after another as the user. The array is CPU-bound on a small node,
  // so these add up to the makespans.
  const cpuDir = await c.userDir("cpu");
  const empty = join(cpuDir, "empty.js");
  await c.giveFile(empty, "", 0o644);
  const cpuOf = async (cmd: string): Promise<number> => {
    const n = 10;
    const res = await c.asUser([
      "bash",
      "-c",
      `for ((i = 0; i < ${n}; i++)); do ${cmd} >/dev/null 2>&1 || exit 1; done; times`,
    ], { cwd: cpuDir });
    if (res.code !== 0) throw new Error(`${cmd} failed: ${res.stderr}`);
    const [u, s] = res.stdout.trim().split("\n").pop()!.split(/\s+/).map((t) => {
      const m = /^(\d+)m([\d.]+)s$/.exec(t);
      return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
    });
    return ((u + s) / n) * 1000;
  };
  const cpu: [string, number][] = [];
  for (
    const [what, cmd] of [
      ["apptainer exec SIF true (by hand)", kinds.apptainer],
      ["venvoy run --command true (all of it)", kinds.venvoy],
      ["the floor: a Deno program spawning it", kinds.floor],
      ["deno run of an empty script", `deno run --no-config --no-lock --quiet ${empty}`],
      ["venvoy --version", "venvoy --version"],
    ]
  ) cpu.push([what, await cpuOf(cmd)]);
  console.log("CPU per session (user + system; the mean of 10 in a row):");
  for (const [what, ms] of cpu) console.log(`  ${what.padEnd(40)} ${ms.toFixed(0).padStart(4)} ms`);
  console.log(
    `  venvoy's own share of a session: ${(cpu[1][1] - cpu[0][1]).toFixed(0)} ms; the floor's: ` +
      `${(cpu[2][1] - cpu[0][1]).toFixed(0)} ms, of which Deno's start and exit: ` +
      `${cpu[3][1].toFixed(0)} ms`,
  );
  const ratio = median(spans.venvoy) / median(spans.apptainer);
  console.log(`ratio: ${ratio.toFixed(3)} (target <= ${TARGET})`);
  failed = ratio > TARGET;
  console.log(failed ? "OVER TARGET" : "within target");
} finally {
  await new Deno.Command("podman", {
    args: ["rmi", "-f", `localhost/venvoy/${NAME}:latest`],
    stdout: "null",
    stderr: "null",
  }).output();
  await Deno.remove(c.root, { recursive: true }).catch(() => {});
}
if (failed) Deno.exit(1);
