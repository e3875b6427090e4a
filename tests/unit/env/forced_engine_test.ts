/**
 * A forced engine (VENVOY_ENGINE or --engine) costs nothing at `run`: no runtime is probed,
 * only the forced engine's own program is looked up on PATH, and the one process spawned
 * is that engine running the container.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { RecordingRunner } from "../../fakes/runner.ts";
import { type EnvConfig, writeConfig } from "../../../src/env/config.ts";
import { statePaths } from "../../../src/env/paths.ts";
import { runEnv } from "../../../src/session/run.ts";
import { envConfig } from "../../fakes/env_config.ts";

/** Records the PATH lookups too. */
class LookupRecorder extends RecordingRunner {
  readonly looked: string[] = [];
  override which(program: string): string | null {
    this.looked.push(program);
    return super.which(program);
  }
}

const ALL = {
  docker: "/usr/bin/docker",
  podman: "/usr/bin/podman",
  apptainer: "/usr/bin/apptainer",
  singularity: "/usr/bin/singularity",
};

async function setup(root: string, env: Record<string, string>) {
  const paths = statePaths((n) =>
    ({ HOME: join(root, "home"), VENVOY_HOME: join(root, "state") } as Record<string, string>)[n]
  );
  const dir = join(paths.environments, "study");
  await Deno.mkdir(join(dir, "persist"), { recursive: true });
  // Built with docker: forcing podman must override what config.yaml records.
  const cfg: EnvConfig = envConfig({ name: "study", engine: "docker" });
  await writeConfig(dir, cfg);
  const cwd = join(root, "work");
  await Deno.mkdir(cwd);
  const runner = new LookupRecorder({ paths: ALL, env });
  // The one command this test expects; anything else fails it (the strict fake).
  runner.on(["/usr/bin/podman", "run", "--rm"], {});
  return {
    runner,
    ctx: {
      runner,
      paths,
      engine: null as string | null,
      cwd,
      note: () => {},
      terminal: { stdin: false, stdout: false },
      stdinData: false,
      user: { uid: 1000, gid: 100 },
    },
  };
}

for (
  const [how, env, engine] of [
    ["VENVOY_ENGINE=podman", { VENVOY_ENGINE: "podman" }, null],
    ["--engine podman", {}, "podman"],
  ] as const
) {
  Deno.test(`run with ${how}: spawns only podman run, looks up only podman`, async () => {
    const root = await Deno.makeTempDir({ prefix: "venvoy-forced-" });
    try {
      const { runner, ctx } = await setup(root, env);
      await runEnv({ ...ctx, engine }, { name: "study", command: "true" });
      assertEquals(runner.argvs.length, 1, runner.argvs.map((a) => a.join(" ")).join("\n"));
      assertEquals(runner.argvs[0].slice(0, 3), ["/usr/bin/podman", "run", "--rm"]);
      assert(runner.looked.length > 0, "the forced program is looked up");
      assertEquals([...new Set(runner.looked)], ["podman"]);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });
}
