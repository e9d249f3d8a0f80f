import { z } from 'zod'

export const methods = {
  'app.info': {
    input: z.object({}).strict(),
    output: z.object({
      name: z.string(),
      version: z.string(),
      platform: z.string(),
      transport: z.enum(['ipc', 'ws']),
      dataDir: z.string(),
      /** What this platform can do that the other cannot; the renderer shows a feature only when true. */
      capabilities: z.object({
        /** Drag a downloaded model out of the window onto the desktop (Electron). */
        dragOut: z.boolean(),
        /** A native folder picker (Electron); elsewhere the user types the path. */
        chooseFolder: z.boolean(),
      }),
      secretStorage: z.object({
        backend: z.string(),
        persistent: z.boolean(),
        warning: z.string().nullable(),
      }),
    }),
  },
} as const

export const Notification = z.object({
  level: z.enum(['info', 'success', 'warning', 'error']),
  title: z.string(),
  body: z.string(),
})
export type Notification = z.infer<typeof Notification>

export const events = {
  /** Shown by the renderer as a toast and, where allowed, an OS/browser notification. */
  'app.notification': Notification,
} as const
