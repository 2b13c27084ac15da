/** `rasgate check-config`: not built yet (see the issues). */
export async function run(_argv: string[]): Promise<number> {
  process.stderr.write('rasgate check-config: not implemented yet\n');
  return 1;
}
