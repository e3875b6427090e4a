import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { basename, dirname } from "../../../src/util/path.ts";
import {
  isWithin,
  levelsUpTo,
  normalize,
  resolveUserPath,
  tildify,
} from "../../../src/vup/paths.ts";

Deno.test("normalize resolves . and .. lexically", () => {
  assertEquals(normalize("/a/./b/../c//d/"), "/a/c/d");
  assertEquals(normalize("/.."), "/");
  assertEquals(normalize("/"), "/");
});

Deno.test("dirname and basename", () => {
  assertEquals(dirname("/h/p/.venv/main"), "/h/p/.venv");
  assertEquals(dirname("/h"), "/");
  assertEquals(basename("/h/p q/main"), "main");
});

Deno.test("isWithin is a path-component test, not a string prefix", () => {
  assertEquals(isWithin("/home/u", "/home/u"), true);
  assertEquals(isWithin("/home/u", "/home/u/x"), true);
  assertEquals(isWithin("/home/u", "/home/user2"), false);
  assertEquals(isWithin("/home/u", "/home"), false);
});

Deno.test("tildify", () => {
  assertEquals(tildify("/home/u", "/home/u"), "~");
  assertEquals(tildify("/home/u", "/home/u/proj/foo"), "~/proj/foo");
  assertEquals(tildify("/home/u", "/home/user2"), "/home/user2");
});

Deno.test("resolveUserPath: ~, absolute, relative, ~user", () => {
  const home = "/home/u", cwd = "/home/u/proj/foo";
  assertEquals(resolveUserPath("~", { home, cwd }), "/home/u");
  assertEquals(resolveUserPath("~/proj/foo", { home, cwd }), "/home/u/proj/foo");
  assertEquals(resolveUserPath("/home/u/x/../y", { home, cwd }), "/home/u/y");
  assertEquals(resolveUserPath("../bar", { home, cwd }), "/home/u/proj/bar");
  assertEquals(resolveUserPath("../../..", { home, cwd }), "/home");
  assertEquals(resolveUserPath("with space", { home, cwd }), "/home/u/proj/foo/with space");
  assertEquals(resolveUserPath("~root/x", { home, cwd }), null);
});

Deno.test("levelsUpTo lists the start, each parent, and home last", () => {
  assertEquals(levelsUpTo("/h", "/h/a/b"), ["/h/a/b", "/h/a", "/h"]);
  assertEquals(levelsUpTo("/h", "/h"), ["/h"]);
});
