/**
 * Long e2e waits that follow what the user sees move, not wall-clock guesses: a wait fails when
 * its progress snapshot has not changed for `stallMs` (a real stall), or after `overallMs` (a
 * generous ceiling), so a slow, busy 2-core machine passes and a stuck run still fails.
 */
import type { Locator, Page } from '@playwright/test'

export interface ProgressWait {
  /** What is awaited, for the failure message. */
  what: string
  done(): Promise<boolean>
  /** Anything that changes while work advances (counters, states); compared as a string. */
  progress(): Promise<string>
  stallMs: number
  overallMs: number
  pollMs?: number
}

export async function untilDone(wait: ProgressWait): Promise<void> {
  const started = Date.now()
  let last = await wait.progress()
  let lastChange = Date.now()
  for (;;) {
    if (await wait.done()) return
    const now = Date.now()
    const snapshot = await wait.progress()
    if (snapshot !== last) {
      last = snapshot
      lastChange = now
    }
    if (now - lastChange > wait.stallMs) throw new Error(`${wait.what}: no progress for ${Math.round(wait.stallMs / 1000)} s (last seen: ${last})`)
    if (now - started > wait.overallMs) throw new Error(`${wait.what}: not done after ${Math.round(wait.overallMs / 60_000)} min although it kept moving (last seen: ${last})`)
    await new Promise((resolve) => setTimeout(resolve, wait.pollMs ?? 2000))
  }
}

/** Episodes, state and restarts of each game card: what moves while a run trains. */
export async function cardsProgress(page: Page, games: string[]): Promise<string> {
  const parts = await Promise.all(
    games.map(async (game) => {
      const card: Locator = page.getByRole('article', { name: `${game} card` })
      if ((await card.count()) === 0) return `${game}:absent`
      const [state, episodes, text] = await Promise.all([
        card.getAttribute('data-state'),
        card.getByRole('progressbar').first().getAttribute('aria-valuenow').catch(() => null),
        card.innerText().catch(() => ''),
      ])
      const steps = /([\d,.]+\s*[kM]?)\s*steps/.exec(text)?.[1] ?? ''
      return `${game}:${state}:${episodes}:${steps}`
    }),
  )
  return parts.join(' ')
}
