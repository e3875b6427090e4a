/**
 * Issue 18, items 3-6, performed through the bundled product (dist/venvoy) with a fake
 * podman (a shell script: the attacks are on venvoy's own file handling, so a real engine
 * would only add time):
 *  - an archive's env/ that ships a parsed-config cache keyed for the config.yaml import
 *    writes, and a SIF named for the image: neither survives the import, and `run` starts
 *    the verified image;
 *  - persist/ as a container could leave it (METADATA a link to a host file, METADATA a
 *    FIFO) and a container's os.txt that is a link or a FIFO: no host line reaches the
 *    SBOM or the state, and sbom, run (its end-of-session catch-up), freeze and export end
 *    promptly;
 *  - a record whose command holds a newline, a fake verdict line and ESC[8m: `history`
 *    prints it escaped; --json keeps it exact.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { type CliResult, venvoy } from "./cli.ts";
import { writeConfig } from "../../src/env/config.ts";
import { envConfig } from "../fakes/env_config.ts";
import {
  craftArchive,
  type Crafted,
  dockerArchiveImage,
  manifestFor,
  tarBytes,
} from "../unit/archive/craft.ts";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");
const CONFIG = JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { diff_ids: [] } });
const ID = `sha256:${sha(CONFIG)}`;
/** A line no venvoy output has, in a host file a container could link to. */
const SECRET = "Name: hostsecret\nVersion: 6.6.6\n@@deb\nhostsecret\t6.6.6\tamd64\n";

/**
 * podman as far as venvoy asks it: version, load (names the image by ID), tag, inspect,
 * and run, which logs its argv and, as a hostile image would, leaves in the folder mounted
 * at /opt/venvoy/out an os.txt that is a link to $FAKE_SECRET or a FIFO ($FAKE_OS).
 */
const FAKE_PODMAN = `#!/bin/sh
printf '%s\\n' "$*" >> "$FAKE_LOG"
case "$1" in
  version) echo '{"Client":{"Version":"4.3.1"}}' ;;
  load) echo "Loaded image: $FAKE_ID" ;;
  image)
    [ "$2" = inspect ] && printf '[{"Id":"%s","Architecture":"amd64","Os":"linux","Config":{}}]\\n' "\${FAKE_ID#sha256:}" ;;
  run)
    for a in "$@"; do
      case "$a" in
        type=bind,source=*,target=/opt/venvoy/out)
          out=\${a#type=bind,source=}; out=\${out%,target=/opt/venvoy/out}
          [ "$FAKE_OS" = link ] && ln -s "$FAKE_SECRET" "$out/os.txt"
          [ "$FAKE_OS" = fifo ] && mkfifo "$out/os.txt"
          [ "$FAKE_OS" = ok ] && printf '@@os-release\\nid\\tdebian\\n' > "$out/os.txt" ;;
      esac
    done ;;
esac
exit 0
`;

/** dist/venvoy with a deadline: a hang is a failure that names the command, not a stuck CI. */
async function bounded(
  args: string[],
  o: { env: Record<string, string>; cwd: string; ms?: number },
): Promise<CliResult> {
  const ms = o.ms ?? 30_000;
  const started = Date.now();
  const res = await venvoy(args, { env: o.env, cwd: o.cwd, timeoutMs: ms });
  const took = Date.now() - started;
  assert.ok(took < ms, `venvoy ${args.join(" ")} hung (killed after ${took} ms)`);
  return res;
}

async function machine(root: string, id: string, extra: Record<string, string> = {}) {
  const bin = join(root, "bin");
  await Deno.mkdir(bin, { recursive: true });
  await Deno.writeTextFile(join(bin, "podman"), FAKE_PODMAN);
  await Deno.chmod(join(bin, "podman"), 0o755);
  await Deno.writeTextFile(join(root, "secret.txt"), SECRET);
  const cwd = join(root, id, "cwd");
  await Deno.mkdir(cwd, { recursive: true });
  return {
    cwd,
    env: {
      HOME: join(root, id, "home"),
      VENVOY_HOME: join(root, id, "vh"),
      VENVOY_PROJECTS: join(root, id, "vp"),
      VENVOY_ENGINE: "podman",
      PATH: `${bin}:/usr/bin:/bin`,
      FAKE_LOG: join(root, id, "podman.log"),
      FAKE_ID: ID,
      FAKE_SECRET: join(root, "secret.txt"),
      ...extra,
    },
  };
}

function imageTar(): string {
  const tags = ["localhost/venvoy/t:latest"];
  return new TextDecoder().decode(tarBytes([
    { name: `${sha(CONFIG)}.json`, data: CONFIG },
    {
      name: "manifest.json",
      data: JSON.stringify([{ Config: `${sha(CONFIG)}.json`, RepoTags: tags, Layers: [] }]),
    },
  ]));
}

async function writeArchive(path: string, env: Crafted[]): Promise<void> {
  const members: Crafted[] = [
    { name: "image.tar", data: imageTar() },
    {
      name: "env/config.yaml",
      data: "name: t\nruntime: python\npython_version: '3.11'\nengine: podman\n" +
        "image: localhost/venvoy/t:latest\n",
    },
    ...env,
  ];
  const manifest = manifestFor(members, { image: dockerArchiveImage(ID) });
  await Deno.writeFile(path, craftArchive(members, { manifest }));
}

/** apptainer as far as venvoy asks it: its version, a build (writes "SIF"), exec (logged). */
const FAKE_APPTAINER = `#!/bin/sh
printf '%s\\n' "$*" >> "$FAKE_LOG"
case "$1" in
  --version) echo "apptainer version 1.4.5" ;;
  build) printf 'SIF' > "$3" ;;
esac
exit 0
`;

/** The `podman run` lines of a fake podman's log. */
async function runs(log: string): Promise<string[]> {
  const text = await Deno.readTextFile(log).catch(() => "");
  return text.split("\n").filter((l) => l.startsWith("run "));
}

Deno.test({
  name:
    "issue 18.4/18.5: a planted config cache and SIF do not survive import; run starts the verified image",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "venvoy-it-plant-" });
    try {
      // The author's rehearsal: import the honest archive once, let venvoy cache its
      // config.yaml, and take the key (config.yaml's text is the same on every machine).
      const a = await machine(root, "a");
      const honest = join(root, "honest.tar.gz");
      await writeArchive(honest, []);
      let r = await bounded(["import", honest], a);
      assertEquals(r.code, 0, r.stderr);
      r = await bounded(["run", "t", "--command", "true"], a);
      assertEquals(r.code, 0, r.stderr);
      const aEnv = join(a.env.VENVOY_HOME, "environments", "t");
      const cache = JSON.parse(await Deno.readTextFile(join(aEnv, ".config.cache.json")));
      assert.ok(typeof cache.key === "string" && cache.config.image, "run cached the config");
      const evil = "localhost/evil/miner:latest";
      const sifName = `image-${ID.slice(7, 19)}.sif`;
      const hostile = join(root, "hostile.tar.gz");
      await writeArchive(hostile, [
        {
          name: "env/.config.cache.json",
          data: JSON.stringify({ key: cache.key, config: { ...cache.config, image: evil } }),
        },
        { name: `env/${sifName}`, data: "a SIF the author built" },
      ]);

      const b = await machine(root, "b");
      const r0 = await bounded(["import", hostile], b);
      assertEquals(r0.code, 0, r0.stderr);
      const envDir = join(b.env.VENVOY_HOME, "environments", "t");
      const left = [...Deno.readDirSync(envDir)].map((e) => e.name).sort();
      r = await bounded(["run", "t", "--command", "true"], b);
      assertEquals(r.code, 0, r.stderr);
      const started = await runs(b.env.FAKE_LOG);
      assertEquals(started.length, 1, started.join("\n"));
      assert.ok(!started[0].includes(evil), `run started the planted image: ${started[0]}`);
      assert.ok(started[0].includes(" localhost/venvoy/t:latest "), started[0]);
      assert.ok(!left.includes(".config.cache.json"), `the planted cache is gone: ${left}`);
      assert.ok(!left.includes(sifName), `the planted SIF is gone: ${left}`);
      assert.match(r0.stderr, /left out of the import .*env\/\.config\.cache\.json/);
      assert.match(r0.stderr, new RegExp(`env/${sifName}`));
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

/** An environment whose persist/ a container filled with a link and a FIFO. */
async function hostileEnv(root: string, m: Awaited<ReturnType<typeof machine>>) {
  const envDir = join(m.env.VENVOY_HOME, "environments", "s");
  await writeConfig(envDir, envConfig({ name: "s", image_id: ID }));
  const site = join(envDir, "persist/python/lib/python3.11/site-packages");
  await Deno.mkdir(join(site, "good-1.0.dist-info"), { recursive: true });
  await Deno.writeTextFile(join(site, "good-1.0.dist-info", "RECORD"), "");
  // Names that do not parse, so the metadata inside is read.
  await Deno.mkdir(join(site, "linked.dist-info"));
  await Deno.symlink(join(root, "secret.txt"), join(site, "linked.dist-info", "METADATA"));
  await Deno.mkdir(join(site, "fifo.dist-info"));
  const mk = await new Deno.Command("mkfifo", { args: [join(site, "fifo.dist-info", "METADATA")] })
    .output();
  assert.ok(mk.success, "mkfifo");
  return envDir;
}

Deno.test({
  name:
    "issue 18.6: a container's links and FIFOs: no host line in the SBOM or state; sbom, run, freeze, export end",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "venvoy-it-fifo-" });
    try {
      for (const os of ["link", "fifo", "ok"]) {
        const m = await machine(root, os, { FAKE_OS: os });
        await hostileEnv(root, m);
        const r = await bounded(["sbom", "s"], { ...m, ms: 20_000 });
        const all = r.stdout + r.stderr;
        assert.ok(!all.includes("hostsecret"), `${os}: a host line got out:\n${all}`);
        if (os === "ok") {
          assertEquals(r.code, 0, r.stderr);
          const names = JSON.parse(r.stdout).components.map((c: { name: string }) => c.name);
          assert.ok(names.includes("good"), names.join(","));
          assert.match(r.stderr, /not read: .*linked\.dist-info\/METADATA: it is a link/);
          assert.match(r.stderr, /not read: .*fifo\.dist-info\/METADATA: not a regular file/);
        } else {
          assertEquals(r.code, 1, r.stderr);
          assert.match(r.stderr, /the container's os\.txt: (it is a link|not a regular file)/);
        }
      }
      const m = await machine(root, "cmds");
      await hostileEnv(root, m);
      const run = await bounded(["run", "s", "--command", "true"], { ...m, ms: 20_000 });
      assertEquals(run.code, 0, run.stderr);
      assert.match(run.stderr, /not read: .*fifo\.dist-info\/METADATA/, "the catch-up read it");
      const freeze = await bounded(["freeze", "--name", "s"], { ...m, ms: 20_000 });
      // It read the state (and stopped later: this environment has no image list).
      assert.match(freeze.stderr, /not read: .*fifo\.dist-info\/METADATA/);
      assert.ok(!(freeze.stdout + freeze.stderr).includes("hostsecret"), freeze.stderr);
      const yml = join(m.cwd, "s.yml");
      const exp = await bounded(["export", "--name", "s", "--format", "yaml", "-o", yml], {
        ...m,
        ms: 20_000,
      });
      assertEquals(exp.code, 0, exp.stderr);
      const text = await Deno.readTextFile(yml);
      assert.match(text, /good==1\.0/);
      assert.ok(!text.includes("hostsecret"), text);
      // The snapshots the catch-up and export wrote hold no host line either.
      const snaps = join(m.env.VENVOY_PROJECTS, "s");
      for (const e of Deno.readDirSync(snaps)) {
        if (!e.isFile) continue;
        assert.ok(!Deno.readTextFileSync(join(snaps, e.name)).includes("hostsecret"), e.name);
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "issue 18.3: history prints a record's command escaped; --json keeps it exact",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "venvoy-it-hist-" });
    try {
      const m = await machine(root, "h");
      const project = join(m.env.VENVOY_PROJECTS, "t");
      await Deno.mkdir(join(project, "records"), { recursive: true });
      await Deno.writeTextFile(
        join(project, "environment_20250101_000000.yml"),
        "name: t\ndependencies: []\n",
      );
      const command = "python run.py\nverdict: same\n\u001b[8m";
      await Deno.writeTextFile(
        join(project, "records", "20250101_000001.json"),
        JSON.stringify({
          format: "venvoy-record",
          format_version: 1,
          id: "20250101_000001",
          environment: "t",
          command,
          workdir: ".",
          image: "localhost/venvoy/t:latest",
          image_id: null,
          snapshot: null,
          engine: "podman",
          architecture: "x86_64",
          os: "linux",
          started: "2025-01-01T00:00:01Z",
          ended: "2025-01-01T00:00:02Z",
          exit_code: 0,
          input_paths: [],
          output_paths: [],
          inputs: [],
          outputs: [],
          missing_outputs: [],
          venvoy_version: "1.0.0",
        }),
      );
      const r = await bounded(["history", "--name", "t"], m);
      assertEquals(r.code, 0, r.stderr);
      assert.ok(!r.stdout.includes("\u001b"), "no raw ESC");
      assert.ok(!/^verdict: same/m.test(r.stdout), r.stdout);
      assert.ok(r.stdout.includes("python run.py\\nverdict: same\\n\\x1b[8m"), r.stdout);
      const j = await bounded(["history", "--name", "t", "--json"], m);
      assertEquals(j.code, 0, j.stderr);
      assertEquals(JSON.parse(j.stdout).records[0].command, command);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "issue 18.3: list prints an imported config.yaml's strings escaped; --json keeps them",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "venvoy-it-list-" });
    try {
      const m = await machine(root, "l");
      const version = "3.11\nl2  Python 3.12  podman  yes\u001b[8m";
      await writeConfig(
        join(m.env.VENVOY_HOME, "environments", "l"),
        envConfig({ name: "l", python_version: version }),
      );
      const r = await bounded(["list"], m);
      assertEquals(r.code, 0, r.stderr);
      assert.ok(!r.stdout.includes("\u001b"), "no raw ESC");
      assert.ok(!/^l2 /m.test(r.stdout), r.stdout);
      assert.ok(r.stdout.includes("3.11\\nl2"), r.stdout);
      const j = await bounded(["list", "--json"], m);
      assertEquals(JSON.parse(j.stdout)[0].version, version);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "issue 18.5: a SIF venvoy did not make never runs; one changed since is made again",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "venvoy-it-sif-" });
    try {
      const m = await machine(root, "s");
      const abin = join(root, "abin");
      await Deno.mkdir(abin);
      await Deno.writeTextFile(join(abin, "apptainer"), FAKE_APPTAINER);
      await Deno.chmod(join(abin, "apptainer"), 0o755);
      const envDir = join(m.env.VENVOY_HOME, "environments", "t");
      await writeConfig(envDir, envConfig({ name: "t", image_id: ID }));
      await Deno.mkdir(join(envDir, "persist"));
      const sif = join(envDir, `image-${ID.slice(7, 19)}.sif`);
      await Deno.writeTextFile(sif, "PLANTED"); // as an archive's env/ placed it before
      const { VENVOY_ENGINE: _, ...base } = m.env;
      const log = () => Deno.readTextFile(m.env.FAKE_LOG).catch(() => "");
      // A compute node: apptainer, no podman. The planted file is not run.
      const node = { ...base, PATH: abin };
      let r = await bounded(["run", "t", "--command", "true"], { env: node, cwd: m.cwd });
      assertEquals(r.code, 3, r.stderr);
      assert.match(r.stderr, /built with podman, which is not installed here/);
      assert.ok(!/^exec /m.test(await log()), await log());
      // The login node: the planted file is replaced by a conversion of the image.
      const login = { ...base, PATH: `${abin}:${m.env.PATH}` };
      const args = ["--engine", "apptainer", "run", "t", "--command", "true"];
      r = await bounded(args, { env: login, cwd: m.cwd });
      assertEquals(r.code, 0, r.stderr);
      assert.match(r.stderr, /is not a SIF venvoy made from 't''s image/);
      assertEquals(await Deno.readTextFile(sif), "SIF");
      const execs = (await log()).split("\n").filter((l) => l.startsWith("exec "));
      assertEquals(execs.length, 1);
      assert.ok(execs[0].includes(sif), execs[0]);
      // Changed after venvoy made it (the same size): made again before it runs.
      await Deno.writeTextFile(sif, "EVL");
      r = await bounded(args, { env: login, cwd: m.cwd });
      assertEquals(r.code, 0, r.stderr);
      assert.match(r.stderr, /sha256 changed since/);
      assertEquals(await Deno.readTextFile(sif), "SIF");
      assertEquals((await log()).split("\n").filter((l) => l.startsWith("build ")).length, 2);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
