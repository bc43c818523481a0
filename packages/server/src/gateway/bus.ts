// Cross-process fan-out of websocket pushes: what one engine process tells the others after a commit.

import type { Guid } from '../domain/types.js';

export interface PushedDelivery {
  deliveryId: Guid;
  integrationId: Guid;
  echo: boolean;
}

/** One committed activity with websocket deliveries, announced to every other engine process. */
export interface PushAnnouncement {
  /** The announcing process (a process ignores its own announcements). */
  origin: string;
  /** The conversation's hub (absent from a process of an older version). */
  hubId?: Guid;
  conversationId: Guid;
  eventId: number;
  deliveries: PushedDelivery[];
  /** The activity itself when it fits the bus's message size; otherwise receivers load it. */
  activityJson?: string;
}

export interface GatewayBus {
  /** Largest announcement in bytes; a larger one is sent without `activityJson`. */
  readonly maxMessageBytes: number;
  /** Fire-and-forget, in call order; an announcement lost while the bus reconnects is not resent. */
  publish(announcement: PushAnnouncement): void;
  subscribe(listener: (announcement: PushAnnouncement) => void): void;
  /** Resolves once the bus listens (announcements from then on are heard). */
  ready(): Promise<void>;
  /** Waits for announcements already handed over, then disconnects. */
  close(): Promise<void>;
}

/** The announcement as sent: with the activity when it fits, else without it. */
export function encodeAnnouncement(announcement: PushAnnouncement, maxBytes: number): string {
  const full = JSON.stringify(announcement);
  if (Buffer.byteLength(full) <= maxBytes) return full;
  const { activityJson: _dropped, ...rest } = announcement;
  return JSON.stringify(rest);
}

export function decodeAnnouncement(text: string): PushAnnouncement | undefined {
  try {
    const value = JSON.parse(text) as PushAnnouncement;
    if (typeof value.origin !== 'string' || typeof value.conversationId !== 'string') return undefined;
    if (typeof value.eventId !== 'number' || !Array.isArray(value.deliveries)) return undefined;
    return value;
  } catch {
    return undefined;
  }
}
