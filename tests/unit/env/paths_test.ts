import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { realPathOf, statePaths } from "../../../src/env/paths.ts";
import { envDir, listEnvNames } from "../../../src/env/store.ts";
import { VenvoyError } from "../../../src/ui/errors.ts";
import { tempDir } from "../../fakes/tmp.ts";

const env = (vars: Record<string, string>) => (n: string) => vars[n];

Deno.test("state roots default under HOME", () => {
  const p = statePaths(env({ HOME: "/home/ann" }));
  assertEquals([p.venvoyHome, p.projects, p.environments, p.globalConfig], [
    "/home/ann/.venvoy",
    "/home/ann/venvoy-projects",
    "/home/ann/.venvoy/environments",
    "/home/ann/.venvoy/config.yaml",
  ]);
});

Deno.test("VENVOY_HOME and VENVOY_PROJECTS move all state; then HOME is not needed", () => {
  const p = statePaths(env({ VENVOY_HOME: "/scratch/v", VENVOY_PROJECTS: "/scratch/p" }));
  assertEquals([p.venvoyHome, p.projects], ["/scratch/v", "/scratch/p"]);
});

Deno.test("no HOME and no state variables: a typed error with a hint", () => {
  assert.throws(
    () => statePaths(env({})),
    (e) => e instanceof VenvoyError && /HOME/.test(e.message) && /VENVOY_HOME/.test(e.hint ?? ""),
  );
});

Deno.test("VENVOY_HOME reached through a link: state roots are the real folders", async () => {
  const root = await Deno.realPath(await tempDir("venvoy-paths-"));
  try {
    await Deno.mkdir(`${root}/gpfs/u/.venvoy/environments/demo`, { recursive: true });
    await Deno.writeTextFile(
      `${root}/gpfs/u/.venvoy/environments/demo/config.yaml`,
      "name: demo\n",
    );
    await Deno.symlink(`${root}/gpfs/u`, `${root}/u`);
    await Deno.symlink(`${root}/gpfs/u/.venvoy`, `${root}/vh`);
    // A home that is a link, and VENVOY_HOME a link itself; projects not created yet.
    const cases: Record<string, string>[] = [
      { HOME: `${root}/u` },
      { HOME: "/nonexistent", VENVOY_HOME: `${root}/vh` },
    ];
    for (const vars of cases) {
      const p = statePaths(env(vars));
      assertEquals(p.venvoyHome, `${root}/gpfs/u/.venvoy`);
      assertEquals(p.environments, `${root}/gpfs/u/.venvoy/environments`);
      assertEquals(await listEnvNames(p), ["demo"]);
      assertEquals(envDir(p, "demo"), `${root}/gpfs/u/.venvoy/environments/demo`);
    }
    assertEquals(statePaths(env({ HOME: `${root}/u` })).projects, `${root}/gpfs/u/venvoy-projects`);
    // A link that dangles: the path as given.
    await Deno.symlink(`${root}/gone`, `${root}/dangling`);
    assertEquals(realPathOf(`${root}/dangling/x`), `${root}/dangling/x`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
