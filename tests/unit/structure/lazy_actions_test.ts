/**
 * One lazy `import()` per action (issue #13): src/cli.ts loads every command file at start-up
 * to register it, so a command file imports only cheap things statically and each `.action(`
 * loads the module that does its work with exactly one `await import(`; that module imports
 * what it needs statically. Helpers outside the actions import nothing lazily.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const COMMANDS = join(dirname(fileURLToPath(import.meta.url)), "../../../src/commands");
const LAZY = /\bawait\s+import\s*\(/g;

/** The index just past the string, template or comment starting at i (or i when none does). */
function skip(text: string, i: number): number {
  const c = text[i];
  if (c === "/" && text[i + 1] === "/") {
    const end = text.indexOf("\n", i);
    return end < 0 ? text.length : end;
  }
  if (c === "/" && text[i + 1] === "*") {
    const end = text.indexOf("*/", i + 2);
    return end < 0 ? text.length : end + 2;
  }
  if (c === '"' || c === "'" || c === "`") {
    let j = i + 1;
    while (j < text.length && text[j] !== c) {
      if (text[j] === "\\") j++;
      j++;
    }
    return j + 1;
  }
  return i;
}

/** The text of every `.action(...)` call's argument list in a source file. */
export function actionBodies(text: string): string[] {
  const bodies: string[] = [];
  let from = 0;
  for (;;) {
    const at = text.indexOf(".action(", from);
    if (at < 0) return bodies;
    const open = at + ".action(".length;
    let depth = 1;
    let i = open;
    while (i < text.length && depth > 0) {
      const next = skip(text, i);
      if (next !== i) {
        i = next;
        continue;
      }
      if (text[i] === "(") depth++;
      else if (text[i] === ")") depth--;
      i++;
    }
    bodies.push(text.slice(open, i - 1));
    from = i;
  }
}

/** Problems with a command file's lazy imports; empty when each action does at most one. */
export function lazyImportProblems(file: string, text: string): string[] {
  const problems: string[] = [];
  const bodies = actionBodies(text);
  bodies.forEach((body, n) => {
    const count = body.match(LAZY)?.length ?? 0;
    if (count > 1) problems.push(`${file}: action #${n + 1} has ${count} lazy imports`);
  });
  const inBodies = bodies.reduce((sum, b) => sum + (b.match(LAZY)?.length ?? 0), 0);
  const total = text.match(LAZY)?.length ?? 0;
  if (total > inBodies) {
    problems.push(`${file}: ${total - inBodies} lazy import(s) outside the actions`);
  }
  return problems;
}

async function commandFiles(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for await (const e of Deno.readDir(COMMANDS)) {
    if (!e.isFile || !e.name.endsWith(".ts")) continue;
    const text = await Deno.readTextFile(join(COMMANDS, e.name));
    if (text.includes(".action(")) files.set(e.name, text);
  }
  return files;
}

Deno.test("each command action does at most one lazy import(), helpers none", async () => {
  const files = await commandFiles();
  assert(files.size >= 20, `expected the command files, found ${files.size}`);
  const problems = [...files].flatMap(([name, text]) => lazyImportProblems(name, text));
  assertEquals(problems, []);
  let actions = 0;
  let lazy = 0;
  for (const text of files.values()) {
    actions += actionBodies(text).length;
    lazy += text.match(LAZY)?.length ?? 0;
  }
  assert(actions >= 23, `expected at least 23 actions, found ${actions}`);
  assert(lazy <= actions, `${lazy} lazy imports for ${actions} actions`);
});

Deno.test("the check catches an action with two lazy imports and a lazy helper", () => {
  const text = `
program.command("x").action(async (opts, cmd) => {
  const { makeContext } = await import("./context.ts"); // a ) in a comment
  await x(makeContext(cmd.optsWithGlobals()), opts, ")");
});
program.command("y").action(async () => {
  const { a } = await import("./a.ts");
  const { b } = await import("./b.ts");
  a(\`\${b(")")}\`);
});
async function x() {
  const { c } = await import("./c.ts");
}`;
  assertEquals(actionBodies(text).length, 2);
  assertEquals(lazyImportProblems("x.ts", text), [
    "x.ts: action #2 has 2 lazy imports",
    "x.ts: 1 lazy import(s) outside the actions",
  ]);
});
