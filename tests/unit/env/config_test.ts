import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { VenvoyError } from "../../../src/ui/errors.ts";
import {
  CONFIG_CACHE,
  type EnvConfig,
  parseConfig,
  readConfig,
  renderConfig,
  writeConfig,
} from "../../../src/env/config.ts";
import { parseEnvPair, parseVersion } from "../../../src/env/spec.ts";
import { isLocalRef, pinFromInfo, repoOf } from "../../../src/env/pin.ts";
import { parseMount } from "../../../src/session/run.ts";
import { parseCapture } from "../../../src/env/capture.ts";
import { listedPackages } from "../../../src/env/init.ts";
import { tempDir } from "../../fakes/tmp.ts";

const cfg: EnvConfig = {
  name: "study",
  runtime: "python",
  python_version: "3.10",
  r_version: null,
  created: "2026-11-21T10:00:00.000Z",
  host: { system: "linux", architecture: "amd64" },
  engine: "podman",
  base_image: "localhost/venvoy-lab/python:3.11",
  base_image_pinned: "sha256:" + "f".repeat(64),
  image: "localhost/venvoy/study:latest",
  image_id: "sha256:" + "e".repeat(64),
  packages: ["numpy==2.1.0"],
  dev_packages: [],
  package_manager: "pip",
  venvoy_version: "0.1.0",
};

Deno.test("config.yaml round trip keeps every key and quotes versions", async () => {
  const dir = await tempDir();
  await writeConfig(dir, cfg);
  assertEquals(await readConfig(dir), cfg);
  const text = await renderConfig(cfg);
  assert.match(text, /python_version: "3.10"/, "3.10 must not become 3.1");
  assertEquals(
    [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
    [CONFIG_CACHE, "config.yaml"],
    "no temp file left",
  );
});

Deno.test("the parsed-config cache is used only for the exact text it was made from", async () => {
  const dir = await tempDir();
  await writeConfig(dir, cfg);
  const cachePath = `${dir}/${CONFIG_CACHE}`;
  const cached = JSON.parse(await Deno.readTextFile(cachePath));
  assertEquals(cached.config, cfg);

  // A cache entry for this exact text is what readConfig returns (no YAML parse).
  await Deno.writeTextFile(
    cachePath,
    JSON.stringify({ key: cached.key, config: { ...cfg, engine: "from-cache" } }),
  );
  assertEquals((await readConfig(dir)).engine, "from-cache");

  // Any edit to config.yaml misses the cache, and the cache is renewed.
  const yaml = await Deno.readTextFile(`${dir}/config.yaml`);
  await Deno.writeTextFile(`${dir}/config.yaml`, yaml.replace("engine: podman", "engine: docker"));
  assertEquals(await readConfig(dir), { ...cfg, engine: "docker" });
  assertEquals(JSON.parse(await Deno.readTextFile(cachePath)).config.engine, "docker");

  // A damaged cache is ignored; a read-only folder still reads.
  await Deno.writeTextFile(cachePath, "{not json");
  assertEquals(await readConfig(dir), { ...cfg, engine: "docker" });
  await Deno.remove(cachePath);
  await Deno.chmod(dir, 0o555);
  try {
    assertEquals(await readConfig(dir), { ...cfg, engine: "docker" });
  } finally {
    await Deno.chmod(dir, 0o755);
  }
});

Deno.test("a broken config.yaml is a readable error", async () => {
  await assert.rejects(parseConfig("name: [", "x.yaml"), /x.yaml is not valid YAML/);
  await assert.rejects(parseConfig("runtime: python\n"), /has no environment name/);
});

Deno.test("versions: minor versions accepted, unsupported ones list the supported", () => {
  assertEquals(parseVersion("python", undefined), "3.11");
  assertEquals(parseVersion("python", "3.12.4"), "3.12");
  assertEquals(parseVersion("r", "4.2"), "4.2");
  assert.throws(() => parseVersion("python", "3.8"), (e: Error & { hint?: string }) => {
    assertEquals(e.message, "unsupported Python version '3.8'");
    assertEquals(e.hint, "supported Python versions: 3.9, 3.10, 3.11, 3.12, 3.13");
    return true;
  });
});

Deno.test("--env K=V", () => {
  assertEquals(parseEnvPair("A=b=c"), ["A", "b=c"]);
  assertEquals(parseEnvPair("EMPTY="), ["EMPTY", ""]);
  assert.throws(() => parseEnvPair("=x"), /invalid --env/);
  assert.throws(() => parseEnvPair("1A=x"), /invalid --env/);
});

Deno.test("--mount HOST:CONTAINER[:ro]; a missing host path is a usage error", async () => {
  const dir = await tempDir("venvoy mount ");
  assertEquals(parseMount(`${dir}:/data:ro`, "/"), {
    source: dir,
    target: "/data",
    readOnly: true,
  });
  assertEquals(parseMount(`${dir}:/data`, "/"), { source: dir, target: "/data", readOnly: false });
  assertEquals(parseMount(".:/d", dir).source, dir);
  assert.throws(
    () => parseMount("/no/such:/data", "/"),
    /mount source '\/no\/such' does not exist/,
  );
  assert.throws(() => parseMount("/tmp", "/"), /invalid --mount/);
});

Deno.test("pins: image ID for local images, repo digest for registry images", () => {
  const info = {
    id: "sha256:" + "1".repeat(64),
    digests: [
      "docker.io/library/python@sha256:" + "2".repeat(64),
      "localhost/x@sha256:" + "3".repeat(64),
    ],
    labels: {},
    architecture: "amd64",
    os: "linux",
    size: 1,
    created: null,
  };
  assertEquals(pinFromInfo("localhost/venvoy-lab/python:3.11", info), {
    pinned: "sha256:" + "1".repeat(64),
    from: "1".repeat(64),
    local: true,
  });
  const reg = pinFromInfo("python:3.11-slim", info);
  assertEquals(reg.pinned, "docker.io/library/python@sha256:" + "2".repeat(64));
  assertEquals(reg.local, false);
  assertEquals(
    pinFromInfo("python:3.11-slim", { ...info, digests: [] }).local,
    true,
    "no digest: pin the ID",
  );
  assertEquals(repoOf("rocker/r-ver:4.4"), "docker.io/rocker/r-ver");
  assertEquals(
    repoOf("registry.example.org:5000/mirror/python:3.11"),
    "registry.example.org:5000/mirror/python",
  );
  assertEquals(isLocalRef("localhost/a:b"), true);
  assertEquals(isLocalRef("python:3.11"), false);
});

Deno.test("capture output becomes base-packages.json sections", () => {
  const cap = parseCapture(
    "@@versions\npython\t3.11.2\n@@python\nuv\t0.13.9\npip\t23.0.1\n@@r\njsonlite\t1.8.4\tRepository\tCRAN\n@@os\nlibc6\t2.36-9\n",
  );
  assertEquals(cap.versions, { python: "3.11.2" });
  assertEquals(cap.packages.python, [{ name: "pip", version: "23.0.1" }, {
    name: "uv",
    version: "0.13.9",
  }]);
  assertEquals(cap.packages.r, [{
    name: "jsonlite",
    version: "1.8.4",
    source: "Repository",
    repository: "CRAN",
  }]);
  assertEquals(cap.packages.os, [{ name: "libc6", version: "2.36-9" }]);
  assertEquals(cap.packages.conda, []);
});

Deno.test("requirements lines that name packages", () => {
  assertEquals(listedPackages("# c\nnumpy==2.1  # pinned\n\n-r other.txt\npandas\n"), [
    "numpy==2.1",
    "pandas",
  ]);
});

Deno.test("readConfig { cache: false } parses and writes nothing; a missing file says what it is", async () => {
  const dir = await Deno.makeTempDir({ prefix: "venvoy-config-nocache-" });
  try {
    await assert.rejects(readConfig(dir, { cache: false }), (e) => {
      assert(e instanceof VenvoyError && /cannot read .*config\.yaml/.test(e.message), String(e));
      return true;
    });
    await writeConfig(dir, cfg);
    await Deno.remove(join(dir, CONFIG_CACHE));
    assertEquals(await readConfig(dir, { cache: false }), cfg);
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["config.yaml"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
