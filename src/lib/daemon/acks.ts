import type {OutboxStore} from '../store/outbox-store.js'

const ACK_DELAY_MS = 10

/**
 * The server's acks of the outbox (protocol.md "Delivery"): `ack {seq}` means every message up to
 * seq is stored, so the outbox drops them. Only what was sent can have been stored: an ack past
 * the highest seq this process has sent is refused (nothing deleted), and one past what the
 * current connection has resent so far (after a reconnect) counts only up to that.
 */
export class Acks {
  /** seq of the last message sent on the current connection (0 after a reconnect: the outbox is resent) */
  private sentUpToValue = 0
  /** the highest seq this process has sent on any connection */
  private highestSent = 0
  private ackUpTo = 0
  private timer?: NodeJS.Timeout
  /** messages the server acknowledged while this process ran (/metrics) */
  ackedCount = 0
  /** the highest seq acked before this process (acks of it count nothing) */
  private ackedBefore: number | undefined

  constructor(
    private readonly outbox: OutboxStore,
    private readonly log: (level: 'error', message: string) => void,
  ) {}

  get sentUpTo(): number {
    return this.sentUpToValue
  }

  /** A new connection: the outbox is sent again from its first unacknowledged message. */
  reconnected(): void {
    this.sentUpToValue = 0
  }

  sent(seq: number): void {
    this.sentUpToValue = seq
    if (seq > this.highestSent) this.highestSent = seq
  }

  /**
   * An ack of `seq` (a non-negative integer). Returns the highest seq sent when `seq` is past it
   * (refused: nothing is deleted), else undefined. Acks are written at most every ACK_DELAY_MS
   * with the highest seq seen: a server that acks each message costs one outbox write per interval.
   */
  receive(seq: number): number | undefined {
    if (seq > this.highestSent) return this.highestSent
    const upTo = Math.min(seq, this.sentUpToValue)
    this.ackedBefore ??= this.outbox.lastAckedSeq() ?? 0
    const counted = Math.max(this.ackUpTo, this.ackedBefore)
    if (upTo > counted) this.ackedCount += upTo - counted
    if (upTo > this.ackUpTo) {
      this.ackUpTo = upTo
      this.timer ??= setTimeout(() => this.apply(), ACK_DELAY_MS)
    }
    return undefined
  }

  /** Write the pending ack to the outbox now. */
  apply(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    const seq = this.ackUpTo
    if (seq <= 0) return
    try {
      this.outbox.ack(seq)
    } catch (error) {
      this.log('error', `recording the server's ack of seq ${seq} failed: ${(error as Error).message}`)
    }
  }
}
