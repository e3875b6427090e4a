/**
 * verify's sandbox on the lab's real engines (issue 18): one small record whose command
 * tries to reach a port this test listens on (127.0.0.1 and the host's own address), a
 * marker in the user's HOME, a marker in the folder verify was started from, and a marker
 * in the host's /tmp, and writes what it could see to out/probe.txt. The recorded run (not
 * sandboxed) sees some of them; every re-run, on podman, on Apptainer as root and as the
 * non-root lab user, sees none: the report's sha256 of out/probe.txt is that of "all
 * blocked". `verify --network` gives the network back (podman). The second record is the
 * simplest one of issue 18's "verify bug": an output folder that existed, empty, before the
 * recorded run exists before the re-run, and the verdict is same.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { type CliResult, venvoy } from "./cli.ts";
import { ignoreUnless, LAB_PYTHON, runner } from "./lab.ts";
import { cluster, clusterSkip } from "./hpc.ts";

const noPodman = ignoreUnless("podman");
const hasPython = !noPodman &&
  (await runner.run({ cmd: ["podman", "image", "exists", LAB_PYTHON] })).code === 0;
if (!noPodman && !hasPython) console.error(`SKIP verify sandbox: ${LAB_PYTHON} is missing`);
const skip = noPodman || !hasPython;
const noApptainer = skip || ignoreUnless("apptainer");
if (!noApptainer && clusterSkip) {
  console.error(`SKIP verify sandbox as the lab user: ${clusterSkip}`);
}

const NAME = `it-vsb-${crypto.randomUUID().slice(0, 8)}`;
const sha = (s: string) => createHash("sha256").update(s).digest("hex");
const probeText = (seen: Record<string, string>) =>
  ["net_lo", "net_host", "home", "cwd", "tmp"].map((k) => `${k}: ${seen[k] ?? "blocked"}\n`)
    .join("");
const ALL_BLOCKED = sha(probeText({}));

function must(res: CliResult, what: string): CliResult {
  assertEquals(res.code, 0, `${what} failed (exit ${res.code}):\n${res.stderr}`);
  return res;
}

/** The host's own (non-loopback) IPv4 address: a container with its own network reaches it only through one. */
async function hostAddress(): Promise<string> {
  const res = await runner.run({ cmd: ["hostname", "-I"] });
  const v4 = res.stdout.split(/\s+/).find((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a));
  assert(v4, `no IPv4 address in hostname -I: ${res.stdout}`);
  return v4;
}

/** Listens until closed; counts the connections that arrived. */
function listen(hostname: string) {
  const l = Deno.listen({ hostname, port: 0 });
  let hits = 0;
  (async () => {
    for await (const c of l) {
      hits++;
      c.close();
    }
  })().catch(() => {});
  return { port: (l.addr as Deno.NetAddr).port, hits: () => hits, close: () => l.close() };
}

interface Scene {
  root: string;
  env: Record<string, string>;
  archive: string;
  probeId: string;
  dirsId: string;
  slowId: string;
  tmpMarker: string;
  lo: ReturnType<typeof listen>;
  host: ReturnType<typeof listen>;
  /** The folder verify is started from (a marker in it). */
  rcwd: string;
  user: { home: string; cwd: string } | null;
}

let shared: Scene | null = null;

function recordId(res: CliResult): string {
  const m = /records\/(\d{8}_\d{6}(?:-\d+)?)\.json$/m.exec(res.stdout);
  assert(m, `no record path in: ${res.stdout}`);
  return m[1];
}

async function scene(): Promise<Scene> {
  if (shared) return shared;
  const root = await Deno.makeTempDir({ dir: "/tmp", prefix: "vsb-" });
  await Deno.chmod(root, 0o755);
  const home = join(root, "h");
  const rcwd = join(root, "rcwd");
  const work = join(root, "work");
  for (const d of [home, rcwd, work, join(work, "out")]) await Deno.mkdir(d, { recursive: true });
  await Deno.writeTextFile(join(home, "marker"), "home\n");
  await Deno.writeTextFile(join(rcwd, "marker"), "cwd\n");
  const tmpMarker = `/tmp/vsb-marker-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.writeTextFile(tmpMarker, "tmp\n");
  await Deno.chmod(tmpMarker, 0o644);
  let user: Scene["user"] = null;
  if (!noApptainer && !clusterSkip) {
    const c = await cluster();
    const cwd = await c.userDir("vsb-cwd");
    await c.giveFile(join(c.home, "vsb-marker"), "home\n");
    await c.giveFile(join(cwd, "marker"), "cwd\n");
    user = { home: c.home, cwd };
  }
  const lo = listen("127.0.0.1");
  const addr = await hostAddress();
  const host = listen(addr);
  const homes = [join(home, "marker"), ...(user ? [join(user.home, "vsb-marker")] : [])];
  const cwds = [join(rcwd, "marker"), ...(user ? [join(user.cwd, "marker")] : [])];
  await Deno.writeTextFile(
    join(work, "probe.py"),
    `import os, socket, sys
def reach(paths):
    for p in paths:
        try:
            open(p).read()
            return "reached"
        except OSError:
            pass
    return "blocked"
def net(host, port):
    try:
        socket.create_connection((host, port), timeout=3).close()
        return "reached"
    except OSError:
        return "blocked"
seen = [("net_lo", net("127.0.0.1", ${lo.port})), ("net_host", net("${addr}", ${host.port})),
        ("home", reach(${JSON.stringify(homes)})), ("cwd", reach(${JSON.stringify(cwds)})),
        ("tmp", reach(["${tmpMarker}"]))]
text = "".join(f"{k}: {v}\\n" for k, v in seen)
os.makedirs("out", exist_ok=True)
open("out/probe.txt", "w").write(text)
sys.stderr.write(text)
`,
  );
  const env = { HOME: home, VENVOY_HOME: join(root, "vh"), VENVOY_PROJECTS: join(root, "vp") };
  must(
    await venvoy(["--engine", "podman", "init", "--name", NAME, "--base-image", LAB_PYTHON], {
      env,
      cwd: work,
    }),
    "init",
  );
  const probe = must(
    await venvoy(
      [
        "record",
        "--inputs",
        "probe.py",
        "--outputs",
        "out/probe.txt",
        "--command",
        "python probe.py",
      ],
      { env, cwd: work },
    ),
    "record the probe",
  );
  // The recorded run is not sandboxed: it sees the home folder (a session mounts it).
  const recorded = await Deno.readTextFile(join(work, "out", "probe.txt"));
  assert.match(recorded, /^home: reached$/m, recorded);
  // Issue 18's verify bug, exactly: out/ exists, empty, before the run; the command writes in it.
  const pr = join(root, "pr");
  await Deno.mkdir(join(pr, "out"), { recursive: true });
  await Deno.writeTextFile(join(pr, "data.txt"), "d\n");
  const dirs = must(
    await venvoy([
      "record",
      "--name",
      NAME,
      "--inputs",
      "data.txt",
      "--outputs",
      "out",
      "--command",
      `python3 -c "open('out/r.txt','w').write('x')"`,
    ], { env, cwd: pr }),
    "record into an existing empty out/",
  );
  const dirsId = recordId(dirs);
  // Quick when recorded (./fast is there, not an input), endless in the re-run.
  await Deno.writeTextFile(join(pr, "fast"), "");
  const slow = must(
    await venvoy(
      [
        "record",
        "--name",
        NAME,
        "--outputs",
        "done.txt",
        "--command",
        "test -e fast || sleep 600; echo > done.txt",
      ],
      { env, cwd: pr },
    ),
    "record the slow one",
  );
  const rec = JSON.parse(await Deno.readTextFile(dirs.stdout.trim()));
  assertEquals(rec.dirs_before, ["out"]);
  const ex = must(
    await venvoy(
      ["export", "--name", NAME, "--format", "archive", "--with-inputs", "-o", root + "/"],
      { env, cwd: work },
    ),
    "export",
  );
  const archive = /^[0-9a-f]{64} {2}(\/.+)$/m.exec(ex.stdout)![1];
  await Deno.chmod(archive, 0o644);
  shared = {
    root,
    env,
    archive,
    probeId: recordId(probe),
    dirsId,
    slowId: recordId(slow),
    tmpMarker,
    lo,
    host,
    rcwd,
    user,
  };
  return shared;
}

/** A reviewer: the same HOME (with its marker), a fresh venvoy home, a short TMPDIR. */
async function reviewer(s: Scene): Promise<Record<string, string>> {
  const base = await Deno.makeTempDir({ dir: "/tmp", prefix: "vsr-" });
  await Deno.mkdir(join(base, "t"));
  return {
    HOME: s.env.HOME,
    VENVOY_HOME: join(base, "vh"),
    VENVOY_PROJECTS: join(base, "vp"),
    TMPDIR: join(base, "t"),
  };
}

/** out/probe.txt's sha256 in the re-run, from verify --json. */
function probeSha(res: CliResult): string {
  const report = JSON.parse(res.stdout);
  const o = report.records[0].outputs.find((x: { path: string }) => x.path === "out/probe.txt");
  assert(o, res.stdout);
  return o.actual_sha256;
}

async function verifyProbe(engine: string, extra: string[] = []): Promise<CliResult> {
  const s = await scene();
  const env = await reviewer(s);
  const hits = s.lo.hits() + s.host.hits();
  const res = await venvoy(
    ["--engine", engine, "verify", s.archive, "--record", s.probeId, "--json", ...extra],
    { env, cwd: s.rcwd },
  );
  assert(res.stdout.trim().startsWith("{"), `no report (exit ${res.code}):\n${res.stderr}`);
  if (!extra.includes("--network")) {
    assertEquals(s.lo.hits() + s.host.hits(), hits, "no connection reached the test's ports");
  }
  await Deno.remove(join(env.TMPDIR, ".."), { recursive: true }).catch(() => {});
  return res;
}

/** verify as root on `engine`: the re-run saw nothing; returns the report. */
async function allBlocked(engine: string) {
  const res = await verifyProbe(engine);
  assertEquals(probeSha(res), ALL_BLOCKED, `the re-run saw something:\n${res.stderr}`);
  return JSON.parse(res.stdout);
}

Deno.test({
  name: "verify sandbox, podman: no network, no home, no current folder, no host /tmp",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const report = await allBlocked("podman");
    assertEquals(report.sandbox.network, false);
    assertEquals([report.sandbox.memory, report.sandbox.pids], ["2g", 512]);
  },
});

Deno.test({
  name: "verify sandbox, podman --network: the network is back (and only then)",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const res = await verifyProbe("podman", ["--network"]);
    assertEquals(probeSha(res), sha(probeText({ net_host: "reached" })), res.stderr);
  },
});

Deno.test({
  name: "verify sandbox, podman: an output folder that existed empty before the run: same",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const s = await scene();
    const env = await reviewer(s);
    const res = await venvoy(["--engine", "podman", "verify", s.archive, "--record", s.dirsId], {
      env,
    });
    assertEquals(res.code, 0, `${res.stdout}\n${res.stderr}`);
    assert.match(res.stdout, /^ {2}same {5}out\/r\.txt$/m);
    assert.match(res.stdout.trimEnd().split("\n").at(-1)!, /^verdict: same/);
    await Deno.remove(join(env.TMPDIR, ".."), { recursive: true });
  },
});

Deno.test({
  name: "verify sandbox, podman --timeout: a re-run past its time is killed, its container removed",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const s = await scene();
    const env = await reviewer(s);
    const t0 = Date.now();
    const res = await venvoy(
      ["--engine", "podman", "verify", s.archive, "--record", s.slowId, "--timeout", "3s"],
      { env },
    );
    assertEquals(res.code, 1, res.stderr);
    assert(Date.now() - t0 < 300_000, "verify did not wait for the sleep");
    assert.match(res.stdout, /^ {2}note: the re-run was stopped at the time limit \(3 s\)/m);
    assert.match(res.stdout.trimEnd().split("\n").at(-1)!, /^verdict: differs/);
    // The container is gone with its store: no `sleep 600` of it is left on the host.
    const ps = await runner.run({ cmd: ["ps", "-eo", "args"] });
    assert(!ps.stdout.split("\n").some((l) => l.trim() === "sleep 600"), "the re-run lives on");
    await Deno.remove(join(env.TMPDIR, ".."), { recursive: true });
  },
});

Deno.test({
  name: "verify sandbox, apptainer as root: contained, no network, no host folders",
  ignore: noApptainer,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const report = await allBlocked("apptainer");
    assert(report.sandbox.notes.some((n: string) => /memory and process limits/.test(n)));
  },
});

Deno.test({
  name:
    "verify sandbox, apptainer as the non-root lab user: contained, no network, no host folders",
  ignore: noApptainer || clusterSkip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const s = await scene();
    const c = await cluster();
    const base = await c.userDir("vsb-rev");
    await Deno.mkdir(join(base, "t"));
    await Deno.chown(join(base, "t"), c.uid, c.gid);
    const archive = join(base, "a.tar.gz");
    await Deno.copyFile(s.archive, archive);
    await Deno.chown(archive, c.uid, c.gid);
    const hits = s.lo.hits() + s.host.hits();
    const res = await c.venvoyAsUser(
      ["--engine", "apptainer", "verify", archive, "--record", s.probeId, "--json"],
      {
        cwd: s.user!.cwd,
        noScheduler: true,
        env: {
          VENVOY_HOME: join(base, "vh"),
          VENVOY_PROJECTS: join(base, "vp"),
          TMPDIR: join(base, "t"),
        },
      },
    );
    assert(res.stdout.trim().startsWith("{"), `no report (exit ${res.code}):\n${res.stderr}`);
    assertEquals(probeSha(res), ALL_BLOCKED, `the re-run saw something:\n${res.stderr}`);
    assertEquals(s.lo.hits() + s.host.hits(), hits, "no connection reached the test's ports");
  },
});

Deno.test({
  name:
    "apptainer: variables arrive byte for byte (comma and '=', quotes, space, $, \\, `, newline)",
  ignore: noApptainer,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const s = await scene();
    const value = `node01,node02,B=b "q" 'x' $HOME \\ \`id\` end\nline2"`;
    const cwd = join(s.root, "envcheck");
    await Deno.mkdir(cwd);
    const res = await venvoy([
      "--engine",
      "apptainer",
      "run",
      NAME,
      "--env",
      `V=${value}`,
      "--env",
      "SLURM_JOB_NODELIST=node01,node02",
      "--command",
      'printf %s "$V" > v.txt; printf %s "${B-unset}|$SLURM_JOB_NODELIST" > w.txt',
    ], { env: s.env, cwd });
    assertEquals(res.code, 0, res.stderr);
    assertEquals(await Deno.readTextFile(join(cwd, "v.txt")), value);
    assertEquals(await Deno.readTextFile(join(cwd, "w.txt")), "unset|node01,node02");
  },
});

Deno.test({
  name: "verify sandbox: cleanup",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await runner.run({ cmd: ["podman", "rmi", "-f", `localhost/venvoy/${NAME}:latest`] });
    if (!shared) return;
    shared.lo.close();
    shared.host.close();
    await Deno.remove(shared.tmpMarker).catch(() => {});
    await Deno.remove(shared.root, { recursive: true }).catch(() => {});
  },
});
