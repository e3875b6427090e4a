import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import {
  freezePackages,
  lockFromVendor,
  offlineInstallArgv,
  parseDistFilename,
  pipWheelArgv,
  renderPins,
} from "../../../src/snapshot/freeze.ts";
import { tempDir } from "../../fakes/tmp.ts";

Deno.test("freeze: packages, pins and the pip commands run in the image", () => {
  const pkgs = freezePackages([
    { name: "pip", version: "23.0.1" },
    { name: "requests", version: "2.32.3" },
    { name: "numpy", version: "2.1.0" },
    { name: "setuptools", version: "66.1.1" },
  ]);
  assertEquals(renderPins(pkgs), "numpy==2.1.0\nrequests==2.32.3\n");
  assertEquals(pipWheelArgv({ requirements: "/opt/venvoy/vendor/pins.txt" }), [
    "python3",
    "-m",
    "pip",
    "wheel",
    "--no-deps",
    "--disable-pip-version-check",
    "--progress-bar",
    "on",
    "--find-links",
    "/opt/venvoy/vendor",
    "--wheel-dir",
    "/opt/venvoy/vendor",
    "--requirement",
    "/opt/venvoy/vendor/pins.txt",
  ]);
  assertEquals(offlineInstallArgv({ lock: "/tmp/requirements.lock" }), [
    "python3",
    "-m",
    "pip",
    "install",
    "--no-index",
    "--find-links",
    "/opt/venvoy/vendor",
    "--require-hashes",
    "--no-deps",
    "--requirement",
    "/tmp/requirements.lock",
  ]);
});

Deno.test("wheel and sdist file names", () => {
  assertEquals(parseDistFilename("numpy-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl"), {
    name: "numpy",
    version: "2.1.0",
    kind: "wheel",
  });
  assertEquals(parseDistFilename("Zope.Interface-6.4-1-py3-none-any.whl")?.name, "zope-interface");
  assertEquals(parseDistFilename("python-dateutil-2.9.0.tar.gz"), {
    name: "python-dateutil",
    version: "2.9.0",
    kind: "sdist",
  });
  assertEquals(parseDistFilename("README"), null);
});

Deno.test("requirements.lock in pip's --hash format from the wheels in vendor/", async () => {
  const vendor = await tempDir();
  const put = async (f: string, content: string) => {
    await Deno.writeTextFile(join(vendor, f), content);
    return createHash("sha256").update(content).digest("hex");
  };
  const h1 = await put("requests-2.32.3-py3-none-any.whl", "wheel one");
  const h2 = await put("numpy-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl", "numpy x86");
  const h3 = await put("numpy-2.1.0-cp311-cp311-manylinux_2_17_aarch64.whl", "numpy arm");
  await put("requests-2.31.0-py3-none-any.whl", "old one, not in the state");
  const r = await lockFromVendor(vendor, [
    { name: "numpy", version: "2.1.0" },
    { name: "requests", version: "2.32.3" },
    { name: "rich", version: "13.7.1" },
  ]);
  assertEquals(r.missing, [{ name: "rich", version: "13.7.1" }]);
  const body = r.text.split("\n").filter((l) => !l.startsWith("#")).join("\n");
  assertEquals(
    body,
    `numpy==2.1.0 \\\n    --hash=sha256:${[h2, h3].sort()[0]} \\\n    --hash=sha256:${
      [h2, h3].sort()[1]
    }\n` +
      `requests==2.32.3 \\\n    --hash=sha256:${h1}\n`,
  );
});
