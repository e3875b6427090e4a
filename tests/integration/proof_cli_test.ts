/**
 * Recorded runs and `venvoy verify`, end to end through the bundled product (dist/venvoy):
 * an environment made on podman records a deterministic run and a run that writes the
 * current time; the archive (with inputs) is verified on a fresh home and a fresh podman
 * storage root (same, exit 0), the time run differs (exit 1, with the first differing
 * byte), and the podman-made archive verifies under apptainer too.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { type CliResult, venvoy } from "./cli.ts";
import { ignoreUnless, LAB_PYTHON, runner } from "./lab.ts";

const noPodman = ignoreUnless("podman");
const hasPythonLab = !noPodman &&
  (await runner.run({ cmd: ["podman", "image", "exists", LAB_PYTHON] })).code === 0;
if (!noPodman && !hasPythonLab) {
  console.error(`SKIP proof CLI tests: ${LAB_PYTHON} is missing (run tests/lab/setup.sh)`);
}
const skip = noPodman || !hasPythonLab;
const noApptainer = skip || ignoreUnless("apptainer");

const NAME = `it-proof-${crypto.randomUUID().slice(0, 8)}`;
const SUM = `python -c "import pathlib; n = sum(int(x) for x in ` +
  `pathlib.Path('data/numbers.txt').read_text().split()); ` +
  `pathlib.Path('out').mkdir(exist_ok=True); pathlib.Path('out/sum.txt').write_text(f'{n}\\n')"`;
const CLOCK = "date +%s%N > t.txt";

interface Fixture {
  root: string;
  env: Record<string, string>;
  work: string;
  archive: string;
  sumId: string;
  clockId: string;
}

let shared: Fixture | null = null;

function must(res: CliResult, what: string): CliResult {
  assertEquals(res.code, 0, `${what} failed (exit ${res.code}):\n${res.stderr}`);
  return res;
}

function recordId(res: CliResult): string {
  const m = /records\/(\d{8}_\d{6}(?:-\d+)?)\.json$/m.exec(res.stdout);
  assert(m, `no record path in: ${res.stdout}`);
  return m[1];
}

/** A reviewer's machine: an empty venvoy home and its own temporary folder (short: podman's runroot). */
async function reviewer(): Promise<Record<string, string>> {
  const base = await Deno.makeTempDir({ dir: "/tmp", prefix: "vpt-" });
  await Deno.mkdir(join(base, "t"));
  return {
    HOME: join(base, "h"),
    VENVOY_HOME: join(base, "vh"),
    VENVOY_PROJECTS: join(base, "vp"),
    TMPDIR: join(base, "t"),
  };
}

async function fixture(): Promise<Fixture> {
  if (shared) return shared;
  const root = await Deno.makeTempDir({ prefix: "venvoy-it-proof-" });
  const env = {
    HOME: join(root, "home"),
    VENVOY_HOME: join(root, "vh"),
    VENVOY_PROJECTS: join(root, "vp"),
  };
  const work = join(root, "work");
  await Deno.mkdir(join(work, "data"), { recursive: true });
  await Deno.writeTextFile(join(work, "data", "numbers.txt"), "1 2 3\n40\n");
  must(
    await venvoy(["--engine", "podman", "init", "--name", NAME, "--base-image", LAB_PYTHON], {
      env,
      cwd: work,
    }),
    "init",
  );
  const sum = must(
    await venvoy(["record", "--command", SUM, "--inputs", "data", "--outputs", "out"], {
      env,
      cwd: work,
    }),
    "record the sum",
  );
  assertEquals(await Deno.readTextFile(join(work, "out", "sum.txt")), "46\n");
  const sumId = recordId(sum);
  const rec = JSON.parse(await Deno.readTextFile(sum.stdout.trim()));
  assertEquals(rec.inputs.map((i: { path: string }) => i.path), ["data/numbers.txt"]);
  assertEquals(rec.outputs.map((i: { path: string }) => i.path), ["out/sum.txt"]);
  assert.match(rec.image_id, /^sha256:[0-9a-f]{64}$/);
  assert.match(rec.snapshot, /^\d{8}_\d{6}$/);
  assertEquals([rec.engine, rec.exit_code], ["podman", 0]);
  // Record ids have one-second resolution: the next record is distinct anyway.
  const clock = must(
    await venvoy(["record", "--name", NAME, "--command", CLOCK, "--outputs", "t.txt"], {
      env,
      cwd: work,
    }),
    "record the clock",
  );
  const clockId = recordId(clock);
  assert(clockId !== sumId);

  const hist = JSON.parse(
    must(await venvoy(["history", "--name", NAME, "--json"], { env, cwd: work }), "history")
      .stdout,
  );
  assertEquals(hist.records.map((r: { id: string }) => r.id).sort(), [sumId, clockId].sort());

  const ex = must(
    await venvoy(
      ["export", "--name", NAME, "--format", "archive", "--with-inputs", "-o", root + "/"],
      { env, cwd: work },
    ),
    "export --with-inputs",
  );
  assert.match(ex.stderr, /2 run record\(s\) and their inputs: 1 file\(s\), 9 B/);
  const archive = /^[0-9a-f]{64} {2}(\/.+)$/m.exec(ex.stdout)![1];
  shared = { root, env, work, archive, sumId, clockId };
  return shared;
}

async function noVerifyImages(): Promise<void> {
  const res = await runner.run({ cmd: ["podman", "images", "--format", "{{.Repository}}"] });
  assert(!/venvoy\/verify-/.test(res.stdout), `a verify image was left behind:\n${res.stdout}`);
}

Deno.test({
  name: "proof CLI: record, export --with-inputs, verify on a fresh home and storage root: same",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const f = await fixture();
    const env = await reviewer();
    const res = await venvoy(["--engine", "podman", "verify", f.archive, "--record", f.sumId], {
      env,
    });
    assertEquals(res.code, 0, res.stderr);
    assertEquals(
      res.stdout.split("\n").filter((l) => l.startsWith("  ")),
      ["  same     out/sum.txt", "  exit code 0, as recorded"],
    );
    assert.match(res.stdout, /^verdict: same: 1 output\(s\) of 1 record\(s\) reproduced$/m);
    assert.match(res.stderr, /a throwaway storage root/);
    // Nothing is left: not in the reviewer's temporary folder, not in podman's main store.
    assertEquals([...Deno.readDirSync(env.TMPDIR)].map((e) => e.name), []);
    await noVerifyImages();
    await Deno.remove(join(env.TMPDIR, ".."), { recursive: true });
  },
});

Deno.test({
  name: "proof CLI: a command that writes the current time differs, exit 1, with the byte offset",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const f = await fixture();
    const env = await reviewer();
    const res = await venvoy(
      ["--engine", "podman", "verify", f.archive, "--record", f.clockId, "--json"],
      { env },
    );
    assertEquals(res.code, 1, res.stderr);
    const report = JSON.parse(res.stdout);
    assertEquals(report.verdict, "differs");
    assertEquals(report.storage, "throwaway");
    assertEquals(report.architecture.same, true);
    const [o] = report.records[0].outputs;
    assertEquals([o.path, o.status], ["t.txt", "differs"]);
    // Nanoseconds since 1970: the leading digits agree, the offset falls within the line.
    assert(Number.isInteger(o.offset) && o.offset > 0 && o.offset < 19, String(o.offset));
    assertEquals([...Deno.readDirSync(env.TMPDIR)].map((e) => e.name), []);
    await noVerifyImages();
    await Deno.remove(join(env.TMPDIR, ".."), { recursive: true });
  },
});

Deno.test({
  name: "proof CLI: an output missing after the run is an error, and the record says so",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const f = await fixture();
    const res = await venvoy(
      ["record", "--name", NAME, "--command", "true", "--outputs", "never.txt"],
      { env: f.env, cwd: f.work },
    );
    assertEquals(res.code, 1);
    assert.match(res.stderr, /output\(s\) missing after the run: never\.txt/);
    const rec = JSON.parse(await Deno.readTextFile(res.stdout.trim()));
    assertEquals(rec.missing_outputs, ["never.txt"]);
    const out = await venvoy(
      ["record", "--name", NAME, "--command", "true", "--outputs", "../x"],
      { env: f.env, cwd: f.work },
    );
    assertEquals(out.code, 2);
    assert.match(out.stderr, /not inside the current folder/);
  },
});

Deno.test({
  name: "proof CLI: an archive made with podman verifies under apptainer",
  ignore: noApptainer,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const f = await fixture();
    const env = await reviewer();
    const res = await venvoy(
      ["--engine", "apptainer", "verify", f.archive, "--record", f.sumId],
      { env },
    );
    assertEquals(res.code, 0, res.stderr);
    assert.match(res.stdout, /^ {2}same {5}out\/sum\.txt$/m);
    assert.match(res.stdout, /^verdict: same/m);
    assertEquals([...Deno.readDirSync(env.TMPDIR)].map((e) => e.name), []);
    await Deno.remove(join(env.TMPDIR, ".."), { recursive: true });
  },
});

Deno.test({
  name: "proof CLI: cleanup",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await runner.run({ cmd: ["podman", "rmi", "-f", `localhost/venvoy/${NAME}:latest`] });
    if (shared) await Deno.remove(shared.root, { recursive: true }).catch(() => {});
  },
});
