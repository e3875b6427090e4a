import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { statePaths } from "../../../src/env/paths.ts";
import {
  diffByIds,
  diffResultJson,
  findSnapshot,
  historyJson,
  historyOf,
  renderHistory,
  resolveEnvironmentName,
} from "../../../src/snapshot/history.ts";
import { listSnapshots, writeSnapshot } from "../../../src/snapshot/store.ts";
import { UsageError, VenvoyError } from "../../../src/ui/errors.ts";
import { table } from "../../../src/ui/output.ts";
import { snap } from "./helpers.ts";
import { tempDir } from "../../fakes/tmp.ts";

async function home() {
  const root = await tempDir("venvoy-hist-");
  return statePaths((k) =>
    ({ HOME: root, VENVOY_HOME: join(root, ".venvoy"), VENVOY_PROJECTS: join(root, "proj") })[k]
  );
}

async function seeded() {
  const paths = await home();
  const dir = join(paths.projects, "demo");
  await writeSnapshot(dir, snap({ numpy: "1.26.4", six: "1.16.0" }), {
    now: new Date("2025-03-01T10:00:00Z"),
  });
  await writeSnapshot(dir, snap({ numpy: "2.1.0", six: "1.16.0", requests: "2.32.3" }), {
    now: new Date("2025-03-01T11:00:00Z"),
  });
  await writeSnapshot(dir, snap({ numpy: "2.1.0", requests: "2.32.3" }), {
    now: new Date("2025-03-02T09:30:00Z"),
  });
  return { paths, dir };
}

Deno.test("history: newest first, latest marked, counts and changes since the previous", async () => {
  const { paths, dir } = await seeded();
  const { history } = await historyOf(paths, "demo");
  const j = historyJson("demo", dir, history);
  assertEquals(j.snapshots.map((s) => [s.timestamp, s.latest, s.counts?.python]), [
    ["20250302_093000", true, 2],
    ["20250301_110000", false, 3],
    ["20250301_100000", false, 2],
  ]);
  assertEquals(j.snapshots[0].changes?.python.removed, [{ name: "six", version: "1.16.0" }]);
  assertEquals(j.snapshots[1].changes?.python.changed, [
    { name: "numpy", from: "1.26.4", to: "2.1.0" },
  ]);
  assertEquals(j.snapshots[2].changes, null);
  const text = renderHistory("demo", dir, history, table);
  const lines = text.split("\n");
  assert(lines[3].startsWith("* 20250302_093000"), text);
  assert(lines[3].endsWith("-six 1.16.0"), text);
  assert(lines[4].includes("+requests 2.32.3, ~numpy 1.26.4 -> 2.1.0"), text);
  assert(lines[5].endsWith("first snapshot"), text);
  assert(text.includes("--diff 20250301_110000 latest"), text);
});

Deno.test("history keeps going past a corrupt snapshot and names its file and line", async () => {
  const { paths, dir } = await seeded();
  const bad = join(dir, "environment_20250301_110000.yml");
  await Deno.writeTextFile(bad, "name: demo\ndependencies:\n  - numpy>=2\n");
  const { history } = await historyOf(paths, "demo");
  assertEquals(history[1].error, `${bad}:3: dependency 'numpy>=2' is not 'name=version'`);
  assertEquals(history[0].changes?.python.changed, [
    { name: "numpy", from: "1.26.4", to: "2.1.0" },
  ], "the newest is compared with the next readable one");
  assert(renderHistory("demo", dir, history, table).includes("unreadable: " + bad + ":3"));
  await assert.rejects(
    diffByIds(paths, ["20250301_110000", "latest"], { name: "demo" }),
    (e) => e instanceof VenvoyError && e.message.startsWith(bad + ":3:"),
  );
});

Deno.test("--diff between two timestamps or latest; unknown ones list those that exist", async () => {
  const { paths, dir } = await seeded();
  const r = await diffByIds(paths, ["20250301_100000", "latest"], { name: "demo" });
  assertEquals(r.to.id, "20250302_093000");
  assertEquals(diffResultJson(r).lines, [
    "+requests 2.32.3",
    "-six 1.16.0",
    "~numpy 1.26.4 -> 2.1.0",
  ]);
  const entries = await listSnapshots(dir);
  assertEquals(
    findSnapshot(entries, "environment_20250301_110000.yml", { name: "demo" }).id,
    "20250301_110000",
  );
  for (const wrong of ["20240101_000000", "yesterday"]) {
    assert.throws(() => findSnapshot(entries, wrong, { name: "demo" }), (e) => {
      assert(e instanceof UsageError);
      assert(e.message.includes("20250302_093000  (latest)"), e.message);
      assert(e.message.includes("20250301_100000"), e.message);
      return true;
    });
  }
});

Deno.test("the environment name: --name, else the only one, else a list", async () => {
  const paths = await home();
  await assert.rejects(resolveEnvironmentName(paths, undefined), /no environments yet/);
  await assert.rejects(resolveEnvironmentName(paths, "Bad Name"), (e) => e instanceof UsageError);
  await Deno.mkdir(join(paths.environments, "alpha"), { recursive: true });
  assertEquals(await resolveEnvironmentName(paths, undefined), {
    name: "alpha",
    note: "using the only environment, 'alpha'",
  });
  await writeSnapshot(join(paths.projects, "beta"), snap({ a: "1" }));
  await Deno.mkdir(join(paths.projects, "empty-folder"));
  await assert.rejects(resolveEnvironmentName(paths, undefined), (e) => {
    assert(e instanceof UsageError && e.message.includes("There are 2: alpha, beta"), String(e));
    return true;
  });
  assertEquals((await resolveEnvironmentName(paths, "beta")).note, null);
  await assert.rejects(historyOf(paths, "alpha"), /'alpha' has no snapshots yet/);
});

Deno.test("one rule, one message: run's picker and history's say the same", async () => {
  const { chooseEnvName } = await import("../../../src/util/names.ts");
  const { pickEnvName } = await import("../../../src/env/store.ts");
  const paths = await home();
  const messages = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      return [String(e), (e as { hint?: string }).hint];
    }
    throw new Error("expected a refusal");
  };
  const root = join(paths.environments, "..", "..");
  const none = await messages(resolveEnvironmentName(paths, undefined));
  assertEquals(await messages(pickEnvName(paths, {}, () => {})), none);
  assertEquals(await messages(Promise.resolve().then(() => chooseEnvName(undefined, []))), none);
  assertEquals(
    await messages(Promise.resolve().then(() => chooseEnvName(undefined, ["a", "b"]))),
    ["UsageError: which environment? There are 2: a, b", "pass --name, e.g. --name a"],
  );
  await Deno.remove(root, { recursive: true });
});
