/**
 * Issue #11 item 3: values that reach a Dockerfile, an Apptainer definition or a RUN line
 * are checked against their grammar. Each test performs the injection and asserts the
 * refusal (a UsageError, exit 2) and that no rendered text carries the injected line.
 */
import assert, { deepStrictEqual as assertEquals, rejects, throws } from "node:assert/strict";
import { join } from "node:path";
import { type BuildSpec, definition, dockerfile } from "../../../src/recipe/mod.ts";
import { standaloneDockerfile, type StandaloneSpec } from "../../../src/recipe/standalone.ts";
import { initEnv } from "../../../src/env/init.ts";
import { parseEnvironmentYml } from "../../../src/snapshot/environment_yml.ts";
import { distInfoName, readPackageState } from "../../../src/snapshot/state.ts";
import { UsageError } from "../../../src/ui/errors.ts";
import { RecordingRunner } from "../../fakes/runner.ts";
import { tempDir } from "../../fakes/tmp.ts";
import { standaloneSpec } from "../../fakes/standalone_spec.ts";
import { environmentYmlWithBase } from "../../fakes/environment_yml.ts";

const SETUP = "python:3.11-slim\n\n%setup\n    touch /tmp/venvoy-pwned-by-setup\n";

function isUsage(e: unknown): boolean {
  return e instanceof UsageError && e.exitCode === 2;
}

const spec: BuildSpec = {
  name: "study",
  kind: "python",
  version: "3.11",
  from: "python:3.11-slim",
  bootstrap: "docker",
  venvoyVersion: "0.1.0",
  labels: { "org.venvoy.managed": "true", "org.venvoy.env": "study" },
};

Deno.test("init --base-image with a newline and %setup is refused before anything is written", async () => {
  const root = await tempDir("venvoy-inject-");
  try {
    const runner = new RecordingRunner();
    const paths = {
      home: root,
      venvoyHome: join(root, "home"),
      projects: join(root, "projects"),
      environments: join(root, "home", "environments"),
      globalConfig: join(root, "home", "config.yaml"),
    };
    await rejects(
      initEnv(
        { runner, paths, engine: "apptainer", venvoyVersion: "0.1.0", note: () => {} },
        { name: "inject", baseImage: SETUP },
      ),
      (e) => isUsage(e) && /invalid --base-image .*line break/.test((e as Error).message),
    );
    assertEquals(runner.argvs, [], "no engine was asked anything");
    assertEquals(await Deno.stat(paths.environments).catch(() => null), null);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a definition or Dockerfile is never rendered with a newline in FROM", () => {
  for (const from of [SETUP, "python:3.11-slim\r%post", "python:3.11 slim", "a/../b.sif"]) {
    throws(() => definition({ ...spec, from }), isUsage, JSON.stringify(from));
    throws(() => dockerfile({ ...spec, from }), isUsage, JSON.stringify(from));
  }
  // A label, a name or a version is refused the same way.
  throws(() => definition({ ...spec, labels: { "org.venvoy.env": "x\n%setup\n id" } }), isUsage);
  throws(() => definition({ ...spec, version: "3.11\n%setup" }), isUsage);
  throws(() => definition({ ...spec, venvoyVersion: "0.1\n%setup" }), isUsage);
  throws(() => dockerfile({ ...spec, name: "x\nRUN id" }), isUsage);
  // What is legitimate still renders.
  const def = definition({ ...spec, from: "/data/images/base-1.0.sif", bootstrap: "localimage" });
  assert(def.includes("From: /data/images/base-1.0.sif\n"));
  assert(!/^%setup/m.test(def));
});

Deno.test("environment.yml: a crafted x-venvoy.base_image is refused when the file is read", () => {
  const yml = (base: string) => environmentYmlWithBase("demo", base);
  // The plain reference is read as it was written.
  assertEquals(
    parseEnvironmentYml(yml("python:3.11-slim"), "e.yml").meta.baseImage,
    "python:3.11-slim",
  );
  throws(
    () => parseEnvironmentYml(yml(SETUP), "/in/environment.yml"),
    (e) =>
      isUsage(e) &&
      /^\/in\/environment\.yml:7: invalid x-venvoy\.base_image/.test((e as Error).message),
  );
  for (const bad of ["$(id)", "python:3.11;id", "Python:3.11"]) {
    throws(() => parseEnvironmentYml(yml(bad), "e.yml"), isUsage, bad);
  }
  // The pin, versions and pip entries are checked too.
  const pinned = yml("python:3.11-slim").replace(
    "  runtime: python",
    '  runtime: python\n  base_image_pinned: "x@sha256:1\\n%setup"',
  );
  throws(() => parseEnvironmentYml(pinned, "e.yml"), isUsage);
  const pip = "name: d\ndependencies:\n  - pip:\n    - numpy==$(id)\n";
  throws(() => parseEnvironmentYml(pip, "e.yml"), isUsage);
});

const standalone: StandaloneSpec = standaloneSpec({
  name: "study",
  basePinned: "docker.io/library/python@sha256:" + "ab".repeat(32),
  python: [{ name: "numpy", version: "2.1.0" }],
});

Deno.test("a dist-info folder named $(…) is no package, and the standalone Dockerfile refuses it", async () => {
  assertEquals(distInfoName("$(touch /tmp/pwned)-1.0.dist-info"), null);
  assertEquals(distInfoName("numpy-2.1.0.dist-info"), { name: "numpy", version: "2.1.0" });
  const env = await tempDir("venvoy-inject-");
  try {
    const site = join(env, "persist", "python", "lib", "python3.11", "site-packages");
    await Deno.mkdir(join(site, "$(touch pwned)-1.0.dist-info"), { recursive: true });
    await Deno.mkdir(join(site, "requests-2.32.3.dist-info"));
    // A folder name that does not parse falls back to METADATA: checked the same way.
    await Deno.mkdir(join(site, "odd.dist-info"));
    await Deno.writeTextFile(
      join(site, "odd.dist-info", "METADATA"),
      "Name: `touch pwned`\nVersion: 1.0\n",
    );
    await Deno.mkdir(join(site, "odd2.dist-info"));
    await Deno.writeTextFile(join(site, "odd2.dist-info", "METADATA"), "Name: ok\nVersion: 1;id\n");
    const { state } = await readPackageState(env);
    assertEquals(state.python, [{ name: "requests", version: "2.32.3" }]);
    const text = standaloneDockerfile({ ...standalone, python: state.python });
    assert(text.includes('"requests==2.32.3"'));
  } finally {
    await Deno.remove(env, { recursive: true });
  }
  // Given to the renderer anyway (an older reader, a hand-made spec): refused, nothing rendered.
  for (
    const python of [
      [{ name: "$(touch /tmp/pwned)", version: "1.0" }],
      [{ name: "numpy", version: '1.0" && touch /tmp/pwned && "' }],
      [{ name: "numpy", version: "1.0\nRUN id" }],
    ]
  ) {
    throws(() => standaloneDockerfile({ ...standalone, python }), isUsage, JSON.stringify(python));
  }
  const r = [{ name: "x');system('id');('", version: "1.0" }];
  throws(() => standaloneDockerfile({ ...standalone, runtime: "r", python: [], r }), isUsage);
  const url = [{ name: "CRAN", url: "https://x.org/'$(id)'" }];
  throws(
    () =>
      standaloneDockerfile({
        ...standalone,
        runtime: "r",
        python: [],
        r: [{ name: "cli", version: "3.6.1", repository: "CRAN" }],
        repositories: url,
      }),
    isUsage,
  );
  throws(() => standaloneDockerfile({ ...standalone, baseImage: SETUP }), isUsage);
  throws(
    () => standaloneDockerfile({ ...standalone, conda: [{ name: "x", version: "1$(id)" }] }),
    isUsage,
  );
});
