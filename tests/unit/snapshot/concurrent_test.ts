/**
 * Eight sessions of one environment writing snapshots at the same moment (a job array
 * without --read-only): separate processes, as in the cluster. The store's flock must
 * leave no torn and no duplicate snapshot, and every snapshot must parse.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { listSnapshots, loadSnapshot } from "../../../src/snapshot/store.ts";
import { stateKey } from "../../../src/snapshot/model.ts";
import { snap } from "./helpers.ts";
import { tempDir } from "../../fakes/tmp.ts";

const STORE = new URL("../../../src/snapshot/store.ts", import.meta.url).href;
const HELPERS = new URL("./helpers.ts", import.meta.url).href;
const CONFIG = new URL("../../../deno.json", import.meta.url).pathname;

/** Eight processes, each writing one snapshot with `pkgs(i)` into `dir`, released at once. */
async function eightWriters(dir: string, pkgs: string): Promise<void> {
  const go = join(dir, "..", "go");
  const code = `
    import { writeSnapshot } from ${JSON.stringify(STORE)};
    import { snap } from ${JSON.stringify(HELPERS)};
    const i = Number(Deno.args[0]);
    while (true) { try { Deno.statSync(${
    JSON.stringify(go)
  }); break; } catch { await new Promise((r) => setTimeout(r, 5)); } }
    await writeSnapshot(${JSON.stringify(dir)}, snap(${pkgs}));
  `;
  const script = join(dir, "..", "writer.ts");
  await Deno.writeTextFile(script, code);
  const children = Array.from({ length: 8 }, (_, i) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", CONFIG, script, String(i)],
      stdout: "null",
      stderr: "piped",
    }).spawn());
  await new Promise((r) => setTimeout(r, 1500)); // all started and waiting
  await Deno.writeTextFile(go, "");
  for (const c of children) {
    const out = await c.output();
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  }
  await Deno.remove(go);
}

Deno.test("8 processes, same state at once: exactly one snapshot, and it parses", async () => {
  const dir = join(await tempDir("venvoy concurrent "), "demo");
  await eightWriters(dir, `{ numpy: "2.1.0" }`);
  const list = await listSnapshots(dir);
  assertEquals(list.length, 1);
  assertEquals((await loadSnapshot(list[0])).state.python, [{ name: "numpy", version: "2.1.0" }]);
});

Deno.test("8 processes, 8 states at once: 8 snapshots, distinct ids, none torn", async () => {
  const dir = join(await tempDir("venvoy concurrent "), "demo");
  await eightWriters(dir, "{ [`pkg${i}`]: `1.${i}` }");
  const list = await listSnapshots(dir);
  assertEquals(list.length, 8);
  assertEquals(new Set(list.map((e) => e.id)).size, 8);
  const keys = new Set<string>();
  for (const e of list) keys.add(stateKey(await loadSnapshot(e)));
  const expected = new Set(
    Array.from({ length: 8 }, (_, i) => stateKey(snap({ [`pkg${i}`]: `1.${i}` }))),
  );
  assertEquals(keys, expected);
  // The latest copy is the newest snapshot, whole; no temporary file is left behind.
  const latest = await Deno.readTextFile(join(dir, "environment.yml"));
  assertEquals(latest, await Deno.readTextFile(list[0].yml));
  const left = [...Deno.readDirSync(dir)].filter((f) => f.name.includes(".tmp-"));
  assert.deepEqual(left, []);
});
