/**
 * The CI slice of the archive-boundary fuzzer (tests/fuzz/): a few hundred mutated
 * archives, imports, image tars, manifests, records and grammar values, from a fixed
 * seed, printed so that a failure reruns exactly:
 *   FUZZ_SEED=<seed> FUZZ_RUNS=<n> deno test -A tests/unit/archive/fuzz_test.ts
 * The benchmark (`deno task bench:fuzz`) runs the same properties 5,000+ times.
 */
import { fuzzBase, outcomes } from "../../fuzz/harness.ts";
import {
  fuzzContext,
  fuzzSettings,
  HAVE_GNU_TAR,
  knownOpenHits,
  split,
  TARGETS,
} from "../../fuzz/properties.ts";

const { seed, runs } = fuzzSettings({ seed: 20261208, runs: 600 });
const counts = split(runs);
console.log(`fuzz: seed ${seed}, ${runs} cases (rerun: FUZZ_SEED=${seed} FUZZ_RUNS=${runs})`);
if (!HAVE_GNU_TAR) console.log("fuzz: no GNU tar here: accepted archives are not compared with it");

const base = await fuzzBase("venvoy-fuzz-");
const ctx = await fuzzContext(base);

TARGETS.forEach((t, i) => {
  Deno.test(`fuzz: ${t.name} (${counts[i]} cases)`, () => t.run(ctx, counts[i], seed + i));
});

Deno.test.afterAll(async () => {
  await Deno.remove(base, { recursive: true }).catch(() => {});
  console.log(`fuzz: how cases ended: ${JSON.stringify(Object.fromEntries(outcomes))}`);
  for (const [what, n] of knownOpenHits) console.log(`fuzz: known open bug hit ${n}x: ${what}`);
});
