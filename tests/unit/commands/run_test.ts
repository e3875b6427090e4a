import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { RecordingRunner } from "../../fakes/runner.ts";
import { type EnvConfig, writeConfig } from "../../../src/env/config.ts";
import { statePaths } from "../../../src/env/paths.ts";
import { runEnv } from "../../../src/session/run.ts";
import { CommandExit } from "../../../src/ui/errors.ts";
import { writeGlobalConfig } from "../../../src/env/global.ts";
import { attachUri } from "../../../src/session/editor.ts";
import { tempDir } from "../../fakes/tmp.ts";
import { envConfig } from "../../fakes/env_config.ts";

// Rootful podman runs as the host uid:gid; rootless maps the user with keep-id.
const userFlags = Deno.uid() === 0 ? ["--user", "1000:100"] : ["--userns=keep-id"];

async function setup(engine = "podman", names = ["study"]) {
  const root = await tempDir("venvoy run ");
  const paths = statePaths((n) =>
    ({ HOME: join(root, "home"), VENVOY_HOME: join(root, "state") } as Record<string, string>)[n]
  );
  for (const name of names) {
    const dir = join(paths.environments, name);
    await Deno.mkdir(join(dir, "persist"), { recursive: true });
    const cfg: EnvConfig = envConfig({
      name,
      engine,
      image: engine === "apptainer" ? join(dir, "image.sif") : `localhost/venvoy/${name}:latest`,
    });
    await writeConfig(dir, cfg);
    if (engine === "apptainer") await Deno.writeTextFile(join(dir, "image.sif"), "");
  }
  const cwd = join(root, "my project");
  await Deno.mkdir(cwd);
  const notes: string[] = [];
  const runner = new RecordingRunner({
    paths: { podman: "/usr/bin/podman", apptainer: "/usr/bin/apptainer" },
  });
  // The session itself; each test asserts its exact argv.
  runner.on(["/usr/bin/podman", "run"], {});
  runner.on(["/usr/bin/apptainer", "exec"], {});
  const ctx = {
    runner,
    paths,
    engine: null,
    cwd,
    note: (m: string) => notes.push(m),
    terminal: { stdin: false, stdout: false },
    stdinData: false,
    user: { uid: 1000, gid: 100 },
  };
  return { root, paths, cwd, notes, runner, ctx };
}

Deno.test("run --command: exact podman argv, the only environment picked and said so", async () => {
  const { ctx, runner, notes, cwd, paths } = await setup();
  await runEnv(ctx, { command: "a && b", env: ["K=v"] });
  assertEquals(notes, ["using the only environment, 'study'"]);
  const argv = runner.argvs[0];
  const name = argv[argv.indexOf("--name") + 1];
  assert.match(name, /^venvoy-study-[0-9a-f]{8}$/);
  const persist = join(paths.environments, "study", "persist");
  assertEquals(
    argv,
    [
      "/usr/bin/podman",
      "run",
      "--rm",
      ...userFlags,
      "--name",
      name,
      "--label",
      "org.venvoy.env=study",
      "--label",
      "org.venvoy.managed=true",
      "--mount",
      `type=bind,source=${cwd},target=/workspace`,
      "--mount",
      `type=bind,source=${persist},target=/opt/venvoy/persist`,
      "--mount",
      `type=bind,source=${paths.home},target=${paths.home}`,
      "-e",
      `HOME=${paths.home}`,
      "-e",
      "K=v",
      "-e",
      "PIP_CACHE_DIR=/opt/venvoy/persist/cache/pip",
      "-e",
      "PYTHONNOUSERSITE=1",
      "-e",
      "R_USER_CACHE_DIR=/opt/venvoy/persist/cache/R",
      "-e",
      "UV_CACHE_DIR=/opt/venvoy/persist/cache/uv",
      "-e",
      "VENVOY_ENV=study",
      "-w",
      "/workspace",
      "localhost/venvoy/study:latest",
      "/opt/venvoy/bin/venvoy-entry",
      "sh",
      "-c",
      "a && b",
    ].filter((x) => x !== "--user" || true),
  );
  assertEquals(runner.calls[0].stdin, "null", "no terminal, no stdin data: nothing attached");
});

Deno.test("run: the command's exit code becomes CommandExit; -t only on a terminal", async () => {
  const { ctx, runner } = await setup();
  runner.on(["/usr/bin/podman", "run"], { code: 7 });
  await assert.rejects(runEnv(ctx, { name: "study", command: "exit 7" }), (e: unknown) => {
    assert.ok(e instanceof CommandExit);
    assertEquals(e.exitCode, 7);
    return true;
  });
  assert.ok(!runner.argvs[0].includes("-t"));
  runner.on(["/usr/bin/podman", "run"], { code: 0 });
  await runEnv({ ...ctx, terminal: { stdin: true, stdout: true } }, {
    name: "study",
    command: "true",
  });
  const last = runner.argvs.at(-1)!;
  assert.ok(last.includes("-t") && last.includes("-i"));
});

Deno.test("run --no-home: no home mount, HOME inside persist/", async () => {
  const { ctx, runner, paths } = await setup();
  await runEnv(ctx, { name: "study", command: "true", home: false });
  const argv = runner.argvs[0];
  assert.ok(!argv.some((a) => a.includes(`target=${paths.home}`)));
  assert.ok(argv.includes("HOME=/opt/venvoy/persist/home"));
});

Deno.test("run on apptainer: exec on the SIF with binds, --no-home honoured", async () => {
  const { ctx, runner, paths } = await setup("apptainer");
  await runEnv(ctx, { name: "study", command: "true", home: false });
  const argv = runner.argvs[0];
  assertEquals(argv.slice(0, 4), ["/usr/bin/apptainer", "exec", "--cleanenv", "--no-home"]);
  assert.ok(argv.includes(join(paths.environments, "study", "image.sif")));
  assert.ok(argv.some((a) => a.endsWith("destination=/opt/venvoy/persist")));
});

Deno.test("run: no name and several environments lists them; unknown names say so", async () => {
  const { ctx } = await setup("podman", ["a", "b"]);
  await assert.rejects(runEnv(ctx, { command: "true" }), /which environment\? There are 2: a, b/);
  await assert.rejects(runEnv(ctx, { name: "c", command: "true" }), /unknown environment 'c'/);
  await assert.rejects(
    runEnv(ctx, { name: "Bad Name", command: "true" }),
    /invalid environment name/,
  );
});

Deno.test("run without --command opens the configured editor through the attach URI", async () => {
  const { ctx, runner, paths, cwd } = await setup();
  await writeGlobalConfig(paths, { editor: "cursor" });
  const withEditor = new RecordingRunner({
    paths: { podman: "/usr/bin/podman", cursor: "/opt/stub/cursor" },
  });
  withEditor.on(["/opt/stub/cursor", "--folder-uri"], {});
  await runEnv({ ...ctx, runner: withEditor }, { name: "study" });
  const file = join(paths.environments, "study", ".devcontainer", "devcontainer.json");
  assertEquals(withEditor.argvs, [["/opt/stub/cursor", "--folder-uri", attachUri(cwd, file)]]);
  const dc = JSON.parse(await Deno.readTextFile(file));
  assertEquals(dc.image, "localhost/venvoy/study:latest");
  assertEquals(dc.workspaceFolder, "/workspace");
  // Missing editor: a shell instead.
  await runEnv(ctx, { name: "study" });
  assertEquals(runner.argvs[0].slice(-2), ["/opt/venvoy/bin/venvoy-entry", "--shell"]);
});
