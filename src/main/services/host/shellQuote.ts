/**
 * THE one way Gantry turns argv into a command line for a remote POSIX shell (SSH exec always
 * goes through the login shell). Every word is single-quoted, so nothing in it is special:
 * `a; rm -rf ~`, `$(id)`, backticks, globs, newlines and quotes all arrive as literal bytes.
 */

/** Quote one word for sh/bash/zsh/dash. */
export function shellQuote(word: string): string {
  if (word.includes('\0')) throw new Error('A shell argument cannot contain a NUL byte.')
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word
  return `'${word.replace(/'/g, `'\\''`)}'`
}

/** Join argv into one command line in which each element is exactly one word. */
export function shellJoin(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('Nothing to run: the command is empty.')
  return argv.map(shellQuote).join(' ')
}

/**
 * A path for the remote shell where a leading `~/` must still expand to $HOME: the rest is quoted.
 * Prefer absolute paths (sessions know $HOME); this exists for user-entered roots only.
 */
export function shellQuoteHomePath(p: string): string {
  if (p === '~') return '"$HOME"'
  if (p.startsWith('~/')) return `"$HOME"/${shellQuote(p.slice(2))}`
  return shellQuote(p)
}
