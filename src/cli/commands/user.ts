/** `rasgate user`: not built yet (see the issues). */
export async function run(_argv: string[]): Promise<number> {
  process.stderr.write('rasgate user: not implemented yet\n');
  return 1;
}
