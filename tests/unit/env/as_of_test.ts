import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { asOfTimestamp, cranUrlFor, parseAsOf, parseCranUrl } from "../../../src/env/spec.ts";
import { type EnvConfig, parseConfig, renderConfig } from "../../../src/env/config.ts";
import { sessionSpec } from "../../../src/session/mod.ts";
import { type BuildSpec, definition, dockerfile } from "../../../src/recipe/mod.ts";
import {
  parseEnvironmentYml,
  renderEnvironmentYml,
} from "../../../src/snapshot/environment_yml.ts";
import { metaFromConfig } from "../../../src/snapshot/model.ts";
import { PodmanRuntime } from "../../../src/runtime/podman.ts";
import { RecordingRunner } from "../../fakes/runner.ts";
import { UsageError } from "../../../src/ui/errors.ts";
import { runCli } from "../../../src/cli.ts";
import { tempDir } from "../../fakes/tmp.ts";
import { envConfig } from "../../fakes/env_config.ts";

const NOW = new Date("2026-12-01T12:00:00Z");

function usage(fn: () => unknown, re: RegExp) {
  assert.throws(
    fn,
    (e: unknown) => e instanceof UsageError && e.exitCode === 2 && re.test(e.message),
  );
}

Deno.test("--as-of: a real date up to tomorrow; 'none' clears; anything else is exit 2", () => {
  assertEquals(parseAsOf("2020-01-01", NOW), "2020-01-01");
  assertEquals(parseAsOf(" 2024-02-29 ", NOW), "2024-02-29");
  assertEquals(parseAsOf("none", NOW), null);
  assertEquals(asOfTimestamp("2020-01-01"), "2020-01-01T00:00:00Z");
  for (
    const bad of [
      "2020-13-01",
      "2023-02-29",
      "2020-1-1",
      "20200101",
      "2020-01-01T00:00:00Z",
      "2020-01-01\nRUN x",
      "yesterday",
      "",
    ]
  ) {
    usage(() => parseAsOf(bad, NOW), /not a date YYYY-MM-DD/);
  }
  usage(() => parseAsOf("2027-01-01", NOW), /in the future/);
});

Deno.test("--cran-url: http(s) only, {date} the only placeholder, nothing a shell would run", () => {
  const u = parseCranUrl("https://packagemanager.posit.co/cran/{date}");
  assertEquals(cranUrlFor(u, "2024-06-30"), "https://packagemanager.posit.co/cran/2024-06-30");
  assertEquals(cranUrlFor("https://cloud.r-project.org", null), "https://cloud.r-project.org");
  usage(() => cranUrlFor(u, null), /has \{date\} but the environment has no --as-of/);
  for (
    const bad of [
      "ftp://x/cran",
      "https://x/$(touch /tmp/p)",
      "https://x/`id`",
      'https://x/"q',
      "https://x/a b",
      "https://x/a\nRUN id",
      "https://x/\\",
      "file:///etc",
    ]
  ) {
    usage(() => parseCranUrl(bad), /invalid --cran-url/);
  }
  usage(() => parseCranUrl("https://x/{year}"), /the only placeholder is \{date\}/);
});

Deno.test("venvoy init --as-of with a bad date exits 2 before anything is written", async () => {
  const home = await tempDir("venvoy-asof-");
  const old = Deno.env.get("VENVOY_HOME");
  Deno.env.set("VENVOY_HOME", home);
  try {
    await assert.rejects(
      () => runCli(["init", "--name", "asof-bad", "--as-of", "2020-02-30"]),
      (e: unknown) => e instanceof UsageError && e.exitCode === 2,
    );
    await assert.rejects(
      () => runCli(["init", "--name", "asof-bad", "--cran-url", "https://x/{date}"]),
      (e: unknown) => e instanceof UsageError && /for R environments/.test(e.message),
    );
    assertEquals([...Deno.readDirSync(home)], [], "nothing written");
  } finally {
    if (old === undefined) Deno.env.delete("VENVOY_HOME");
    else Deno.env.set("VENVOY_HOME", old);
    await Deno.remove(home, { recursive: true });
  }
});

const config: EnvConfig = envConfig({ name: "paper", packages: ["six"] });

Deno.test("config.yaml: as_of and cran_url recorded when set, absent otherwise", async () => {
  const without = await renderConfig(config);
  assert(!/as_of|cran_url/.test(without), without);
  assertEquals((await parseConfig(without)).as_of, undefined);
  const text = await renderConfig({
    ...config,
    as_of: "2020-01-01",
    cran_url: "https://packagemanager.posit.co/cran/{date}",
  });
  assert(/^as_of: 2020-01-01$/m.test(text), text);
  const back = await parseConfig(text);
  assertEquals(back.as_of, "2020-01-01");
  assertEquals(back.cran_url, "https://packagemanager.posit.co/cran/{date}");
});

Deno.test("environment.yml: x-venvoy.as_of written and read back (import rebuilds as of it)", () => {
  const meta = metaFromConfig(
    { ...config, as_of: "2020-01-01" } as unknown as Record<string, unknown>,
  );
  assertEquals(meta.asOf, "2020-01-01");
  const yml = renderEnvironmentYml({
    meta,
    state: { python: [{ name: "six", version: "1.13.0" }], r: [], conda: [] },
  });
  assert(/^ {2}as_of: "?2020-01-01"?$/m.test(yml), yml);
  assertEquals(parseEnvironmentYml(yml, "environment.yml").meta.asOf, "2020-01-01");
  assert(
    !/as_of/.test(
      renderEnvironmentYml({
        meta: metaFromConfig(config as unknown as Record<string, unknown>),
        state: { python: [], r: [], conda: [] },
      }),
    ),
  );
});

Deno.test("sessions get UV_EXCLUDE_NEWER and PIP_UPLOADED_PRIOR_TO from config.yaml's as_of", () => {
  const runtime = new PodmanRuntime(new RecordingRunner(), "/usr/bin/podman", { rootless: false });
  const opts = {
    command: [],
    cwd: "/w",
    home: null,
    extraMounts: [],
    extraEnv: [] as [string, string][],
    tty: false,
    interactive: false,
    image: config.image,
    containerName: "c",
    ca: null,
  };
  const env = { name: "paper", dir: "/e/paper", config: { ...config, as_of: "2020-01-01" } };
  const spec = sessionSpec(runtime, env, opts);
  assertEquals(spec.env?.UV_EXCLUDE_NEWER, "2020-01-01T00:00:00Z");
  assertEquals(spec.env?.PIP_UPLOADED_PRIOR_TO, "2020-01-01T00:00:00Z");
  const plain = sessionSpec(runtime, { ...env, config }, opts);
  assertEquals(plain.env?.UV_EXCLUDE_NEWER, undefined);
  assertEquals(plain.env?.PIP_UPLOADED_PRIOR_TO, undefined);
});

const py: BuildSpec = {
  name: "paper",
  kind: "python",
  version: "3.11",
  from: "a".repeat(64),
  venvoyVersion: "0.1.0",
  labels: {},
};

Deno.test("build: --as-of installs requirements with uv --exclude-newer, sets the session vars last", () => {
  const plain = dockerfile(py);
  assert(!/exclude-newer|UV_EXCLUDE_NEWER|PIP_UPLOADED_PRIOR_TO/.test(plain));
  const text = dockerfile({ ...py, asOf: "2020-01-01" });
  assert(
    text.includes(
      'uv pip install --system --no-cache --exclude-newer 2020-01-01T00:00:00Z --find-links /opt/venvoy/vendor -r "$f"',
    ),
    text,
  );
  assert(
    !/python3 -m pip install --no-cache-dir --disable-pip-version-check --find-links/.test(text),
  );
  // The pinned uv is installed before the date applies (uv of 2026 did not exist in 2020).
  const envAt = text.indexOf("UV_EXCLUDE_NEWER=2020-01-01T00:00:00Z");
  assert(envAt > text.indexOf("uv pip install --system"), "the ENV comes after the installs");
  assert(text.includes("PIP_UPLOADED_PRIOR_TO=2020-01-01T00:00:00Z"));
  const def = definition({ ...py, asOf: "2020-01-01", bootstrap: "docker" });
  assert(def.includes('export UV_EXCLUDE_NEWER="2020-01-01T00:00:00Z"'), def);
  assert(def.includes("--exclude-newer 2020-01-01T00:00:00Z"), def);
  const conda = dockerfile({ ...py, kind: "conda", asOf: "2020-01-01" });
  assert(conda.includes("uv pip install --system --no-cache --exclude-newer 2020-01-01T00:00:00Z"));
  // An unvalidated value never reaches a shell line.
  assert.throws(() => dockerfile({ ...py, asOf: "2020-01-01; id" }), /unvalidated/);
});

Deno.test("build: --cran-url reaches R through VENVOY_CRAN_URL and Rprofile.site", () => {
  const r: BuildSpec = { ...py, kind: "r", version: "4.4" };
  assert(!/VENVOY_CRAN_URL/.test(dockerfile(r)));
  const text = dockerfile({ ...r, cranUrl: "https://packagemanager.posit.co/cran/2024-06-30" });
  assert(text.includes("VENVOY_CRAN_URL=https://packagemanager.posit.co/cran/2024-06-30"), text);
  assert(text.includes(`Sys.getenv("VENVOY_CRAN_URL")`) && text.includes("Rprofile.site"), text);
  const def = definition({ ...r, cranUrl: "https://packagemanager.posit.co/cran/2024-06-30" });
  assert(def.includes('export VENVOY_CRAN_URL="https://packagemanager.posit.co/cran/2024-06-30"'));
});

Deno.test("package-managers says which installer honours --as-of, by the image's pip", async () => {
  const { asOfLines, pipHonoursDate } = await import(
    "../../../src/commands/package_managers_action.ts"
  );
  assertEquals([pipHonoursDate("23.0.1"), pipHonoursDate("25.3"), pipHonoursDate("26.0")], [
    false,
    false,
    true,
  ]);
  const old = asOfLines("2020-01-01", [{ name: "pip", version: "23.0.1" }]).join("\n");
  assert(/As of 2020-01-01/.test(old) && /uv honours it always/.test(old), old);
  assert(/pip 23\.0\.1 does NOT honour it/.test(old), old);
  const recent = asOfLines("2020-01-01", [{ name: "pip", version: "26.1" }]).join("\n");
  assert(/pip 26\.1 honours it too/.test(recent), recent);
  assert(/from pip 26\.0/.test(asOfLines(null, []).join("\n")));
});
