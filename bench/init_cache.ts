/**
 * `deno task bench:init`: a second `venvoy init --force` with nothing changed must reuse
 * the build cache and take under 5 s. Uses the bundled dist/venvoy and a temporary home.
 */
import { join } from "node:path";

const VENVOY = new URL("../dist/venvoy", import.meta.url).pathname;
const BASE = Deno.env.get("VENVOY_BENCH_BASE") ?? "localhost/venvoy-lab/python:3.11";
const ENGINE = Deno.env.get("VENVOY_BENCH_ENGINE") ?? "podman";
const BUDGET_S = 5;
const root = await Deno.makeTempDir({ prefix: "venvoy-bench-init-" });
const env = {
  VENVOY_HOME: join(root, "state"),
  VENVOY_PROJECTS: join(root, "projects"),
  NO_COLOR: "1",
};
const NAME = "bench-env-init";

async function venvoy(args: string[]): Promise<{ code: number; seconds: number; stderr: string }> {
  const t0 = performance.now();
  const out = await new Deno.Command(VENVOY, {
    args,
    cwd: root,
    env,
    stdout: "null",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    seconds: (performance.now() - t0) / 1000,
    stderr: new TextDecoder().decode(out.stderr),
  };
}

let failed = false;
try {
  const first = await venvoy(["--engine", ENGINE, "init", "--name", NAME, "--base-image", BASE]);
  if (first.code !== 0) throw new Error(`first init failed:\n${first.stderr}`);
  console.log(`first init:            ${first.seconds.toFixed(2)} s`);
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const again = await venvoy(["--engine", ENGINE, "init", "--name", NAME, "--force"]);
    if (again.code !== 0) throw new Error(`init --force failed:\n${again.stderr}`);
    if (!/Unchanged \(build cache\)/.test(again.stderr)) {
      throw new Error(`not a cache hit:\n${again.stderr}`);
    }
    times.push(again.seconds);
  }
  const median = times.sort((a, b) => a - b)[1];
  console.log(
    `init --force (cached): ${times.map((t) => t.toFixed(2)).join(" s, ")} s; median ${
      median.toFixed(2)
    } s (budget ${BUDGET_S} s)`,
  );
  if (median >= BUDGET_S) {
    console.log("OVER BUDGET");
    failed = true;
  } else console.log("within budget");
} finally {
  await venvoy(["delete", NAME, "--force", "--purge"]);
  await Deno.remove(root, { recursive: true }).catch(() => {});
}
if (failed) Deno.exit(1);
