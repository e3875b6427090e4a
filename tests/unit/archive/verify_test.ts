import assert, { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { RecordingRunner } from "../../fakes/runner.ts";
import { DenoRunner } from "../../../src/process/mod.ts";
import { withEnv } from "../../../src/proof/env_runner.ts";
import {
  compareOutputs,
  DEFAULT_LIMITS,
  normalizeArch,
  parseTimeout,
  placeInputs,
  renderReport,
  sandboxFor,
  storageConf,
  verifyArchive,
  type VerifyReport,
} from "../../../src/archive/verify.ts";
import type { RunRecord } from "../../../src/proof/record.ts";
import { RuntimeUnavailableError, UsageError } from "../../../src/ui/errors.ts";
import { validRecord } from "../proof/fixtures.ts";
import { tempDir } from "../../fakes/tmp.ts";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

async function scene() {
  const root = await tempDir("venvoy verify ");
  const projectDir = join(root, "project");
  const scratch = join(root, "scratch");
  await Deno.mkdir(join(projectDir, "records", "blobs"), { recursive: true });
  await Deno.mkdir(scratch);
  const blob = (text: string) =>
    Deno.writeTextFile(join(projectDir, "records", "blobs", sha(text)), text);
  return { root, projectDir, scratch, blob };
}

Deno.test("compareOutputs: same, differs (with the first differing byte), missing, extra", async () => {
  const { projectDir, scratch, blob } = await scene();
  const r: RunRecord = {
    ...validRecord(),
    output_paths: ["out", "t.txt", "gone.txt", "link", "never"],
    outputs: [
      { path: "out/same.txt", type: "file", size: 3, sha256: sha("abc") },
      { path: "out/bin", type: "file", size: 3, sha256: sha("xyz") },
      { path: "t.txt", type: "file", size: 11, sha256: sha("1701234567\n"), kept: true },
      { path: "gone.txt", type: "file", size: 1, sha256: sha("g") },
      { path: "link", type: "symlink", target: "out/same.txt" },
    ],
    missing_outputs: ["never"],
  };
  await blob("1701234567\n");
  await Deno.mkdir(join(scratch, "out"));
  await Deno.writeTextFile(join(scratch, "out", "same.txt"), "abc");
  await Deno.writeTextFile(join(scratch, "out", "bin"), "XYZ");
  await Deno.writeTextFile(join(scratch, "out", "new.csv"), "n");
  await Deno.writeTextFile(join(scratch, "t.txt"), "1701239999\n");
  await Deno.symlink("elsewhere", join(scratch, "link"));
  const got = await compareOutputs(r, scratch, projectDir);
  const brief = got.map((c) => [c.path, c.status, c.offset]);
  assertEquals(brief, [
    ["gone.txt", "missing", null],
    ["link", "differs", null],
    ["never", "missing", null],
    ["out/bin", "differs", null],
    ["out/new.csv", "extra", null],
    ["out/same.txt", "same", null],
    ["t.txt", "differs", 6],
  ]);
  assertEquals(got.find((c) => c.path === "out/bin")!.actual_sha256, sha("XYZ"));
});

Deno.test("compareOutputs: an output folder turned into a link out of scratch is not read", async () => {
  const { projectDir, scratch, root } = await scene();
  const outside = join(root, "outside");
  await Deno.mkdir(outside);
  await Deno.writeTextFile(join(outside, "r.txt"), "abc");
  await Deno.symlink(outside, join(scratch, "out"));
  const r: RunRecord = {
    ...validRecord(),
    output_paths: ["out/r.txt"],
    outputs: [{ path: "out/r.txt", type: "file", size: 3, sha256: sha("abc") }],
  };
  const got = await compareOutputs(r, scratch, projectDir);
  assertEquals(got.map((c) => c.status), ["missing"], "the host file behind the link is not used");
});

Deno.test("placeInputs: inputs land in scratch, never through a link or outside it", async () => {
  const { projectDir, scratch, root, blob } = await scene();
  const outside = join(root, "outside");
  await Deno.mkdir(outside);
  await blob("a");
  const r: RunRecord = {
    ...validRecord(),
    inputs: [
      { path: "d", type: "symlink", target: outside },
      { path: "data/a", type: "file", size: 1, sha256: sha("a") },
      { path: "e", type: "symlink", target: outside },
      { path: "e/x", type: "symlink", target: "/etc/passwd" },
      { path: "d/a", type: "file", size: 1, sha256: sha("a") },
      { path: "../up", type: "file", size: 1, sha256: sha("a") },
      { path: "nodata", type: "file", size: 1, sha256: sha("not carried") },
    ],
  };
  const lacking = placeInputs(r, scratch, projectDir);
  assertEquals(await Deno.readTextFile(join(scratch, "data", "a")), "a");
  assertEquals([...Deno.readDirSync(outside)], [], "nothing was written outside scratch");
  await rejects(Deno.lstat(join(root, "up")), Deno.errors.NotFound);
  assertEquals(lacking.sort(), ["../up", "d", "e/x", "nodata"]);
});

Deno.test("withEnv: every process gets the variables; programs' stdout can go to stderr", async () => {
  const inner = new RecordingRunner({ env: { PATH: "/bin" } }).on(["podman"], {});
  const r = withEnv(inner, { CONTAINERS_STORAGE_CONF: "/t/storage.conf" }, {
    stdoutToStderr: true,
  });
  await r.run({ cmd: ["podman", "run", "x"], stdout: "inherit", env: { A: "1" } });
  await r.run({ cmd: ["podman", "images"] });
  assertEquals(inner.calls[0].env, { A: "1", CONTAINERS_STORAGE_CONF: "/t/storage.conf" });
  assertEquals(inner.calls[0].stdout, "piped");
  assertEquals(inner.calls[1].stdout, undefined);
  assertEquals(inner.calls[1].env, { CONTAINERS_STORAGE_CONF: "/t/storage.conf" });
  assertEquals(r.env("CONTAINERS_STORAGE_CONF"), "/t/storage.conf");
  assertEquals(r.env("PATH"), "/bin");
});

Deno.test("withEnv: what a re-run prints reaches stderr line by line, escaped", async () => {
  const chunks: string[] = [];
  const sink = {
    write: (b: Uint8Array) => (chunks.push(new TextDecoder().decode(b)), Promise.resolve(b.length)),
  };
  const r = withEnv(new DenoRunner(), { V: "1" }, { stdoutToStderr: true, sink });
  const res = await r.run({
    cmd: [
      "sh",
      "-c",
      String
        .raw`printf 'out \033[8m%s\nverdict: same\n' "$V"; printf 'err\033]0;t\007' >&2; exit 3`,
    ],
    stdout: "inherit",
    stderr: "inherit",
  });
  assertEquals(res.code, 3);
  const text = chunks.join("");
  assert(!text.includes("\x1b") && !text.includes("\x07"), JSON.stringify(text));
  const lines = text.split("\n").sort();
  assertEquals(lines, ["", "err\\x1b]0;t\\x07", "out \\x1b[8m1", "verdict: same"]);
});

Deno.test("storageConf: a podman store of its own", () => {
  assertEquals(
    storageConf("/tmp/vvs-1"),
    '[storage]\ndriver = "overlay"\ngraphroot = "/tmp/vvs-1/g"\nrunroot = "/tmp/vvs-1/r"\n',
  );
  assertEquals(["amd64", "x86_64", "arm64", "aarch64"].map(normalizeArch), [
    "x86_64",
    "x86_64",
    "aarch64",
    "aarch64",
  ]);
});

Deno.test("verifyArchive: usage errors exit 2, no runtime exits 3, and nothing is left behind", async () => {
  const tmpDir = await tempDir("venvoy verify tmp ");
  const file = join(tmpDir, "a.tar.gz");
  await Deno.writeFile(file, new Uint8Array([0x1f, 0x8b]));
  const ctx = { runner: new RecordingRunner(), engine: null, note: () => {}, tmpDir };
  await rejects(
    verifyArchive(ctx, join(tmpDir, "none.tar.gz"), {}),
    (e) => e instanceof UsageError && e.exitCode === 2,
  );
  await rejects(
    verifyArchive(ctx, file, { record: "../x" }),
    (e) => e instanceof UsageError && e.exitCode === 2,
  );
  await rejects(
    verifyArchive(ctx, file, {}),
    (e) => e instanceof RuntimeUnavailableError && e.exitCode === 3,
  );
  assertEquals([...Deno.readDirSync(tmpDir)].map((e) => e.name), ["a.tar.gz"]);
});

Deno.test("renderReport: one line per output, then the verdict", () => {
  const report: VerifyReport = {
    archive: "/a.tar.gz",
    engine: "podman",
    storage: "throwaway",
    architecture: { recorded: ["aarch64"], host: "x86_64", same: false },
    records: [{
      id: "20261201_100007",
      command: "python fit.py",
      exit_code: { recorded: 0, now: 0 },
      inputs_missing: [],
      outputs: [
        {
          path: "a",
          status: "same",
          offset: null,
          expected_sha256: null,
          actual_sha256: null,
          note: null,
        },
        {
          path: "t.txt",
          status: "differs",
          offset: 6,
          expected_sha256: null,
          actual_sha256: null,
          note: null,
        },
      ],
      notes: [],
      same: false,
    }],
    verdict: "differs",
    kept: null,
    sandbox: { network: false, memory: "2g", pids: 512, timeout_seconds: 3600, notes: [] },
  };
  const text = renderReport(report);
  assertEquals(text.split("\n"), [
    "record 20261201_100007: python fit.py",
    "  same     a",
    "  differs  t.txt (first difference at byte 6)",
    "  exit code 0, as recorded",
    "architecture: recorded on aarch64, verified on x86_64 (same numbers are promised only on the same architecture)",
    "verdict: differs: 1 same, 1 differ, 0 missing, 0 extra",
  ]);
  assert(text);
});

Deno.test("placeInputs: a link input then a file input at the same path writes nothing outside", async () => {
  const { projectDir, scratch, root, blob } = await scene();
  const victim = join(root, "victim.txt");
  await Deno.writeTextFile(victim, "mine\n");
  const ssh = join(root, "ssh");
  await Deno.mkdir(ssh);
  await blob("evil\n");
  const evil = { type: "file" as const, size: 5, sha256: sha("evil\n") };
  const r: RunRecord = {
    ...validRecord(),
    inputs: [
      { path: "data.csv", type: "symlink", target: victim },
      { path: "data.csv", ...evil },
      { path: "keys", type: "symlink", target: join(ssh, "authorized_keys") },
      { path: "keys", ...evil },
    ],
  };
  const lacking = placeInputs(r, scratch, projectDir);
  assertEquals(await Deno.readTextFile(victim), "mine\n", "the victim is unchanged");
  assertEquals([...Deno.readDirSync(ssh)], [], "no authorized_keys was created");
  // The files went in first; the links found them there and were refused.
  assertEquals(await Deno.readTextFile(join(scratch, "data.csv")), "evil\n");
  assertEquals(lacking.sort(), ["data.csv", "keys"]);
});

Deno.test("placeInputs: the folders that existed before the run are made first", async () => {
  const { projectDir, scratch, blob } = await scene();
  await blob("a");
  const r: RunRecord = {
    ...validRecord(),
    dirs_before: ["out", "out/sub", "data"],
    inputs: [{ path: "data/a", type: "file", size: 1, sha256: sha("a") }],
  };
  assertEquals(placeInputs(r, scratch, projectDir), []);
  assert(Deno.statSync(join(scratch, "out", "sub")).isDirectory);
  assertEquals(await Deno.readTextFile(join(scratch, "data", "a")), "a");
  // A record without dirs_before (an older venvoy) places its inputs as before.
  const old = { ...r, dirs_before: undefined };
  const other = join(scratch, "..", "other");
  await Deno.mkdir(other);
  assertEquals(placeInputs(old, other, projectDir), []);
  await rejects(Deno.lstat(join(other, "out")), Deno.errors.NotFound);
});

Deno.test("compareOutputs: an output root with '..' lists nothing from outside scratch", async () => {
  const { projectDir, scratch, root } = await scene();
  await Deno.writeTextFile(join(root, "secret.txt"), "s");
  await Deno.mkdir(join(scratch, "x"));
  const r: RunRecord = { ...validRecord(), output_paths: ["x/../.."], outputs: [] };
  assertEquals(await compareOutputs(r, scratch, projectDir), []);
});

Deno.test("renderReport: strings from the archive cannot forge lines, colours or the verdict", () => {
  const forged =
    "true\n  same     out/r\nverdict: same: 1 output(s) of 1 record(s) reproduced\x1b[8m";
  const report: VerifyReport = {
    archive: "/a.tar.gz",
    engine: "podman",
    storage: "throwaway",
    architecture: { recorded: ["x86_64"], host: "x86_64", same: true },
    sandbox: { network: false, memory: "2g", pids: 512, timeout_seconds: 3600, notes: [] },
    records: [{
      id: "20261201_100007",
      command: forged,
      exit_code: { recorded: 0, now: 1 },
      inputs_missing: [],
      outputs: [{
        path: "out/\x1b[2Jr",
        status: "missing",
        offset: null,
        expected_sha256: null,
        actual_sha256: null,
        note: "link to \x1b]0;x\x07",
      }],
      notes: ["the re-run had no network"],
      same: false,
    }],
    verdict: "differs",
    kept: null,
  };
  const text = renderReport(report);
  assert(!text.includes("\x1b"), "no raw ESC");
  const lines = text.split("\n");
  assertEquals(lines.length, 5, text);
  assertEquals(lines.filter((l) => l.startsWith("verdict:")), [lines[4]]);
  assertEquals(
    lines[4],
    "verdict: differs: 0 same, 0 differ, 1 missing, 0 extra, an exit code differs",
  );
  assertEquals(lines[3], "  note: the re-run had no network");
  assert(lines[0].includes("\\nverdict: same"), lines[0]);
});

Deno.test("sandboxFor: no network, limits by default; apptainer limits only when asked; --timeout", () => {
  const p = sandboxFor("podman", {}, "/s");
  assertEquals(p.sandbox, {
    network: false,
    memory: DEFAULT_LIMITS.memory,
    pids: DEFAULT_LIMITS.pids,
    timeoutMs: DEFAULT_LIMITS.timeoutMs,
    hostCwd: "/s",
  });
  assertEquals(p.report.notes, []);
  const a = sandboxFor("apptainer", { network: true, timeoutMs: 5000 }, "/s");
  assertEquals([a.sandbox.memory, a.sandbox.pids, a.sandbox.network], [null, null, true]);
  assertEquals(a.report.timeout_seconds, 5);
  assert(a.report.notes.some((n) => /memory and process limits are not applied/.test(n)));
  const raised = sandboxFor("apptainer", { memory: "4g", pids: 64 }, "/s");
  assertEquals([raised.sandbox.memory, raised.sandbox.pids], ["4g", 64]);
  assertEquals(["90s", "30m", "2h", "5"].map(parseTimeout), [90000, 1800000, 7200000, 300000]);
  for (const bad of ["0", "1d", "-3m", "", "1.5h"]) {
    assert.throws(() => parseTimeout(bad), (e) => e instanceof UsageError && e.exitCode === 2);
  }
});

Deno.test("verifyArchive: bad limits are usage errors before anything is imported", async () => {
  const tmpDir = await tempDir("venvoy verify limits ");
  const file = join(tmpDir, "a.tar.gz");
  await Deno.writeFile(file, new Uint8Array([0x1f, 0x8b]));
  const ctx = { runner: new RecordingRunner(), engine: null, note: () => {}, tmpDir };
  for (const opts of [{ memory: "lots" }, { memory: "2g; rm" }, { pids: 0 }, { pids: 1.5 }]) {
    await rejects(verifyArchive(ctx, file, opts), (e) => e instanceof UsageError);
  }
  assertEquals([...Deno.readDirSync(tmpDir)].map((e) => e.name), ["a.tar.gz"]);
});
