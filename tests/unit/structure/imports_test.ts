/**
 * The shape of src/: folders import each other without cycles (a newcomer can read the
 * folders bottom-up), counting static, type-only and lazy `import()` edges alike.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const SRC = join(dirname(fileURLToPath(import.meta.url)), "../../../src");

async function* sources(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) yield* sources(p);
    else if (e.name.endsWith(".ts")) yield p;
  }
}

/** The folder under src/ a file belongs to; a file at the root of src/ is its own unit. */
function unitOf(file: string): string {
  const rel = relative(SRC, file);
  const parts = rel.split(/[\\/]/);
  return parts.length > 1 ? parts[0] : rel;
}

const SPEC = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']+)["']/g;

/** folder -> folders it imports (relative imports only; npm: and node: are outside src/). */
export async function folderGraph(): Promise<Map<string, Set<string>>> {
  const graph = new Map<string, Set<string>>();
  for await (const file of sources(SRC)) {
    const from = unitOf(file);
    const text = await Deno.readTextFile(file);
    for (const m of text.matchAll(SPEC)) {
      const target = join(dirname(file), m[1]);
      if (relative(SRC, target).startsWith("..")) continue;
      const to = unitOf(target);
      if (to === from) continue;
      if (!graph.has(from)) graph.set(from, new Set());
      graph.get(from)!.add(to);
    }
  }
  return graph;
}

/** Every elementary cycle's smallest witness: for each edge a->b, a path b->...->a. */
function cycles(graph: Map<string, Set<string>>): string[] {
  const found = new Set<string>();
  for (const [a, outs] of graph) {
    for (const b of outs) {
      // BFS from b back to a.
      const prev = new Map<string, string>([[b, ""]]);
      const queue = [b];
      while (queue.length) {
        const n = queue.shift()!;
        if (n === a) break;
        for (const next of graph.get(n) ?? []) {
          if (!prev.has(next)) {
            prev.set(next, n);
            queue.push(next);
          }
        }
      }
      if (!prev.has(a)) continue;
      const path = [a];
      for (let n = a; n !== b; n = prev.get(n)!) path.unshift(prev.get(n)!);
      const ring = [a, ...path.slice(0, -1)];
      // Canonical rotation so each cycle is reported once.
      const min = ring.indexOf([...ring].sort()[0]);
      const canon = [...ring.slice(min), ...ring.slice(0, min)];
      found.add([...canon, canon[0]].join(" -> "));
    }
  }
  return [...found].sort();
}

Deno.test("src/ folders import each other without cycles", async () => {
  const graph = await folderGraph();
  assertEquals(cycles(graph), []);
});

Deno.test("the cycle finder finds a cycle it is given", () => {
  const g = new Map([["a", new Set(["b"])], ["b", new Set(["c"])], ["c", new Set(["a"])]]);
  assertEquals(cycles(g), ["a -> b -> c -> a"]);
});
