import { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { addRecordMembers, placeRecords, planRecords } from "../../../src/proof/bundle.ts";
import { writeRecord } from "../../../src/proof/record.ts";
import { UsageError, VenvoyError } from "../../../src/ui/errors.ts";
import { validRecord } from "./fixtures.ts";
import { tempDir } from "../../fakes/tmp.ts";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

async function project() {
  const root = await tempDir("venvoy bundle ");
  const workdir = join(root, "work");
  const projectDir = join(root, "projects", "study");
  await Deno.mkdir(join(workdir, "data"), { recursive: true });
  await Deno.writeTextFile(join(workdir, "data", "a"), "a");
  const r = { ...validRecord(), workdir };
  // A kept text output.
  r.outputs = [{ path: "out/r", type: "file", size: 1, sha256: sha("r"), kept: true }];
  await Deno.mkdir(join(projectDir, "records", "blobs"), { recursive: true });
  await Deno.writeTextFile(join(projectDir, "records", "blobs", sha("r")), "r");
  await writeRecord(projectDir, r);
  return { root, workdir, projectDir, record: r };
}

class Sink {
  members: string[] = [];
  async addFile(name: string, source: string) {
    this.members.push(name);
    return {
      type: "file",
      sha256: createHash("sha256").update(await Deno.readFile(source)).digest("hex"),
    };
  }
}

Deno.test("planRecords: records and kept outputs always; inputs only with --with-inputs", async () => {
  const { projectDir, workdir } = await project();
  const plain = await planRecords(projectDir);
  assertEquals(plain.records.map((r) => r.id), ["20261201_100007"]);
  assertEquals([...plain.blobs.keys()], [sha("r")]);
  assertEquals([plain.inputFiles, plain.inputBytes], [0, 0]);
  const full = await planRecords(projectDir, { withInputs: true });
  assertEquals(full.blobs.get(sha("a")), join(workdir, "data", "a"));
  assertEquals([full.inputFiles, full.inputBytes], [1, 1]);
  const sink = new Sink();
  const added = await addRecordMembers(sink, full);
  assertEquals(added, { records: ["20261201_100007"] });
  assertEquals(
    sink.members.sort(),
    [
      "records/20261201_100007.json",
      `records/blobs/${sha("a")}`,
      `records/blobs/${sha("r")}`,
    ].sort(),
  );
});

Deno.test("planRecords --with-inputs: refuses inputs outside the folder and changed inputs", async () => {
  const a = await project();
  await writeRecord(a.projectDir, {
    ...a.record,
    id: "20261201_100008",
    inputs: [{ path: "../secret", type: "file", size: 1, sha256: sha("s") }],
  });
  await rejects(
    planRecords(a.projectDir, { withInputs: true }),
    (e) => e instanceof UsageError && /outside the folder it ran in/.test(e.message),
  );
  // Without --with-inputs nothing is read from outside: the export goes ahead.
  assertEquals((await planRecords(a.projectDir)).records.length, 2);

  const b = await project();
  await Deno.writeTextFile(join(b.workdir, "data", "a"), "changed");
  await rejects(
    planRecords(b.projectDir, { withInputs: true }),
    (e) => e instanceof VenvoyError && /has changed since it was recorded/.test(e.message),
  );
});

Deno.test("addRecordMembers: a blob whose bytes changed after planning is refused", async () => {
  const { projectDir, workdir } = await project();
  const plan = await planRecords(projectDir, { withInputs: true });
  await Deno.writeTextFile(join(workdir, "data", "a"), "swapped");
  await rejects(addRecordMembers(new Sink(), plan), /changed while the archive was written/);
});

Deno.test("placeRecords: checked records and blobs land in the project; hostile ones do not", async () => {
  const { projectDir, record } = await project();
  const extracted = await tempDir("venvoy extracted ");
  const rec = join(extracted, "records");
  await Deno.mkdir(join(rec, "blobs"), { recursive: true });
  await Deno.copyFile(
    join(projectDir, "records", `${record.id}.json`),
    join(rec, `${record.id}.json`),
  );
  await Deno.writeTextFile(join(rec, "blobs", sha("a")), "a");
  // A blob whose name is not its content's sha256 is not placed.
  await Deno.writeTextFile(join(rec, "blobs", sha("b")), "not b");
  const dest = join(await tempDir("venvoy placed "), "project"); // not there yet
  assertEquals(await placeRecords(extracted, dest), [join(dest, "records", `${record.id}.json`)]);
  assertEquals(await Deno.readTextFile(join(dest, "records", "blobs", sha("a"))), "a");
  await rejects(Deno.stat(join(dest, "records", "blobs", sha("b"))), Deno.errors.NotFound);
  // Placed again: an existing record is never replaced.
  assertEquals(await placeRecords(extracted, dest), []);
  // A record whose output path escapes is refused before anything uses it.
  const bad = {
    ...record,
    id: "20261201_100009",
    outputs: [{ ...record.outputs[0], path: "../../x" }],
  };
  await Deno.writeTextFile(join(rec, `${bad.id}.json`), JSON.stringify(bad));
  await rejects(placeRecords(extracted, dest), /invalid path/);
  // A record named after one id but holding another (two records sharing an id) is refused.
  await Deno.writeTextFile(join(rec, `${bad.id}.json`), JSON.stringify(record));
  await rejects(placeRecords(extracted, dest), /is not its file name/);
});

Deno.test("export: --with-inputs goes with --format archive only (exit 2)", async () => {
  const { exportEnv } = await import("../../../src/archive/export_env.ts");
  const { RecordingRunner } = await import("../../fakes/runner.ts");
  const { statePaths } = await import("../../../src/env/paths.ts");
  const root = await tempDir("venvoy export ");
  const ctx = {
    runner: new RecordingRunner(),
    engine: null,
    debug: false,
    paths: statePaths((n) => ({ HOME: root } as Record<string, string>)[n]),
  };
  await rejects(
    exportEnv(ctx, { format: "yaml", withInputs: true }, {
      note: () => {},
      warn: () => {},
      cwd: root,
      venvoyVersion: "0",
    }),
    (e) => e instanceof UsageError && /--with-inputs goes with --format archive/.test(e.message),
  );
});
