/**
 * What a download reads from: a file's size/mtime and an ordered stream of its bytes from an
 * offset. Both HostSession kinds provide it (`stat` + `readRange`), and so does a raw ssh2 SFTP
 * session through sftpSource.ts, so the download engine is written once.
 */
import type { HostSession } from '../host/hostSession'

export type ByteSource = Pick<HostSession, 'stat' | 'readRange'>
