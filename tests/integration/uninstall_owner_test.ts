/**
 * Issue #11 item 9 in the lab: two VENVOY_HOMEs share one podman store (as users share a
 * Docker daemon), each with one environment, beside a foreign image that carries venvoy's
 * label (and even the first home's environment name). Uninstalling the first home removes
 * its own image only: the other home's image and the foreign image survive.
 *
 * Runs the bundled product (dist/venvoy); uninstall removes that copied binary, so this
 * file has a single test.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { type CliResult, venvoy } from "./cli.ts";
import { ignoreUnless, LAB_DEBIAN, LAB_PYTHON, runner } from "./lab.ts";

const noPodman = ignoreUnless("podman");
const hasPythonLab = !noPodman &&
  (await runner.run({ cmd: ["podman", "image", "exists", LAB_PYTHON] })).code === 0;
if (!noPodman && !hasPythonLab) {
  console.error(`SKIP uninstall owner test: ${LAB_PYTHON} is missing (run tests/lab/setup.sh)`);
}

const ID = crypto.randomUUID().slice(0, 8);
const NAME_A = `it-own-a-${ID}`;
const NAME_B = `it-own-b-${ID}`;
const FOREIGN = `localhost/venvoy-it-foreign-${ID}:latest`;
const tag = (n: string) => `localhost/venvoy/${n}:latest`;

function must(res: CliResult, what: string): CliResult {
  assertEquals(res.code, 0, `${what} failed (exit ${res.code}):\n${res.stderr}`);
  return res;
}

async function exists(ref: string): Promise<boolean> {
  return (await runner.run({ cmd: ["podman", "image", "exists", ref] })).code === 0;
}

async function labels(ref: string): Promise<Record<string, string>> {
  const res = await runner.run({
    cmd: ["podman", "image", "inspect", "--format", "{{json .Labels}}", ref],
  });
  return JSON.parse(res.stdout || "{}") ?? {};
}

Deno.test({
  name: "uninstall removes its own VENVOY_HOME's image; another home's and a foreign one survive",
  ignore: noPodman || !hasPythonLab,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "venvoy-it-own-" });
    const machine = (id: string) => ({
      HOME: join(root, id, "home"),
      VENVOY_HOME: join(root, id, "vh"),
      VENVOY_PROJECTS: join(root, id, "vp"),
      XDG_CACHE_HOME: join(root, id, "cache"),
      TMPDIR: join(root, id, "tmp"),
      VENVOY_LINK_DIR: join(root, id, "links"),
      VENVOY_INSTALL_DIR: join(root, id, "bin"),
    });
    const a = machine("a");
    const b = machine("b");
    for (const m of [a, b]) {
      for (const d of [m.HOME, m.TMPDIR, m.VENVOY_LINK_DIR]) {
        await Deno.mkdir(d, { recursive: true });
      }
    }
    const cwd = join(root, "cwd");
    await Deno.mkdir(cwd);
    try {
      // A foreign image with venvoy's label and A's environment name.
      const ctx = join(root, "foreign");
      await Deno.mkdir(ctx);
      await Deno.writeTextFile(
        join(ctx, "Containerfile"),
        `FROM ${LAB_DEBIAN}\nLABEL org.venvoy.managed=true org.venvoy.env=${NAME_A}\n`,
      );
      const built = await runner.run({
        cmd: ["podman", "build", "-q", "-t", FOREIGN, "-f", join(ctx, "Containerfile"), ctx],
      });
      assertEquals(built.code, 0, built.stderr);

      const init = (env: Record<string, string>, name: string) =>
        venvoy(["--engine", "podman", "init", "--name", name, "--base-image", LAB_PYTHON], {
          env,
          cwd,
        });
      must(await init(a, NAME_A), "init in home A");
      must(await init(b, NAME_B), "init in home B");
      const keyA = (await labels(tag(NAME_A)))["org.venvoy.owner"];
      const keyB = (await labels(tag(NAME_B)))["org.venvoy.owner"];
      assert(/^[0-9a-f]{24}$/.test(keyA ?? ""), `owner label on A's image: ${keyA}`);
      assert(keyB && keyB !== keyA, "each VENVOY_HOME has its own key");

      const dry = must(await venvoy(["uninstall", "--dry-run"], { env: a, cwd }), "dry run");
      assert(dry.stdout.includes(tag(NAME_A)), dry.stdout);
      assert(!dry.stdout.includes(tag(NAME_B)), dry.stdout);
      assert(!dry.stdout.includes(FOREIGN), dry.stdout);

      must(await venvoy(["uninstall", "--force"], { env: a, cwd }), "uninstall home A");
      assertEquals(await exists(tag(NAME_A)), false, "A's image is removed");
      assertEquals(await exists(tag(NAME_B)), true, "B's image survives");
      assertEquals(await exists(FOREIGN), true, "the foreign labelled image survives");
      assertEquals(await Deno.stat(a.VENVOY_HOME).catch(() => null), null);
      assert((await Deno.stat(join(b.VENVOY_HOME, "environments", NAME_B))).isDirectory);
    } finally {
      for (const ref of [tag(NAME_A), tag(NAME_B), FOREIGN]) {
        await runner.run({ cmd: ["podman", "rmi", "-f", ref] });
      }
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  },
});
