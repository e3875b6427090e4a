/**
 * `deno task bench:run`: `venvoy run --command true` against the same
 * `podman run --rm IMAGE true` typed by hand, alternated in one run; prints the ratio of
 * the medians (target <= 1.15). An empty Deno script is timed alongside, to show how much
 * of the difference is Deno's own start and exit. VENVOY_BENCH_ROUNDS (default 15).
 */
import { join } from "node:path";

const VENVOY = new URL("../dist/venvoy", import.meta.url).pathname;
const BASE = Deno.env.get("VENVOY_BENCH_BASE") ?? "localhost/venvoy-lab/python:3.11";
const ROUNDS = Number(Deno.env.get("VENVOY_BENCH_ROUNDS") ?? "15");
const TARGET = 1.15;
const root = await Deno.makeTempDir({ prefix: "venvoy-bench-run-" });
const env = {
  VENVOY_HOME: join(root, "state"),
  VENVOY_PROJECTS: join(root, "projects"),
  NO_COLOR: "1",
};
const NAME = "bench-env-run";
const IMAGE = `localhost/venvoy/${NAME}:latest`;

async function timed(cmd: string[]): Promise<number> {
  const t0 = performance.now();
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: root,
    env,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (out.code !== 0) {
    throw new Error(`${cmd.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return (performance.now() - t0) / 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
let failed = false;
try {
  await timed([VENVOY, "--engine", "podman", "init", "--name", NAME, "--base-image", BASE]);
  const venvoyRun = [VENVOY, "run", NAME, "--command", "true"];
  const byHand = ["podman", "run", "--rm", IMAGE, "true"];
  const empty = join(root, "empty.js");
  await Deno.writeTextFile(empty, "");
  const denoEmpty = [Deno.execPath(), "run", "--no-config", "--no-lock", empty];
  await timed(venvoyRun); // warm every path once
  await timed(byHand);
  await timed(denoEmpty);
  const a: number[] = [];
  const b: number[] = [];
  const d: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    a.push(await timed(venvoyRun));
    b.push(await timed(byHand));
    d.push(await timed(denoEmpty));
  }
  const ratio = median(a) / median(b);
  console.log(
    `venvoy run --command true: median ${median(a).toFixed(3)} s (${
      a.map((x) => x.toFixed(2)).join(" ")
    })`,
  );
  console.log(
    `podman run --rm IMAGE true: median ${median(b).toFixed(3)} s (${
      b.map((x) => x.toFixed(2)).join(" ")
    })`,
  );
  const ms = (x: number) => `${(x * 1000).toFixed(0)} ms`;
  console.log(
    `difference: ${ms(median(a) - median(b))}, of which an empty Deno script's start and ` +
      `exit: ${ms(median(d))}`,
  );
  console.log(`ratio: ${ratio.toFixed(3)} (target <= ${TARGET})`);
  failed = ratio > TARGET;
  console.log(failed ? "OVER TARGET" : "within target");
} finally {
  await new Deno.Command(VENVOY, {
    args: ["delete", NAME, "--force", "--purge"],
    env,
    stdout: "null",
    stderr: "null",
  }).output();
  await Deno.remove(root, { recursive: true }).catch(() => {});
}
if (failed) Deno.exit(1);
