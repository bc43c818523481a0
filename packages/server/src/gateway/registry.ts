// The live hub connections of this process, indexed by integration for the fan-out of a push.

import type { Guid } from '../domain/types.js';
import type { HubSession } from './session.js';

export class SessionRegistry {
  private readonly byIntegration = new Map<Guid, Set<HubSession>>();
  private count = 0;

  add(session: HubSession): void {
    const id = session.target.integrationId;
    let sessions = this.byIntegration.get(id);
    if (!sessions) {
      sessions = new Set();
      this.byIntegration.set(id, sessions);
    }
    if (!sessions.has(session)) this.count += 1;
    sessions.add(session);
  }

  remove(session: HubSession): void {
    const id = session.target.integrationId;
    const sessions = this.byIntegration.get(id);
    if (!sessions?.delete(session)) return;
    this.count -= 1;
    if (sessions.size === 0) this.byIntegration.delete(id);
  }

  get size(): number {
    return this.count;
  }

  /** Connections of the integration, within one process, that this conversation's pushes reach. */
  *receivers(integrationId: Guid, conversationId: Guid): Iterable<HubSession> {
    const sessions = this.byIntegration.get(integrationId);
    if (!sessions) return;
    for (const session of sessions) {
      const narrowed = session.target.conversationId;
      if (narrowed === undefined || narrowed === conversationId) yield session;
    }
  }

  hasReceivers(integrationId: Guid, conversationId: Guid): boolean {
    for (const _session of this.receivers(integrationId, conversationId)) return true;
    return false;
  }

  /** Sends the frame to every receiving connection; returns how many queued it. */
  fanOut(integrationId: Guid, conversationId: Guid, frame: Buffer): number {
    let sent = 0;
    // Copy first: a send may drop a slow consumer, which removes it from the set being iterated.
    for (const session of [...this.receivers(integrationId, conversationId)]) {
      if (session.send(frame)) sent += 1;
    }
    return sent;
  }

  /** Integrations with at least one connection in this process (of one hub, if given). */
  integrationIds(hubId?: Guid): Guid[] {
    const ids: Guid[] = [];
    for (const [id, sessions] of this.byIntegration) {
      if (hubId === undefined || [...sessions].some((s) => s.target.hubId === hubId)) ids.push(id);
    }
    return ids;
  }

  /** This process's connections of the integration (a copy: closing one removes it from the set). */
  sessionsOf(integrationId: Guid): HubSession[] {
    return [...(this.byIntegration.get(integrationId) ?? [])];
  }

  all(): HubSession[] {
    const result: HubSession[] = [];
    for (const sessions of this.byIntegration.values()) result.push(...sessions);
    return result;
  }
}
