import assert, { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { RecordingRunner } from "../../fakes/runner.ts";
import { type EnvConfig, writeConfig } from "../../../src/env/config.ts";
import { statePaths } from "../../../src/env/paths.ts";
import {
  foldersBefore,
  freeRecordId,
  listRecords,
  parseRecord,
  parseRecordFile,
  recordRun,
  type RunRecord,
} from "../../../src/proof/record.ts";
import { UsageError, VenvoyError } from "../../../src/ui/errors.ts";
import { IMAGE_ID, validRecord } from "./fixtures.ts";
import type { RunRequest } from "../../../src/process/mod.ts";
import { tempDir } from "../../fakes/tmp.ts";
import { envConfig } from "../../fakes/env_config.ts";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

async function setup() {
  const root = await tempDir("venvoy record ");
  const paths = statePaths((n) =>
    ({
      HOME: join(root, "home"),
      VENVOY_HOME: join(root, "state"),
      VENVOY_PROJECTS: join(root, "projects"),
    } as Record<string, string>)[n]
  );
  const dir = join(paths.environments, "study");
  await Deno.mkdir(join(dir, "persist"), { recursive: true });
  const cfg: EnvConfig = envConfig({ name: "study" });
  await writeConfig(dir, cfg);
  await Deno.writeTextFile(
    join(dir, "base-packages.json"),
    JSON.stringify({ python: [{ name: "six", version: "1.16.0" }], conda: [], r: [], os: [] }),
  );
  const cwd = join(root, "my project");
  await Deno.mkdir(join(cwd, "data"), { recursive: true });
  await Deno.writeTextFile(join(cwd, "data", "in.csv"), "x\n1\n");
  const notes: string[] = [];
  const runner = new RecordingRunner({ paths: { podman: "/usr/bin/podman" } })
    .on(["/usr/bin/podman", "image", "inspect"], {
      stdout: JSON.stringify([{ Id: IMAGE_ID, Architecture: "amd64", Os: "linux" }]),
    });
  const ctx = {
    runner,
    paths,
    engine: null,
    cwd,
    note: (m: string) => notes.push(m),
    terminal: { stdin: false, stdout: false },
    stdinData: false,
    user: { uid: 1000, gid: 100 },
    autosave: false,
    venvoyVersion: "9.9.9",
  };
  return { root, paths, cwd, notes, runner, ctx };
}

/** The fake container: its `run` writes these files into the /workspace mount, then answers. */
function fakeContainer(runner: RecordingRunner, files: Record<string, string>, code = 0) {
  runner.on(["/usr/bin/podman", "run"], { code });
  const inner = runner.run.bind(runner);
  runner.run = async (req: RunRequest) => {
    if (req.cmd[1] === "run") {
      const mount = req.cmd.find((a) => a.endsWith(",target=/workspace"))!;
      const cwd = /source=(.*),target=\/workspace/.exec(mount)![1];
      for (const [p, text] of Object.entries(files)) {
        await Deno.mkdir(join(cwd, p, ".."), { recursive: true });
        await Deno.writeTextFile(join(cwd, p), text);
      }
    }
    return await inner(req);
  };
}

Deno.test("record: runs like `run --command`, then writes every hash, id, snapshot and time", async () => {
  const { ctx, runner, cwd, paths } = await setup();
  fakeContainer(runner, { "out/r.txt": "result 42\n" });
  const times = [new Date("2026-12-01T10:00:00.500Z"), new Date("2026-12-01T10:00:07.250Z")];
  const { record, path } = await recordRun({ ...ctx, now: () => times.shift()! }, {
    command: "python fit.py",
    inputs: ["data"],
    outputs: ["out"],
  });
  // The run itself: the same argv as `venvoy run --command`.
  const run = runner.argvs.find((a) => a[1] === "run")!;
  assertEquals(run.slice(-4), ["/opt/venvoy/bin/venvoy-entry", "sh", "-c", "python fit.py"]);
  assert(run.includes(`type=bind,source=${cwd},target=/workspace`));
  assertEquals(path, join(paths.projects, "study", "records", "20261201_100007.json"));
  const onDisk = parseRecord(await Deno.readTextFile(path), path);
  assertEquals(onDisk, record);
  assertEquals(record.command, "python fit.py");
  assertEquals(record.image_id, IMAGE_ID);
  assertEquals(record.engine, "podman");
  assertEquals(record.architecture, Deno.build.arch);
  assertEquals(record.started, "2026-12-01T10:00:00.500Z");
  assertEquals(record.ended, "2026-12-01T10:00:07.250Z");
  assertEquals(record.exit_code, 0);
  assertEquals(record.workdir, cwd);
  assert(record.snapshot && /^\d{8}_\d{6}$/.test(record.snapshot), String(record.snapshot));
  assertEquals(record.inputs, [
    { path: "data/in.csv", type: "file", size: 4, sha256: sha("x\n1\n") },
  ]);
  assertEquals(record.outputs.map((o) => o.path), ["out/r.txt"]);
});

Deno.test("record: outputs are hashed after the run; small text outputs are kept", async () => {
  const { ctx, runner, paths } = await setup();
  fakeContainer(runner, { "out/r.txt": "result 42\n" });
  const { record } = await recordRun(ctx, { command: "x", outputs: ["out", "gone.txt"] });
  assertEquals(record.outputs, [
    { path: "out/r.txt", type: "file", size: 10, sha256: sha("result 42\n"), kept: true },
  ]);
  assertEquals(record.missing_outputs, ["gone.txt"], "a missing output is in the record");
  const blob = join(paths.projects, "study", "records", "blobs", sha("result 42\n"));
  assertEquals(await Deno.readTextFile(blob), "result 42\n");
});

Deno.test("record: a failing command is recorded with its exit code", async () => {
  const { ctx, runner } = await setup();
  runner.on(["/usr/bin/podman", "run"], { code: 3 });
  const { record } = await recordRun(ctx, { command: "false" });
  assertEquals(record.exit_code, 3);
});

Deno.test("record: refuses outputs outside the folder, missing inputs and no command (exit 2)", async () => {
  const { ctx, runner } = await setup();
  for (
    const opts of [
      { command: "x", outputs: ["../elsewhere.txt"] },
      { command: "x", outputs: ["/etc/passwd"] },
      { command: "x", inputs: ["nope.csv"] },
      { outputs: ["a"] },
    ]
  ) {
    await rejects(recordRun(ctx, opts), (e) => e instanceof UsageError && e.exitCode === 2);
  }
  assertEquals(runner.argvs.filter((a) => a[1] === "run"), [], "nothing ran");
});

Deno.test("freeRecordId: two records in one second get distinct ids; listing is newest first", async () => {
  const { paths } = await setup();
  const dir = join(paths.projects, "study", "records");
  await Deno.mkdir(dir, { recursive: true });
  const t = new Date("2026-12-01T10:00:07Z");
  const a = await freeRecordId(dir, t);
  await Deno.writeTextFile(join(dir, `${a}.json`), "{}");
  const b = await freeRecordId(dir, t);
  assertEquals([a, b], ["20261201_100007", "20261201_100007-2"]);
  await Deno.writeTextFile(join(dir, `${b}.json`), "not json");
  const listed = await listRecords(join(paths.projects, "study"));
  assertEquals(listed.map((l) => l.id), [b, a]);
  assert(listed.every((l) => l.record === null && l.error), "unreadable records carry an error");
});

Deno.test("parseRecord: a hostile record from an archive is refused", () => {
  const ok = validRecord();
  assertEquals(parseRecord(JSON.stringify(ok), "r"), ok);
  const attacks: [string, (r: RunRecord) => void][] = [
    ["output escapes", (r) => (r.outputs[0].path = "../../.bashrc")],
    ["absolute output", (r) => (r.outputs[0].path = "/etc/passwd")],
    ["unnormalized", (r) => (r.outputs[0].path = "out/../../x")],
    ["absolute input", (r) => (r.inputs[0].path = "/root/.ssh/id_rsa")],
    ["bad sha (blob path)", (r) => ((r.inputs[0] as { sha256: string }).sha256 = "../../x")],
    ["output root escapes", (r) => (r.output_paths = [".."])],
    ["output root walks out", (r) => (r.output_paths = ["x/../../../home/u/.ssh"])],
    ["missing output walks out", (r) => (r.missing_outputs = ["x/../../etc"])],
    ["output root not normal", (r) => (r.output_paths = ["./out"])],
    ["input walks through", (r) => (r.inputs[0].path = "../x/../../y")],
    ["dirs_before walks out", (r) => (r.dirs_before = ["a/../../.ssh"])],
    ["dirs_before absolute", (r) => (r.dirs_before = ["/root"])],
    ["bad id", (r) => (r.id = "../x")],
    ["no command", (r) => (r.command = "")],
  ];
  for (const [what, mutate] of attacks) {
    const r = structuredClone(ok);
    mutate(r);
    assert.throws(() => parseRecord(JSON.stringify(r), "r"), VenvoyError, what);
  }
});

Deno.test("parseRecordFile: a record's id must be its file name (ids are unique in a folder)", async () => {
  const ok = validRecord();
  assertEquals(parseRecordFile(JSON.stringify(ok), "r", ok.id), ok);
  assert.throws(
    () => parseRecordFile(JSON.stringify(ok), "r", "20261201_100008"),
    /its id "20261201_100007" is not its file name \(20261201_100008\.json\)/,
  );
  // Listed: the one whose id is another record's is unreadable, not a second copy of it.
  const { paths } = await setup();
  const dir = join(paths.projects, "study", "records");
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(join(dir, `${ok.id}.json`), JSON.stringify(ok));
  await Deno.writeTextFile(join(dir, "20261201_100008.json"), JSON.stringify(ok));
  const listed = await listRecords(join(paths.projects, "study"));
  assertEquals(listed.map((l) => [l.id, l.record?.id ?? null]), [
    ["20261201_100008", null],
    [ok.id, ok.id],
  ]);
  // A record of an older venvoy, without dirs_before, still parses.
  const old = structuredClone(ok);
  delete old.dirs_before;
  assertEquals(parseRecord(JSON.stringify(old), "r").dirs_before, undefined);
});

Deno.test("record: the folders that existed before the run are recorded (an empty out/ too)", async () => {
  const { ctx, runner, cwd } = await setup();
  await Deno.mkdir(join(cwd, "out", "sub"), { recursive: true });
  await Deno.mkdir(join(cwd, "data", "empty"));
  await Deno.symlink("/etc", join(cwd, "data", "link"));
  fakeContainer(runner, { "out/r.txt": "x" });
  const { record } = await recordRun(ctx, { command: "x", inputs: ["data"], outputs: ["out"] });
  assertEquals(record.dirs_before, ["data", "data/empty", "out", "out/sub"]);
  assertEquals(await foldersBefore(cwd, ["."]), ["data", "data/empty", "out", "out/sub"]);
  assertEquals(await foldersBefore(cwd, ["nothing", "data/in.csv"]), []);
});
