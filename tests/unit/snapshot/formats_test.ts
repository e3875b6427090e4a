import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { parse } from "yaml";
import {
  parseCondaSpec,
  parseEnvironmentYml,
  parsePipSpec,
  renderEnvironmentYml,
} from "../../../src/snapshot/environment_yml.ts";
import { SnapshotFormatError } from "../../../src/snapshot/errors.ts";
import type { Snapshot } from "../../../src/snapshot/model.ts";
import { parseRenvLock, renderRenvLock, repositoriesFor } from "../../../src/snapshot/renv_lock.ts";

const SNAP: Snapshot = {
  meta: {
    name: "demo",
    runtime: "python",
    pythonVersion: "3.11",
    created: "2025-03-01T10:00:00.000Z",
    engine: "podman",
    baseImage: "localhost/venvoy-lab/python:3.11",
    baseImagePinned: "localhost/venvoy-lab/python@sha256:" + "ab".repeat(32),
    imageId: "sha256:0123",
    venvoyVersion: "0.1.0",
    packageManager: "pip",
  },
  state: {
    python: [{ name: "requests", version: "2.32.3" }, { name: "numpy", version: "2.1.0" }],
    r: [],
    conda: [],
  },
};

const throwsAt = (fn: () => unknown, line: number | null, re: RegExp) =>
  assert.throws(fn, (e) => {
    assert(e instanceof SnapshotFormatError, String(e));
    assertEquals(e.line, line, e.message);
    assert(re.test(e.message), e.message);
    assert(e.message.startsWith("/p/environment.yml"), e.message);
    return true;
  });

Deno.test("environment.yml renders conda's format and round-trips", () => {
  const text = renderEnvironmentYml(SNAP);
  const raw = parse(text);
  assertEquals(raw.name, "demo");
  assertEquals(raw.channels, ["conda-forge"]);
  assertEquals(raw.dependencies, [
    "python=3.11",
    "pip",
    { pip: ["numpy==2.1.0", "requests==2.32.3"] },
  ]);
  assertEquals(raw["x-venvoy"].format, "1");
  assertEquals(raw["x-venvoy"].python_version, "3.11", "a version stays a string, not 3.11");
  assertEquals(raw["x-venvoy"].image_id, "sha256:0123");
  const back = parseEnvironmentYml(text, "/p/environment.yml");
  assertEquals(back.meta, { ...SNAP.meta, channels: ["conda-forge"] });
  assertEquals(back.state.python, [
    { name: "numpy", version: "2.1.0" },
    { name: "requests", version: "2.32.3" },
  ]);
});

Deno.test("conda packages render as name=version and pip is not listed twice", () => {
  const snap: Snapshot = {
    meta: { name: "c", pythonVersion: "3.11.9", channels: ["conda-forge", "bioconda"] },
    state: {
      python: [{ name: "tqdm", version: "4.66.0" }],
      r: [],
      conda: [{ name: "pip", version: "24.0" }, { name: "libzlib", version: "1.3.1" }],
    },
  };
  const raw = parse(renderEnvironmentYml(snap));
  assertEquals(raw.channels, ["conda-forge", "bioconda"]);
  assertEquals(raw.dependencies, [
    "python=3.11.9",
    "libzlib=1.3.1",
    "pip=24.0",
    { pip: ["tqdm==4.66.0"] },
  ]);
  const back = parseEnvironmentYml(renderEnvironmentYml(snap), "x");
  assertEquals(back.state.conda, [{ name: "libzlib", version: "1.3.1" }, {
    name: "pip",
    version: "24.0",
  }]);
  assertEquals(back.meta.pythonVersion, "3.11.9");
});

Deno.test("an R snapshot's yml says where the R packages are", () => {
  const text = renderEnvironmentYml({
    meta: { name: "r", runtime: "r", rVersion: "4.2.2" },
    state: { python: [], r: [{ name: "jsonlite", version: "1.8.4" }], conda: [] },
  });
  assert(text.includes("renv.lock"));
  assertEquals(parse(text).dependencies, []);
  assertEquals(parseEnvironmentYml(text, "x").meta.rVersion, "4.2.2");
});

Deno.test("the old venvoy form parses: top-level exported/venvoy_version, conda list + pip: sub-list", () => {
  const old = `name: venvoy-env
channels:
- conda-forge
- defaults
dependencies:
- numpy=1.26.4
- pandas=2.2.1
- pip:
  - requests==2.31.0
  - Python_Dateutil==2.9.0
exported: '2024-05-01T12:00:00.123456'
venvoy_version: 0.1.0
`;
  const s = parseEnvironmentYml(old, "old.yml");
  assertEquals(s.meta, {
    name: "venvoy-env",
    channels: ["conda-forge", "defaults"],
    created: "2024-05-01T12:00:00.123456",
    venvoyVersion: "0.1.0",
  });
  assertEquals(s.state.conda, [
    { name: "numpy", version: "1.26.4" },
    { name: "pandas", version: "2.2.1" },
  ]);
  assertEquals(s.state.python, [
    { name: "python-dateutil", version: "2.9.0" },
    { name: "requests", version: "2.31.0" },
  ]);
});

Deno.test("conda env export output parses (builds, channel prefixes, prefix:)", () => {
  const text = `name: base
channels:
  - conda-forge
dependencies:
  - _libgcc_mutex=0.1=conda_forge
  - conda-forge::numpy=2.1.0=py311h1234_0
  - python=3.11.9=hab00c5b_0_cpython
  - pip:
      - rich==13.7.1
prefix: /opt/conda
`;
  const s = parseEnvironmentYml(text, "x");
  assertEquals(s.state.conda, [
    { name: "_libgcc_mutex", version: "0.1" },
    { name: "numpy", version: "2.1.0" },
  ]);
  assertEquals(s.meta.pythonVersion, "3.11.9");
  assertEquals(s.state.python, [{ name: "rich", version: "13.7.1" }]);
});

Deno.test("spec parsers", () => {
  assertEquals(parseCondaSpec("numpy==1.2"), { name: "numpy", version: "1.2" });
  assertEquals(parseCondaSpec("r-base"), { name: "r-base", version: "" });
  assertEquals(parseCondaSpec("numpy>=1"), null);
  assertEquals(parsePipSpec("Foo.Bar[extra]==1.0 ; python_version>'3'"), {
    name: "foo-bar",
    version: "1.0",
  });
  assertEquals(parsePipSpec("pkg===1.0+local"), { name: "pkg", version: "1.0+local" });
  assertEquals(parsePipSpec("pkg>=1.0"), null);
  assertEquals(parsePipSpec("-e ."), null);
});

Deno.test("corrupt or hand-edited environment.yml: errors name the file and line", () => {
  const f = "/p/environment.yml";
  throwsAt(() => parseEnvironmentYml("name: x\ndependencies:\n  - a=1\n  bad: [\n", f), 4, /YAML/);
  throwsAt(() => parseEnvironmentYml("- just\n- a list\n", f), 1, /mapping/);
  throwsAt(() => parseEnvironmentYml("name: x\nchannels: []\n", f), 1, /dependencies/);
  throwsAt(
    () => parseEnvironmentYml("name: x\ndependencies:\n  - numpy=1\n  - scipy>=1.0\n", f),
    4,
    /scipy>=1.0.*name=version/,
  );
  throwsAt(
    () => parseEnvironmentYml("name: x\ndependencies:\n  - pip:\n      - a==1\n      - b>2\n", f),
    5,
    /pip entry 'b>2'/,
  );
  throwsAt(
    () => parseEnvironmentYml("name: x\ndependencies:\n  - npm:\n      - a\n", f),
    3,
    /unknown dependency section 'npm:'/,
  );
  throwsAt(() => parseEnvironmentYml("name: x\ndependencies: numpy\n", f), 2, /must be a list/);
  throwsAt(
    () => parseEnvironmentYml("name: x\ndependencies: []\nx-venvoy:\n  format: '9'\n", f),
    4,
    /format 9 is newer/,
  );
  throwsAt(
    () => parseEnvironmentYml("name: x\ndependencies: []\nname: y\n", f),
    3,
    /YAML/,
  );
});

Deno.test("renv.lock renders renv's shape and round-trips", () => {
  const pkgs = [
    { name: "jsonlite", version: "1.8.4", source: "Repository", repository: "CRAN" },
    { name: "BiocGenerics", version: "0.44.0", source: "Bioconductor" },
  ];
  const text = renderRenvLock({
    rVersion: "4.2.2",
    repositories: repositoriesFor(pkgs),
    packages: pkgs,
  });
  const raw = JSON.parse(text);
  assertEquals(raw.R, {
    Version: "4.2.2",
    Repositories: [{ Name: "CRAN", URL: "https://cloud.r-project.org" }],
  });
  assertEquals(raw.Packages.jsonlite, {
    Package: "jsonlite",
    Version: "1.8.4",
    Source: "Repository",
    Repository: "CRAN",
  });
  const back = parseRenvLock(text, "renv.lock");
  assertEquals(back.rVersion, "4.2.2");
  assertEquals(back.packages.map((p) => p.name), ["BiocGenerics", "jsonlite"]);
  assertEquals(back.packages[1], pkgs[0]);
});

Deno.test("a real renv.lock with Hash and Requirements parses", () => {
  const text = JSON.stringify(
    {
      R: { Version: "4.4.1", Repositories: [{ Name: "CRAN", URL: "https://cran.rstudio.com" }] },
      Packages: {
        cli: {
          Package: "cli",
          Version: "3.6.3",
          Source: "Repository",
          Repository: "CRAN",
          Hash: "b21916dd77a27642b447374a5d30ecf3",
          Requirements: ["R", "utils"],
        },
      },
    },
    null,
    2,
  );
  const l = parseRenvLock(text, "renv.lock");
  assertEquals(l.repositories, [{ name: "CRAN", url: "https://cran.rstudio.com" }]);
  assertEquals(l.packages, [
    { name: "cli", version: "3.6.3", source: "Repository", repository: "CRAN" },
  ]);
});

Deno.test("corrupt renv.lock: errors name the file and line", () => {
  const bad = (text: string, line: number, re: RegExp) =>
    assert.throws(() => parseRenvLock(text, "/p/renv.lock"), (e) => {
      assert(e instanceof SnapshotFormatError);
      assertEquals(e.line, line, e.message);
      assert(re.test(e.message) && e.message.startsWith("/p/renv.lock:"), e.message);
      return true;
    });
  bad('{\n  "R": {\n    "Version": "4.2.2",\n  }\n}\n', 4, /not valid JSON/);
  bad(
    '{\n  "R": {"Version": "4.2"},\n  "Packages": {\n    "cli": {"Package": "cli"}\n  }\n}',
    4,
    /"cli" has no Version/,
  );
  bad('{\n  "Packages": []\n}', 2, /must be an object/);
});
