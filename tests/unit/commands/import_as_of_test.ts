import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { importEnv } from "../../../src/archive/import_env.ts";
import { statePaths } from "../../../src/env/paths.ts";
import { type EnvConfig, writeConfig } from "../../../src/env/config.ts";
import type { InitContext, InitOptions } from "../../../src/env/init.ts";
import { RecordingRunner } from "../../fakes/runner.ts";
import { tempDir } from "../../fakes/tmp.ts";
import { envConfig } from "../../fakes/env_config.ts";

Deno.test("import of an environment.yml with x-venvoy.as_of rebuilds as of that date", async () => {
  const root = await tempDir("venvoy-import-asof-");
  try {
    const paths = statePaths((k) =>
      ({
        HOME: join(root, "home"),
        VENVOY_HOME: join(root, "vh"),
        VENVOY_PROJECTS: join(root, "vp"),
      })[
        k
      ]
    );
    const yml = join(root, "environment.yml");
    await Deno.writeTextFile(
      yml,
      [
        "name: paper",
        "channels: [conda-forge]",
        "dependencies:",
        "  - python=3.11",
        "  - pip",
        "  - pip:",
        "      - six==1.13.0",
        "x-venvoy:",
        '  format: "1"',
        "  runtime: python",
        "  python_version: '3.11'",
        "  base_image: localhost/venvoy-lab/python:3.11",
        "  as_of: 2020-01-01",
        "",
      ].join("\n"),
    );
    const calls: InitOptions[] = [];
    const initEnv = async (_ctx: InitContext, opts: InitOptions) => {
      calls.push(opts);
      const dir = join(paths.environments, opts.name!);
      const config: EnvConfig = envConfig({
        name: opts.name!,
        base_image: opts.baseImage!,
        base_image_pinned: "sha256:" + "e".repeat(64),
        image_id: "sha256:" + "c".repeat(64),
        packages: ["six==1.13.0"],
        venvoy_version: "9.9.9",
        ...(opts.asOf ? { as_of: opts.asOf } : {}),
      });
      await writeConfig(dir, config);
      await Deno.writeTextFile(
        join(dir, "base-packages.json"),
        JSON.stringify({ python: [{ name: "six", version: "1.13.0" }], r: [], conda: [], os: [] }),
      );
      return { dir, config, unchanged: false };
    };
    const res = await importEnv(
      { runner: new RecordingRunner(), engine: null, paths },
      yml,
      { name: "copy" },
      {
        archiveOnly: false,
        note: () => {},
        warn: () => {},
        venvoyVersion: "9.9.9",
        progress: "quiet",
        initEnv,
      },
    );
    assertEquals(calls.length, 1);
    assertEquals(calls[0].asOf, "2020-01-01");
    assertEquals(res.unmet, []);
    const snap = await Deno.readTextFile(join(paths.projects, "copy", "environment.yml"));
    assert(/as_of: "?2020-01-01"?/.test(snap), snap);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
