/**
 * A game whose trainer keeps failing the same way (same cause, same last line) is not something
 * restarts will fix (a missing backend, a bad argument): after REPEATS_TO_FLAG identical restarts
 * in a row the card, the criteria and a notification say so in words.
 */
export const REPEATS_TO_FLAG = 2

export interface FailureRecord {
  cause: string
  detail: string | null
}

export interface RepeatedFailure extends FailureRecord {
  /** Identical failures in a row, newest last. */
  times: number
}

/** The trailing run of identical failures, when it is long enough to flag; else null. */
export function repeatedFailure(restarts: readonly FailureRecord[]): RepeatedFailure | null {
  const last = restarts[restarts.length - 1]
  if (!last) return null
  let times = 0
  for (let i = restarts.length - 1; i >= 0 && restarts[i].cause === last.cause && restarts[i].detail === last.detail; i--) times++
  return times >= REPEATS_TO_FLAG ? { cause: last.cause, detail: last.detail, times } : null
}

/** "crash: RuntimeError: …" as one phrase for a sentence. */
export function failureWords(f: FailureRecord): string {
  return f.detail ? f.detail : f.cause
}
