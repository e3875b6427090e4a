/**
 * `deno task bench:rootless`: venvoy on rootless podman, as the lab's rootless user
 * (tests/lab/setup.sh adds `venvoyrl`), through the bundled dist/venvoy. In one run it prints:
 *
 * 1. `venvoy run NAME --command true` against `podman run --rm IMAGE true` typed by hand by
 *    the same user, alternated: the ratio of the medians (target <= 1.15; the exit code says
 *    whether it is met). The same `podman run` with venvoy's user mapping
 *    (`--userns=keep-id:uid=,gid= --user UID:GID`) and an empty Deno script are timed
 *    alongside, to show what the mapping and Deno's own start cost. The rounds are timed by
 *    a small program running as the user, so `runuser` is in no measurement.
 * 2. `venvoy init` of the same one-package requirements rootless against rootful, alternated:
 *    the ratio of the medians (the aim with overlay storage is <= 1.5; vfs was 16x). Every
 *    init gets a fresh podman store of its own (CONTAINERS_STORAGE_CONF: graphroot and
 *    runroot in a new folder, the lab's base image loaded into it first, untimed) and a
 *    fresh VENVOY_HOME, so no build layer is cached; the package comes from PyPI, so, as in
 *    .ci/run, the host's CA bundle is named when none is set.
 *
 * Needs root (it switches users with runuser), the rootless user and its podman. Without
 * them it prints why and exits 0 (a skip). VENVOY_BENCH_ROUNDS (default 15) run rounds,
 * VENVOY_BENCH_INIT_ROUNDS (default 3) init rounds.
 */
import { join } from "node:path";
import {
  LAB_PYTHON,
  LAB_ROOTLESS_USER,
  type LabUser,
  labUser,
  runAs,
} from "../tests/integration/lab.ts";

const VENVOY = new URL("../dist/venvoy", import.meta.url).pathname;
const BASE = Deno.env.get("VENVOY_BENCH_BASE") ?? LAB_PYTHON;
const ROUNDS = Number(Deno.env.get("VENVOY_BENCH_ROUNDS") ?? "15");
const INIT_ROUNDS = Number(Deno.env.get("VENVOY_BENCH_INIT_ROUNDS") ?? "3");
const TARGET = 1.15;
const INIT_AIM = 1.5;
const REQUIREMENTS = "six==1.16.0\n";
const PATH = "/usr/local/bin:/usr/bin:/bin";
/** Root's login PATH: rootful podman's netavark runs iptables from /usr/sbin. */
const ROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

type Result = { code: number; stdout: string; stderr: string };

function must(what: string, res: Result): string {
  if (res.code !== 0) throw new Error(`${what} failed (${res.code}): ${res.stderr.trim()}`);
  return res.stdout;
}

/** As .ci/run: PyPI through a TLS-intercepting proxy needs the host's CA bundle. */
function caEnv(): Record<string, string> {
  const named = ["PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"].filter((k) => Deno.env.get(k));
  if (named.length) return Object.fromEntries(named.map((k) => [k, Deno.env.get(k)!]));
  try {
    Deno.statSync("/etc/ssl/certs/ca-certificates.crt");
    return { SSL_CERT_FILE: "/etc/ssl/certs/ca-certificates.crt" };
  } catch {
    return {};
  }
}

async function skipReason(user: LabUser | null): Promise<string | null> {
  if (Deno.uid() !== 0) {
    return "not root (the benchmark switches to the rootless user with runuser)";
  }
  if (!user) return `no rootless user ${LAB_ROOTLESS_USER} (run tests/lab/setup.sh as root)`;
  const env = { HOME: user.home, XDG_RUNTIME_DIR: `/run/user/${user.uid}`, PATH };
  const info = await runAs(user, ["podman", "info", "--format", "{{.Host.Security.Rootless}}"], {
    env,
    cwd: "/",
  }).catch((e) => ({ code: -1, stdout: "", stderr: String(e) }));
  if (info.code !== 0) {
    return `rootless podman does not answer for ${user.name}: ${
      info.stderr.trim().split("\n").pop()
    }`;
  }
  if (info.stdout.trim() !== "true") return `podman of ${user.name} is not rootless`;
  const image = await runAs(user, ["podman", "image", "exists", BASE], { env, cwd: "/" });
  if (image.code !== 0) return `${BASE} is not in ${user.name}'s store (run tests/lab/setup.sh)`;
  return null;
}

const user = await labUser(LAB_ROOTLESS_USER);
const why = await skipReason(user);
if (why || !user) {
  console.error(`SKIP bench:rootless: ${why}`);
  Deno.exit(0);
}

const root = await Deno.makeTempDir({ prefix: "venvoy-bench-rootless-" });
await Deno.chmod(root, 0o755);
/** A folder owned by `owner` (root when null). */
async function dir(name: string, owner: LabUser | null): Promise<string> {
  const path = join(root, name);
  await Deno.mkdir(path, { recursive: true });
  await Deno.chown(path, owner?.uid ?? 0, owner?.gid ?? 0);
  return path;
}
async function give(path: string, text: string, owner: LabUser | null, mode = 0o644) {
  await Deno.writeTextFile(path, text, { mode });
  await Deno.chown(path, owner?.uid ?? 0, owner?.gid ?? 0);
}

/** The environment a login of `who` has, with venvoy's state in `home`. */
function envFor(who: LabUser | null, home: string): Record<string, string> {
  return {
    PATH: who ? PATH : ROOT_PATH,
    LANG: "C.UTF-8",
    NO_COLOR: "1",
    DENO_NO_UPDATE_CHECK: "1",
    HOME: who?.home ?? "/root",
    USER: who?.name ?? "root",
    ...(who ? { XDG_RUNTIME_DIR: `/run/user/${who.uid}` } : {}),
    XDG_CACHE_HOME: join(home, "cache"),
    VENVOY_HOME: join(home, "state"),
    VENVOY_PROJECTS: join(home, "projects"),
    ...caEnv(),
  };
}

/** Rootful overlay leaves its graph folder bind-mounted on itself: unmount what is under dir. */
async function unmountUnder(dir: string) {
  const points = (await Deno.readTextFile("/proc/self/mountinfo")).split("\n")
    .map((l) => l.split(" ")[4]).filter((p) => p?.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const p of points) {
    must(`umount ${p}`, await runAs(null, ["umount", p], { env: { PATH: ROOT_PATH } }));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const show = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(" ");
const NAME = `bench-rl-${crypto.randomUUID().slice(0, 6)}`;
const prog = join(await dir("prog", null), "venvoy");
await Deno.copyFile(VENVOY, prog);
await Deno.chmod(prog, 0o755);
/** How a user runs a script with deno (dist/venvoy's own `#!` line, less --ext=js). */
const denoRun = [Deno.execPath(), "run", "-A", "--no-config", "--no-lock", "--quiet"];
const venvoy = [...denoRun, "--ext=js", prog];

const userHome = await dir("user", user);
const userEnv = envFor(user, userHome);
const work = await dir("user/work", user);
let failed = false;
try {
  // 1. venvoy run against podman run, as the user.
  console.error(`setting up '${NAME}' as ${user.name}: venvoy init on ${BASE}`);
  must(
    "venvoy init",
    await runAs(user, [
      ...venvoy,
      "--engine",
      "podman",
      "init",
      "--name",
      NAME,
      "--base-image",
      BASE,
    ], { env: userEnv, cwd: work }),
  );
  const image = `localhost/venvoy/${NAME}:latest`;
  const empty = join(userHome, "empty.js");
  await give(empty, "", user);
  const cmds: Record<string, string[]> = {
    venvoy: [...venvoy, "run", NAME, "--command", "true"],
    podman: ["podman", "run", "--rm", image, "true"],
    keepId: [
      "podman",
      "run",
      "--rm",
      `--userns=keep-id:uid=${user.uid},gid=${user.gid}`,
      "--user",
      `${user.uid}:${user.gid}`,
      image,
      "true",
    ],
    deno: [Deno.execPath(), "run", "--no-config", "--no-lock", "--quiet", empty],
  };
  const timer = join(userHome, "timer.js");
  await give(
    timer,
    `const { rounds, cmds } = JSON.parse(Deno.args[0]);
const once = async (argv) => {
  const t0 = performance.now();
  const r = await new Deno.Command(argv[0], { args: argv.slice(1), stdin: "null", stdout: "null", stderr: "piped" }).output();
  if (r.code !== 0) throw new Error(argv.join(" ") + " failed: " + new TextDecoder().decode(r.stderr));
  return (performance.now() - t0) / 1000;
};
const out = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]));
for (const argv of Object.values(cmds)) await once(argv); // warm every path once
for (let i = 0; i < rounds; i++) for (const [k, argv] of Object.entries(cmds)) out[k].push(await once(argv));
console.log(JSON.stringify(out));
`,
    user,
  );
  const times: Record<string, number[]> = JSON.parse(must(
    "the timed rounds",
    await runAs(user, [
      ...denoRun,
      timer,
      JSON.stringify({ rounds: ROUNDS, cmds }),
    ], { env: userEnv, cwd: work }),
  ));
  const m = Object.fromEntries(Object.entries(times).map(([k, xs]) => [k, median(xs)]));
  const ms = (x: number) => `${(x * 1000).toFixed(0)} ms`;
  console.log(`rootless, as ${user.name}, ${ROUNDS} rounds alternated:`);
  console.log(
    `  venvoy run --command true:      median ${m.venvoy.toFixed(3)} s (${show(times.venvoy)})`,
  );
  console.log(
    `  podman run --rm IMAGE true:     median ${m.podman.toFixed(3)} s (${show(times.podman)})`,
  );
  console.log(
    `  the same with venvoy's keep-id: median ${m.keepId.toFixed(3)} s (${
      show(times.keepId)
    }), ratio ${(m.keepId / m.podman).toFixed(3)}`,
  );
  console.log(
    `  difference: ${ms(m.venvoy - m.podman)}, of which an empty Deno script's start and exit: ${
      ms(m.deno)
    }`,
  );
  const ratio = m.venvoy / m.podman;
  failed = ratio > TARGET;
  console.log(
    `run ratio: ${ratio.toFixed(3)} (target <= ${TARGET}): ${
      failed ? "OVER TARGET" : "within target"
    }`,
  );
  must(
    "venvoy delete",
    await runAs(user, [...venvoy, "delete", NAME, "--force", "--purge"], {
      env: userEnv,
      cwd: work,
    }),
  );

  // 2. init rootless against rootful, each in a fresh store.
  const baseTar = join(await dir("base", null), "base.tar");
  must(
    "podman save",
    await runAs(null, ["podman", "save", "--format", "docker-archive", "-o", baseTar, BASE], {
      env: { PATH: ROOT_PATH },
    }),
  );
  await Deno.chmod(baseTar, 0o644);
  const initOnce = async (who: LabUser | null, round: number): Promise<[number, number]> => {
    const home = await dir(`init-${who ? "rootless" : "rootful"}-${round}`, who);
    const store = await dir(`init-${who ? "rootless" : "rootful"}-${round}/store`, who);
    const proj = await dir(`init-${who ? "rootless" : "rootful"}-${round}/work`, who);
    await give(join(proj, "requirements.txt"), REQUIREMENTS, who);
    const conf = `[storage]\ndriver = "overlay"\n`;
    let env: Record<string, string>;
    if (who) {
      // Rootless podman takes its store from XDG_DATA_HOME, its configuration from
      // XDG_CONFIG_HOME and its run state (runroot, the user namespace's pause process) from
      // XDG_RUNTIME_DIR: all three fresh, so nothing is shared with the user's own store.
      await dir(`${store.slice(root.length + 1)}/config/containers`, who);
      await give(join(store, "config/containers/storage.conf"), conf + mountProgram, who);
      const run = await dir(`${store.slice(root.length + 1)}/run`, who);
      await Deno.chmod(run, 0o700);
      env = {
        ...envFor(who, home),
        XDG_DATA_HOME: join(store, "data"),
        XDG_CONFIG_HOME: join(store, "config"),
        XDG_RUNTIME_DIR: run,
      };
    } else {
      await give(
        join(store, "storage.conf"),
        `${conf}graphroot = "${store}/graph"\nrunroot = "${store}/run"\n`,
        who,
      );
      env = { ...envFor(who, home), CONTAINERS_STORAGE_CONF: join(store, "storage.conf") };
    }
    const [driver, graphRoot] = must(
      "podman info",
      await runAs(who, [
        "podman",
        "info",
        "--format",
        "{{.Store.GraphDriverName}} {{.Store.GraphRoot}}",
      ], { env, cwd: "/" }),
    ).trim().split(" ");
    if (!graphRoot.startsWith(`${store}/`)) {
      throw new Error(
        `podman of ${who?.name ?? "root"} did not take the fresh store: ${graphRoot}`,
      );
    }
    drivers.add(`${who ? "rootless" : "rootful"} ${driver}`);
    must(
      "podman load",
      await runAs(who, ["podman", "load", "-q", "-i", baseTar], { env, cwd: proj }),
    );
    const t0 = performance.now();
    const res = await runAs(who, [
      ...venvoy,
      "--engine",
      "podman",
      "init",
      "--name",
      "bench-init",
      "--base-image",
      BASE,
      "--requirements",
      "requirements.txt",
    ], { env, cwd: proj });
    const s = (performance.now() - t0) / 1000;
    must(`venvoy init (${who ? "rootless" : "rootful"})`, res);
    // venvoy's own step times, to see where a slow round went.
    const steps = [...res.stderr.matchAll(/^(.+?)(?: \(log: [^)]*\))?: done \((.+)\)$/gm)]
      .map((x) => `${x[1]} ${x[2]}`);
    console.error(
      `  ${who ? "rootless" : "rootful"} ${round}: ${s.toFixed(1)} s (${steps.join("; ")})`,
    );
    if (who) {
      // The fresh user namespace's pause process (started by this round's podman) holds
      // its mounts: stop it, then the folder can go.
      const pid = Number(
        await Deno.readTextFile(join(env.XDG_RUNTIME_DIR, "libpod/tmp/pause.pid")).catch(() => "0"),
      );
      if (pid > 0) Deno.kill(pid, "SIGKILL");
    }
    await unmountUnder(home);
    await Deno.remove(home, { recursive: true });
    const build = /^Building .*: done \(([\d.]+) s\)$/m.exec(res.stderr)?.[1];
    return [s, Number(build ?? NaN)];
  };
  // The user's own store may need fuse-overlayfs (tests/lab/setup.sh): so does a fresh one.
  const userConf = await Deno.readTextFile(join(user.home, ".config/containers/storage.conf"))
    .catch(() => "");
  const mp = /^\s*mount_program\s*=.*$/m.exec(userConf)?.[0];
  const mountProgram = mp ? `[storage.options.overlay]\n${mp.trim()}\n` : "";
  const drivers = new Set<string>();
  console.error(`init rounds: ${INIT_ROUNDS} of each, alternated (each ~20 s)`);
  const rl: number[] = [];
  const rf: number[] = [];
  const bl: number[] = [];
  const bf: number[] = [];
  for (let r = 0; r < INIT_ROUNDS; r++) {
    const [l, lb] = await initOnce(user, r);
    const [f, fb] = await initOnce(null, r);
    rl.push(l), bl.push(lb), rf.push(f), bf.push(fb);
  }
  const initRatio = median(rl) / median(rf);
  console.log(
    `venvoy init of one PyPI package (${REQUIREMENTS.trim()}), fresh store, nothing cached:`,
  );
  console.log(
    `  storage drivers: ${[...drivers].join(", ")}${
      mountProgram ? " (rootless with fuse-overlayfs)" : ""
    }`,
  );
  console.log(`  rootless (${user.name}): median ${median(rl).toFixed(2)} s (${show(rl)})`);
  console.log(`  rootful (root):       median ${median(rf).toFixed(2)} s (${show(rf)})`);
  // In a fresh store the package listing (one `podman run --rm`) takes ~20 s on both sides,
  // against ~4 s in the users' own stores: the build step alone is the cleaner comparison.
  console.log(
    `  the build step alone: rootless median ${median(bl).toFixed(2)} s (${show(bl)}), ` +
      `rootful ${median(bf).toFixed(2)} s (${show(bf)}), ratio ${
        (median(bl) / median(bf)).toFixed(3)
      }`,
  );
  console.log(
    `init ratio: ${initRatio.toFixed(3)} (aim <= ${INIT_AIM}): ${
      initRatio > INIT_AIM ? "over the aim" : "within the aim"
    }`,
  );
} finally {
  await unmountUnder(root).catch(() => {});
  await runAs(user, [...venvoy, "delete", NAME, "--force", "--purge"], { env: userEnv, cwd: work })
    .catch(() => {});
  await Deno.remove(root, { recursive: true }).catch(() => {});
}
if (failed) Deno.exit(1);
