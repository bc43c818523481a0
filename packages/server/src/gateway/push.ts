// Fire-and-forget pushes: a committed activity to this process's connections (and announced to the
// other processes), or an activity announced by another process to this process's connections.

import type { Logger } from 'pino';
import { serializeActivity } from '../domain/routing.js';
import type { Guid } from '../domain/types.js';
import type { HeldWebsocketDelivery, Store, SubmitResult } from '../store/contract.js';
import type { GatewayBus, PushAnnouncement, PushedDelivery } from './bus.js';
import type { GatewayMetrics } from './metrics.js';
import type { OutcomeWriter, WebsocketOutcome } from './outcomes.js';
import { echoActivityJson, invocationFrame } from './protocol.js';
import type { SessionRegistry } from './registry.js';

const NO_CONNECTION = 'no connection';
/** Held deliveries taken from the store per round trip when a resume releases them. */
const RELEASE_CHUNK = 500;
/** Longest a release waits, in total, for connections to drain their send buffers. */
const RELEASE_DRAIN_WAIT_MS = 10_000;
const DRAIN_POLL_MS = 5;

/** Every integration of the hub, or only these integrations of it. */
export interface ReleaseScope {
  hubId: Guid;
  integrationIds?: Guid[];
}

interface HeldBackPush {
  hubId: Guid;
  conversationId: Guid;
  integrationIds: Guid[];
  push: () => void;
}

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
  /** A connection's send-buffer limit (releases are paced to stay below half of it). */
  maxBufferedBytes: number;
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
  /**
   * The releases of one hub run one after another (the last one's end, per hub). Different hubs' reach
   * different connections, so a release waiting for a stalled client does not hold up another hub's.
   */
  private readonly releaseChains = new Map<Guid, Promise<void>>();
  /** Scopes of the releases asked for and not finished. */
  private readonly releasing: ReleaseScope[] = [];
  /**
   * Fresh pushes inside a releasing scope, in commit order: they must not overtake its backlog. A push
   * that reaches a connection one of them also reaches (same integration and conversation: the
   * recipient of an echoing sender's held-back activity) waits behind it too, so it cannot overtake it.
   */
  private heldBack: HeldBackPush[] = [];

  constructor(private readonly deps: PusherDeps) {
    deps.bus?.subscribe((announcement) => this.onAnnouncement(announcement));
  }

  /**
   * Another process committed (or released) an activity. It is pushed in arrival order, unless a release
   * of this process must go first: an activity committed through another process after a resume
   * answered here waits for the backlog like this process's own fresh commits.
   */
  private onAnnouncement(announcement: PushAnnouncement): void {
    const run = (): void => {
      this.remoteChain = this.remoteChain
        .then(() => this.pushRemote(announcement))
        .catch((error: unknown) => this.deps.logger.error({ err: error }, 'remote websocket push failed'));
    };
    const { hubId, conversationId } = announcement;
    if (this.releasing.length === 0 || hubId === undefined) {
      run();
      return;
    }
    const entry: HeldBackPush = {
      hubId,
      conversationId,
      integrationIds: announcement.deliveries.map((d) => d.integrationId),
      push: run,
    };
    if (!this.mustWait(entry, this.heldBack)) {
      run();
      return;
    }
    this.heldBack.push(entry);
    // The announcing process records "no connection" after remoteGraceMs, which the release may outlast:
    // what is queued here for a connection is recorded delivered now, like a frame in its send buffer.
    const { registry, outcomes } = this.deps;
    outcomes.add(
      announcement.deliveries
        .filter((d) => [...registry.receivers(d.integrationId, conversationId)].some((s) => s.receiving))
        .map((d) => ({ deliveryId: d.deliveryId, delivered: true })),
    );
  }

  /** Pushes a committed submission's websocket deliveries; records or defers their outcomes. */
  publish(result: SubmitResult): void {
    const { plan, conversation, deliveryIds } = result;
    const targets: PushedDelivery[] = [];
    let held = false;
    plan.deliveries.forEach((delivery, index) => {
      const deliveryId = deliveryIds[index];
      if (delivery.transport !== 'websocket' || deliveryId === undefined) return;
      // A paused integration or hub receives nothing now: the store keeps the delivery held until a
      // resume releases it (release()).
      if (result.held?.[index] === true) {
        held = true;
        return;
      }
      targets.push({ deliveryId, integrationId: delivery.integrationId, echo: delivery.echo });
    });
    const push = () =>
      this.push(
        conversation.hubId,
        conversation.conversationId,
        plan.activity.eventId,
        plan.activityJson,
        targets,
      );
    // The common case (no release running, or nothing to push) costs the submit path nothing more.
    if (this.releasing.length === 0 || targets.length === 0) push();
    else {
      const entry: HeldBackPush = {
        hubId: conversation.hubId,
        conversationId: conversation.conversationId,
        integrationIds: targets.map((t) => t.integrationId),
        push,
      };
      if (this.mustWait(entry, this.heldBack)) this.heldBack.push(entry);
      else push();
    }
    if (held) {
      // The resume may have committed between this submit's read of the statuses and its commit, and
      // its release ran before this delivery existed: take again now (a no-op while still paused).
      const integrationIds = [
        ...new Set(
          plan.deliveries
            .filter((d, index) => d.transport === 'websocket' && result.held?.[index] === true)
            .map((d) => d.integrationId),
        ),
      ];
      this.release({ hubId: conversation.hubId, integrationIds }).catch((error: unknown) =>
        this.deps.logger.error({ err: error }, 'releasing held websocket deliveries failed'),
      );
    }
  }

  /**
   * Takes the held websocket deliveries of resumed integrations (or of a resumed hub) from the store
   * and pushes them in order, like fresh commits. The releases of one hub run one after another, so two
   * releases of one process never interleave their pushes to a connection.
   */
  release(scope: ReleaseScope): Promise<number> {
    // From now until it ends, fresh pushes in its scope wait for it (a resume committed already).
    this.releasing.push(scope);
    const storeScope =
      scope.integrationIds === undefined ? { hubId: scope.hubId } : { integrationIds: scope.integrationIds };
    const before = this.releaseChains.get(scope.hubId) ?? Promise.resolve();
    const run = before.then(async () => {
      // A long pause may have held more than a connection's send buffer: the backlog is taken in
      // chunks and pushed at the pace the receiving connections drain (bounded, see waitForDrain), so
      // a client that reads normally is not dropped as a slow consumer by its own backlog.
      const drainDeadline = Date.now() + RELEASE_DRAIN_WAIT_MS;
      let total = 0;
      for (;;) {
        const taken = await this.deps.store.takeHeldWebsocketDeliveries(storeScope, RELEASE_CHUNK);
        total += taken.length;
        // Group the deliveries of one activity (one frame, one announcement), keeping the store's order.
        let group: HeldWebsocketDelivery[] = [];
        const flush = async (): Promise<void> => {
          const first = group[0];
          if (first === undefined) return;
          const targets = group.map((d) => ({
            deliveryId: d.deliveryId,
            integrationId: d.integrationId,
            echo: d.echo,
          }));
          group = [];
          await this.waitForDrain(first.conversationId, targets, drainDeadline);
          this.push(scope.hubId, first.conversationId, first.eventId, first.activityJson, targets);
        };
        for (const delivery of taken) {
          const first = group[0];
          if (
            first &&
            (first.conversationId !== delivery.conversationId || first.eventId !== delivery.eventId)
          ) {
            await flush();
          }
          group.push(delivery);
        }
        await flush();
        if (taken.length < RELEASE_CHUNK) break;
      }
      if (total > 0) this.deps.logger.info({ count: total }, 'released held websocket deliveries');
      return total;
    });
    const ended = (): void => {
      this.releasing.splice(this.releasing.indexOf(scope), 1);
      const waiting = this.heldBack;
      this.heldBack = [];
      for (const entry of waiting) {
        if (this.mustWait(entry, this.heldBack)) this.heldBack.push(entry);
        else entry.push();
      }
    };
    const tail = run.then(ended, ended);
    this.releaseChains.set(scope.hubId, tail);
    void tail.then(() => {
      if (this.releaseChains.get(scope.hubId) === tail) this.releaseChains.delete(scope.hubId);
    });
    return run;
  }

  /** In a releasing scope, or behind a held-back push to one of the same connections (see heldBack). */
  private mustWait(entry: HeldBackPush, ahead: HeldBackPush[]): boolean {
    return (
      this.inRelease(entry.hubId, entry.integrationIds) ||
      ahead.some(
        (other) =>
          other.conversationId === entry.conversationId &&
          other.integrationIds.some((id) => entry.integrationIds.includes(id)),
      )
    );
  }

  private inRelease(hubId: Guid, integrationIds: Guid[]): boolean {
    return this.releasing.some(
      (scope) =>
        scope.hubId === hubId &&
        (scope.integrationIds === undefined ||
          scope.integrationIds.some((id) => integrationIds.includes(id))),
    );
  }

  /**
   * Waits while a receiving connection has more than half its send buffer queued, until `deadline`
   * (shared by one release, so a consumer that does not read delays a release by that much at most;
   * after it, the normal slow-consumer rule applies).
   */
  private async waitForDrain(
    conversationId: Guid,
    targets: PushedDelivery[],
    deadline: number,
  ): Promise<void> {
    const threshold = this.deps.maxBufferedBytes / 2;
    const congested = (): boolean =>
      targets.some((t) => {
        for (const session of this.deps.registry.receivers(t.integrationId, conversationId)) {
          if (session.bufferedBytes > threshold) return true;
        }
        return false;
      });
    while (Date.now() < deadline && congested()) {
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    }
  }

  /** Pushes one committed activity to this process's connections, announces it, records outcomes. */
  private push(
    hubId: Guid,
    conversationId: Guid,
    eventId: number,
    activityJson: string,
    targets: PushedDelivery[],
  ): void {
    if (targets.length === 0) return;
    const { registry, outcomes, metrics, bus } = this.deps;
    const frames = new Frames(activityJson);
    const delivered: WebsocketOutcome[] = [];
    const unheard: WebsocketOutcome[] = [];
    for (const { deliveryId, integrationId, echo } of targets) {
      const sent = registry.fanOut(integrationId, conversationId, frames.of(echo));
      if (sent > 0) delivered.push({ deliveryId, delivered: true });
      else unheard.push({ deliveryId, delivered: false, error: NO_CONNECTION });
    }
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
      hubId,
      conversationId,
      eventId,
      deliveries: targets,
      activityJson,
    });
  }

  /** Resolves once every announcement received so far is handled. */
  async settle(): Promise<void> {
    await Promise.all(this.releaseChains.values());
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
    // Only this one: from it on, a conversation may hold up to an answer's worth (1,000 activities, 8 MB).
    const activities = await this.deps.store.listActivities(conversationId, {
      fromEventId: eventId,
      maxCount: 1,
    });
    const activity = activities.find((a) => a.eventId === eventId);
    return activity ? serializeActivity(activity) : undefined;
  }
}
