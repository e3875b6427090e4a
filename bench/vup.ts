/**
 * `deno task bench:vup`: how fast vup is, against the design it replaces (a minimal Python 3
 * vup-core, bench/vup_core.py), in one run.
 *
 * Ten real venvs (python -m venv --without-pip) in five levels of a temporary home; every
 * call runs from a sixth, deeper folder and looks for ~/.venv/main, so the search walks all
 * the way up. Timed, interleaved round by round:
 *   - `vup main` end to end in bash (shell/vup.bash with _vup_core pointed at each backend;
 *     every call switches venvs, so it deactivates, activates and sets the prompt);
 *   - `vup-core find main` and `vup-core ls`, each a fresh process.
 * venvoy is the bundled dist/venvoy, copied out of the source tree, run as `deno run -A`.
 * Python is the real interpreter behind `python3` on PATH (resolved through a pyenv shim).
 *
 * Also measured, to show where the time goes: an empty Deno script (startup floor), src/vup
 * bundled alone (our code without the packed rest of venvoy), and an empty Python run.
 *
 * Options: --rounds=N (default 5), --iterations=N per round (default 10), --bundle=PATH to
 * time another build of dist/venvoy.
 */
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const opt = (name: string, dflt: number) => {
  const a = Deno.args.find((x) => x.startsWith(`--${name}=`));
  return a ? Math.max(1, Number(a.split("=")[1]) || dflt) : dflt;
};
const ROUNDS = opt("rounds", 5);
const ITER = opt("iterations", 10);

const dec = new TextDecoder();

async function run(cmd: string, args: string[], env?: Record<string, string>, cwd?: string) {
  const r = await new Deno.Command(cmd, { args, env, cwd, stdout: "piped", stderr: "piped" })
    .output();
  return { ok: r.success, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

function fail(msg: string): never {
  console.error(`bench:vup: ${msg}`);
  Deno.exit(1);
}

// ------------------------------------------------------------------ the interpreters

function which(prog: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    const p = `${dir || "."}/${prog}`;
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch { /* next */ }
  }
  return null;
}

async function pythonInfo(exe: string) {
  const r = await run(exe, [
    "-c",
    "import sys; print(sys.executable); print(sys.version.split()[0])",
  ]);
  if (!r.ok) return null;
  const [real, version] = r.out.trim().split("\n");
  return { exe: await Deno.realPath(real).catch(() => real), version };
}

const onPath = which("python3") ?? fail("python3 is not on PATH");
const primary = await pythonInfo(onPath) ?? fail(`${onPath} does not run`);
const head = dec.decode(Deno.readFileSync(onPath).slice(0, 400));
const isShim = head.startsWith("#!") && /pyenv|asdf|shim/i.test(head + onPath);
// A system interpreter that is not the one on PATH is timed too, for an honest picture.
let system: { exe: string; version: string } | null = null;
for (const cand of ["/usr/bin/python3", "/usr/local/bin/python3"]) {
  try {
    Deno.statSync(cand);
  } catch {
    continue;
  }
  const info = await pythonInfo(cand);
  if (info && info.exe !== primary.exe) {
    system = info;
    break;
  }
}

// ------------------------------------------------------------------ the setup

const tmp = await Deno.realPath(await Deno.makeTempDir({ prefix: "vup-bench-" }));
try {
  const dist = Deno.args.find((a) => a.startsWith("--bundle="))?.slice(9) ?? `${root}dist/venvoy`;
  try {
    Deno.statSync(dist);
  } catch {
    fail("dist/venvoy is missing: run `deno task bundle` (deno task bench:vup does)");
  }
  const bin = `${tmp}/bin/venvoy`;
  Deno.mkdirSync(`${tmp}/bin`);
  Deno.copyFileSync(dist, bin);
  const pyScript = `${tmp}/bin/vup_core.py`;
  Deno.copyFileSync(`${root}bench/vup_core.py`, pyScript);
  Deno.writeTextFileSync(`${tmp}/bin/empty.js`, "");
  Deno.writeTextFileSync(
    `${tmp}/bin/entry.ts`,
    `import { vupCoreMain } from ${JSON.stringify(`${root}src/vup/mod.ts`)};\n` +
      `Deno.exit(await vupCoreMain(Deno.args));\n`,
  );
  const b = await run(Deno.execPath(), [
    "bundle",
    "--quiet",
    "--no-config",
    "--platform",
    "deno",
    "-o",
    `${tmp}/bin/vup-only.js`,
    `${tmp}/bin/entry.ts`,
  ]);
  if (!b.ok) fail(`could not bundle src/vup alone:\n${b.err}`);

  const home = `${tmp}/home`;
  const levels = [home, `${home}/a`, `${home}/a/b`, `${home}/a/b/c`, `${home}/a/b/c/d`];
  const start = `${home}/a/b/c/d/work`;
  Deno.mkdirSync(start, { recursive: true });
  const venvs: string[] = [];
  levels.forEach((lvl, i) => {
    for (const n of i === 0 ? ["main", "data"] : [`l${i}a`, `l${i}b`]) {
      venvs.push(`${lvl}/.venv/${n}`);
    }
  });
  await Promise.all(venvs.map(async (v) => {
    const r = await run(primary.exe, ["-m", "venv", "--without-pip", v]);
    if (!r.ok) fail(`python -m venv failed:\n${r.err}`);
  }));

  const denoDir = Deno.env.get("DENO_DIR") ??
    `${Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME")}/.cache`}/deno`;
  const env = { HOME: home, PWD: start, DENO_DIR: denoDir };
  const deno = Deno.execPath();
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const venvoyCore = `${q(deno)} run -A ${q(bin)} vup-core`;
  const pyCore = (exe: string) => `${q(exe)} ${q(pyScript)}`;

  // Same answers first: a benchmark of different work would mean nothing.
  for (
    const args of [["find", "main"], ["ls"], ["find", "main", "--with-prompt"], [
      "find",
      "--nul",
      "--with-prompt",
      "main",
    ]]
  ) {
    const a = await run(deno, ["run", "-A", bin, "vup-core", ...args], env, start);
    const p = await run(primary.exe, [pyScript, ...args], env, start);
    if (!a.ok || a.out !== p.out) {
      fail(
        `venvoy and the Python script disagree on ${
          args.join(" ")
        }:\n${a.out}${a.err}\n---\n${p.out}${p.err}`,
      );
    }
  }

  // ------------------------------------------------------------------ timing

  /** Runs `body` ITER times in one bash (after one warm-up); prints µs per call. */
  const bashLoop = (setup: string, body: string): string =>
    `${setup}
${body} >/dev/null 2>&1
for ((i = 0; i < ${ITER}; i++)); do
  t0=$EPOCHREALTIME; ${body} >/dev/null 2>&1; t1=$EPOCHREALTIME
  echo $(( 10#\${t1//[.,]/} - 10#\${t0//[.,]/} ))
done`;
  const fn = (core: string) =>
    `cd ${q(start)}; source ${q(`${root}shell/vup.bash`)}; _vup_core() { ${core} "$@"; }; PS1='$ '`;

  interface Case {
    label: string;
    script: string;
  }
  const cases: Record<string, Case> = {
    e2eVenvoy: { label: "vup main (bash), venvoy", script: bashLoop(fn(venvoyCore), "vup main") },
    e2ePython: {
      label: "vup main (bash), python",
      script: bashLoop(fn(pyCore(primary.exe)), "vup main"),
    },
    findVenvoy: {
      label: "find, venvoy",
      script: bashLoop(`cd ${q(start)}`, `${venvoyCore} find main`),
    },
    findPython: {
      label: "find, python",
      script: bashLoop(`cd ${q(start)}`, `${pyCore(primary.exe)} find main`),
    },
    lsVenvoy: { label: "ls, venvoy", script: bashLoop(`cd ${q(start)}`, `${venvoyCore} ls`) },
    lsPython: {
      label: "ls, python",
      script: bashLoop(`cd ${q(start)}`, `${pyCore(primary.exe)} ls`),
    },
    denoEmpty: {
      label: "deno, empty script",
      script: bashLoop("", `${q(deno)} run -A ${q(`${tmp}/bin/empty.js`)}`),
    },
    vupOnly: {
      label: "src/vup alone, find",
      script: bashLoop(
        `cd ${q(start)}`,
        `${q(deno)} run -A ${q(`${tmp}/bin/vup-only.js`)} find main`,
      ),
    },
    pyEmpty: { label: "python, empty run", script: bashLoop("", `${q(primary.exe)} -c ''`) },
  };
  if (system) {
    cases.findSystem = {
      label: "find, system python",
      script: bashLoop(`cd ${q(start)}`, `${pyCore(system.exe)} find main`),
    };
    cases.lsSystem = {
      label: "ls, system python",
      script: bashLoop(`cd ${q(start)}`, `${pyCore(system.exe)} ls`),
    };
    cases.e2eSystem = {
      label: "vup main, system python",
      script: bashLoop(fn(pyCore(system.exe)), "vup main"),
    };
  }

  // And `vup main` really activates behind each backend (a failing call is fast).
  for (const [label, core] of [["venvoy", venvoyCore], ["python", pyCore(primary.exe)]]) {
    const r = await run(
      "bash",
      ["--noprofile", "--norc", "-c", `${fn(core)}\nvup main >/dev/null && echo "$VIRTUAL_ENV"`],
      { ...env, PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
      start,
    );
    if (!r.ok || !r.out.trim().endsWith("/.venv/main")) {
      fail(`vup main behind ${label} did not activate:\n${r.out}${r.err}`);
    }
  }

  const samples: Record<string, number[]> = Object.fromEntries(
    Object.keys(cases).map((k) => [k, []]),
  );
  const bashEnv = { ...env, PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" };
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate the order each round so drift in machine load hits both sides alike.
    const keys = Object.keys(cases);
    if (r % 2) keys.reverse();
    for (const k of keys) {
      const res = await run(
        "bash",
        ["--noprofile", "--norc", "-c", cases[k].script],
        bashEnv,
        start,
      );
      const nums = res.out.trim().split("\n").map(Number).filter((n) =>
        Number.isFinite(n) && n > 0
      );
      if (nums.length !== ITER) fail(`${cases[k].label}: bad timing output\n${res.out}${res.err}`);
      samples[k].push(...nums.map((us) => us / 1000));
    }
    Deno.stderr.writeSync(new TextEncoder().encode(`round ${r + 1}/${ROUNDS}\r`));
  }
  Deno.stderr.writeSync(new TextEncoder().encode("\n"));

  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  };
  const med = (k: string) => median(samples[k]);
  const ms = (x: number) => `${x.toFixed(1)} ms`.padStart(9);
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`.padStart(7);

  const denoVersion = Deno.version.deno;
  const out: string[] = [];
  out.push(
    "vup benchmark: ten venvs in five levels (~, ~/a, ~/a/b, ~/a/b/c, ~/a/b/c/d), run from",
    "~/a/b/c/d/work; `vup main` finds ~/.venv/main, so every call walks all six folders.",
    `venvoy: deno ${denoVersion} run -A <copy of dist/venvoy> vup-core`,
    `python: ${primary.exe} (Python ${primary.version}), bench/vup_core.py` +
      (onPath !== primary.exe
        ? `; it is the real interpreter behind ${onPath}${isShim ? " (a shim)" : ""}`
        : ""),
    `${ROUNDS} rounds x ${ITER} calls, interleaved; median wall time per call`,
    "",
    "                         venvoy     python   venvoy/python",
  );
  const rows: [string, string, string][] = [
    ["vup main (bash, e2e)", "e2eVenvoy", "e2ePython"],
    ["vup-core find main", "findVenvoy", "findPython"],
    ["vup-core ls", "lsVenvoy", "lsPython"],
  ];
  const verdicts: string[] = [];
  for (const [label, a, p] of rows) {
    out.push(`${label.padEnd(22)}${ms(med(a))}  ${ms(med(p))}   ${ratio(med(a), med(p))}`);
    verdicts.push(`${label}: ${med(a) <= med(p) ? "met" : "missed"}`);
  }
  if (system) {
    out.push(
      "",
      `Against ${system.exe} (Python ${system.version}, the system interpreter, not the one on PATH):`,
    );
    for (
      const [label, a, p] of [
        ["vup main (bash, e2e)", "e2eVenvoy", "e2eSystem"],
        ["vup-core find main", "findVenvoy", "findSystem"],
        ["vup-core ls", "lsVenvoy", "lsSystem"],
      ]
    ) {
      out.push(`${label.padEnd(22)}${ms(med(a))}  ${ms(med(p))}   ${ratio(med(a), med(p))}`);
    }
  }
  const floor = med("denoEmpty"), alone = med("vupOnly"), full = med("findVenvoy");
  out.push(
    "",
    "Where the time of `vup-core find` goes:",
    `  deno startup (empty script)          ${ms(floor)}`,
    `  src/vup alone (bundled by the bench) ${ms(alone)}   our code: ${ms(alone - floor).trim()}`,
    `  dist/venvoy vup-core                 ${ms(full)}   the packed rest of venvoy: ${
      ms(full - alone).trim()
    }`,
    `  python startup (empty run)           ${ms(med("pyEmpty"))}`,
    "",
    `Target, no slower than ${primary.exe}: ${verdicts.join("; ")}`,
  );
  console.log(out.join("\n"));
} finally {
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
}
