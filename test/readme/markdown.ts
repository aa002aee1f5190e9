/** Just enough Markdown reading for the README doc-test. */

/** The bodies of the fenced code blocks of `language` (```sh, ```text, …), in order. */
export function codeBlocks(markdown: string, language: string): string[] {
  const fence = new RegExp('^```' + language + '\\n([\\s\\S]*?)^```$', 'gm');
  return [...markdown.matchAll(fence)].map((match) => match[1]);
}

/** The commands of a shell block: one per line, without comments and blank lines. */
export function commandLines(block: string): string[] {
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line.length > 0 && !line.startsWith('#'));
}

/** The commands typed in ```text transcripts: the lines that start with `$ `. */
export function transcriptCommands(markdown: string): string[] {
  return codeBlocks(markdown, 'text')
    .flatMap((block) => block.split('\n'))
    .filter((line) => line.startsWith('$ '))
    .map((line) => line.slice(2).trim());
}
