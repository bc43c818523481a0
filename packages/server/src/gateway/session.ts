// One hub connection: handshake, received records, keep-alive, bounded send buffer and closing.

import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { HubTarget } from './access.js';
import {
  HANDSHAKE_OK_FRAME,
  PING_FRAME,
  closeFrame,
  handshakeErrorFrame,
  interpretClientRecord,
  parseHandshake,
  splitRecords,
} from './protocol.js';

export interface SessionLimits {
  /** Above this many queued bytes the consumer is too slow and is disconnected. */
  maxBufferedBytes: number;
  /** Longest unterminated record kept between frames (clients only send small messages). */
  maxReceiveChars: number;
  /** Time allowed for the handshake after the upgrade. */
  handshakeTimeoutMs: number;
  /** Silence from the client after which the connection is considered dead. */
  clientTimeoutMs: number;
  /** How long a closing connection may take before its socket is destroyed. */
  closeGraceMs: number;
}

const PING_BYTES = Buffer.from(PING_FRAME);

/** `revoked`: the integration was deleted, canceled or given a webhookUrl while connected. */
export type CloseReason =
  'client' | 'protocol' | 'timeout' | 'slow-consumer' | 'shutdown' | 'revoked' | 'expired';

export class HubSession {
  readonly connectionId: string;
  readonly target: HubTarget;
  private readonly ws: WebSocket;
  private readonly limits: SessionLimits;
  private readonly logger: Logger;
  private handshaken = false;
  private closing = false;
  private receiveBuffer = '';
  private readonly openedAt: number;
  private lastReceivedAt: number;
  private killTimer: NodeJS.Timeout | undefined;
  private readonly onSlowConsumer: () => void;

  constructor(
    ws: WebSocket,
    target: HubTarget,
    connectionId: string,
    limits: SessionLimits,
    logger: Logger,
    onSlowConsumer: () => void = () => undefined,
  ) {
    this.onSlowConsumer = onSlowConsumer;
    this.ws = ws;
    this.target = target;
    this.connectionId = connectionId;
    this.limits = limits;
    this.logger = logger;
    this.openedAt = Date.now();
    this.lastReceivedAt = this.openedAt;
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', () => clearTimeout(this.killTimer));
    // A reset peer must not crash the process; 'close' follows and unregisters the session.
    ws.on('error', (error) => this.logger.debug({ err: error, connectionId }, 'hub connection error'));
  }

  /** Bytes queued on the socket and not yet sent. */
  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  /** True once the handshake succeeded and until the connection starts closing. */
  get receiving(): boolean {
    return this.handshaken && !this.closing && this.ws.readyState === this.ws.OPEN;
  }

  /**
   * Queues one frame. Returns false when it was not sent. The buffer is checked before and after,
   * so a connection holds at most `maxBufferedBytes` plus one frame before it is dropped. A frame that
   * overflows the buffer is not sent either: the dropped socket is destroyed with it still queued.
   */
  send(frame: Buffer): boolean {
    if (!this.receiving) return false;
    if (this.ws.bufferedAmount > this.limits.maxBufferedBytes) {
      this.dropSlowConsumer();
      return false;
    }
    this.ws.send(frame, { binary: false });
    if (this.ws.bufferedAmount > this.limits.maxBufferedBytes) {
      this.dropSlowConsumer();
      return false;
    }
    return true;
  }

  /** Calls `listener` once the connection is closed (at once if it already is). */
  onClosed(listener: () => void): void {
    if (this.ws.readyState === this.ws.CLOSED) listener();
    else this.ws.once('close', () => listener());
  }

  /** Periodic work: handshake and client timeouts, and the keep-alive ping when `ping` is due. */
  tick(now: number, ping: boolean): void {
    if (this.closing) return;
    if (this.target.expiresAt !== undefined && now >= this.target.expiresAt) {
      // The token authorised the upgrade only until then; a client with a fresh token may reconnect.
      this.close('expired', 'The access token has expired.');
      return;
    }
    if (!this.handshaken) {
      if (now - this.openedAt > this.limits.handshakeTimeoutMs) {
        this.close('timeout', 'Handshake was not received in time.');
      }
      return;
    }
    if (now - this.lastReceivedAt > this.limits.clientTimeoutMs) {
      this.close('timeout', 'Server timeout elapsed without receiving a message from the client.');
      return;
    }
    if (ping) this.send(PING_BYTES);
  }

  /**
   * Closes with a SignalR close message (shown by the client) and a websocket close frame. If the
   * peer does not complete the closing handshake in time, the socket is destroyed.
   */
  close(reason: CloseReason, error?: string): void {
    if (this.closing) return;
    this.closing = true;
    this.logger.debug({ connectionId: this.connectionId, reason, error }, 'closing hub connection');
    if (this.ws.readyState !== this.ws.OPEN) {
      this.ws.terminate();
      return;
    }
    // On shutdown the client may reconnect (to this engine once restarted, or to another one); after
    // its token expired, with a fresh one (SignalR clients ask their accessTokenFactory again).
    if (this.handshaken) this.ws.send(closeFrame(error, reason === 'shutdown' || reason === 'expired'));
    this.ws.close(reason === 'shutdown' ? 1001 : error ? 1008 : 1000, truncateReason(error));
    this.killTimer = setTimeout(() => this.ws.terminate(), this.limits.closeGraceMs);
    this.killTimer.unref();
  }

  /**
   * A consumer that does not read would keep every frame in memory; it is cut off at once (the
   * socket is destroyed: a close frame queued behind megabytes it does not read would never arrive).
   */
  private dropSlowConsumer(): void {
    if (this.closing) return;
    this.closing = true;
    this.logger.warn(
      {
        connectionId: this.connectionId,
        integrationId: this.target.integrationId,
        bufferedBytes: this.ws.bufferedAmount,
        limit: this.limits.maxBufferedBytes,
      },
      'hub connection dropped: send buffer full (consumer too slow)',
    );
    this.onSlowConsumer();
    this.ws.terminate();
  }

  private onMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    this.lastReceivedAt = Date.now();
    if (this.closing) return;
    if (isBinary) {
      this.fail('Binary messages are not supported; use the JSON protocol with the Text transfer format.');
      return;
    }
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : Buffer.from(data as Buffer).toString('utf8');
    const { records, rest } = splitRecords(this.receiveBuffer + text);
    if (rest.length > this.limits.maxReceiveChars) {
      this.fail('Message is too large.');
      return;
    }
    this.receiveBuffer = rest;
    for (const record of records) {
      if (this.closing) return;
      this.onRecord(record);
    }
  }

  private onRecord(record: string): void {
    if (!this.handshaken) {
      const result = parseHandshake(record);
      if (!result.ok) {
        this.ws.send(handshakeErrorFrame(result.error));
        this.close('protocol');
        return;
      }
      this.handshaken = true;
      this.ws.send(HANDSHAKE_OK_FRAME);
      return;
    }
    const message = interpretClientRecord(record);
    switch (message.kind) {
      case 'ignore':
        return;
      case 'reply':
        this.send(Buffer.from(message.frame));
        return;
      case 'close':
        this.close('client');
        return;
      case 'invalid':
        this.fail(message.error);
        return;
    }
  }

  private fail(error: string): void {
    if (!this.handshaken) {
      this.ws.send(handshakeErrorFrame(error));
      this.close('protocol');
    } else {
      this.close('protocol', error);
    }
  }
}

/** Websocket close reasons are limited to 123 bytes. */
function truncateReason(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const bytes = Buffer.from(text);
  return bytes.length <= 123 ? text : bytes.subarray(0, 118).toString('utf8') + '...';
}
