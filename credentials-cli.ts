// Placeholder until this command is implemented; replaced by its owner.
export async function run(_argv: string[]): Promise<number> {
  throw new Error('not implemented yet');
}
