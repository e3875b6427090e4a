/**
 * Temporary folders for tests that are removed when the test module ends, even when a
 * test fails before its own cleanup: the unit suite leaves nothing in $TMPDIR.
 */
const made: string[] = [];

/** `Deno.makeTempDir({ prefix })`, removed (recursively) after the module's last test. */
export async function tempDir(prefix?: string): Promise<string> {
  const dir = await Deno.makeTempDir(prefix === undefined ? {} : { prefix });
  made.push(dir);
  return dir;
}

Deno.test.afterAll(async () => {
  for (const dir of made.splice(0)) {
    // Tests may leave read-only folders (permission tests): make them writable first.
    await new Deno.Command("chmod", { args: ["-R", "u+rwx", dir], stderr: "null" }).output()
      .catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
