/**
 * Times `venvoy runtime-info` (the bundled dist/venvoy) against its 0.5 s budget, beside
 * an empty Deno script, in one run, so start-up and probing can be told apart.
 *   deno task bench:runtime-info [runs]
 */
const runs = Number(Deno.args[0] ?? 15);
const bin = new URL("../dist/venvoy", import.meta.url).pathname;
const empty = await Deno.makeTempFile({ suffix: ".js" });
await Deno.writeTextFile(empty, "");

async function time(args: string[]): Promise<number> {
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), { args, stdout: "null", stderr: "null" })
    .output();
  const ms = performance.now() - t0;
  if (!out.success && args.includes("runtime-info")) throw new Error("runtime-info failed");
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const flags = ["run", "--allow-all", "--no-config", "--no-lock", "--quiet"];
const info: number[] = [];
const base: number[] = [];
for (let i = 0; i < runs; i++) {
  // interleaved, so machine noise hits both alike
  base.push(await time([...flags, empty]));
  info.push(await time([...flags, bin, "runtime-info"]));
}
const m = median(info);
const b = median(base);
console.log(`runs: ${runs}`);
console.log(`empty deno script:     median ${b.toFixed(0)} ms`);
console.log(
  `venvoy runtime-info:   median ${m.toFixed(0)} ms (max ${Math.max(...info).toFixed(0)} ms)`,
);
console.log(`ratio to empty script: ${(m / b).toFixed(2)}x`);
console.log(
  `budget 500 ms: ${m <= 500 ? "met" : "MISSED"} (${(m / 500 * 100).toFixed(0)}% of budget)`,
);
