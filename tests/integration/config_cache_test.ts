/**
 * dist/venvoy holds two copies of env/config.ts (run's fast path is bundled whole), and both
 * must read and keep the same parsed-config cache: otherwise every `venvoy run` after any
 * other command parses config.yaml again (loading the YAML library), and rewrites the cache.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { CONFIG_CACHE, type EnvConfig, writeConfig } from "../../src/env/config.ts";
import { demoHome, venvoy } from "./cli.ts";
import { envConfig } from "../fakes/env_config.ts";

Deno.test("dist/venvoy: run and the other commands share the parsed-config cache", async () => {
  const home = await demoHome("venvoy-it-cache-");
  const { root, envDir } = home;
  try {
    // No engine at all: run reads the environment, then stops (exit 3) before any container.
    const env = { ...home.env, PATH: join(root, "empty-bin") };
    await Deno.mkdir(env.PATH);
    const config: EnvConfig = envConfig();
    await writeConfig(envDir, config);
    await Deno.remove(join(envDir, CONFIG_CACHE)); // made by the source tree's copy
    const cache = () => Deno.readTextFile(join(envDir, CONFIG_CACHE));

    const list = await venvoy(["list", "--json"], { env });
    assertEquals(list.code, 0, list.stderr);
    const written = await cache();

    const run = await venvoy(["run", "--name", "demo", "--command", "true"], { env });
    assertEquals(run.code, 3, run.stderr); // podman is not installed here
    assertEquals(await cache(), written, "run used the cache list wrote, and kept it");

    await Deno.remove(join(envDir, CONFIG_CACHE));
    await venvoy(["run", "--name", "demo", "--command", "true"], { env });
    const byRun = await cache();
    assertEquals((await venvoy(["list", "--json"], { env })).code, 0);
    assertEquals(await cache(), byRun, "and the other way round");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
