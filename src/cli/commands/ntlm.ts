/** `rasgate ntlm`: not built yet (see the issues). */
export async function run(_argv: string[]): Promise<number> {
  process.stderr.write('rasgate ntlm: not implemented yet\n');
  return 1;
}
