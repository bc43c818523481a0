// Fire-and-forget pushes: a committed activity to this process's connections (and announced to the
// other processes), or an activity announced by another process to this process's connections.

import type { Logger } from 'pino';
import { serializeActivity } from '../domain/routing.js';
import type { Guid } from '../domain/types.js';
import type { Store, SubmitResult } from '../store/contract.js';
import type { GatewayBus, PushAnnouncement } from './bus.js';
import type { GatewayMetrics } from './metrics.js';
import type { OutcomeWriter, WebsocketOutcome } from './outcomes.js';
import { echoActivityJson, invocationFrame } from './protocol.js';
import type { SessionRegistry } from './registry.js';

const NO_CONNECTION = 'no connection';

export interface PusherDeps {
  store: Store;
  registry: SessionRegistry;
  outcomes: OutcomeWriter;
  metrics: GatewayMetrics;
  logger: Logger;
  bus: GatewayBus | undefined;
  /** This process's id on the bus. */
  origin: string;
  remoteGraceMs: number;
}

/** One frame per activity (and one for its echo copy), built on first use and shared by every connection. */
class Frames {
  private readonly built = new Map<boolean, Buffer>();
  constructor(private readonly activityJson: string) {}

  of(echo: boolean): Buffer {
    let frame = this.built.get(echo);
    if (!frame) {
      frame = Buffer.from(invocationFrame(echo ? echoActivityJson(this.activityJson) : this.activityJson));
      this.built.set(echo, frame);
    }
    return frame;
  }
}

export class Pusher {
  // Announcements from other processes are handled one after another, so a conversation's pushes keep
  // their order even when one of them has to load its activity from the store.
  private remoteChain: Promise<void> = Promise.resolve();

  constructor(private readonly deps: PusherDeps) {
    deps.bus?.subscribe((announcement) => {
      this.remoteChain = this.remoteChain
        .then(() => this.pushRemote(announcement))
        .catch((error: unknown) => deps.logger.error({ err: error }, 'remote websocket push failed'));
    });
  }

  /** Pushes a committed submission's websocket deliveries; records or defers their outcomes. */
  publish(result: SubmitResult): void {
    const { registry, outcomes, metrics, bus } = this.deps;
    const { plan, conversation, deliveryIds } = result;
    const conversationId = conversation.conversationId;
    const frames = new Frames(plan.activityJson);
    const delivered: WebsocketOutcome[] = [];
    const unheard: WebsocketOutcome[] = [];
    const announced: PushAnnouncement['deliveries'] = [];
    plan.deliveries.forEach((delivery, index) => {
      const deliveryId = deliveryIds[index];
      if (delivery.transport !== 'websocket' || deliveryId === undefined) return;
      // A paused integration or hub receives nothing; its held delivery is left to the store.
      if (result.held?.[index] === true) return;
      announced.push({ deliveryId, integrationId: delivery.integrationId, echo: delivery.echo });
      const sent = registry.fanOut(delivery.integrationId, conversationId, frames.of(delivery.echo));
      if (sent > 0) delivered.push({ deliveryId, delivered: true });
      else unheard.push({ deliveryId, delivered: false, error: NO_CONNECTION });
    });
    if (announced.length === 0) return;
    if (delivered.length > 0) metrics.pushes.inc({ outcome: 'delivered' }, delivered.length);
    if (unheard.length > 0) metrics.pushes.inc({ outcome: 'no_connection' }, unheard.length);
    outcomes.add(delivered);
    if (!bus) {
      outcomes.add(unheard);
      return;
    }
    // Another process may still push it: its "delivered" lands first, this late failure is then ignored.
    outcomes.addLater(unheard, this.deps.remoteGraceMs);
    bus.publish({
      origin: this.deps.origin,
      conversationId,
      eventId: plan.activity.eventId,
      deliveries: announced,
      activityJson: plan.activityJson,
    });
  }

  /** Resolves once every announcement received so far is handled. */
  async settle(): Promise<void> {
    await this.remoteChain;
  }

  /** Another process committed: push to this process's connections; only "delivered" is reported. */
  private async pushRemote(announcement: PushAnnouncement): Promise<void> {
    const { registry, outcomes, metrics } = this.deps;
    const { conversationId } = announcement;
    const targets = announcement.deliveries.filter((d) =>
      registry.hasReceivers(d.integrationId, conversationId),
    );
    if (targets.length === 0) return;
    const activityJson =
      announcement.activityJson ?? (await this.loadActivityJson(conversationId, announcement.eventId));
    if (activityJson === undefined) return;
    const frames = new Frames(activityJson);
    const delivered: WebsocketOutcome[] = [];
    for (const delivery of targets) {
      if (registry.fanOut(delivery.integrationId, conversationId, frames.of(delivery.echo)) > 0) {
        delivered.push({ deliveryId: delivery.deliveryId, delivered: true });
      }
    }
    if (delivered.length > 0) metrics.pushes.inc({ outcome: 'delivered' }, delivered.length);
    outcomes.add(delivered);
  }

  private async loadActivityJson(conversationId: Guid, eventId: number): Promise<string | undefined> {
    const activities = await this.deps.store.listActivities(conversationId, { fromEventId: eventId });
    const activity = activities.find((a) => a.eventId === eventId);
    return activity ? serializeActivity(activity) : undefined;
  }
}
