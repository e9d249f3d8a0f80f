import { z } from 'zod'

export const LOCAL_INSTANCE_ID = 'local'

export const InstanceId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._-]+$/, 'Instance ids use letters, digits, dot, dash and underscore.')

export const ConnectionState = z.object({
  status: z.enum(['idle', 'connecting', 'connected', 'reconnecting', 'failed']),
  /** Seconds until the next reconnect attempt, when status is "reconnecting". */
  retryInS: z.number().nullable(),
  /** A sentence the user can act on, when status is "failed" or "reconnecting". */
  message: z.string().nullable(),
  since: z.number(),
})
export type ConnectionState = z.infer<typeof ConnectionState>

export const SetupState = z.object({
  status: z.enum(['unknown', 'not_set_up', 'ready', 'failed']),
  /** Content hash of the remote/ folder that was set up, when ready. */
  remoteHash: z.string().nullable(),
  checkedAt: z.number().nullable(),
  message: z.string().nullable(),
})
export type SetupState = z.infer<typeof SetupState>

/**
 * What an instance is: "This computer" (built in), a GPU host reached over SSH, or a SLURM cluster
 * reached over SSH through its login node (runs go to SLURM as a job array).
 */
export const InstanceKind = z.enum(['local', 'ssh', 'slurm'])
export type InstanceKind = z.infer<typeof InstanceKind>
/** The kinds a user adds: both are reached over SSH. */
export const AddedInstanceKind = InstanceKind.exclude(['local'])
export type AddedInstanceKind = z.infer<typeof AddedInstanceKind>

export const InstanceSummary = z.object({
  id: InstanceId,
  name: z.string(),
  kind: InstanceKind,
  /** user@host:port for ssh and slurm instances (the login node's), "this computer" for the local one. */
  address: z.string(),
  hourlyPrice: z.number().nonnegative().nullable(),
  connection: ConnectionState,
  setup: SetupState,
})
export type InstanceSummary = z.infer<typeof InstanceSummary>

// ---------------------------------------------------------------------------------------------
// Instance details (what the wizard and settings edit). Secrets never come back out: the
// stored form only says whether one is kept.
// ---------------------------------------------------------------------------------------------

/** A DNS name, IPv4 or IPv6 literal; no spaces, no shell or ssh option syntax. */
export const HostName = z
  .string()
  .trim()
  .min(1, 'Enter the host name or IP address.')
  .max(253)
  .regex(/^[A-Za-z0-9._:%-]+$/, 'A host is a name like gpu-1.example.com or an IP address, without spaces or user@.')
  .refine((h) => !h.startsWith('-'), 'A host cannot start with "-".')
export const UserName = z
  .string()
  .trim()
  .min(1, 'Enter the user to log in as (often root or ubuntu).')
  .max(64)
  .regex(/^[A-Za-z0-9._][A-Za-z0-9._-]*$/, 'A user name uses letters, digits, dot, dash and underscore.')
export const Port = z.coerce.number().int('The port is a whole number.').min(1, 'Ports go from 1 to 65535.').max(65535, 'Ports go from 1 to 65535.')
const KeyPath = z.string().trim().min(1, 'Enter the path of the private key file, e.g. ~/.ssh/id_ed25519.').max(4096)
const Secret = z.string().min(1).max(4096)

/** Auth as entered: a passphrase or password here is handed to Platform.secrets, never stored in a file. */
export const AuthInput = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('agent') }),
  z.object({ kind: z.literal('key'), keyPath: KeyPath, passphrase: Secret.optional() }),
  z.object({ kind: z.literal('password'), password: Secret.optional() }),
])
export type AuthInput = z.infer<typeof AuthInput>

/** Auth as stored and shown: whether a secret is kept, never the secret. */
export const AuthInfo = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('agent') }),
  z.object({ kind: z.literal('key'), keyPath: z.string(), hasPassphrase: z.boolean() }),
  z.object({ kind: z.literal('password'), hasPassword: z.boolean() }),
])
export type AuthInfo = z.infer<typeof AuthInfo>

export const JumpHostInput = z.object({ host: HostName, port: Port.default(22), user: UserName, auth: AuthInput })
export const JumpHostInfo = z.object({ host: z.string(), port: z.number(), user: z.string(), auth: AuthInfo })

export const GantryRoot = z
  .string()
  .trim()
  .min(1)
  .max(1024)
  .regex(/^(~|~\/[^\0\n]*|\/[^\0\n]*)$/, 'The Gantry folder on the host is an absolute path or starts with ~/.')

/** A SLURM name (partition, account, QoS): what remote/gantry_remote/slurm_batch.py accepts. */
const SlurmName = z
  .string()
  .trim()
  .max(128)
  .regex(/^[A-Za-z0-9_.:+-]*$/, 'Use the name SLURM shows (letters, digits, "_", ".", ":", "+", "-").')
const optionalCount = (max: number, what: string) => z.number().int(`${what} is a whole number.`).min(1).max(max).nullable().default(null)

/**
 * A "SLURM cluster" instance: the host is the login node; these become the #SBATCH lines of the
 * run's job array (the plan's scheduler block). Empty fields leave the site's defaults.
 */
export const SlurmSettings = z.object({
  partition: SlurmName.default(''),
  account: SlurmName.default(''),
  qos: SlurmName.default(''),
  timeLimitMin: optionalCount(525_600, 'The time limit (minutes)'),
  /** "gpu:1", "gpu:a100:1" or "shard:1" (a GPU shard, where the site shares GPUs); '' for none. */
  gres: z
    .string()
    .trim()
    .max(128)
    .regex(/^([A-Za-z0-9_]+(:[A-Za-z0-9_.-]+)?(:\d+)?(,[A-Za-z0-9_]+(:[A-Za-z0-9_.-]+)?(:\d+)?)*)?$/, 'GPUs per job look like gpu:1, gpu:a100:1 or shard:1.')
    .default(''),
  cpusPerTask: optionalCount(1024, 'CPUs per job'),
  memMb: optionalCount(64 * 1024 * 1024, 'Memory per job (MB)'),
  /** Extra sbatch options, one per line, e.g. --constraint=a100. */
  extraSbatch: z
    .array(z.string().trim().regex(/^--?[A-Za-z][A-Za-z0-9-]*(=[^\n\r]*)?$/, 'Each extra line is one sbatch option, like --constraint=a100.'))
    .max(32)
    .default([]),
})
export type SlurmSettings = z.infer<typeof SlurmSettings>

/** A SLURM cluster has its settings and an SSH host has none: the kind decides, never a stray field. */
export function slurmMatchesKind(value: { kind: AddedInstanceKind; slurm: SlurmSettings | null }, ctx: z.RefinementCtx): void {
  if (value.kind === 'slurm' && value.slurm === null) ctx.addIssue({ code: 'custom', path: ['slurm'], message: 'A SLURM cluster needs its SLURM settings (partition and the rest may stay empty for the site defaults).' })
  if (value.kind === 'ssh' && value.slurm !== null) ctx.addIssue({ code: 'custom', path: ['slurm'], message: 'An SSH host has no SLURM settings. Choose the kind "SLURM cluster" to run on SLURM.' })
}

/**
 * "After the run": a shell command the user wrote (the provider's CLI to stop the machine, `sudo
 * shutdown -h +5`), run once on the host by the desktop after a run has ended and every model is
 * verified on this computer. Never on This computer or a SLURM cluster ('' = none).
 */
export const AfterRunCommand = z
  .string()
  .trim()
  .max(4000, 'The after-run command is at most 4,000 characters.')
  .refine((c) => !c.includes('\0'), 'The after-run command cannot contain a NUL character.')
  .default('')

/** A login node is shared by everyone on the cluster: stopping or shutting it down is never ours to do. */
export function afterRunOnlyOnSshHosts(value: { kind: AddedInstanceKind; afterRunCommand: string }, ctx: z.RefinementCtx): void {
  if (value.kind === 'slurm' && value.afterRunCommand) {
    ctx.addIssue({ code: 'custom', path: ['afterRunCommand'], message: 'A SLURM cluster runs no after-run command: its login node is shared, and the cluster frees its nodes itself when the jobs end. Clear the after-run command.' })
  }
}

export const InstanceInput = z.object({
  kind: AddedInstanceKind.default('ssh'),
  name: z.string().trim().min(1, 'Give the instance a name.').max(64),
  host: HostName,
  port: Port.default(22),
  user: UserName,
  auth: AuthInput,
  jump: JumpHostInput.nullable().default(null),
  hourlyPrice: z.number().nonnegative().max(10_000).nullable().default(null),
  notes: z.string().max(2000).default(''),
  /** Gantry's folder on the host (default ~/.gantry): runs, venv and the uploaded code. */
  gantryRoot: GantryRoot.default('~/.gantry'),
  /** Set exactly when kind is "slurm" (the host is its login node; gantryRoot must be on the shared filesystem). */
  slurm: SlurmSettings.nullable().default(null),
  afterRunCommand: AfterRunCommand,
})
  .superRefine(slurmMatchesKind)
  .superRefine(afterRunOnlyOnSshHosts)
export type InstanceInput = z.input<typeof InstanceInput>

/** A host key the user trusted. The public key is what the known_hosts mirror writes; a public key is no secret. */
export const PinnedHostKey = z.object({ keyType: z.string(), fingerprint: z.string(), publicKey: z.string(), pinnedAt: z.number() })
export type PinnedHostKey = z.infer<typeof PinnedHostKey>

export const InstanceDetails = z.object({
  id: InstanceId,
  kind: AddedInstanceKind,
  name: z.string(),
  host: z.string(),
  port: z.number(),
  user: z.string(),
  auth: AuthInfo,
  jump: JumpHostInfo.nullable(),
  hourlyPrice: z.number().nullable(),
  notes: z.string(),
  gantryRoot: z.string(),
  hostKey: PinnedHostKey.nullable(),
  jumpHostKey: PinnedHostKey.nullable(),
  slurm: SlurmSettings.nullable(),
  afterRunCommand: z.string(),
})
export type InstanceDetails = z.infer<typeof InstanceDetails>

export const SshConfigHost = z.object({
  alias: z.string(),
  hostName: z.string(),
  user: z.string(),
  port: z.number(),
  identityFiles: z.array(z.string()),
  proxyJump: z.string().nullable(),
  /** Why this host cannot be imported as is, if so. */
  problem: z.string().nullable(),
})
export type SshConfigHost = z.infer<typeof SshConfigHost>

const ById = z.object({ id: InstanceId }).strict()

export const PromptEvent = z.object({
  promptId: z.string(),
  kind: z.enum(['host_key', 'passphrase', 'password']),
  instanceId: z.string(),
  /** "SHA256:…" for host_key prompts. */
  fingerprint: z.string().optional(),
  keyType: z.string().optional(),
  /** host:port the prompt is about (the jump host for its own prompts). */
  host: z.string(),
  message: z.string(),
  /** Milliseconds after which the prompt is answered "no" automatically. */
  timeoutMs: z.number(),
})
export type PromptEvent = z.infer<typeof PromptEvent>

export const methods = {
  'instances.list': {
    input: z.object({}).strict(),
    output: z.array(InstanceSummary),
  },
  'instances.get': { input: ById, output: InstanceDetails },
  'instances.add': {
    input: z.object({ instance: InstanceInput, allowInsecureSecretStorage: z.boolean().default(false) }).strict(),
    output: InstanceSummary,
  },
  'instances.update': {
    input: z.object({ id: InstanceId, instance: InstanceInput, allowInsecureSecretStorage: z.boolean().default(false) }).strict(),
    output: InstanceSummary,
  },
  'instances.remove': { input: ById, output: z.object({}) },
  /** Connect (asking to trust the host key when new) and run a trivial command. */
  'instances.testConnection': {
    input: ById,
    output: z.object({
      fingerprint: z.string(),
      keyType: z.string(),
      /** The negotiated cipher (with its MAC unless it is an AEAD cipher), e.g. "aes128-gcm@openssh.com". */
      cipher: z.string(),
      system: z.string(),
      home: z.string(),
      latencyMs: z.number(),
    }),
  },
  'instances.answerPrompt': {
    input: z.object({ promptId: z.string().min(1).max(100), accept: z.boolean(), value: z.string().max(4096).optional() }).strict(),
    output: z.object({}),
  },
  /** Questions waiting now, with the time each has left (for a window that opens while one is asked). */
  'instances.pendingPrompts': { input: z.object({}).strict(), output: z.array(PromptEvent) },
  /** Forget the pinned host key(s); the next connection asks to trust the key again. */
  'instances.repinHostKey': { input: ById, output: z.object({}) },
  'instances.sshConfigHosts': {
    input: z.object({}).strict(),
    output: z.object({ path: z.string(), hosts: z.array(SshConfigHost), notes: z.array(z.string()) }),
  },
  'instances.importSshConfig': {
    input: z.object({ aliases: z.array(z.string().min(1).max(200)).min(1).max(100) }).strict(),
    output: z.array(InstanceSummary),
  },
  /** Add or update this instance's marked Host block in ~/.ssh/config (with a backup). */
  'instances.writeSshConfigEntry': {
    input: ById,
    output: z.object({ path: z.string(), backupPath: z.string().nullable(), alias: z.string() }),
  },
} as const

export const events = {
  /** The instance list or any instance's connection/setup state changed. */
  'instances.changed': z.object({ instances: z.array(InstanceSummary) }),
  /** A question only the user can answer (trust a host key, type a passphrase). */
  'instances.prompt': PromptEvent,
  /** A prompt was answered or timed out (so other windows close it). */
  'instances.promptClosed': z.object({ promptId: z.string() }),
} as const
