/**
 * `venvoy sbom` and `venvoy init --as-of` end to end, with the bundled dist/venvoy on real
 * podman and the lab's Python base: the SBOM validated against the official schema by
 * cyclonedx-python-lib and counted against the environment's package lists; the archive's
 * sbom.cdx.json; and six resolved as PyPI was on 2020-01-01. Skipped with the reason
 * printed when podman, the lab image, or PyPI is missing.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { LAB_PYTHON, LAB_R } from "./lab.ts";
import { readPackageState } from "../../src/snapshot/state.ts";
import { validator } from "../unit/sbom/validator.ts";

const VENVOY = new URL("../../dist/venvoy", import.meta.url).pathname;
const SUFFIX = crypto.randomUUID().slice(0, 6);

function has(cmd: string[]): boolean {
  try {
    return new Deno.Command(cmd[0], { args: cmd.slice(1), stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const podman = has(["podman", "image", "exists", LAB_PYTHON]);
const bundled = (() => {
  try {
    return Deno.statSync(VENVOY).isFile;
  } catch {
    return false;
  }
})();
const whyNot = !podman
  ? `podman or the lab image ${LAB_PYTHON} is missing (run tests/lab/setup.sh)`
  : !bundled
  ? "dist/venvoy is missing (run deno task bundle)"
  : null;
if (whyNot) console.error(`SKIP sbom/as-of integration tests: ${whyNot}`);

async function pypiReachable(): Promise<string | null> {
  try {
    const r = await fetch("https://pypi.org/simple/six/", { signal: AbortSignal.timeout(15000) });
    await r.body?.cancel();
    return r.ok ? null : `PyPI answered ${r.status}`;
  } catch (e) {
    return `PyPI is unreachable: ${(e as Error).message}`;
  }
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

class Sandbox {
  readonly root = Deno.makeTempDirSync({ prefix: "venvoy-it-sbom-" });
  readonly work = join(this.root, "work");
  readonly env = {
    VENVOY_HOME: join(this.root, "state"),
    VENVOY_PROJECTS: join(this.root, "projects"),
    // Its own unpack cache: other venvoy builds sharing ~/.cache/venvoy tidy theirs away.
    XDG_CACHE_HOME: join(this.root, "cache"),
    NO_COLOR: "1",
  };
  constructor() {
    Deno.mkdirSync(this.work);
  }
  envDir(name: string): string {
    return join(this.env.VENVOY_HOME, "environments", name);
  }
  async venvoy(args: string[]): Promise<Result> {
    const out = await new Deno.Command(VENVOY, {
      args,
      cwd: this.work,
      env: this.env,
      stdin: "null",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  }
  async ok(args: string[]): Promise<Result> {
    const r = await this.venvoy(args);
    assert.equal(r.code, 0, `venvoy ${args.join(" ")} failed:\n${r.stderr}`);
    return r;
  }
  async cleanup(names: string[]) {
    for (const n of names) await this.venvoy(["delete", n, "--force", "--purge"]);
    await Deno.remove(this.root, { recursive: true }).catch(() => {});
  }
}

async function sh(cmd: string[]): Promise<string> {
  const out = await new Deno.Command(cmd[0], { args: cmd.slice(1), stdin: "null" }).output();
  assert.equal(out.code, 0, `${cmd.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

// deno-lint-ignore no-explicit-any
type Bom = any;

function byEcosystem(bom: Bom, eco: string): Bom[] {
  return bom.components.filter((c: Bom) =>
    c.properties?.some((p: Bom) => p.name === "venvoy:ecosystem" && p.value === eco)
  );
}

Deno.test({
  name: "sbom on podman: schema-valid, counts match, image and persist, same bytes in the archive",
  ignore: whyNot !== null,
  sanitizeResources: false,
  fn: async (t) => {
    const sb = new Sandbox();
    const name = `it-sbom-${SUFFIX}`;
    try {
      await sb.ok(["--engine", "podman", "init", "--name", name, "--base-image", LAB_PYTHON]);
      // A package installed in a session (persist/), with no network: a local source tree.
      Deno.mkdirSync(join(sb.work, "itpkg", "venvoy_sbom_pkg"), { recursive: true });
      Deno.writeTextFileSync(
        join(sb.work, "itpkg", "setup.py"),
        "from setuptools import setup\nsetup(name='venvoy-sbom-pkg', version='2.5', packages=['venvoy_sbom_pkg'])\n",
      );
      Deno.writeTextFileSync(join(sb.work, "itpkg", "venvoy_sbom_pkg", "__init__.py"), "");
      await sb.ok([
        "run",
        name,
        "--command",
        "pip install -q --no-index --no-build-isolation ./itpkg",
      ]);
      const out = join(sb.root, "bom.json");
      let text = "";
      let bom: Bom;
      await t.step("venvoy sbom --output writes CycloneDX 1.5 and summarises", async () => {
        const r = await sb.ok(["sbom", "--name", name, "--output", out]);
        assert.match(r.stderr, /CycloneDX 1\.5, \d+ components: \d+ OS, \d+ Python/);
        text = await Deno.readTextFile(out);
        bom = JSON.parse(text);
        assertEquals(bom.specVersion, "1.5");
        assertEquals(bom.metadata.tools.components[0].name, "venvoy");
      });
      await t.step("the official schema accepts it (cyclonedx-python-lib)", async () => {
        const v = await validator();
        if (typeof v === "string") {
          console.error(`SKIP CycloneDX schema validation: ${v}`);
          return;
        }
        const res = await v(out);
        assert.ok(res.ok, res.output);
      });
      await t.step(
        "counts match the environment's package lists and the image's dpkg",
        async () => {
          const { state } = await readPackageState(sb.envDir(name));
          const python = byEcosystem(bom, "python");
          assertEquals(python.length, state.python.length);
          assertEquals(
            python.map((c: Bom) => `${c.name}==${c.version}`).sort(),
            state.python.map((p) => `${p.name}==${p.version}`).sort(),
          );
          assertEquals(byEcosystem(bom, "r").length, state.r.length);
          assertEquals(byEcosystem(bom, "conda").length, state.conda.length);
          const dpkg = (await sh([
            "podman",
            "run",
            "--rm",
            `localhost/venvoy/${name}:latest`,
            "dpkg-query",
            "-W",
            "-f",
            "${db:Status-Abbrev} ${Package}\n",
          ])).split("\n").filter((l) => l.startsWith("ii")).length;
          const os = byEcosystem(bom, "os-deb");
          assert.ok(dpkg > 50, `the lab image has dpkg packages (${dpkg})`);
          assertEquals(os.length, dpkg);
          assert.ok(os.every((c: Bom) => c.purl.startsWith("pkg:deb/debian/")), os[0]?.purl);
          const mine = python.find((c: Bom) => c.name === "venvoy-sbom-pkg");
          assertEquals(mine?.purl, "pkg:pypi/venvoy-sbom-pkg@2.5");
          assert.ok(
            mine.properties.some((p: Bom) => p.name === "venvoy:layer" && p.value === "persist"),
          );
          const uv = python.find((c: Bom) => c.name === "uv");
          assert.ok(
            uv.properties.some((p: Bom) => p.name === "venvoy:layer" && p.value === "image"),
          );
        },
      );
      await t.step(
        "the base image is pkg:oci with its image ID; the env image is the subject",
        async () => {
          const baseId = (await sh(["podman", "image", "inspect", "-f", "{{.Id}}", LAB_PYTHON]))
            .trim();
          const base = bom.components.find((c: Bom) => c.type === "container");
          assertEquals(
            base.purl,
            `pkg:oci/python@sha256%3A${baseId}?repository_url=localhost%2Fvenvoy-lab%2Fpython&tag=3.11`,
          );
          const envId = (await sh([
            "podman",
            "image",
            "inspect",
            "-f",
            "{{.Id}}",
            `localhost/venvoy/${name}:latest`,
          ])).trim();
          assertEquals(bom.metadata.component.version, `sha256:${envId}`);
        },
      );
      await t.step("the same environment gives the same bytes (stdout too)", async () => {
        const r = await sb.ok(["sbom", name]);
        assertEquals(r.stdout, text);
      });
      await t.step("the archive carries sbom.cdx.json, checksummed, identical", async () => {
        const archive = join(sb.root, "a.tar.gz");
        await sb.ok(["export", "--name", name, "--format", "archive", "--output", archive]);
        const x = join(sb.root, "x");
        Deno.mkdirSync(x);
        await sh(["tar", "-xzf", archive, "-C", x, "sbom.cdx.json", "SHA256SUMS", "manifest.json"]);
        assertEquals(await Deno.readTextFile(join(x, "sbom.cdx.json")), text);
        const sums = await Deno.readTextFile(join(x, "SHA256SUMS"));
        assert.match(sums, /^[0-9a-f]{64} {2}sbom\.cdx\.json$/m);
        const manifest = JSON.parse(await Deno.readTextFile(join(x, "manifest.json")));
        assertEquals(manifest.members["sbom.cdx.json"].type, "file");
        await sh(["sh", "-c", `cd '${x}' && grep ' sbom.cdx.json$' SHA256SUMS | sha256sum -c -`]);
      });
    } finally {
      await sb.cleanup([name]);
    }
  },
});

Deno.test({
  name: "init --as-of 2020-01-01 installs six 1.13.0; without it the newest; the date is kept",
  ignore: whyNot !== null,
  sanitizeResources: false,
  fn: async (t) => {
    const offline = await pypiReachable();
    if (offline) {
      console.error(`SKIP as-of integration test: ${offline}`);
      return;
    }
    const sb = new Sandbox();
    const dated = `it-asof-${SUFFIX}`;
    const fresh = `it-asof-new-${SUFFIX}`;
    const copy = `it-asof-imp-${SUFFIX}`;
    const reqs = join(sb.work, "requirements.txt");
    Deno.writeTextFileSync(reqs, "six\n");
    const six = (name: string) =>
      JSON.parse(Deno.readTextFileSync(join(sb.envDir(name), "base-packages.json")))
        .python.find((p: { name: string }) => p.name.toLowerCase() === "six")?.version;
    try {
      await t.step("init --as-of 2020-01-01: six 1.13.0 (1.14.0 came out 2020-01-15)", async () => {
        await sb.ok([
          "--engine",
          "podman",
          "init",
          "--name",
          dated,
          "--base-image",
          LAB_PYTHON,
          "--requirements",
          reqs,
          "--as-of",
          "2020-01-01",
        ]);
        assertEquals(six(dated), "1.13.0");
        const cfg = Deno.readTextFileSync(join(sb.envDir(dated), "config.yaml"));
        assert.match(cfg, /^as_of: 2020-01-01$/m);
        const yml = Deno.readTextFileSync(join(sb.env.VENVOY_PROJECTS, dated, "environment.yml"));
        assert.match(yml, /^ {2}as_of: "?2020-01-01"?$/m);
      });
      await t.step("without --as-of: the newest six on PyPI", async () => {
        await sb.ok([
          "--engine",
          "podman",
          "init",
          "--name",
          fresh,
          "--base-image",
          LAB_PYTHON,
          "--requirements",
          reqs,
        ]);
        const latest = await fetch("https://pypi.org/pypi/six/json").then((r) => r.json());
        assertEquals(six(fresh), latest.info.version);
        assert.notEqual(six(fresh), "1.13.0");
        assert.doesNotMatch(Deno.readTextFileSync(join(sb.envDir(fresh), "config.yaml")), /as_of/);
      });
      await t.step("sessions resolve as of the date: no six newer than 1.13.0 exists", async () => {
        const r = await sb.ok([
          "run",
          dated,
          "--command",
          'echo "$UV_EXCLUDE_NEWER $PIP_UPLOADED_PRIOR_TO"; uv pip install --dry-run "six>1.13" 2>&1; echo "exit=$?"',
        ]);
        assert.match(r.stdout, /^2020-01-01T00:00:00Z 2020-01-01T00:00:00Z$/m);
        assert.match(r.stdout, /no versions of six|unsatisfiable/i, r.stdout);
        assert.match(r.stdout, /^exit=1$/m, r.stdout);
        // The same request without the date resolves (so the date is what refused it).
        const free = await sb.ok([
          "run",
          dated,
          "--command",
          'env -u UV_EXCLUDE_NEWER uv pip install --dry-run "six>1.13" 2>&1; echo "exit=$?"',
        ]);
        assert.match(free.stdout, /^exit=0$/m, free.stdout);
      });
      await t.step("package-managers says uv honours it and this pip does not", async () => {
        const r = await sb.ok(["package-managers", "--name", dated]);
        assert.match(r.stdout, /As of 2020-01-01/);
        assert.match(r.stdout, /uv honours it always/);
        assert.match(r.stdout, /pip 23\.0\.1 does NOT honour it/);
      });
      await t.step("init --force without --as-of keeps the date", async () => {
        Deno.writeTextFileSync(
          join(sb.envDir(dated), "requirements.txt"),
          "six\n# a comment forces a rebuild of the package layer\n",
        );
        await sb.ok(["init", "--name", dated, "--force"]);
        assert.match(
          Deno.readTextFileSync(join(sb.envDir(dated), "config.yaml")),
          /^as_of: 2020-01-01$/m,
        );
        assertEquals(six(dated), "1.13.0");
      });
      await t.step("the archive manifest records it, and import keeps it", async () => {
        const archive = join(sb.root, "dated.tar.gz");
        await sb.ok(["export", "--name", dated, "--format", "archive", "--output", archive]);
        const x = join(sb.root, "m");
        Deno.mkdirSync(x);
        await sh(["tar", "-xzf", archive, "-C", x, "manifest.json"]);
        const manifest = JSON.parse(await Deno.readTextFile(join(x, "manifest.json")));
        assertEquals(manifest.environment.as_of, "2020-01-01");
        await sb.ok(["--engine", "podman", "import", archive, "--name", copy]);
        assert.match(
          Deno.readTextFileSync(join(sb.envDir(copy), "config.yaml")),
          /^as_of: 2020-01-01$/m,
        );
      });
      await t.step("a bad date is a usage error (exit 2)", async () => {
        const r = await sb.venvoy(["init", "--name", "it-asof-bad", "--as-of", "2020-02-30"]);
        assertEquals(r.code, 2);
        assert.match(r.stderr, /invalid --as-of '2020-02-30'/);
        assert.match(r.stderr, /hint:/);
      });
    } finally {
      await sb.cleanup([dated, fresh, copy]);
    }
  },
});

const apptainer = whyNot === null && has(["apptainer", "--version"]);
if (whyNot === null && !apptainer) console.error("SKIP sbom on apptainer: apptainer is missing");

Deno.test({
  name: "sbom on apptainer: the OS packages are asked of the SIF; schema-valid; counts match",
  ignore: !apptainer,
  sanitizeResources: false,
  fn: async () => {
    const sb = new Sandbox();
    const name = `it-sbom-sif-${SUFFIX}`;
    try {
      await sb.ok(["--engine", "apptainer", "init", "--name", name, "--base-image", LAB_PYTHON]);
      const out = join(sb.root, "bom.json");
      await sb.ok(["--engine", "apptainer", "sbom", "--name", name, "--output", out]);
      const bom = JSON.parse(await Deno.readTextFile(out));
      const sif = join(sb.envDir(name), "image.sif");
      const dpkg = (await sh([
        "apptainer",
        "exec",
        sif,
        "dpkg-query",
        "-W",
        "-f",
        "${db:Status-Abbrev} ${Package}\n",
      ])).split("\n").filter((l) => l.startsWith("ii")).length;
      assert.ok(dpkg > 50, `the SIF has dpkg packages (${dpkg})`);
      assertEquals(byEcosystem(bom, "os-deb").length, dpkg);
      const { state } = await readPackageState(sb.envDir(name));
      assertEquals(byEcosystem(bom, "python").length, state.python.length);
      assert.ok(
        bom.metadata.component.properties.some((p: Bom) =>
          p.name === "venvoy:engine" && p.value === "apptainer"
        ),
      );
      const v = await validator();
      if (typeof v === "string") {
        console.error(`SKIP CycloneDX schema validation: ${v}`);
        return;
      }
      const res = await v(out);
      assert.ok(res.ok, res.output);
    } finally {
      await sb.cleanup([name]);
    }
  },
});

const rImage = whyNot === null && has(["podman", "image", "exists", LAB_R]);
if (whyNot === null && !rImage) {
  console.error(`SKIP --cran-url integration test: ${LAB_R} is missing`);
}

Deno.test({
  name: "R: --cran-url with {date} is the CRAN repository R uses (image Rprofile.site)",
  ignore: !rImage,
  sanitizeResources: false,
  fn: async () => {
    // CRAN is unreachable in the lab: the URL is a name that never resolves, and nothing is
    // installed; what is checked is where R would install from.
    const sb = new Sandbox();
    const name = `it-cran-${SUFFIX}`;
    try {
      await sb.ok([
        "--engine",
        "podman",
        "init",
        "--runtime",
        "r",
        "--r-version",
        "4.2",
        "--name",
        name,
        "--base-image",
        LAB_R,
        "--as-of",
        "2024-06-30",
        "--cran-url",
        "https://cran.example.invalid/snapshot/{date}",
      ]);
      const cfg = Deno.readTextFileSync(join(sb.envDir(name), "config.yaml"));
      assert.match(cfg, /^cran_url: https:\/\/cran\.example\.invalid\/snapshot\/\{date\}$/m);
      const r = await sb.ok([
        "run",
        name,
        "--command",
        `Rscript -e 'cat(getOption("repos")[["CRAN"]], "\\n")'`,
      ]);
      assertEquals(r.stdout.trim(), "https://cran.example.invalid/snapshot/2024-06-30");
    } finally {
      await sb.cleanup([name]);
    }
  },
});
