/** vup-core: the backend of the `vup` shell function. Loaded without the command framework. */
export function vupCoreMain(_args: string[]): Promise<number> {
  console.error("vup-core: error: vup-core is being built (issue 3)");
  return Promise.resolve(1);
}
