/**
 * `deno task bench:fuzz`: the archive-boundary fuzzer (tests/fuzz/) at full size: at
 * least 5,000 mutated archives, imports, image tars, manifests, records and grammar
 * values (FUZZ_RUNS, default 6000), from a fresh seed each run unless FUZZ_SEED is set.
 * Prints the seed, cases/s per property and in all, and how the cases ended; exits 1 on
 * the first property that fails (fast-check's report names the seed and the case).
 */
import { fuzzBase, outcomes } from "../tests/fuzz/harness.ts";
import {
  fuzzContext,
  fuzzSettings,
  HAVE_GNU_TAR,
  KNOWN_OPEN,
  knownOpenHits,
  split,
  TARGETS,
} from "../tests/fuzz/properties.ts";

const MIN_RUNS = 5000;
const { seed, runs } = fuzzSettings({
  seed: Math.floor(Math.random() * 2 ** 31),
  runs: 6000,
});
if (runs < MIN_RUNS) console.log(`note: FUZZ_RUNS=${runs} is below the benchmark's ${MIN_RUNS}`);
console.log(`fuzz: seed ${seed}, ${runs} cases (rerun: FUZZ_SEED=${seed} FUZZ_RUNS=${runs})`);
if (!HAVE_GNU_TAR) console.log("fuzz: no GNU tar here: accepted archives are not compared with it");

const base = await fuzzBase("venvoy-bench-fuzz-");
const counts = split(runs);
let failed = false;
let total = 0;
const t0 = performance.now();
try {
  const ctx = await fuzzContext(base);
  for (const [i, t] of TARGETS.entries()) {
    const start = performance.now();
    try {
      await t.run(ctx, counts[i], seed + i);
    } catch (e) {
      failed = true;
      console.log(`FAILED ${t.name} (seed ${seed + i}):\n${(e as Error).message}`);
      const cause = (e as Error).cause as Error | undefined;
      if (cause) console.log(`cause: ${cause.message}`);
      break;
    }
    const s = (performance.now() - start) / 1000;
    total += counts[i];
    console.log(
      `${t.name.padEnd(42)} ${String(counts[i]).padStart(5)} cases ${s.toFixed(1).padStart(6)} s ` +
        `${(counts[i] / s).toFixed(0).padStart(6)} cases/s`,
    );
  }
} finally {
  await Deno.remove(base, { recursive: true }).catch(() => {});
}
const seconds = (performance.now() - t0) / 1000;
console.log(
  `all: ${total} cases in ${seconds.toFixed(1)} s, ${(total / seconds).toFixed(0)} cases/s`,
);
const ends = [...outcomes].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`);
console.log(`how cases ended: ${ends.join(", ")}`);
for (const k of KNOWN_OPEN) {
  const n = knownOpenHits.get(k.what) ?? 0;
  if (n) console.log(`known open bug hit ${n} time(s): ${k.what}`);
}
if (failed) Deno.exit(1);
