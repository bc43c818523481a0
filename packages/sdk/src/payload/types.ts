// Types of every webhook payload, activity, message, action and event (hubster-wire §2, §4.5–4.6).

export type IntegrationType = 'None' | 'Hubster' | 'Customer' | 'Agent' | 'Bot' | 'System';
export type ChannelType =
  | 'Hubster'
  | 'Direct'
  | 'Bot'
  | 'System'
  | 'Messenger'
  | 'TwilioSMS'
  | 'Line'
  | 'Telegram'
  | 'Kik'
  | 'WebChat'
  | 'Slack';
export type FlowProcess = 'Default' | 'AutoReplay' | 'Ignore' | 'LogOnly';
export type UrlType = 'image' | 'youtube' | 'vimeo' | 'video' | 'audio';

/** Channel-specific rendering hints, e.g. `{type: "Webchat", metadata: [{key: "caption-show", value: "true"}]}`. */
export interface ChannelMetadata {
  type: string;
  metadata?: { key: string; value: string }[];
}

export interface PropertyItem {
  key: string;
  value: string;
  type?: string;
}

interface ActionBase {
  title?: string;
  urlIcon?: string;
  urlImage?: string;
  isDefault?: boolean;
  channels?: ChannelMetadata[];
}
/** A button whose payload is sent back (`postback`) or a quick-reply chip (`reply`). */
export interface PostbackAction extends ActionBase {
  type: 'postback' | 'reply';
  payload: string;
}
/** A button that opens `url`. */
export interface LinkAction extends ActionBase {
  type: 'link';
  url: string;
}
export type Action = PostbackAction | LinkAction;

export interface ListItem {
  title?: string;
  subtitle?: string;
  content?: string;
  urlType?: UrlType;
  url?: string;
  fallbackImageUrl?: string;
  actions?: Action[];
}

interface MessageBase {
  channels?: ChannelMetadata[];
}
export interface TextMessage extends MessageBase {
  type: 'text';
  text?: string;
  items?: Message[];
  actions?: Action[];
}
export interface MediaMessage extends MessageBase {
  type: 'youtube' | 'vimeo' | 'video' | 'audio';
  url: string;
  mimeType?: string;
  label?: string;
  size?: number;
  fallbackImageUrl?: string;
  length?: number;
}
export interface ImageMessage extends MessageBase {
  type: 'image';
  url: string;
  alt?: string;
  urlAnchor?: string;
  title?: string;
  titleColor?: string;
}
export interface AttachmentMessage extends MessageBase {
  type: 'attachment';
  url: string;
  mimeType: string;
  label: string;
  size?: number;
}
export interface LocationMessage extends MessageBase {
  type: 'location';
  address?: string;
  latitude?: number;
  longitude?: number;
  imageUrl?: string;
}
export interface ContactMessage extends MessageBase {
  type: 'contact';
  title: string;
  imageUrl?: string;
  subtitle?: string;
  properties?: PropertyItem[];
}
export interface CardMessage extends MessageBase {
  type: 'card';
  urlType?: UrlType;
  url?: string;
  fallbackImageUrl?: string;
  title?: string;
  subtitle?: string;
  content?: string;
}
export interface CarouselMessage extends MessageBase {
  type: 'carousel';
  items: ListItem[];
}
export interface ListMessage extends MessageBase {
  type: 'list';
  items: ListItem[];
  actions?: Action[];
}
export interface CommandMessage extends MessageBase {
  type: 'command';
  title?: string;
  subtitle?: string;
  properties?: PropertyItem[];
}
export type Message =
  | TextMessage
  | MediaMessage
  | ImageMessage
  | AttachmentMessage
  | LocationMessage
  | ContactMessage
  | CardMessage
  | CarouselMessage
  | ListMessage
  | CommandMessage;
/**
 * The message types this SDK knows. The engine also delivers messages of other types, reduced to
 * `{type}` (hubster-wire §2.1, "be liberal on input"): they parse, and `message.type` is then none of
 * these — check with `isKnownMessageType` before relying on a variant's fields.
 */
export type MessageType = Message['type'];

/** A reserved signal event (not emitted today, typed for completeness). */
export interface SignalEvent {
  type: 'seen' | 'typing_on' | 'typing_off';
}
/** A custom event: `payloadType` names it (e.g. `hubster.transfer`), `payload` is any JSON object. */
export interface PayloadEvent {
  type: 'payload';
  payloadType: string;
  payload: Record<string, unknown>;
}
export type ActivityEvent = SignalEvent | PayloadEvent;

/** The payload of the Hubster-defined `hubster.transfer` event. */
export interface TransferPayload {
  url: string;
  label?: string;
  mount?: number;
  force?: boolean;
}

/** Who sent or receives an activity. */
export interface Source {
  integrationId?: string;
  integrationType?: IntegrationType;
  channelType?: ChannelType;
  tokenId?: string;
  channelData?: string;
}

interface ActivityBase {
  /** `<type>:<sender integration type, lower-case>`, e.g. `message:customer`. */
  eventTrigger: string;
  /** Epoch milliseconds; strictly increasing per conversation. */
  eventId: number;
  externalId?: string;
  /** True on the copy sent back to the integration that submitted the activity. */
  isEcho: boolean;
  flowProcess?: FlowProcess;
  sender?: Source;
  recipient?: Source;
}
export interface MessageActivity extends ActivityBase {
  type: 'message';
  interactionId?: string;
  message: Message;
}
export interface EventActivity extends ActivityBase {
  type: 'event';
  event: ActivityEvent;
}
/** One activity as delivered (hubster-wire §2.1); `message` and `event` are exclusive. */
export type Activity = MessageActivity | EventActivity;

export interface ConversationProperties {
  profile: Record<string, string>;
  additional: Record<string, string>;
}

interface PayloadBase {
  hubId: string;
  tenantId: string;
  /** The integration receiving this POST (equals x-integration-id). */
  integrationId: string;
  conversationId: string;
  conversationProperties: ConversationProperties;
}
/** What a System integration receives: one or more activities of one conversation (§4.5). */
export interface SystemPayload extends PayloadBase {
  activities: Activity[];
}
/** What a Direct/BYOI integration receives: a single activity (§4.6). */
export interface DirectPayload extends PayloadBase {
  activity: Activity;
}
export type WebhookPayload = SystemPayload | DirectPayload;

/** What a Direct integration submits (hubster-wire §2.2). */
export type InboundActivity =
  | { type: 'message'; externalId?: string; sender?: { integrationId: string }; message: Message }
  | { type: 'event'; externalId?: string; sender?: { integrationId: string }; event: ActivityEvent };
