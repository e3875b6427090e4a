/**
 * Offline rebuilds and the standalone formats: the offline build plan, the standalone
 * Dockerfile, R sources from the index (CRAN is unreachable in the lab: the argv is checked
 * here), and a tarball that verifies member by member against its manifest.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { dockerfile } from "../../../src/recipe/mod.ts";
import {
  fromForPin,
  parseStandaloneDockerfile,
  standaloneDockerfile,
} from "../../../src/recipe/standalone.ts";
import { type EnvConfig, writeConfig } from "../../../src/env/config.ts";
import { parseUnavailableLines, rDownloadArgv } from "../../../src/snapshot/freeze.ts";
import { sha256File } from "../../../src/util/hash.ts";
import { exportTarball, lockEntries, lockIsCurrent } from "../../../src/archive/tarball.ts";
import { extractVerified } from "../../../src/archive/reader.ts";
import { ApptainerRuntime, PodmanRuntime } from "../../../src/runtime/mod.ts";
import { RecordingRunner } from "../../fakes/runner.ts";
import { tempDir } from "../../fakes/tmp.ts";
import { envConfig } from "../../fakes/env_config.ts";
import { standaloneSpec } from "../../fakes/standalone_spec.ts";

const spec = {
  name: "demo",
  kind: "python" as const,
  version: "3.11",
  from: "a".repeat(64),
  venvoyVersion: "0.1.0",
  labels: { "org.venvoy.managed": "true" },
};

Deno.test("offline plan: the lock with hashes from vendor/, no index, no uv download", () => {
  const online = dockerfile(spec);
  const offline = dockerfile({ ...spec, offline: true });
  assert.match(online, /"uv==0\.13\.9"/);
  assert(!offline.includes('"uv=='), "uv comes from vendor/ with the other frozen packages");
  assert.match(offline, /^COPY requirements\.lock \/opt\/venvoy\/build\/requirements\.lock$/m);
  assert.match(
    offline,
    /python3 -m pip install --no-cache-dir --disable-pip-version-check --no-index --find-links \/opt\/venvoy\/vendor --require-hashes --no-deps -r \/opt\/venvoy\/build\/requirements\.lock/,
  );
  assert(!/pip install(?![^\n]*--no-index)[^\n]*-r "\$f"/.test(offline), "no index anywhere");
  const r = dockerfile({ ...spec, kind: "r", version: "4.2", offline: true });
  assert.match(r, /Sys\.glob\("\/opt\/venvoy\/vendor\/R\/\*\.tar\.gz"\)/);
  assert.match(r, /^COPY vendor\/ \/opt\/venvoy\/vendor\/$/m);
});

Deno.test("offline build argv: --network none on podman; apptainer refuses to pretend", async () => {
  const runner = new RecordingRunner();
  const podman = new PodmanRuntime(runner, "podman", { rootless: false });
  assertEquals(
    podman.buildArgv({ contextDir: "/e", file: "/e/Dockerfile", tag: "t", network: "none" }),
    [
      "podman",
      "build",
      "--layers",
      "--force-rm",
      "-t",
      "t",
      "-f",
      "/e/Dockerfile",
      "--network",
      "none",
      "/e",
    ],
  );
  const app = new ApptainerRuntime(runner, "apptainer");
  await assert.rejects(
    app.buildSif({ kind: "definition", path: "/e/venvoy.def" }, "/e/image.sif", {
      network: "none",
    }),
    /cannot disable networking/,
  );
  assertEquals(runner.argvs, []);
});

Deno.test("standalone Dockerfile: pinned base (overridable), pinned versions, no venvoy", () => {
  assertEquals(fromForPin(`sha256:${"b".repeat(64)}`), "b".repeat(64));
  assertEquals(
    fromForPin(`docker.io/library/python@sha256:${"c".repeat(64)}`),
    `docker.io/library/python@sha256:${"c".repeat(64)}`,
  );
  const base = standaloneSpec({
    python: [{ name: "numpy", version: "2.1.0" }, { name: "six", version: "1.16.0" }],
  });
  const online = standaloneDockerfile(base);
  assert.match(online, new RegExp(`^ARG BASE=docker\\.io/library/python@sha256:c{64}$`, "m"));
  assert.match(online, /^FROM \$\{BASE\}$/m);
  assert.match(
    online,
    /python3 -m pip install --no-deps \\\n {6}"numpy==2\.1\.0" \\\n {6}"six==1\.16\.0"/,
  );
  assert(!/venvoy-entry|\.venvoy\/|COPY/.test(online), "nothing of venvoy is needed to build it");
  assert(!online.includes("local image ID"));
  // Self-describing: labels venvoy reads back, with the pins.
  assert.match(
    online,
    /^LABEL org\.venvoy\.env="demo" \\\n {6}org\.venvoy\.runtime="python" \\\n {6}org\.venvoy\.python_version="3\.11" \\$/m,
  );
  assertEquals(parseStandaloneDockerfile(online), {
    name: "demo",
    runtime: "python",
    version: "3.11",
    baseImage: "python:3.11-slim",
    basePinned: base.basePinned,
    venvoyVersion: "0.1.0",
    offline: false,
    python: base.python,
    r: [],
    conda: [],
    asOf: null,
  });
  assertEquals(parseStandaloneDockerfile("FROM python:3.11\nLABEL a=b\nRUN true\n"), null);
  // A mirror or a proxy's CA for pip, only when given (empty: unset, pip's defaults).
  assert.match(online, /^ARG PIP_INDEX_URL=\nARG PIP_CERT=\nRUN set -eu; \\$/m);
  assert.match(
    online,
    /\[ -n "\$\{PIP_INDEX_URL:-\}" \] \|\| unset PIP_INDEX_URL; \\\n {4}\[ -n "\$\{PIP_CERT:-\}" \] \|\| unset PIP_CERT; \\\n {4}python3 -m pip install/,
  );
  assert.match(online, /^# {3}--build-arg PIP_CERT=\/run\/ca\.crt/m);
  const offline = standaloneDockerfile({
    ...base,
    basePinned: `sha256:${"b".repeat(64)}`,
    offline: true,
  });
  assert.match(offline, /local image ID/);
  assert.match(offline, /--no-index --find-links \/opt\/venvoy\/vendor --require-hashes --no-deps/);
  assert(!offline.includes('"numpy==2.1.0"'));
  assert(!offline.includes("PIP_CERT"), "offline builds use no index");
  assertEquals(parseStandaloneDockerfile(offline)?.offline, true);
  const r = standaloneDockerfile({
    ...base,
    runtime: "r",
    python: [],
    r: [{ name: "digest", version: "0.6.35", repository: "CRAN" }],
  });
  assert.match(r, /c\("digest", "0\.6\.35", "https:\/\/cloud\.r-project\.org"\)/);
  assert.match(r, /src\/contrib\/Archive\//);
  assert(!/Rscript -e '[^\n]*'[^\n]*'/.test(r), "the R code is one single-quoted word");
  assert.match(r, /org\.venvoy\.r_version="3\.11"/);
  assertEquals(parseStandaloneDockerfile(r)?.r, [
    { name: "digest", version: "0.6.35", repository: "https://cloud.r-project.org" },
  ]);
  const conda = standaloneDockerfile({ ...base, conda: [{ name: "zlib", version: "1.3" }] });
  assertEquals(parseStandaloneDockerfile(conda)?.conda, [{ name: "zlib", version: "1.3" }]);
  assertEquals(parseStandaloneDockerfile(conda)?.python, base.python);
});

Deno.test("standalone Dockerfile: init --as-of travels as a label and the image's variables", () => {
  const spec = standaloneSpec({ python: [{ name: "six", version: "1.13.0" }] });
  assert(!standaloneDockerfile(spec).includes("as_of"));
  assert(!standaloneDockerfile(spec).includes("UV_EXCLUDE_NEWER"));
  const text = standaloneDockerfile({ ...spec, asOf: "2020-01-01" });
  assert.match(text, /org\.venvoy\.as_of="2020-01-01"/);
  // After the pinned installs (which the date must not filter), before WORKDIR.
  assert.match(
    text,
    /"six==1\.13\.0"\nENV UV_EXCLUDE_NEWER=2020-01-01T00:00:00Z PIP_UPLOADED_PRIOR_TO=2020-01-01T00:00:00Z\nWORKDIR \/workspace\n$/,
  );
  assertEquals(parseStandaloneDockerfile(text)?.asOf, "2020-01-01");
  assert.throws(
    () => standaloneDockerfile({ ...spec, asOf: "2020-01-01\nRUN id" }),
    /invalid as-of date/,
  );
});

Deno.test("freeze, R: exact source versions from the repository, then its Archive/", () => {
  const argv = rDownloadArgv([
    { name: "digest", version: "0.6.35", repository: "CRAN" },
    { name: "jsonlite", version: "1.8.4" },
  ]);
  assertEquals(argv.slice(0, 3), ["Rscript", "--vanilla", "-e"]);
  const code = argv[3];
  assert(code.startsWith('dest <- "/opt/venvoy/vendor/R"\n'));
  assert(code.includes(`get1("digest", "0.6.35", "https://cloud.r-project.org")`));
  assert(code.includes(`get1("jsonlite", "1.8.4", "https://cloud.r-project.org")`));
  assert(code.includes("%s/src/contrib/Archive/%s/%s_%s.tar.gz"));
  assertEquals(
    parseUnavailableLines(
      "x\nvenvoy-unavailable: digest==0.6.35\nvenvoy-unavailable: a.b==1 c==2\n",
    ),
    ["digest==0.6.35", "a.b==1", "c==2"],
  );
});

Deno.test("tarball: Dockerfile, lock, locked wheels only, env/, manifest verified per member", async () => {
  const root = await tempDir("venvoy-tarball-");
  try {
    const dir = join(root, "env");
    const site = join(dir, "persist/python/lib/python3.11/site-packages");
    await Deno.mkdir(site, { recursive: true });
    await Deno.mkdir(join(dir, "vendor"), { recursive: true });
    await Deno.mkdir(join(site, "six-1.16.0.dist-info"));
    const cfg: EnvConfig = envConfig({
      base_image: "localhost/x:1",
      base_image_pinned: `sha256:${"d".repeat(64)}`,
    });
    await writeConfig(dir, cfg);
    await Deno.writeTextFile(join(dir, "requirements.txt"), "six\n");
    await Deno.writeTextFile(
      join(dir, "base-packages.json"),
      JSON.stringify({ python: [{ name: "pip", version: "23.0.1" }], r: [], conda: [], os: [] }),
    );
    const six = "six-1.16.0-py2.py3-none-any.whl";
    await Deno.writeTextFile(join(dir, "vendor", six), "wheel");
    await Deno.writeTextFile(join(dir, "vendor", "old-0.1-py3-none-any.whl"), "stale");
    const env = { name: "demo", dir, config: cfg };
    let froze = 0;
    const freeze = async () => {
      froze++;
      await Deno.writeTextFile(
        join(dir, "requirements.lock"),
        `six==1.16.0 \\\n    --hash=sha256:${await sha256File(join(dir, "vendor", six))}\n`,
      );
    };
    assertEquals(await lockIsCurrent(env), false);
    const out = join(root, "t.tar.gz");
    const res = await exportTarball(env, {
      output: out,
      venvoyVersion: "0.1.0",
      projectDir: join(root, "proj"),
      engine: "podman",
      freeze,
      sbom: () => Promise.resolve('{"bomFormat":"CycloneDX"}\n'),
    });
    assertEquals(froze, 1, "no lock: freeze first");
    assert(res.froze && res.path === out && /^[0-9a-f]{64}$/.test(res.sha256));
    assert(await lockIsCurrent(env));
    assertEquals(lockEntries(await Deno.readTextFile(join(dir, "requirements.lock"))), [
      { name: "six", version: "1.16.0" },
    ]);
    const v = await extractVerified(out, { formats: ["venvoy-tarball"], tmpDir: root });
    try {
      assertEquals(v.manifest.format, "venvoy-tarball");
      assertEquals(Object.keys(v.manifest.members).sort(), [
        "Dockerfile",
        "README.md",
        "env/base-packages.json",
        "env/config.yaml",
        "env/requirements.txt",
        "requirements.lock",
        "sbom.cdx.json",
        "vendor/six-1.16.0-py2.py3-none-any.whl",
      ]);
      assertEquals(
        await Deno.readTextFile(join(v.dir, "sbom.cdx.json")),
        '{"bomFormat":"CycloneDX"}\n',
      );
      assertEquals(v.manifest.image.base, `sha256:${"d".repeat(64)}`);
      assert.match(
        await Deno.readTextFile(join(v.dir, "Dockerfile")),
        new RegExp(`ARG BASE=d{64}`),
      );
    } finally {
      await v.cleanup();
    }
    await assert.rejects(
      exportTarball(env, {
        output: out,
        venvoyVersion: "0.1.0",
        projectDir: root,
        engine: "podman",
        freeze,
      }),
      /already exists/,
    );
    assertEquals(froze, 1, "a current lock is not frozen again");
    await Deno.writeTextFile(join(dir, "vendor", six), "another build of the wheel");
    assertEquals(await lockIsCurrent(env), false, "a wheel whose hash the lock lacks is stale");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
