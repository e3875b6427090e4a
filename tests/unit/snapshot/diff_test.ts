import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  changeCount,
  diffSnapshots,
  renderDiff,
  summarizeDiff,
} from "../../../src/snapshot/diff.ts";
import type { Snapshot } from "../../../src/snapshot/model.ts";

const A: Snapshot = {
  meta: { name: "d", pythonVersion: "3.11", imageId: "sha256:1" },
  state: {
    python: [
      { name: "numpy", version: "1.26.4" },
      { name: "six", version: "1.16.0" },
      { name: "pip", version: "23.0" },
    ],
    r: [{ name: "cli", version: "3.6.0" }],
    conda: [],
  },
};
const B: Snapshot = {
  meta: { name: "d", pythonVersion: "3.11", imageId: "sha256:2" },
  state: {
    python: [
      { name: "pip", version: "23.0" },
      { name: "numpy", version: "2.1.0" },
      { name: "requests", version: "2.32.3" },
    ],
    r: [{ name: "cli", version: "3.6.0" }, { name: "glue", version: "1.7.0" }],
    conda: [{ name: "libzlib", version: "1.3.1" }],
  },
};

Deno.test("diff: added, removed and version changes per ecosystem; meta changes", () => {
  const d = diffSnapshots(A, B);
  assertEquals(d.python, {
    added: [{ name: "requests", version: "2.32.3" }],
    removed: [{ name: "six", version: "1.16.0" }],
    changed: [{ name: "numpy", from: "1.26.4", to: "2.1.0" }],
  });
  assertEquals(d.r.added, [{ name: "glue", version: "1.7.0" }]);
  assertEquals(d.conda.added, [{ name: "libzlib", version: "1.3.1" }]);
  assertEquals(d.meta, [{
    field: "image_id",
    label: "image ID",
    from: "sha256:1",
    to: "sha256:2",
  }]);
  assertEquals(changeCount(d), 5);
  assertEquals(changeCount(diffSnapshots(B, B), { meta: true }), 0);
});

Deno.test("diff summaries and the full rendering", () => {
  const d = diffSnapshots(A, B);
  assertEquals(
    summarizeDiff(d),
    "+requests 2.32.3, -six 1.16.0, ~numpy 1.26.4 -> 2.1.0, +R:glue 1.7.0, +conda:libzlib 1.3.1",
  );
  assertEquals(summarizeDiff(d, { max: 2 }), "+requests 2.32.3, -six 1.16.0, and 3 more");
  assertEquals(summarizeDiff(diffSnapshots(A, A)), "no package changes");
  assertEquals(
    renderDiff(diffSnapshots(B, A)),
    [
      "image ID: sha256:2 -> sha256:1",
      "Python: 1 added, 1 removed, 1 changed",
      "  + six 1.16.0",
      "  - requests 2.32.3",
      "  ~ numpy 2.1.0 -> 1.26.4",
      "R: 0 added, 1 removed, 0 changed",
      "  - glue 1.7.0",
      "conda: 0 added, 1 removed, 0 changed",
      "  - libzlib 1.3.1",
    ].join("\n"),
  );
});

Deno.test("meta from config.yaml keys", async () => {
  const { metaFromConfig } = await import("../../../src/snapshot/model.ts");
  const { parse } = await import("yaml");
  const cfg = parse(`name: demo
runtime: python
python_version: "3.11"
r_version: 4.2
created: 2025-03-01T10:00:00Z
host: {system: linux, architecture: x86_64}
engine: podman
base_image: localhost/venvoy-lab/python:3.11
base_image_pinned: localhost/venvoy-lab/python@sha256:1
image: localhost/venvoy/demo:latest
image_id: sha256:2
packages: [numpy]
package_manager: pip
venvoy_version: 0.1.0
`);
  assertEquals(metaFromConfig(cfg), {
    name: "demo",
    runtime: "python",
    packageManager: "pip",
    pythonVersion: "3.11",
    rVersion: "4.2",
    engine: "podman",
    baseImage: "localhost/venvoy-lab/python:3.11",
    baseImagePinned: "localhost/venvoy-lab/python@sha256:1",
    imageId: "sha256:2",
    venvoyVersion: "0.1.0",
  });
});
