/**
 * `venvoy history` through the bundled product, on snapshots the auto-save engine wrote from
 * a real persist/ folder (no container needed: the state is read on the host).
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { captureSnapshot } from "../../src/snapshot/autosave.ts";
import { demoHome, venvoy } from "./cli.ts";

Deno.test("history lists auto-saved snapshots, diffs them, and lists ids on a bad one", async () => {
  const { root, env, envDir, projectDir, site } = await demoHome("venvoy-snaphist-");
  await Deno.writeTextFile(
    join(envDir, "base-packages.json"),
    JSON.stringify({ python: [{ name: "pip", version: "23.0.1" }], r: [], conda: [], os: [] }),
  );
  const cap = () =>
    captureSnapshot({
      envDir,
      projectDir,
      name: "demo",
      meta: { runtime: "python", pythonVersion: "3.11" },
    });
  const first = await cap();
  await Deno.mkdir(join(site, "requests-2.32.3.dist-info"));
  const second = await cap();
  await Deno.remove(join(site, "requests-2.32.3.dist-info"));
  const third = await cap();
  assert(first.written && second.written && third.written);

  const list = await venvoy(["history", "--json"], { env });
  assertEquals(list.code, 0, list.stderr);
  assert(list.stderr.includes("using the only environment, 'demo'"), list.stderr);
  const j = JSON.parse(list.stdout);
  assertEquals(j.snapshots.map((s: { timestamp: string }) => s.timestamp), [
    third.entry.id,
    second.entry.id,
    first.entry.id,
  ]);
  assertEquals(j.snapshots[0].changes.python.removed, [{ name: "requests", version: "2.32.3" }]);

  const text = await venvoy(["history", "--name", "demo"], { env });
  assertEquals(text.code, 0, text.stderr);
  assert(text.stdout.includes(`* ${third.entry.id}`), text.stdout);
  assert(text.stdout.includes("+requests 2.32.3"), text.stdout);

  const diff = await venvoy(["history", "--diff", first.entry.id, "latest"], { env });
  assertEquals(diff.code, 0, diff.stderr);
  assert(diff.stdout.includes("Python: no changes"), diff.stdout);
  const diff2 = await venvoy(["history", "--diff", first.entry.id, second.entry.id], { env });
  assert(diff2.stdout.includes("  + requests 2.32.3"), diff2.stdout);

  const bad = await venvoy(["history", "--diff", "20000101_000000", "latest"], { env });
  assertEquals(bad.code, 2);
  assert(bad.stderr.includes("no snapshot 20000101_000000"), bad.stderr);
  assert(bad.stderr.includes(`${third.entry.id}  (latest)`), bad.stderr);

  await Deno.writeTextFile(second.entry.yml, "name: demo\ndependencies:\n  - pip:\n    - x>1\n");
  const corrupt = await venvoy(["history", "--diff", second.entry.id, "latest"], { env });
  assertEquals(corrupt.code, 1);
  assert(corrupt.stderr.includes(`${second.entry.yml}:4: pip entry 'x>1'`), corrupt.stderr);
  await Deno.remove(root, { recursive: true });
});
