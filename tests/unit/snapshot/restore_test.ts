import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { Snapshot } from "../../../src/snapshot/model.ts";
import {
  chooseSnapshot,
  compareVersions,
  condaInstallArgv,
  nearestVersion,
  parsePipUnavailable,
  pipInstallArgv,
  planRestore,
  renderDeviations,
  renderMismatches,
  resolveUnavailable,
  rInstallArgv,
  verifyRestore,
} from "../../../src/snapshot/restore.ts";
import type { SnapshotEntry } from "../../../src/snapshot/store.ts";
import { UsageError, VenvoyError } from "../../../src/ui/errors.ts";

const entry = (id: string): SnapshotEntry => ({
  id,
  time: new Date(0),
  yml: `${id}.yml`,
  rLock: null,
});
const ENTRIES = [entry("20250302_000000"), entry("20250301_000000")];

const TARGET: Snapshot = {
  meta: { name: "demo", pythonVersion: "3.11", rVersion: "4.2.2" },
  state: {
    python: [
      { name: "numpy", version: "1.26.4" },
      { name: "pip", version: "23.0.1" },
      { name: "requests", version: "2.31.0" },
    ],
    r: [{ name: "cli", version: "3.6.0", source: "Repository", repository: "CRAN" }],
    conda: [],
  },
};

Deno.test("choose: --snapshot id or latest; a prompt on a terminal; else --snapshot is required", () => {
  const o = { name: "demo", interactive: false };
  assertEquals(chooseSnapshot(ENTRIES, "latest", o), ENTRIES[0]);
  assertEquals(chooseSnapshot(ENTRIES, "20250301_000000", o), ENTRIES[1]);
  assertEquals(chooseSnapshot(ENTRIES, undefined, { ...o, interactive: true }), "ask");
  assert.throws(
    () => chooseSnapshot(ENTRIES, undefined, o),
    (e) => e instanceof UsageError && /--snapshot/.test(e.message),
  );
  assert.throws(
    () => chooseSnapshot(ENTRIES, "20990101_000000", o),
    /20250302_000000 {2}\(latest\)/,
  );
});

Deno.test("plan: install exactly what differs from the image; image extras need a rebuild", () => {
  const plan = planRestore(TARGET, {
    python: [{ name: "numpy", version: "2.1.0" }, { name: "pip", version: "23.0.1" }, {
      name: "six",
      version: "1.16.0",
    }],
    r: [],
    conda: [],
  }, { pythonVersion: "3.11.2", rVersion: "4.3.1" });
  assertEquals(plan.python.install, [
    { name: "numpy", version: "1.26.4" },
    { name: "requests", version: "2.31.0" },
  ]);
  assertEquals(plan.python.needsRebuild, [{ name: "six", version: "1.16.0" }]);
  assertEquals(plan.r.install.map((p) => p.name), ["cli"]);
  assertEquals(plan.interpreter, [{ what: "R", wanted: "4.2.2", image: "4.3.1" }]);
  assertEquals(pipInstallArgv(plan.python.install), [
    "python3",
    "-m",
    "pip",
    "install",
    "--no-deps",
    "--no-input",
    "--disable-pip-version-check",
    "--ignore-installed",
    "--prefix",
    "/opt/venvoy/persist/python",
    "numpy==1.26.4",
    "requests==2.31.0",
  ]);
  const r = rInstallArgv(plan.r.install);
  assertEquals(r.slice(0, 3), ["Rscript", "--vanilla", "-e"]);
  assert(r[3].includes('get1("cli", "3.6.0", "https://cloud.r-project.org")'), r[3]);
  assert(r[3].includes("/opt/venvoy/persist/R/library"));
  assertEquals(
    condaInstallArgv([{ name: "samtools", version: "1.20" }], {
      channels: ["bioconda", "conda-forge"],
      pythonVersion: "3.11",
    }),
    [
      "mamba",
      "create",
      "--yes",
      "--prefix",
      "/opt/venvoy/persist/conda",
      "--override-channels",
      "--channel",
      "bioconda",
      "--channel",
      "conda-forge",
      "python=3.11",
      "samtools=1.20",
    ],
  );
});

const PIP_ERR =
  `ERROR: Could not find a version that satisfies the requirement numpy==1.26.99 (from versions: 1.25.2, 1.26.0, 1.26.4, 2.0.0)
ERROR: No matching distribution found for numpy==1.26.99
ERROR: Could not find a version that satisfies the requirement Gone_Pkg==1.0 (from versions: none)`;

Deno.test("unavailable versions: a failure listing each, or the nearest with every deviation", () => {
  const un = parsePipUnavailable(PIP_ERR);
  assertEquals(un.get("numpy"), ["1.25.2", "1.26.0", "1.26.4", "2.0.0"]);
  assertEquals(un.get("gone-pkg"), []);
  const pkgs = [{ name: "numpy", version: "1.26.99" }, { name: "rich", version: "13.7.1" }];
  assert.throws(
    () => resolveUnavailable(pkgs, un, { ecosystem: "python", allowNearest: false }),
    (e) =>
      e instanceof VenvoyError &&
      /numpy==1\.26\.99: not available \(available: .*1\.26\.4/.test(e.message) &&
      /--allow-nearest/.test(e.hint ?? ""),
  );
  const r = resolveUnavailable(pkgs, un, { ecosystem: "python", allowNearest: true });
  assertEquals(r.pkgs, [{ name: "numpy", version: "1.26.4" }, { name: "rich", version: "13.7.1" }]);
  assertEquals(renderDeviations(r.deviations), "  Python numpy: wanted 1.26.99, installed 1.26.4");
  assert.throws(
    () =>
      resolveUnavailable([{ name: "gone-pkg", version: "1.0" }], un, {
        ecosystem: "python",
        allowNearest: true,
      }),
    /gone-pkg==1.0: not available \(no versions at all\)/,
  );
});

Deno.test("versions order numerically; nearest prefers the newest not above", () => {
  assert(compareVersions("1.10.0", "1.9.3") > 0);
  assertEquals(compareVersions("2.0", "2.0.0"), 0);
  assertEquals(nearestVersion("1.5", ["1.2", "1.4.9", "2.0"]), "1.4.9");
  assertEquals(nearestVersion("0.1", ["1.2", "2.0"]), "1.2");
  assertEquals(nearestVersion("1", []), null);
});

Deno.test("verify: every difference between the snapshot and a fresh listing", () => {
  const fresh: Snapshot = {
    meta: { name: "demo", pythonVersion: "3.11.2", rVersion: "4.2.2" },
    state: {
      python: [{ name: "numpy", version: "2.1.0" }, { name: "pip", version: "23.0.1" }, {
        name: "six",
        version: "1.16.0",
      }],
      r: [{ name: "cli", version: "3.6.0" }],
      conda: [],
    },
  };
  const m = verifyRestore(TARGET, fresh);
  assertEquals(
    renderMismatches(m),
    [
      "  Python requests 2.31.0: missing",
      "  Python six 1.16.0: not in the snapshot",
      "  Python numpy: wanted 1.26.4, found 2.1.0",
    ].join("\n"),
  );
  assertEquals(
    verifyRestore(TARGET, { ...TARGET, meta: { ...TARGET.meta, pythonVersion: "3.11.9" } }),
    [],
  );
});
