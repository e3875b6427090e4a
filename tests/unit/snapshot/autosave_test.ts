import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { startAutoSave, watchTargets } from "../../../src/snapshot/autosave.ts";
import { listSnapshots, loadSnapshot } from "../../../src/snapshot/store.ts";
import { tempDir } from "../../fakes/tmp.ts";
import { shortSessionAutoSave } from "./helpers.ts";

const SITE = "persist/python/lib/python3.11/site-packages";

async function until<T>(what: string, fn: () => Promise<T | null>, ms = 6000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v !== null) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

async function setup() {
  const root = await tempDir("venvoy-autosave-");
  const envDir = join(root, "env", "demo");
  const projectDir = join(root, "proj", "demo");
  await Deno.mkdir(join(envDir, "persist"), { recursive: true });
  await Deno.writeTextFile(
    join(envDir, "base-packages.json"),
    JSON.stringify({ python: [{ name: "pip", version: "23.0.1" }], r: [], conda: [] }),
  );
  return { envDir, projectDir };
}

/** The python package names of the newest snapshot, once it satisfies `ok`. */
function newest(projectDir: string, ok: (names: string[]) => boolean) {
  return async () => {
    const [e] = await listSnapshots(projectDir);
    if (!e) return null;
    const names = (await loadSnapshot(e)).state.python.map((p) => `${p.name}==${p.version}`);
    return ok(names) ? names : null;
  };
}

Deno.test("auto-save: installs and removals in persist/ become snapshots within seconds", async () => {
  const { envDir, projectDir } = await setup();
  const written: string[] = [];
  const errors: unknown[] = [];
  const saver = startAutoSave({
    envDir,
    projectDir,
    name: "demo",
    meta: { runtime: "python", pythonVersion: "3.11", engine: "podman" },
    debounceMs: 300,
    onSnapshot: (r) => written.push(r.entry.id),
    onError: (e) => errors.push(e),
  });
  try {
    // the starting state is saved
    await until("the first snapshot", newest(projectDir, (n) => n.join() === "pip==23.0.1"));
    // site-packages does not exist yet: the watch set grows as pip creates it
    const t0 = Date.now();
    await Deno.mkdir(join(envDir, SITE, "requests-2.32.3.dist-info"), { recursive: true });
    await Deno.writeTextFile(join(envDir, SITE, "requests-2.32.3.dist-info", "RECORD"), "");
    await until(
      "requests in a snapshot",
      newest(projectDir, (n) => n.includes("requests==2.32.3")),
    );
    const latency = Date.now() - t0;
    assert(latency < 4000, `saved after ${latency} ms`);
    assert(saver.watched().includes(join(envDir, SITE)), saver.watched().join("\n"));
    // an upgrade and a removal, now seen through the site-packages watch
    await Deno.mkdir(join(envDir, SITE, "numpy-2.1.0.dist-info"));
    await until("numpy", newest(projectDir, (n) => n.includes("numpy==2.1.0")));
    await Deno.rename(
      join(envDir, SITE, "numpy-2.1.0.dist-info"),
      join(envDir, SITE, "numpy-2.2.0.dist-info"),
    );
    await until("numpy upgrade", newest(projectDir, (n) => n.includes("numpy==2.2.0")));
    await Deno.remove(join(envDir, SITE, "requests-2.32.3.dist-info"), { recursive: true });
    await until(
      "requests removed",
      newest(projectDir, (n) => !n.some((x) => x.startsWith("requests"))),
    );
    // cache churn is not a change
    await Deno.mkdir(join(envDir, "persist/cache/pip/http"), { recursive: true });
    const before = (await listSnapshots(projectDir)).length;
    await new Promise((r) => setTimeout(r, 700));
    assertEquals((await listSnapshots(projectDir)).length, before, "no duplicate snapshot");
    // an R install
    await Deno.mkdir(join(envDir, "persist/R/library/cli"), { recursive: true });
    await Deno.writeTextFile(
      join(envDir, "persist/R/library/cli/DESCRIPTION"),
      "Package: cli\nVersion: 3.6.3\nRepository: CRAN\n",
    );
    const rSnap = await until("cli in renv lock", async () => {
      const [e] = await listSnapshots(projectDir);
      return e?.rLock && (await loadSnapshot(e)).state.r.length === 1 ? e : null;
    });
    assertEquals((await loadSnapshot(rSnap)).state.r[0].name, "cli");
  } finally {
    await saver.stop();
  }
  assertEquals(errors, []);
  assertEquals(new Set(written).size, written.length);
  assert(written.length >= 6, `snapshots: ${written.join(", ")}`);
});

Deno.test("auto-save: stop() writes a final snapshot of a change not yet saved, and only then", async () => {
  const { envDir, projectDir } = await setup();
  const saver = startAutoSave({
    envDir,
    projectDir,
    name: "demo",
    meta: { runtime: "python" },
    debounceMs: 5000,
    safetyIntervalMs: 0,
  });
  await until("the first snapshot", newest(projectDir, () => true));
  await Deno.mkdir(join(envDir, SITE, "rich-13.7.1.dist-info"), { recursive: true });
  await saver.stop(); // well before the 5 s debounce
  const names = await newest(projectDir, () => true)();
  assertEquals(names, ["pip==23.0.1", "rich==13.7.1"]);
  const n = (await listSnapshots(projectDir)).length;
  await saver.stop();
  assertEquals((await listSnapshots(projectDir)).length, n);
});

Deno.test("watch targets stay few however many packages are installed", async () => {
  const { envDir } = await setup();
  for (let i = 0; i < 200; i++) {
    await Deno.mkdir(join(envDir, SITE, `pkg${i}`, "sub", "deeper"), { recursive: true });
  }
  const t = await watchTargets(envDir);
  assertEquals(t.length, 6, t.join("\n"));
  assert(t.includes(join(envDir, SITE)));
});

Deno.test("auto-save: a session shorter than the start delay never watches, and stop() still saves its change", async () => {
  const { envDir, projectDir } = await setup();
  const saver = shortSessionAutoSave(envDir, projectDir);
  await Deno.mkdir(join(envDir, SITE, "rich-13.7.1.dist-info"), { recursive: true });
  await new Promise((r) => setTimeout(r, 200));
  assertEquals(saver.watched(), [], "no watch before the start delay");
  assertEquals(await listSnapshots(projectDir), [], "no look before the start delay");
  await saver.stop();
  assertEquals(await newest(projectDir, () => true)(), ["pip==23.0.1", "rich==13.7.1"]);
});

Deno.test("auto-save: with the store's record, a session that changed nothing writes nothing", async () => {
  const { envDir, projectDir } = await setup();
  await shortSessionAutoSave(envDir, projectDir).stop();
  const before = await listSnapshots(projectDir);
  assertEquals(before.length, 1);
  await shortSessionAutoSave(envDir, projectDir).stop();
  assertEquals(await listSnapshots(projectDir), before);
});
