import assert, { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { compareVersions, mustParseVersion, parseVersion } from "../../../src/release/version.ts";

Deno.test("parseVersion reads x.y.z, a leading v, pre-release and build parts", () => {
  assertEquals(parseVersion("0.1.0"), { major: 0, minor: 1, patch: 0, pre: [], text: "0.1.0" });
  assertEquals(parseVersion(" v1.20.3\n")?.text, "1.20.3");
  assertEquals(parseVersion("1.0.0-rc.1+sha.5")?.pre, ["rc", "1"]);
  for (const bad of ["", "1.0", "1.0.0.0", "01.0.0", "1.0.0-", "latest", "1.0.0 beta", "<html>"]) {
    assertEquals(parseVersion(bad), null, bad);
  }
});

Deno.test("mustParseVersion names the source of a bad version", () => {
  throws(
    () => mustParseVersion("<!doctype html>", "https://x/VERSION"),
    /https:\/\/x\/VERSION does not hold a version: '<!doctype html>'/,
  );
});

Deno.test("compareVersions orders as semver does", () => {
  const ordered = [
    "0.0.9",
    "0.1.0-alpha",
    "0.1.0-alpha.1",
    "0.1.0-alpha.beta",
    "0.1.0-beta",
    "0.1.0-beta.2",
    "0.1.0-beta.11",
    "0.1.0-rc.1",
    "0.1.0",
    "0.1.1",
    "0.2.0",
    "0.10.0",
    "1.0.0",
    "10.0.0",
  ];
  for (let i = 0; i < ordered.length; i++) {
    for (let j = 0; j < ordered.length; j++) {
      const c = compareVersions(ordered[i], ordered[j]);
      assert(Math.sign(c) === Math.sign(i - j), `${ordered[i]} vs ${ordered[j]}: ${c}`);
    }
  }
  assertEquals(compareVersions("v1.2.3", "1.2.3+build.7"), 0);
});
