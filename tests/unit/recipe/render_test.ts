/**
 * Snapshot tests of rendered Dockerfiles and definitions. After an intended change:
 *   UPDATE_SNAPSHOTS=1 deno test -A tests/unit/recipe
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  type BuildSpec,
  definition,
  detectConda,
  dockerfile,
  DOCKERIGNORE,
  planFor,
  supportFiles,
} from "../../../src/recipe/mod.ts";

const dir = fileURLToPath(new URL("./snapshots/", import.meta.url));

async function snapshot(file: string, actual: string) {
  const path = dir + file;
  if (Deno.env.get("UPDATE_SNAPSHOTS") === "1") {
    await Deno.writeTextFile(path, actual);
    return;
  }
  const expected = await Deno.readTextFile(path);
  assertEquals(actual, expected, `${file} changed; UPDATE_SNAPSHOTS=1 if intended`);
}

const labels = {
  "org.venvoy.managed": "true",
  "org.venvoy.env": "study",
  "org.venvoy.version": "0.1.0",
  "org.venvoy.runtime": "python",
  "org.venvoy.base": "sha256:" + "a".repeat(64),
};
const py: BuildSpec = {
  name: "study",
  kind: "python",
  version: "3.11",
  from: "a".repeat(64),
  venvoyVersion: "0.1.0",
  labels,
};
const r: BuildSpec = {
  ...py,
  kind: "r",
  version: "4.4",
  from: "docker.io/rocker/r-ver@sha256:" + "b".repeat(64),
  labels: { ...labels, "org.venvoy.runtime": "r" },
};
const conda: BuildSpec = {
  ...py,
  kind: "conda",
  from: "docker.io/mambaorg/micromamba@sha256:" + "c".repeat(64),
};

Deno.test("python Dockerfile snapshot", () => snapshot("python.Dockerfile", dockerfile(py)));
Deno.test("r Dockerfile snapshot", () => snapshot("r.Dockerfile", dockerfile(r)));
Deno.test("conda Dockerfile snapshot (conda-forge is unreachable in the lab: unit-tested only)", () =>
  snapshot("conda.Dockerfile", dockerfile(conda)));
Deno.test("python definition snapshot", () =>
  snapshot("python.def", definition({ ...py, from: "python:3.11-slim", bootstrap: "docker" })));
Deno.test("r definition snapshot", () =>
  snapshot("r.def", definition({ ...r, bootstrap: "docker" })));

Deno.test("layer order: base, venvoy's files and setup first, the user's packages last", () => {
  const text = dockerfile(py);
  const at = (s: string) => {
    const i = text.indexOf(s);
    assert.ok(i >= 0, `missing ${s}`);
    return i;
  };
  assert.ok(at("FROM ") < at("COPY .venvoy/"));
  assert.ok(at("COPY .venvoy/") < at('"uv=='));
  assert.ok(at('"uv==') < at("COPY requirements.txt"));
  assert.ok(at("COPY requirements.txt") < at("VENVOY_ENV=study"));
  assert.ok(at("VENVOY_ENV=study") < at("USER venvoy"), "the name appears only in the last layers");
});

Deno.test("every image: non-root user, entry, PYTHONNOUSERSITE, caches in persist", () => {
  const text = dockerfile(py);
  assert.match(text, /^USER venvoy$/m);
  assert.match(text, /PYTHONNOUSERSITE=1/);
  assert.match(text, /PIP_CACHE_DIR=\/opt\/venvoy\/persist\/cache\/pip/);
  assert.match(text, /UV_CACHE_DIR=\/opt\/venvoy\/persist\/cache\/uv/);
  assert.match(dockerfile(r), /R_LIBS_USER=\/opt\/venvoy\/persist\/R\/library/);
  assert.match(
    definition({ ...py, bootstrap: "docker" }),
    /%labels\n {4}org\.venvoy\.base sha256:a{64}/,
  );
});

Deno.test("conda is chosen for micromamba/miniforge bases only", () => {
  assertEquals(detectConda("mambaorg/micromamba:1.5.8"), true);
  assertEquals(detectConda("condaforge/miniforge3:latest"), true);
  assertEquals(detectConda("python:3.11-slim"), false);
  assertEquals(detectConda("localhost/venvoy-lab/python:3.11"), false);
  assertEquals(planFor(conda).kind, "conda");
});

Deno.test("the build context holds only what the Dockerfile copies", () => {
  assert.match(DOCKERIGNORE, /^\*$/m);
  for (
    const f of [".venvoy/", "requirements.txt", "requirements-dev.txt", "packages.txt", "vendor/"]
  ) {
    assert.ok(DOCKERIGNORE.includes(`!${f}`), f);
  }
  assert.ok(!DOCKERIGNORE.includes("!persist"));
  assertEquals(Object.keys(supportFiles()).sort(), [
    "bashrc",
    "build_env.sh",
    "capture.sh",
    "entry.sh",
    "install_packages.R",
    "persist.pth",
    "r_tools.R",
  ]);
});
