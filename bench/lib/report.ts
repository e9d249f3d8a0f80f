/** Print a table and append it, with command, machine and date, to BENCHMARKS.md's UI section. */
import { appendFileSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export const ROOT = path.resolve(__dirname, '..', '..')
const SECTION = '## UI: events, terminals, charts (bench/bench_*.ts)'

export function machine(): string {
  return `${os.arch()}, ${os.cpus().length} CPU threads (${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}`
}

export function report(title: string, command: string, rows: Array<[string, string]>, notes: string[] = []): void {
  const table = ['| measure | value |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n')
  const block = `\n### ${title} — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — ${machine()}\n\n\`${command}\`\n\n${table}\n${notes.length ? `\n${notes.join('\n')}\n` : ''}`
  console.log(block)
  if (process.argv.includes('--no-append')) return
  const file = path.join(ROOT, 'BENCHMARKS.md')
  const text = readFileSync(file, 'utf8')
  appendFileSync(file, text.includes(SECTION) ? block : `\n${SECTION}\n\nMeasured through the real code paths (see each bench's header comment). Not timed tests: numbers depend on the machine.\n${block}`)
}
