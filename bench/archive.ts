/**
 * `deno task bench:archive`: export and import of an environment archive against doing the
 * same by hand, and peak memory against the image size. One run prints every ratio.
 *
 *   export   venvoy exportArchive            vs  podman save IMG | gzip -6 > x    (target <= 1.0x)
 *   import   venvoy importArchive            vs  gunzip -c x | podman load       (target <= 1.2x)
 *   memory   max RSS of each venvoy step     vs  the docker-archive's size       (target < 25%)
 *
 * Imports go into fresh, separate podman storage roots so that `load` really writes every
 * layer. By default the image is a large one built for the purpose (the lab image plus
 * ARCHIVE_BENCH_MB, default 512, of base64 noise: compressible about like real layers),
 * removed afterwards. ARCHIVE_BENCH_IMAGE=ref measures an existing image instead;
 * ARCHIVE_BENCH_RUNS (default 1) repeats, and the median is reported.
 */
import { join } from "node:path";
import { exportArchive } from "../src/archive/export.ts";
import { importArchive } from "../src/archive/import.ts";
import { DenoRunner, type RunRequest, type SpawnRequest } from "../src/process/mod.ts";
import { PodmanRuntime } from "../src/runtime/podman.ts";

const GIVEN = Deno.env.get("ARCHIVE_BENCH_IMAGE");
const LARGE = "localhost/venvoy-test-archive/bench-large:latest";
const IMAGE = GIVEN ?? LARGE;
const LARGE_MB = Number(Deno.env.get("ARCHIVE_BENCH_MB") ?? "512");
const RUNS = Number(Deno.env.get("ARCHIVE_BENCH_RUNS") ?? "1");
const TIME = "/usr/bin/time";

class AltRootRunner extends DenoRunner {
  constructor(readonly root: string) {
    super();
  }
  #rewrite<T extends { cmd: string[] }>(req: T): T {
    if (req.cmd[0] !== "podman") return req;
    const flags = ["--root", join(this.root, "r"), "--runroot", join(this.root, "rr")];
    return { ...req, cmd: ["podman", ...flags, ...req.cmd.slice(1)] };
  }
  override run(req: RunRequest) {
    return super.run(this.#rewrite(req));
  }
  override spawn(req: SpawnRequest) {
    return super.spawn(this.#rewrite(req));
  }
}

async function worker(mode: string, args: string[]): Promise<void> {
  const runner = new DenoRunner();
  if (mode === "export") {
    const [envDir, output] = args;
    await exportArchive({
      runner,
      runtime: new PodmanRuntime(runner, "podman", { rootless: false }),
      envDir,
      output,
      venvoyVersion: "bench",
    });
  } else {
    const [archive, store, home] = args;
    const alt = new AltRootRunner(store);
    await importArchive(archive, {
      runtime: new PodmanRuntime(alt, "podman", { rootless: false }),
      environmentsDir: join(home, "environments"),
      projectsDir: join(home, "projects"),
      name: "bench",
    });
  }
}

/** Wall time and max RSS (KiB) of a command, via /usr/bin/time -v. */
async function measure(cmd: string[]): Promise<{ seconds: number; rssKiB: number }> {
  const start = performance.now();
  const out = await new Deno.Command(TIME, {
    args: ["-v", ...cmd],
    stdout: "null",
    stderr: "piped",
  })
    .output();
  const seconds = (performance.now() - start) / 1000;
  const err = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${cmd.join(" ")} failed:\n${err}`);
  const rss = Number(err.match(/Maximum resident set size \(kbytes\): (\d+)/)?.[1] ?? NaN);
  return { seconds, rssKiB: rss };
}

async function sh(script: string): Promise<void> {
  const out = await new Deno.Command("sh", { args: ["-c", script], stderr: "piped" }).output();
  if (!out.success) throw new Error(`${script}: ${new TextDecoder().decode(out.stderr)}`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  if (Deno.args[0] === "--worker") return await worker(Deno.args[1], Deno.args.slice(2));
  try {
    await Deno.stat(TIME);
  } catch {
    console.error(`${TIME} is missing: apt-get install -y time`);
    Deno.exit(1);
  }
  const dir = await Deno.makeTempDir({ prefix: "venvoy-bench-archive-" });
  // podman refuses a runroot path longer than 50 characters: keep the stores' paths short.
  const stores = await Deno.makeTempDir({ dir: "/tmp", prefix: "vvb" });
  const self = new URL(import.meta.url).pathname;
  const deno = [Deno.execPath(), "run", "-A", "--quiet", self, "--worker"];
  try {
    if (!GIVEN) {
      console.error(`building ${LARGE} (${LARGE_MB} MB of data on the lab image)`);
      await Deno.writeTextFile(
        `${dir}/Containerfile`,
        `FROM localhost/venvoy-lab/debian:bookworm\n` +
          `RUN head -c ${Math.round((LARGE_MB * 3) / 4)}M /dev/urandom | base64 > /noise\n`,
      );
      await sh(`podman build -q -t ${LARGE} -f ${dir}/Containerfile ${dir} >/dev/null`);
    }
    const envDir = join(dir, "environments", "bench-src");
    await Deno.mkdir(join(envDir, "persist"), { recursive: true });
    await Deno.writeTextFile(
      join(envDir, "config.yaml"),
      `name: bench-src\nruntime: python\nengine: podman\nimage: ${IMAGE}\n`,
    );
    await sh(`podman save --format docker-archive -o ${dir}/plain.tar ${IMAGE}`);
    const imageBytes = (await Deno.stat(`${dir}/plain.tar`)).size;
    await Deno.remove(`${dir}/plain.tar`);

    const t = {
      handExport: [] as number[],
      export: [] as number[],
      handImport: [] as number[],
      import: [] as number[],
    };
    let rssExport = 0, rssImport = 0, archiveBytes = 0, handBytes = 0;
    for (let i = 0; i < RUNS; i++) {
      const hand = `${dir}/hand-${i}.tar.gz`;
      const ours = `${dir}/venvoy-${i}.tar.gz`;
      t.handExport.push(
        (await measure([
          "sh",
          "-c",
          `podman save --format docker-archive ${IMAGE} | gzip -6 > ${hand}`,
        ])).seconds,
      );
      const ex = await measure([...deno, "export", envDir, ours]);
      t.export.push(ex.seconds);
      rssExport = Math.max(rssExport, ex.rssKiB);
      handBytes = (await Deno.stat(hand)).size;
      archiveBytes = (await Deno.stat(ours)).size;

      const storeA = `${stores}/h${i}`;
      const storeB = `${stores}/v${i}`;
      const alt = (s: string) => `podman --root ${s}/r --runroot ${s}/rr`;
      t.handImport.push(
        (await measure(["sh", "-c", `gunzip -c ${hand} | ${alt(storeA)} load`])).seconds,
      );
      const im = await measure([...deno, "import", ours, storeB, `${dir}/home-${i}`]);
      t.import.push(im.seconds);
      rssImport = Math.max(rssImport, im.rssKiB);
      for (const s of [storeA, storeB]) await sh(`${alt(s)} rmi -a -f >/dev/null 2>&1 || true`);
      await sh(`rm -rf ${storeA} ${storeB} ${dir}/home-${i} ${hand} ${ours}`);
    }

    const mb = (n: number) => `${(n / 1e6).toFixed(0)} MB`;
    const s = (n: number) => `${n.toFixed(2)} s`;
    const rows: [string, string, string, string, string][] = [];
    const ratio = (a: number, b: number) => a / b;
    const ex = ratio(median(t.export), median(t.handExport));
    const im = ratio(median(t.import), median(t.handImport));
    const rx = (rssExport * 1024) / imageBytes;
    const ri = (rssImport * 1024) / imageBytes;
    rows.push([
      "export",
      s(median(t.export)),
      s(median(t.handExport)),
      `${ex.toFixed(2)}x`,
      ex <= 1.0 ? "ok (<= 1.0x)" : "OVER (<= 1.0x)",
    ]);
    rows.push([
      "import",
      s(median(t.import)),
      s(median(t.handImport)),
      `${im.toFixed(2)}x`,
      im <= 1.2 ? "ok (<= 1.2x)" : "OVER (<= 1.2x)",
    ]);
    rows.push([
      "export peak RSS",
      mb(rssExport * 1024),
      `image ${mb(imageBytes)}`,
      `${(rx * 100).toFixed(0)}%`,
      rx < 0.25 ? "ok (< 25%)" : "OVER (< 25%)",
    ]);
    rows.push([
      "import peak RSS",
      mb(rssImport * 1024),
      `image ${mb(imageBytes)}`,
      `${(ri * 100).toFixed(0)}%`,
      ri < 0.25 ? "ok (< 25%)" : "OVER (< 25%)",
    ]);
    rows.push([
      "archive size",
      mb(archiveBytes),
      `gzip -6 ${mb(handBytes)}`,
      `${(archiveBytes / handBytes).toFixed(2)}x`,
      "level 1: speed over size",
    ]);
    const head = ["", "venvoy", "by hand", "ratio", "target"];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
    console.log(`image ${IMAGE} (${mb(imageBytes)} docker-archive), ${RUNS} run(s), median`);
    console.log(line(head));
    for (const r of rows) console.log(line(r));
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.remove(stores, { recursive: true }).catch(() => {});
    if (!GIVEN) await sh(`podman image rm ${LARGE} >/dev/null 2>&1 || true`);
  }
}

await main();
