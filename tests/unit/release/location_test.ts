import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { UsageError } from "../../../src/ui/errors.ts";
import {
  assetName,
  DEFAULT_RELEASE_URL,
  hostTarget,
  RELEASE_TARGETS,
  releaseBase,
} from "../../../src/release/location.ts";

const env = (vars: Record<string, string>) => (n: string) => vars[n];

Deno.test("asset names: venvoy-<target>, .exe on Windows", () => {
  assertEquals(RELEASE_TARGETS.map(assetName), [
    "venvoy-x86_64-unknown-linux-gnu",
    "venvoy-aarch64-unknown-linux-gnu",
    "venvoy-x86_64-apple-darwin",
    "venvoy-aarch64-apple-darwin",
    "venvoy-x86_64-pc-windows-msvc.exe",
  ]);
});

Deno.test("hostTarget maps Deno's target; Windows on Arm takes the x86_64 build", () => {
  assertEquals(hostTarget("aarch64-apple-darwin"), "aarch64-apple-darwin");
  assertEquals(hostTarget("aarch64-pc-windows-msvc"), "x86_64-pc-windows-msvc");
  assertEquals(RELEASE_TARGETS.includes(hostTarget()), true);
  throws(() => hostTarget("riscv64gc-unknown-linux-gnu"), /no release for this platform/);
});

Deno.test("releaseBase: the GitHub default, or VENVOY_RELEASE_URL without trailing slashes", () => {
  assertEquals(releaseBase(env({})), DEFAULT_RELEASE_URL);
  assertEquals(releaseBase(env({ VENVOY_RELEASE_URL: "  " })), DEFAULT_RELEASE_URL);
  assertEquals(
    releaseBase(env({ VENVOY_RELEASE_URL: "https://127.0.0.1:8000/rel//" })),
    "https://127.0.0.1:8000/rel",
  );
  assertEquals(
    releaseBase(env({ VENVOY_RELEASE_URL: "/srv/venvoy releases/" })),
    "file:///srv/venvoy%20releases",
  );
  assertEquals(releaseBase(env({ VENVOY_RELEASE_URL: "file:///srv/r" })), "file:///srv/r");
  throws(() => releaseBase(env({ VENVOY_RELEASE_URL: "mirror/venvoy" })), /not a URL/);
  throws(() => releaseBase(env({ VENVOY_RELEASE_URL: "ftp://h/x" })), UsageError);
  assertEquals(
    releaseBase(env({ VENVOY_RELEASE_URL: "https://a/x" }), { url: "file:///b/" }),
    "file:///b",
  );
});

Deno.test("releaseBase refuses plain http:// (exit 2) unless asked: flag or VENVOY_INSECURE_HTTP", () => {
  const http = "http://127.0.0.1:8000/rel/";
  for (const given of [env({ VENVOY_RELEASE_URL: http }), env({ VENVOY_INSECURE_HTTP: "0" })]) {
    throws(() => releaseBase(given, given("VENVOY_RELEASE_URL") ? {} : { url: http }), {
      name: "UsageError",
      message: `refusing a plain http:// release URL: '${http}'`,
    });
  }
  throws(() => releaseBase(env({}), { url: "Http://h/x" }), UsageError);
  assertEquals(
    releaseBase(env({}), { url: http, insecureHttp: true }),
    "http://127.0.0.1:8000/rel",
  );
  for (const yes of ["1", "true", "YES"]) {
    assertEquals(
      releaseBase(env({ VENVOY_RELEASE_URL: http, VENVOY_INSECURE_HTTP: yes })),
      "http://127.0.0.1:8000/rel",
    );
  }
});

Deno.test("install.sh and install.ps1 default to the same release folder", async () => {
  const root = new URL("../../../", import.meta.url);
  for (const f of ["install.sh", "install.ps1"]) {
    const text = await Deno.readTextFile(new URL(f, root));
    assertEquals(
      text.includes(`"${DEFAULT_RELEASE_URL}"`) || text.includes(`'${DEFAULT_RELEASE_URL}'`),
      true,
      f,
    );
  }
});
