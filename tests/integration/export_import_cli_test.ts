/**
 * export / import end to end, through the bundled product (dist/venvoy) run from temporary
 * folders: an environment made with `venvoy init` on podman, with a package installed in a
 * session, is exported and imported into fresh VENVOY_HOMEs: podman with its own storage
 * root (another machine, in effect, via CONTAINERS_STORAGE_CONF), the docker CLI, apptainer,
 * and from yaml; its standalone Dockerfile built with plain `podman build` and imported with
 * `venvoy import`. The same script must print the same bytes everywhere. Hostile archives
 * through the CLI exit non-zero with the reason and leave nothing behind.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { type CliResult, venvoy, venvoyBin } from "./cli.ts";
import { TarGzWriter } from "../../src/archive/writer.ts";
import { ignoreUnless, LAB_PYTHON, runner } from "./lab.ts";
import { craftArchive, manifestFor } from "../unit/archive/craft.ts";

const noPodman = ignoreUnless("podman");
const hasPythonLab = !noPodman &&
  (await runner.run({ cmd: ["podman", "image", "exists", LAB_PYTHON] })).code === 0;
if (!noPodman && !hasPythonLab) {
  console.error(`SKIP export/import CLI tests: ${LAB_PYTHON} is missing (run tests/lab/setup.sh)`);
}
const skip = noPodman || !hasPythonLab;
const noDocker = skip || ignoreUnless("docker");
const noApptainer = skip || ignoreUnless("apptainer");

const NAME = `it-exp-${crypto.randomUUID().slice(0, 8)}`;
/** Prints the package's version, the interpreter build and the installed distributions. */
const SCRIPT = "python -c 'import six, sys; print(six.__version__); print(sys.version)' && " +
  "pip list --format=freeze 2>/dev/null | sort";

interface Fixture {
  root: string;
  home: string;
  expected: string;
  archive: string;
  yaml: string;
}

let shared: Fixture | null = null;
const cleanups: (() => Promise<unknown>)[] = [];

function must(res: CliResult, what: string): CliResult {
  assertEquals(res.code, 0, `${what} failed (exit ${res.code}):\n${res.stderr}`);
  return res;
}

function machine(root: string, id: string, extra: Record<string, string> = {}) {
  return {
    HOME: join(root, "home"),
    VENVOY_HOME: join(root, id, "vh"),
    VENVOY_PROJECTS: join(root, id, "vp"),
    ...extra,
  };
}

/** `<sha256>  <path>` lines on stdout; checked against the file itself. */
async function exported(res: CliResult): Promise<string> {
  const m = /^([0-9a-f]{64}) {2}(\/.+)$/m.exec(res.stdout);
  assert(m, `no sha256 line in: ${res.stdout}`);
  const sum = createHash("sha256").update(await Deno.readFile(m[2])).digest("hex");
  assertEquals(sum, m[1], "the printed sha256 is the file's");
  return m[2];
}

async function fixture(): Promise<Fixture> {
  if (shared) return shared;
  const root = await Deno.makeTempDir({ prefix: "venvoy-it-exp-" });
  const a = machine(root, "a");
  const cwd = join(root, "out");
  await Deno.mkdir(cwd, { recursive: true });
  cleanups.push(() =>
    runner.run({ cmd: ["podman", "rmi", "-f", `localhost/venvoy/${NAME}:latest`] })
  );
  must(
    await venvoy(["--engine", "podman", "init", "--name", NAME, "--base-image", LAB_PYTHON], {
      env: a,
      cwd,
    }),
    "init",
  );
  must(
    await venvoy(["run", NAME, "--command", "pip install --no-deps six==1.16.0"], { env: a, cwd }),
    "pip install in a session",
  );
  const expected = must(await venvoy(["run", NAME, "--command", SCRIPT], { env: a, cwd }), "script")
    .stdout;
  assert(expected.startsWith("1.16.0\n"), expected);

  const ex = must(
    await venvoy(["export", "--name", NAME, "--format", "archive"], { env: a, cwd }),
    "export archive",
  );
  const archive = await exported(ex);
  assert.match(archive, new RegExp(`/${NAME}-archive-\\d{8}_\\d{6}\\.tar\\.gz$`));
  assert(!ex.stderr.includes("\x1b"), "nothing animated or coloured when piped");
  const ey = must(
    await venvoy(["export", "--format", "yaml", "-o", join(cwd, "env.yml")], { env: a, cwd }),
    "export yaml (the only environment)",
  );
  const yaml = await exported(ey);
  assert((await Deno.readTextFile(yaml)).includes("- six==1.16.0"));
  // Existing files are not overwritten without --force.
  const again = await venvoy(["export", "--format", "yaml", "-o", yaml], { env: a, cwd });
  assertEquals(again.code, 1);
  assert.match(again.stderr, /already exists\nhint: pass --force/);
  const leftovers = [...Deno.readDirSync(cwd)].map((e) => e.name).filter((n) => n.startsWith("."));
  assertEquals(leftovers, [], "no spool or partial files are left");
  shared = { root, home: join(root, "home"), expected, archive, yaml };
  return shared;
}

Deno.test({
  name: "export/import CLI: archive into another podman storage root runs the same bytes",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const f = await fixture();
    // Another machine: its own VENVOY_HOME and podman storage (short paths: runroot <= 50).
    const store = await Deno.makeTempDir({ prefix: "vxi-" });
    const conf = join(store, "storage.conf");
    await Deno.writeTextFile(
      conf,
      `[storage]\ndriver = "overlay"\ngraphroot = "${store}/r"\nrunroot = "${store}/rr"\n`,
    );
    const alt = ["podman", "--root", `${store}/r`, "--runroot", `${store}/rr`];
    const b = machine(f.root, "b", { CONTAINERS_STORAGE_CONF: conf });
    try {
      const before = await runner.run({ cmd: [...alt, "images", "-q"] });
      assertEquals(before.stdout.trim(), "", "the second store starts empty");
      const imp = must(
        await venvoy(["--engine", "podman", "import", f.archive], { env: b }),
        "import",
      );
      assertEquals(imp.stdout.trim(), join(b.VENVOY_HOME, "environments", NAME));
      assert.match(imp.stderr, /Verifying .*: done/);
      // The name exists now: refused without --force (usage error), replaced with it.
      const dup = await venvoy(["--engine", "podman", "import-archive", f.archive], { env: b });
      assertEquals(dup.code, 2);
      assert.match(dup.stderr, /already exists/);
      must(
        await venvoy(["--engine", "podman", "import-archive", f.archive, "--force", "--json"], {
          env: b,
        }),
        "import-archive --force",
      );
      const out = must(await venvoy(["run", NAME, "--command", SCRIPT], { env: b }), "run in b");
      assertEquals(out.stdout, f.expected, "the same script prints the same bytes");
      const hist = [...Deno.readDirSync(join(b.VENVOY_PROJECTS, NAME))].map((e) => e.name);
      assert(hist.filter((n) => /^environment_\d/.test(n)).length >= 2, hist.join(" "));
    } finally {
      await runner.run({ cmd: [...alt, "rmi", "-a", "-f"] });
      await Deno.remove(store, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "export/import CLI: archive imported and run with --engine docker",
  ignore: noDocker,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const f = await fixture();
    const d = machine(f.root, "d");
    const name = `${NAME}-docker`;
    cleanups.push(() => runner.run({ cmd: ["docker", "rmi", `localhost/venvoy/${name}:latest`] }));
    must(
      await venvoy(["--engine", "docker", "import", f.archive, "--name", name], { env: d }),
      "import with docker",
    );
    const out = must(
      await venvoy(["--engine", "docker", "run", name, "--command", SCRIPT], { env: d }),
      "run with docker",
    );
    assertEquals(out.stdout, f.expected);
  },
});

Deno.test({
  name: "export/import CLI: archive imported and run with --engine apptainer (SIF)",
  ignore: noApptainer,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const f = await fixture();
    const s = machine(f.root, "s");
    const name = `${NAME}-sif`;
    const imp = must(
      await venvoy(["--engine", "apptainer", "import", f.archive, "--name", name, "--json"], {
        env: s,
      }),
      "import with apptainer",
    );
    const got = JSON.parse(imp.stdout);
    assertEquals(got.engine, "apptainer");
    assertEquals(got.image, join(s.VENVOY_HOME, "environments", name, "image.sif"));
    const out = must(
      await venvoy(["--engine", "apptainer", "run", name, "--command", SCRIPT], { env: s }),
      "run with apptainer",
    );
    assertEquals(out.stdout, f.expected);
  },
});

Deno.test({
  name: "export/import CLI: yaml rebuilds the environment with the same pins and output",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const f = await fixture();
    const y = machine(f.root, "y");
    const name = `${NAME}-yaml`;
    cleanups.push(() =>
      runner.run({ cmd: ["podman", "rmi", "-f", `localhost/venvoy/${name}:latest`] })
    );
    const imp = must(
      await venvoy(["--engine", "podman", "import", f.yaml, "--name", name], { env: y }),
      "import yaml",
    );
    assert(!imp.stderr.includes("not as pinned"), imp.stderr);
    const req = await Deno.readTextFile(
      join(y.VENVOY_HOME, "environments", name, "requirements.txt"),
    );
    assert(req.includes("six==1.16.0\n"), req);
    const out = must(await venvoy(["run", name, "--command", SCRIPT], { env: y }), "run yaml env");
    assertEquals(out.stdout, f.expected);
  },
});

Deno.test({
  name: "export/import CLI: the dockerfile builds with plain podman and imports, same bytes",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const f = await fixture();
    const id = crypto.randomUUID().slice(0, 8);
    const out = join(f.root, "df-out");
    await Deno.mkdir(out, { recursive: true });
    const ed = must(
      await venvoy(
        ["export", "--name", NAME, "--format", "dockerfile", "-o", join(out, "Dockerfile")],
        { env: machine(f.root, "a"), cwd: out },
      ),
      "export dockerfile",
    );
    const df = await exported(ed);
    const text = await Deno.readTextFile(df);
    assert.match(text, new RegExp(`org\\.venvoy\\.env="${NAME}"`));
    assert.match(text, /org\.venvoy\.base_image="localhost\/venvoy-lab\/python:3\.11"/);
    assert.match(text, /^ARG PIP_CERT=$/m);
    assert.match(text, /"six==1\.16\.0"/);

    // (a) Plain podman, no venvoy, in an empty folder; PyPI is behind a TLS proxy here.
    const ca = Deno.env.get("SSL_CERT_FILE");
    if (!ca) {
      console.error("SKIP plain podman build of the dockerfile: SSL_CERT_FILE is not set");
    } else {
      const empty = await Deno.makeTempDir({ prefix: "venvoy-it-df-ctx-" });
      const tag = `localhost/venvoy-test-it-df-${id}:latest`;
      cleanups.push(() => runner.run({ cmd: ["podman", "rmi", "-f", tag] }));
      try {
        const build = await runner.run({
          cmd: [
            "podman",
            "build",
            "-q",
            "-t",
            tag,
            "-f",
            df,
            "--build-arg",
            "PIP_CERT=/run/ca.crt",
            "-v",
            `${ca}:/run/ca.crt:ro`,
            empty,
          ],
        });
        assertEquals(build.code, 0, build.stderr);
        const run = await runner.run({ cmd: ["podman", "run", "--rm", tag, "sh", "-c", SCRIPT] });
        assertEquals(run.code, 0, run.stderr);
        assertEquals(run.stdout, f.expected, "the plain build prints the same bytes");
      } finally {
        await Deno.remove(empty, { recursive: true }).catch(() => {});
      }
    }

    // (b) venvoy import of the Dockerfile into another VENVOY_HOME: a venvoy environment.
    const m = machine(f.root, "df");
    const name = `it-df-${id}`;
    cleanups.push(() =>
      runner.run({ cmd: ["podman", "rmi", "-f", `localhost/venvoy/${name}:latest`] })
    );
    const imp = must(
      await venvoy(["--engine", "podman", "import", df, "--name", name, "--json"], { env: m }),
      "import dockerfile",
    );
    const got = JSON.parse(imp.stdout);
    assertEquals(got.format, "dockerfile");
    assertEquals(got.unmet, []);
    const envDir = join(m.VENVOY_HOME, "environments", name);
    assert(
      (await Deno.readTextFile(join(envDir, "requirements.txt"))).includes("six==1.16.0\n"),
    );
    assert((await Deno.stat(join(envDir, "persist"))).isDirectory, "session plumbing: persist/");
    assert((await Deno.stat(join(m.VENVOY_PROJECTS, name, "environment.yml"))).isFile);
    const res = must(await venvoy(["run", name, "--command", SCRIPT], { env: m }), "run df env");
    assertEquals(res.stdout, f.expected, "the imported environment prints the same bytes");
  },
});

Deno.test({
  name: "export/import CLI: hostile files exit non-zero with the reason, nothing written outside",
  ignore: noPodman,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "venvoy-it-exp-hostile-" });
    try {
      const h = machine(root, "h");
      const ok = { name: "README.md", data: "fine\n" };
      const cases: [string, Uint8Array, RegExp, number][] = [
        [
          "traversal",
          craftArchive([ok, { name: "../escaped.txt", data: "x" }]),
          /\.\./,
          1,
        ],
        [
          "symlink-escape",
          craftArchive([ok, { name: "link", type: "symlink", target: "../../escaped.txt" }]),
          /link/,
          1,
        ],
        [
          "hardlink-escape",
          craftArchive([ok, { name: "hard", type: "hardlink", target: "/etc/passwd" }]),
          /link|absolute/i,
          1,
        ],
        [
          "tampered",
          craftArchive([{ name: "README.md", data: "changed\n" }], {
            manifest: manifestFor([ok]),
          }),
          /sha256|checksum|size/i,
          1,
        ],
        ["no-manifest", craftArchive([ok], { manifest: null }), /manifest/, 1],
        // issue 11.16: a file and a folder of one name is a refusal, not an internal error
        [
          "name-clash",
          craftArchive([ok, { name: "env/a/b", data: "1" }, { name: "env/a", data: "2" }]),
          /'env\/a' is a file, but earlier members are inside a folder of that name/,
          1,
        ],
        // issue 11.2: a link judged where it will live (env/ becomes environments/<name>/)
        [
          "env-link-escape",
          craftArchive([ok, { name: "env/persist", type: "symlink", target: "../victim" }]),
          /points outside the environment folder/,
          1,
        ],
        // issue 11.6: declared 1 KB, holds 4 MB of zeros: refused before writing them
        [
          "bomb",
          (() => {
            const members = [ok, { name: "env/bomb", data: "\0".repeat(4 * 1024 * 1024) }];
            const m = manifestFor(members) as { members: Record<string, { size: number }> };
            m.members["env/bomb"].size = 1024;
            return craftArchive(members, { manifest: m });
          })(),
          /'env\/bomb' holds 4194304 bytes, but manifest\.json lists 1024 bytes/,
          1,
        ],
        // issue 11.12: the image path must be a verified member
        [
          "image-path",
          (() => {
            const m = manifestFor([ok]) as { image: Record<string, unknown> };
            m.image.sif = "../../etc/hostname";
            return craftArchive([ok], { manifest: m });
          })(),
          /image\.sif '\.\.\/\.\.\/etc\/hostname' is not a verified file/,
          1,
        ],
        // issue 11.14: control characters in a member name are escaped in the message
        [
          "control-chars",
          craftArchive([ok, { name: "../\x1b[2J\x1b]0;pwned\x07\rhint: fake\n", data: "x" }]),
          /\\x1b\[2J\\x1b\]0;pwned\\x07\\rhint: fake\\n/,
          1,
        ],
        ["truncated", craftArchive([ok]).slice(0, 40), /truncat|ends|corrupt/i, 1],
        ["not-an-archive", new Uint8Array([0, 1, 2, 3, 0, 255, 0, 9]), /binary|not/i, 1],
        [
          "dockerfile",
          new TextEncoder().encode("FROM python:3.11\n"),
          /not write[^]*hint: build it with docker or podman directly/,
          2,
        ],
      ];
      for (const [label, bytes, why, code] of cases) {
        const dir = join(root, label, "in");
        await Deno.mkdir(dir, { recursive: true });
        const file = join(dir, `${label}.tar.gz`);
        await Deno.writeFile(file, bytes);
        const res = await venvoy(["--engine", "podman", "import", file], { env: h, cwd: dir });
        assertEquals(res.code, code, `${label}: ${res.stderr}`);
        assert.match(res.stderr, /^venvoy: error: /m, label);
        assert.match(res.stderr, why, `${label}: ${res.stderr}`);
        assertEquals(res.stdout, "", label);
        assert(!/report the stack/.test(res.stderr), `${label}: not an internal error`);
        // deno-lint-ignore no-control-regex
        assert(!/[\x00-\x08\x0b-\x1f\x7f]/.test(res.stderr), `${label}: no control character`);
        assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), [`${label}.tar.gz`], label);
      }
      for (const p of [join(root, "escaped.txt"), join(root, "h", "escaped.txt")]) {
        assertEquals(await Deno.stat(p).then(() => true, () => false), false, p);
      }
      const envs = await Array.fromAsync(Deno.readDir(join(h.VENVOY_HOME, "environments")))
        .catch(() => []);
      assertEquals(envs.map((e) => e.name), [], "no environment or temporary folder is left");
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "issue 11.13: SIGHUP during an import leaves no temporary folder; the next import sweeps stale ones",
  ignore: noPodman,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "venvoy-it-hup-" });
    try {
      const h = machine(root, "h");
      const envs = join(h.VENVOY_HOME, "environments");
      // An archive that takes a moment to verify: 48 MB that do not compress.
      const big = join(root, "big.bin");
      const f = await Deno.open(big, { write: true, create: true });
      const chunk = new Uint8Array(65536);
      for (let i = 0; i < 768; i++) await f.write(crypto.getRandomValues(chunk));
      f.close();
      const file = join(root, "slow.tar.gz");
      const w = await TarGzWriter.create(file);
      await w.addBytes("env/config.yaml", "name: slow\nruntime: python\n");
      await w.addFile("env/persist/big.bin", big);
      const m = manifestFor([]) as Record<string, unknown>;
      m.members = w.members;
      await w.addBytes("manifest.json", JSON.stringify(m));
      await w.finish();
      await Deno.remove(big);

      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-all",
          "--no-config",
          "--no-lock",
          "--quiet",
          await venvoyBin(),
          "--engine",
          "podman",
          "import",
          file,
        ],
        cwd: root,
        env: { NO_COLOR: "1", ...h },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const temps = () =>
        [...(() => {
          try {
            return Deno.readDirSync(envs);
          } catch {
            return [];
          }
        })()].map((e) => e.name).filter((n) => n.startsWith(".venvoy-"));
      let seen: string[] = [];
      for (let i = 0; i < 1000 && seen.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 10));
        seen = temps();
      }
      assert(seen.length > 0, "the import made its temporary folder");
      child.kill("SIGHUP");
      const out = await child.output();
      const stderr = new TextDecoder().decode(out.stderr);
      assertEquals(out.code, 130, stderr);
      assert.match(stderr, /import interrupted; nothing was kept/);
      assertEquals(temps(), [], "no temporary folder is left");
      assertEquals([...Deno.readDirSync(envs)].map((e) => e.name), []);

      // A folder a killed venvoy left (no lock held, a day old) goes at the next import.
      const stale = join(envs, ".venvoy-import-stale1");
      await Deno.mkdir(join(stale, "root"), { recursive: true });
      await Deno.writeTextFile(join(stale, "root", "x"), "left behind\n");
      const old = new Date(Date.now() - 2 * 24 * 3600 * 1000);
      await Deno.utime(join(stale, "root"), old, old);
      await Deno.utime(stale, old, old);
      const res = await venvoy(["--engine", "podman", "import", join(root, "missing.tar.gz")], {
        env: h,
        cwd: root,
      });
      assertEquals(res.code, 2, res.stderr); // no such file: refused before any sweep
      assert(await Deno.stat(stale).then(() => true, () => false));
      const hostile = join(root, "hostile.tar.gz");
      await Deno.writeFile(hostile, craftArchive([{ name: "../x", data: "x" }]));
      const res2 = await venvoy(["--engine", "podman", "import", hostile], { env: h, cwd: root });
      assertEquals(res2.code, 1, res2.stderr);
      assertEquals(await Deno.stat(stale).then(() => true, () => false), false, "swept");
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "export/import CLI: clean up images and folders",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    await runner.run({
      cmd: ["podman", "image", "prune", "-f", "--filter", `label=org.venvoy.env=${NAME}`],
    });
    const left = await runner.run({
      cmd: ["podman", "images", "-q", "--filter", `reference=localhost/venvoy/${NAME}*`],
    });
    if (shared) await Deno.remove(shared.root, { recursive: true }).catch(() => {});
    shared = null;
    assertEquals(left.stdout.trim(), "", "no it-exp- image is left");
  },
});
