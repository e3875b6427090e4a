/**
 * Shell completion, driven the way a shell drives it: real bash with the bash-completion
 * package loaded sources `venvoy completions bash` and calls the registered completion
 * function as Tab would; zsh and fish check their scripts' syntax. The bundled product is
 * on PATH as `venvoy` (the scripts call `venvoy complete -- …`).
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { venvoy, venvoyBin } from "./cli.ts";

const BASH_COMPLETION = "/usr/share/bash-completion/bash_completion";

function has(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function onPath(cmd: string): boolean {
  return (Deno.env.get("PATH") ?? "").split(":").some((d) => d && has(join(d, cmd)));
}

function skipUnless(what: string, ok: boolean): boolean {
  if (!ok) console.error(`SKIP ${what}: not installed (apt-get install bash-completion zsh fish)`);
  return !ok;
}

/** A folder with `venvoy` (the bundle) on PATH, and a VENVOY_HOME with two environments. */
async function setUp(): Promise<{ dir: string; env: Record<string, string> }> {
  const dir = await Deno.makeTempDir({ prefix: "venvoy-it-complete-" });
  const bin = join(dir, "bin");
  await Deno.mkdir(bin);
  await Deno.writeTextFile(
    join(bin, "venvoy"),
    `#!/bin/sh\nexec '${Deno.execPath()}' run --allow-all --no-config --no-lock --quiet '${await venvoyBin()}' "$@"\n`,
    { mode: 0o755 },
  );
  const home = join(dir, "home");
  for (const name of ["study", "thesis-2"]) {
    await Deno.mkdir(join(home, "environments", name), { recursive: true });
    await Deno.writeTextFile(join(home, "environments", name, "config.yaml"), "name: x\n");
  }
  return {
    dir,
    env: {
      PATH: `${bin}:${Deno.env.get("PATH")}`,
      VENVOY_HOME: home,
      VENVOY_PROJECTS: join(dir, "projects"),
      HOME: dir,
      NO_COLOR: "1",
    },
  };
}

/** COMPREPLY after Tab on `line` (the cursor at its end), one candidate per element. */
async function tab(line: string, env: Record<string, string>, script: string): Promise<string[]> {
  const words = line.split(" ");
  const program = `
set -u
source ${BASH_COMPLETION}
source '${script}'
spec=$(complete -p venvoy) || { echo "no completion registered for venvoy" >&2; exit 9; }
fn=$(sed -E 's/.* -F ([^ ]+) .*/\\1/' <<<"$spec")
COMP_LINE=${JSON.stringify(line)}
COMP_POINT=\${#COMP_LINE}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")})
COMP_CWORD=${words.length - 1}
COMP_TYPE=9
COMPREPLY=()
"$fn" venvoy ${JSON.stringify(words.at(-1))} ${JSON.stringify(words.at(-2) ?? "")}
printf '%s\\n' "\${COMPREPLY[@]}"
`;
  const out = await new Deno.Command("bash", {
    args: ["--noprofile", "--norc", "-c", program],
    env,
    clearEnv: true,
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  assertEquals(out.code, 0, dec.decode(out.stderr));
  return dec.decode(out.stdout).split("\n").map((s) => s.trim()).filter((s) => s !== "").sort();
}

Deno.test({
  name: "bash: venvoy ru<Tab> offers run and runtime-info; options and environment names",
  ignore: skipUnless("bash-completion", has(BASH_COMPLETION) && onPath("bash")),
  async fn() {
    const { dir, env } = await setUp();
    try {
      const gen = await venvoy(["completions", "bash"], { env });
      assertEquals(gen.code, 0, gen.stderr);
      const script = join(dir, "venvoy.bash");
      await Deno.writeTextFile(script, gen.stdout);

      assertEquals(await tab("venvoy ru", env, script), ["run", "runtime-info"]);
      assertEquals(await tab("venvoy run ", env, script), ["study", "thesis-2"]);
      assertEquals(await tab("venvoy run th", env, script), ["thesis-2"]);
      assertEquals(await tab("venvoy history --name ", env, script), ["study", "thesis-2"]);
      const runOptions = await tab("venvoy run --", env, script);
      for (const o of ["--command", "--mount", "--name", "--read-only"]) {
        assert(runOptions.includes(o), `${o} in ${runOptions.join(" ")}`);
      }
      assertEquals(await tab("venvoy --engine p", env, script), ["podman"]);
      // The hidden command the script calls is not offered; the generator is.
      const top = await tab("venvoy comp", env, script);
      assertEquals(top, ["completions"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

for (const shell of ["zsh", "fish"] as const) {
  Deno.test({
    name: `${shell} -n accepts the ${shell} completion script`,
    ignore: skipUnless(shell, onPath(shell)),
    async fn() {
      const { dir, env } = await setUp();
      try {
        const gen = await venvoy(["completions", shell], { env });
        assertEquals(gen.code, 0, gen.stderr);
        assert(gen.stdout.includes("venvoy complete --"), "the script asks venvoy");
        const script = join(dir, `venvoy.${shell}`);
        await Deno.writeTextFile(script, gen.stdout);
        const out = await new Deno.Command(shell, { args: ["-n", script], stdin: "null" })
          .output();
        assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

Deno.test("venvoy complete is known, and completions is listed in --help", async () => {
  const { dir, env } = await setUp();
  try {
    const res = await venvoy(["complete", "--", "delete", ""], { env });
    assertEquals(res.code, 0, res.stderr);
    assertEquals(
      res.stdout.split("\n").filter((l) => l && !l.startsWith(":")).map((l) => l.split("\t")[0]),
      ["study", "thesis-2"],
    );
    const help = await venvoy(["--help"], { env });
    assert(/^\s+completions <shell>/m.test(help.stdout), help.stdout);
    assert(!/^\s+complete \[/m.test(help.stdout), "the hidden command stays hidden");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
