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

export const events = {
  /** Shown by the renderer as a toast and, where allowed, an OS/browser notification. */
  'app.notification': Notification,
} as const
