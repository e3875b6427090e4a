import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  formatId,
  listSnapshots,
  loadSnapshot,
  parseId,
  writeSnapshot,
} from "../../../src/snapshot/store.ts";
import { latestId, readLatestKey } from "../../../src/snapshot/latest.ts";
import { stateKey } from "../../../src/snapshot/model.ts";
import { snap } from "./helpers.ts";
import { tempDir } from "../../fakes/tmp.ts";

const T0 = new Date("2025-03-01T10:00:00.400Z");

Deno.test("ids are UTC YYYYMMDD_HHMMSS and parse back; invalid ids do not", () => {
  assertEquals(formatId(T0), "20250301_100000");
  assertEquals(parseId("20250301_100000")?.toISOString(), "2025-03-01T10:00:00.000Z");
  assertEquals(parseId("20251301_100000"), null);
  assertEquals(parseId("latest"), null);
});

Deno.test("write: timestamped file, environment.yml, .last_updated; identical state not written twice", async () => {
  const dir = join(await tempDir(), "demo");
  const r1 = await writeSnapshot(dir, snap({ numpy: "2.1.0" }), { now: T0 });
  assert(r1.written);
  assertEquals(r1.entry.id, "20250301_100000");
  const ts = await Deno.readTextFile(join(dir, "environment_20250301_100000.yml"));
  assertEquals(await Deno.readTextFile(join(dir, "environment.yml")), ts);
  assertEquals(await Deno.readTextFile(join(dir, ".last_updated")), T0.toISOString() + "\n");
  const again = await writeSnapshot(dir, snap({ numpy: "2.1.0" }), {
    now: new Date("2025-03-01T11:00:00Z"),
  });
  assertEquals(again.written, false);
  assertEquals(again.entry.id, "20250301_100000");
  assertEquals((await listSnapshots(dir)).length, 1);
  const loaded = await loadSnapshot(r1.entry);
  assertEquals(loaded.state.python, [{ name: "numpy", version: "2.1.0" }]);
  assertEquals(loaded.meta.created, T0.toISOString());
  assertEquals(r1.entry.rLock, null);
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assertEquals(names, [
    ".last_updated",
    ".latest-state",
    ".lock",
    "environment.yml",
    "environment_20250301_100000.yml",
  ]);
});

Deno.test("snapshots in the same second get distinct, increasing ids", async () => {
  const dir = join(await tempDir(), "demo");
  const ids = [];
  for (let i = 0; i < 3; i++) {
    ids.push((await writeSnapshot(dir, snap({ a: `1.${i}` }), { now: T0 })).entry.id);
  }
  assertEquals(ids, ["20250301_100000", "20250301_100001", "20250301_100002"]);
  assertEquals((await listSnapshots(dir)).map((e) => e.id), [...ids].reverse());
  // a clock that went backwards still sorts after the latest
  const back = await writeSnapshot(dir, snap({ a: "9" }), {
    now: new Date("2020-01-01T00:00:00Z"),
  });
  assertEquals(back.entry.id, "20250301_100003");
});

Deno.test("R environments write renv.lock next to each snapshot and load it back", async () => {
  const dir = join(await tempDir(), "rdemo");
  const s = snap({}, {
    meta: { name: "rdemo", runtime: "r", rVersion: "4.2.2" },
    state: {
      python: [],
      conda: [],
      r: [{ name: "jsonlite", version: "1.8.4", source: "Repository", repository: "CRAN" }],
    },
  });
  const w = await writeSnapshot(dir, s, { now: T0 });
  assertEquals(w.entry.rLock, join(dir, "renv_20250301_100000.lock"));
  assertEquals(
    await Deno.readTextFile(join(dir, "renv.lock")),
    await Deno.readTextFile(w.entry.rLock!),
  );
  const [entry] = await listSnapshots(dir);
  const back = await loadSnapshot(entry);
  assertEquals(back.state.r, s.state.r);
  assertEquals(back.meta.rVersion, "4.2.2");
  // an R version change alone is a new state
  const s2 = { ...s, meta: { ...s.meta, rVersion: "4.3.0" } };
  assert((await writeSnapshot(dir, s2, { now: T0 })).written);
});

Deno.test("concurrent writers never collide or corrupt (the store lock)", async () => {
  const dir = join(await tempDir(), "demo");
  const results = await Promise.all(
    Array.from({ length: 12 }, (_, i) => writeSnapshot(dir, snap({ a: `${i}` }), { now: T0 })),
  );
  const ids = results.map((r) => r.entry.id);
  assertEquals(new Set(ids).size, 12, "every write got its own id");
  const entries = await listSnapshots(dir);
  assertEquals(entries.length, 12);
  for (const e of entries) await loadSnapshot(e);
  assertEquals(
    await Deno.readTextFile(join(dir, "environment.yml")),
    await Deno.readTextFile(entries[0].yml),
    "environment.yml is the newest snapshot",
  );
});

const CHILD = `
import { writeSnapshot } from ${
  JSON.stringify(new URL("../../../src/snapshot/store.ts", import.meta.url).href)
};
const dir = Deno.args[0];
const many = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => ["pkg-" + i, "1.0." + i]));
for (let i = 0; ; i++) {
  const python = Object.entries({ ...many, counter: String(i) }).map(([name, version]) => ({ name, version }));
  await writeSnapshot(dir, { meta: { name: "demo", runtime: "r", rVersion: "4.2." + i }, state: { python, r: python.slice(0, 500), conda: [] } });
  if (i === 0) console.log("first");
}
`;

Deno.test("SIGKILL mid-write never leaves a half-written snapshot, and the lock does not stay held", async () => {
  const root = await tempDir();
  const dir = join(root, "demo");
  const script = join(root, "child.ts");
  await Deno.writeTextFile(script, CHILD);
  const config = fileURLToPath(new URL("../../../deno.json", import.meta.url));
  for (const delay of [150, 420, 777]) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", config, script, dir],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.getReader();
    await reader.read(); // the first snapshot is on disk
    await new Promise((r) => setTimeout(r, delay));
    child.kill("SIGKILL");
    const status = await child.status;
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
    assertEquals(status.signal, "SIGKILL");
    // the latest files and every timestamped file are complete
    const entries = await listSnapshots(dir);
    assert(entries.length >= 1);
    for (const e of entries) {
      const s = await loadSnapshot(e);
      assertEquals(s.state.python.length, 3001, e.yml);
      assertEquals(s.state.r.length, 500, e.rLock ?? "");
    }
    const latest = await loadSnapshot({
      yml: join(dir, "environment.yml"),
      rLock: join(dir, "renv.lock"),
    });
    assertEquals(latest.state.python.length, 3001);
  }
  // a killed holder's lock is gone: this write proceeds at once and removes its temp files
  const t = performance.now();
  assert((await writeSnapshot(dir, snap({ x: "1" }))).written);
  assert(performance.now() - t < 2000);
  const leftovers = [...Deno.readDirSync(dir)].filter((e) => e.name.includes(".tmp-"));
  assertEquals(leftovers, []);
});

Deno.test("the latest-state record answers only while it describes the latest file", async () => {
  const dir = join(await tempDir(), "demo");
  assertEquals(await readLatestKey(dir), null, "no store yet");
  const a = snap({ numpy: "2.1.0" });
  await writeSnapshot(dir, a, { now: T0 });
  assertEquals(await latestId(dir), "20250301_100000");
  assertEquals(await readLatestKey(dir), stateKey(a));

  // A newer snapshot written without the record (as `venvoy import` does): not trusted.
  const newer = join(dir, "environment_20250301_120000.yml");
  await Deno.copyFile(join(dir, "environment_20250301_100000.yml"), newer);
  assertEquals(await readLatestKey(dir), null);
  await Deno.remove(newer);
  assertEquals(await readLatestKey(dir), stateKey(a));

  // The latest file edited by hand: not trusted.
  const latest = join(dir, "environment_20250301_100000.yml");
  await Deno.writeTextFile(latest, (await Deno.readTextFile(latest)) + "# edited\n");
  assertEquals(await readLatestKey(dir), null);

  // Finding the same state again renews the record; a new state replaces it.
  const again = await writeSnapshot(dir, a, { now: new Date("2025-03-01T11:00:00Z") });
  assertEquals(again.written, false);
  assertEquals(await readLatestKey(dir), stateKey(a));
  const b = snap({ numpy: "2.2.0" });
  await writeSnapshot(dir, b, { now: new Date("2025-03-01T12:00:00Z") });
  assertEquals(await readLatestKey(dir), stateKey(b));
});
