/**
 * The names that travel between the desktop, the GPU host and the renderer and end up in paths
 * or argv: run ids, game names, file names. One place, used for API input and for everything a
 * host answers, because a host is untrusted: each is exactly one path segment (no separator,
 * no "..", no NUL), never looks like an option (no leading "-"), and has a sane length.
 */
import { z } from 'zod'

/** Characters every id may use; the first may not be "." or "-" (hidden file, option). */
const segment = (max: number, extra: string) => new RegExp(`^[A-Za-z0-9_][A-Za-z0-9_${extra}-]{0,${max - 1}}$`)

export const RUN_ID_PATTERN = segment(128, '.')
export const GAME_NAME_PATTERN = segment(64, '')
export const FILE_NAME_PATTERN = segment(200, '.')

const noDotDot = (s: string) => !s.includes('..')

export const RunId = z
  .string()
  .regex(RUN_ID_PATTERN, 'A run id is 1-128 letters, digits, ".", "_" or "-", starting with a letter, digit or "_".')
  .refine(noDotDot, 'A run id never contains "..".')

export const GameName = z.string().regex(GAME_NAME_PATTERN, 'A game name is 1-64 letters, digits, "_" or "-", starting with a letter, digit or "_".')

export const FileName = z
  .string()
  .regex(FILE_NAME_PATTERN, 'A file name is 1-200 letters, digits, ".", "_" or "-", starting with a letter, digit or "_".')
  .refine(noDotDot, 'A file name never contains "..".')

/** A file path relative to the host's Gantry root: 1-16 segments, each a safe file name. */
export const RemoteRelPath = z
  .string()
  .min(1)
  .max(1024)
  .refine((p) => {
    const parts = p.split('/')
    return parts.length <= 16 && parts.every((s) => FILE_NAME_PATTERN.test(s) && noDotDot(s))
  }, 'Model paths are relative to the Gantry root, and each part is a plain file name (no "..", no leading "-" or ".").')

export const isRunId = (s: unknown): s is string => RunId.safeParse(s).success
export const isGameName = (s: unknown): s is string => GameName.safeParse(s).success
