import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { SnapshotFormatError } from "../../../src/snapshot/errors.ts";
import {
  channelName,
  distInfoName,
  parseHeaders,
  readPackageState,
} from "../../../src/snapshot/state.ts";
import { tempDir } from "../../fakes/tmp.ts";

/** Writes files (path -> content) under a new temp folder. */
export async function tree(files: Record<string, string>): Promise<string> {
  const root = await tempDir("venvoy-state-");
  for (const [rel, content] of Object.entries(files)) {
    const p = join(root, rel);
    await Deno.mkdir(join(p, ".."), { recursive: true });
    await Deno.writeTextFile(p, content);
  }
  return root;
}

const SITE = "persist/python/lib/python3.11/site-packages";
const BASE = JSON.stringify({
  python: [{ name: "NumPy", version: "1.26.4" }, { name: "pip", version: "23.0.1" }],
  r: [{ name: "jsonlite", version: "1.8.4", source: "Repository", repository: "CRAN" }],
  conda: [],
  os: [{ name: "libc6", version: "2.36-9" }],
});

Deno.test("base-packages.json overlaid by persist/: persist wins, names PEP 503", async () => {
  const env = await tree({
    "base-packages.json": BASE,
    [`${SITE}/numpy-2.1.0.dist-info/METADATA`]: "Name: numpy\nVersion: 2.1.0\n",
    [`${SITE}/Requests-2.32.3.dist-info/RECORD`]: "",
    [`${SITE}/zope.interface-6.4.dist-info/RECORD`]: "",
    [`${SITE}/legacy_pkg-0.9-py3.11.egg-info/PKG-INFO`]: "Name: legacy_pkg\nVersion: 0.9\n",
    [`${SITE}/~umpy-1.26.4.dist-info/RECORD`]: "",
    [`${SITE}/numpy/__init__.py`]: "",
    "persist/R/library/cli/DESCRIPTION":
      "Package: cli\nVersion: 3.6.3\nRepository: CRAN\nTitle: Helpers for\n  Developing CLIs\n",
    "persist/R/library/jsonlite/DESCRIPTION":
      "Package: jsonlite\nVersion: 1.8.9\nRepository: CRAN\n",
    "persist/R/library/mygh/DESCRIPTION": "Package: mygh\nVersion: 0.1\nRemoteType: github\n",
    "persist/R/library/00LOCK-cli/cli/DESCRIPTION": "Package: cli\nVersion: 9\n",
    "persist/R/library/notapkg/README": "",
    "persist/cache/pip/x-1.0.dist-info/RECORD": "",
  });
  const { state, hasBase } = await readPackageState(env);
  assert(hasBase);
  assertEquals(state.python, [
    { name: "legacy-pkg", version: "0.9" },
    { name: "numpy", version: "2.1.0" },
    { name: "pip", version: "23.0.1" },
    { name: "requests", version: "2.32.3" },
    { name: "zope-interface", version: "6.4" },
  ]);
  assertEquals(state.r, [
    { name: "cli", version: "3.6.3", source: "Repository", repository: "CRAN" },
    { name: "jsonlite", version: "1.8.9", source: "Repository", repository: "CRAN" },
    { name: "mygh", version: "0.1", source: "GitHub" },
  ]);
  assertEquals(state.conda, []);
});

Deno.test("a conda prefix: conda-meta packages, python as the interpreter, pip installs in it", async () => {
  const meta = (name: string, version: string, channel: string) =>
    JSON.stringify({ name, version, channel, build: "h0" });
  const env = await tree({
    "persist/conda/conda-meta/python-3.11.9-h0.json": meta(
      "python",
      "3.11.9",
      "https://conda.anaconda.org/conda-forge/linux-64",
    ),
    "persist/conda/conda-meta/numpy-2.1.0-h0.json": meta(
      "numpy",
      "2.1.0",
      "https://conda.anaconda.org/conda-forge/linux-64",
    ),
    "persist/conda/conda-meta/samtools-1.20-h0.json": meta("samtools", "1.20", "bioconda"),
    "persist/conda/conda-meta/history": "==> 2024 <==\n",
    "persist/conda/conda-meta/broken.json": "{",
    "persist/conda/lib/python3.11/site-packages/numpy-2.1.0.dist-info/INSTALLER": "conda\n",
    "persist/conda/lib/python3.11/site-packages/rich-13.7.1.dist-info/INSTALLER": "pip\n",
  });
  const r = await readPackageState(env);
  assertEquals(r.hasBase, false);
  assertEquals(r.pythonVersion, "3.11.9");
  assertEquals(r.channels.sort(), ["bioconda", "conda-forge"]);
  assertEquals(r.state.conda, [
    { name: "numpy", version: "2.1.0" },
    { name: "samtools", version: "1.20" },
  ]);
  assertEquals(r.state.python, [{ name: "rich", version: "13.7.1" }]);
});

Deno.test("an empty or missing environment folder is an empty state", async () => {
  const env = await tempDir();
  const r = await readPackageState(join(env, "nope"));
  assertEquals(r.state, { python: [], r: [], conda: [] });
});

Deno.test("a corrupt base-packages.json names the file and line", async () => {
  const env = await tree({ "base-packages.json": '{\n  "python": [\n    {"name": "a",}\n  ]\n}' });
  await assert.rejects(readPackageState(env), (e) => {
    assert(e instanceof SnapshotFormatError);
    assert(e.message.includes("base-packages.json"), e.message);
    assertEquals(e.line, 3);
    return true;
  });
});

Deno.test("helpers", () => {
  assertEquals(distInfoName("Foo_Bar-1.0.post1.dist-info"), {
    name: "foo-bar",
    version: "1.0.post1",
  });
  assertEquals(distInfoName("foo.egg-info"), null);
  assertEquals(distInfoName("numpy"), null);
  assertEquals(channelName("https://conda.anaconda.org/bioconda/noarch"), "bioconda");
  assertEquals(channelName("https://repo.anaconda.com/pkgs/main/linux-64"), "defaults");
  assertEquals(channelName("conda-forge"), "conda-forge");
  assertEquals(parseHeaders("Name: a\nVersion: 1\n\nName: body"), { Name: "a", Version: "1" });
});

Deno.test("issue 18.6: persist/ links and FIFOs a container made are not read through", async () => {
  const host = await tree({ "secret.txt": "Name: hostsecret\nVersion: 6.6.6\nPackage: hostr\n" });
  const env = await tree({
    [`${SITE}/good-1.0.dist-info/RECORD`]: "",
    "persist/R/library/ok/DESCRIPTION": "Package: ok\nVersion: 1.0\n",
  });
  try {
    const secret = join(host, "secret.txt");
    const site = join(env, SITE);
    // Names that do not parse, so the metadata is read: a link, and a FIFO.
    await Deno.mkdir(join(site, "linked.dist-info"));
    await Deno.symlink(secret, join(site, "linked.dist-info", "METADATA"));
    await Deno.symlink(secret, join(site, "legacy.egg-info"));
    await Deno.mkdir(join(site, "fifo.dist-info"));
    await new Deno.Command("mkfifo", { args: [join(site, "fifo.dist-info", "METADATA")] })
      .output();
    await Deno.mkdir(join(env, "persist/R/library/hostr"));
    await Deno.symlink(secret, join(env, "persist/R/library/hostr/DESCRIPTION"));
    await Deno.mkdir(join(env, "persist/conda/conda-meta"), { recursive: true });
    await new Deno.Command("mkfifo", { args: [join(env, "persist/conda/conda-meta/x.json")] })
      .output();
    // A folder on the way that is a link to a host folder is not walked.
    await Deno.mkdir(join(host, "lib/python3.12/site-packages/hostpkg-9.9.dist-info"), {
      recursive: true,
    });
    await Deno.symlink(join(host, "lib"), join(env, "persist/python/lib64"));
    const started = Date.now();
    const { state } = await readPackageState(env);
    assert.ok(Date.now() - started < 5000, "no FIFO was opened for reading");
    assertEquals(state.python, [{ name: "good", version: "1.0" }]);
    assertEquals(state.r.map((p) => p.name), ["ok"]);
    // A distribution whose METADATA is a FIFO or a link is no install; its path is reported.
    await Deno.mkdir(join(site, "piped-2.0.dist-info"));
    await new Deno.Command("mkfifo", { args: [join(site, "piped-2.0.dist-info", "METADATA")] })
      .output();
    await Deno.mkdir(join(site, "pointed-3.0.dist-info"));
    await Deno.symlink(secret, join(site, "pointed-3.0.dist-info", "METADATA"));
    const again = await readPackageState(env);
    assertEquals(again.state.python, [{ name: "good", version: "1.0" }]);
    assertEquals(again.unsafe.map((u) => u.split("/").slice(-2).join("/")).sort(), [
      "fifo.dist-info/METADATA",
      "linked.dist-info/METADATA",
      "piped-2.0.dist-info/METADATA",
      "pointed-3.0.dist-info/METADATA",
    ]);
    assertEquals(state.conda, []);
    assert.ok(!JSON.stringify(state).includes("host"), JSON.stringify(state));
  } finally {
    await Deno.remove(env, { recursive: true });
    await Deno.remove(host, { recursive: true });
  }
});
