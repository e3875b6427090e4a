/**
 * Issue #11 item 3 through the bundled product: a base image carrying a newline and an
 * Apptainer `%setup` section (which would run on the host during the build), given to
 * `init --base-image` or in an imported environment.yml, is refused with exit 2 before
 * anything is written or built, and the command in it never runs.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { venvoy } from "./cli.ts";
import { ignoreUnless } from "./lab.ts";
import { environmentYmlWithBase } from "../fakes/environment_yml.ts";

const noApptainer = ignoreUnless("apptainer");

Deno.test({
  name: "apptainer: a %setup smuggled in through the base image is refused, and never runs",
  ignore: noApptainer,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "venvoy-it-inject-" });
    const pwned = join(root, "pwned");
    const base = `python:3.11-slim\n\n%setup\n    touch ${pwned}\n`;
    const env = {
      HOME: join(root, "home"),
      VENVOY_HOME: join(root, "vh"),
      VENVOY_PROJECTS: join(root, "vp"),
    };
    try {
      const init = await venvoy(
        ["--engine", "apptainer", "init", "--name", "inject", "--base-image", base],
        { env, cwd: root },
      );
      assertEquals(init.code, 2, init.stderr);
      assert(init.stderr.includes("invalid --base-image"), init.stderr);

      const yml = join(root, "environment.yml");
      await Deno.writeTextFile(yml, environmentYmlWithBase("inject", base));
      const imp = await venvoy(["--engine", "apptainer", "import", yml], { env, cwd: root });
      assertEquals(imp.code, 2, imp.stderr);
      assert(imp.stderr.includes("invalid x-venvoy.base_image"), imp.stderr);

      assertEquals(await Deno.stat(pwned).catch(() => null), null, "%setup never ran");
      assertEquals(await Deno.stat(env.VENVOY_HOME).catch(() => null), null, "nothing written");
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
